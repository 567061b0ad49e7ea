"""Hypothesis strategies for property-testing webhook receivers.

>>> from hypothesis import given
>>> from hookmock import strategies as hs
>>> @given(hs.signed_requests("moda", secret="whsec_test"))
... def test_receiver_accepts(req):
...     assert my_app_client.post("/hook", data=req.body, headers=req.headers).status_code == 200

Every payload drawn is schema-valid.  ``payloads`` covers every event type, optional fields null
or absent; ``bodies`` adds the hostile-but-legal encodings of receiver defect #1 (escaped
slashes, upper-case ``\\u001B``, pretty-printed, ``1.10``, ``1e2``, ``-0.0``, reordered keys,
big ints, non-ASCII, emoji, U+2028).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from ._util.overrides import ABSENT
from .clock import VirtualClock
from .errors import UsageError
from .factories import EventFactory
from .profiles import Profile, get_profile

__all__ = [
    "SignedRequest",
    "bodies",
    "envelopes",
    "modio_events",
    "payloads",
    "secrets",
    "signed_requests",
]

_EPOCH_RANGE = (1_600_000_000, 2_100_000_000)


@dataclass(frozen=True)
class SignedRequest:
    """One webhook request as a provider would send it."""

    profile: str
    body: bytes
    headers: dict[str, str]
    secret: str
    timestamp: int
    payload: Any = field(compare=False)
    variant: str = "canonical"


@st.composite
def _payload(
    draw: st.DrawFn,
    profile: Profile,
    event_types: Sequence[str] | None,
    optional: bool,
    timestamp: int | None,
) -> dict[str, Any]:
    event_type = draw(st.sampled_from(list(event_types or profile.event_types)))
    seed = draw(st.integers(0, 2**32 - 1))
    now = timestamp if timestamp is not None else draw(st.integers(*_EPOCH_RANGE))
    payload = EventFactory(profile, seed=seed, clock=VirtualClock(start=now)).event(event_type)
    if optional:
        for path, null_ok in profile.optional_fields(payload).items():
            choice = draw(st.sampled_from(["keep", "null", "absent"] if null_ok else ["keep", "absent"]))
            if choice == "keep":
                continue
            payload = _set_path(payload, path, None if choice == "null" else ABSENT)
    return payload


def _set_path(payload: dict[str, Any], path: Sequence[str], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(payload)
    node: Any = doc
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return doc
    if value is ABSENT:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return doc


def payloads(
    profile: str | Profile = "moda",
    *,
    event_types: Sequence[str] | None = None,
    optional: bool = True,
    timestamp: int | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Schema-valid payloads of ``profile``; optional fields sometimes null or absent."""
    return _payload(get_profile(profile), event_types, optional, timestamp)


def envelopes(
    *, event_types: Sequence[str] | None = None, optional: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Moda event envelopes with a full Task object."""
    return payloads("moda", event_types=event_types, optional=optional)


def modio_events(
    *, event_types: Sequence[str] | None = None, optional: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """mod.io Rules Engine payloads, PING included."""
    return payloads("modio", event_types=event_types, optional=optional)


def _body_for(profile: Profile, payload: dict[str, Any], variant: str) -> bytes:
    if variant == "canonical":
        return profile.serialize(payload)
    return profile.body_variants(payload)[variant]


@st.composite
def _bodies(
    draw: st.DrawFn, profile: Profile, hostile: bool, pl: st.SearchStrategy[dict[str, Any]]
) -> tuple[str, dict[str, Any], bytes]:
    payload = draw(pl)
    names = ["canonical"]
    if hostile:
        names += sorted(profile.body_variants(payload))
    variant = draw(st.sampled_from(names))
    body = _body_for(profile, payload, variant)
    return variant, json.loads(body), body


def bodies(
    profile: str | Profile = "moda", *, hostile: bool = True, **payload_options: Any
) -> st.SearchStrategy[bytes]:
    """Body bytes: the canonical compact encoding or, with ``hostile``, any defect-#1 variant."""
    prof = get_profile(profile)
    return _bodies(prof, hostile, payloads(prof, **payload_options)).map(lambda t: t[2])


def secrets(profile: str | Profile = "moda") -> st.SearchStrategy[str]:
    """Secrets as the provider issues them, and arbitrary non-empty text the profile can sign with
    (a provider whose secret has a format, such as base64 behind a prefix, refuses other text)."""
    prof = get_profile(profile)
    issued = st.integers(0, 2**32 - 1).map(lambda s: prof.generate_secret(__import__("random").Random(s)))
    return st.one_of(
        issued,
        st.text(min_size=1, max_size=64).filter(
            lambda s: "\r" not in s and "\n" not in s and _signs_with(prof, s)
        ),
    )


def _signs_with(profile: Profile, secret: str) -> bool:
    try:
        profile.sign(b"", secret, 0, message_id=profile.new_message_id(random.Random(0)))
    except UsageError:
        return False
    return True


@st.composite
def _signed(
    draw: st.DrawFn,
    profile: Profile,
    secret: str | None,
    now: int | None,
    skew: int,
    hostile: bool,
    event_types: Sequence[str] | None,
) -> SignedRequest:
    ts = now if now is not None else draw(st.integers(*_EPOCH_RANGE))
    ts += draw(st.integers(-skew, skew)) if skew else 0
    key = secret if secret is not None else draw(secrets(profile).filter(lambda s: s.isprintable()))
    variant, payload, body = draw(
        _bodies(profile, hostile, payloads(profile, event_types=event_types, timestamp=ts))
    )
    headers = profile.delivery_headers(body, key, ts, message_id=profile.message_id_for(payload))
    return SignedRequest(profile.name, body, headers, key, ts, payload, variant)


def signed_requests(
    profile: str | Profile = "moda",
    *,
    secret: str | None = None,
    now: int | None = None,
    skew: int = 0,
    hostile: bool = True,
    event_types: Sequence[str] | None = None,
) -> st.SearchStrategy[SignedRequest]:
    """Requests a provider would send: body, headers (signature or token) and the secret used.

    ``now`` fixes the sending time (unix seconds); ``skew`` draws it up to that many seconds
    either side (keep it within your tolerance to stay valid).
    """
    return _signed(get_profile(profile), secret, now, skew, hostile, event_types)
