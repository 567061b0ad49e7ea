"""The Standard Webhooks audit checks (``key-rotation``, ``v1a``) probe by probe, without a
receiver: which keys sign each request, what a correct receiver does with it, how the audit is
told to judge it, and that each request is the same under the same seed.  Fast unit tests next to
the end-to-end audits of ``test_standard_webhooks.py``."""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from hookmock import EventFactory
from hookmock.profiles import get_profile
from hookmock.profiles._audit import ProfileProbe
from hookmock.profiles._standard_webhooks_audit import CHECKS
from hookmock.profiles.standard_webhooks import generate_key_pair, public_key_of

P = "standard-webhooks"
SW = get_profile(P)
START = 1_700_000_000
ROTATION, V1A = CHECKS


@dataclass
class TickingKit:
    """An :class:`~hookmock.profiles._audit.AuditKit` whose clock moves one second on every read,
    as a real clock may between two reads: a probe must sign at the time its header shows."""

    secret: str
    seed: int = 7
    profile: Any = SW
    reads: int = 0
    _ids: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.factory = EventFactory(P, seed=self.seed)

    def now(self) -> int:
        self.reads += 1
        return START + self.reads

    def event(self, event_type: str | None = None, /, **overrides: Any) -> dict[str, Any]:
        return self.factory.event(event_type or SW.event_types[0], **overrides)

    def event_id(self, payload: dict[str, Any]) -> str | None:
        key = json.dumps(payload, sort_keys=True)
        return self._ids.setdefault(key, SW.new_message_id(self.factory.rng))

    def headers(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        message_id: str | None = None,
    ) -> dict[str, str]:
        ts = self.now() if timestamp is None else timestamp
        return SW.delivery_headers(body, secret or self.secret, ts, message_id=message_id)

    @property
    def rng(self) -> Any:
        return self.factory.rng


def _endpoint(mode: str, seed: int = 7) -> tuple[TickingKit, str]:
    """(the audit's kit, the key the receiver verifies with) for a v1 or a v1a endpoint (the key
    from another random source than the audit's)."""
    keys = random.Random(seed + 1000)
    if mode == "v1":
        secret = SW.generate_secret(keys)
        return TickingKit(secret, seed), secret
    signing, public = generate_key_pair(keys)
    return TickingKit(signing, seed), public


def _verifies(probe: ProfileProbe, key: str) -> bool:
    """Whether a correct receiver holding ``key`` finds a valid signature (at the probe's own time)."""
    ts = int(probe.headers["webhook-timestamp"])
    return SW.check(probe.headers, probe.body, key, now=ts).ok


def _entries(probe: ProfileProbe) -> list[str]:
    return [e.partition(",")[0] for e in probe.headers["webhook-signature"].split(" ")]


ACCEPT = "2xx: a valid signature among several is enough (the specification: try each until one matches)"
REJECT = "a 4xx rejection: no signature the receiver can verify"
UNVERIFIABLE = "a 4xx rejection: a v1 endpoint cannot verify v1a, so the request carries no valid signature"
CONFUSION = "a 4xx rejection: the public key is public, so an HMAC keyed with it proves nothing"

CONFUSED = ("reject", CONFUSION, False, ["v1"])
#: (label, expect, expected, signed, signature schemes in the header) of every probe, per endpoint
TABLE = {
    ("key-rotation", "v1"): [
        ("an old key's signature first, the receiver's second", "accept", ACCEPT, True, ["v1", "v1"]),
        ("the receiver's signature first, an old key's second", "accept", ACCEPT, True, ["v1", "v1"]),
        ("three signatures, the receiver's last", "accept", ACCEPT, True, ["v1", "v1", "v1"]),
        ("two signatures, neither by the receiver's key", "reject", REJECT, False, ["v1", "v1"]),
    ],
    ("key-rotation", "v1a"): [
        ("an old key's signature first, the receiver's second", "accept", ACCEPT, True, ["v1a", "v1a"]),
        ("the receiver's signature first, an old key's second", "accept", ACCEPT, True, ["v1a", "v1a"]),
        ("three signatures, the receiver's last", "accept", ACCEPT, True, ["v1a", "v1a", "v1a"]),
        ("two signatures, neither by the receiver's key", "reject", REJECT, False, ["v1a", "v1a"]),
    ],
    ("v1a", "v1"): [
        ("only a v1a signature, by a key the sender made up", "reject", UNVERIFIABLE, False, ["v1a"]),
        ("only a v1a entry that is not base64", "reject", UNVERIFIABLE, False, ["v1a"]),
        (
            "a v1a signature, then the receiver's v1 (the specification's example header)",
            "accept",
            ACCEPT,
            True,
            ["v1a", "v1"],
        ),
    ],
    ("v1a", "v1a"): [
        ("a v1a signature by another key", "reject", REJECT, False, ["v1a"]),
        (
            "a v1 HMAC keyed with the endpoint's public key (algorithm confusion)",
            "reject",
            CONFUSION,
            False,
            ["v1"],
        ),
        (
            "a v1 HMAC keyed with the 'whpk_…' text read as a base64 secret",
            "reject",
            CONFUSION,
            False,
            ["v1"],
        ),
        ("only a v1 signature, by a whsec_ secret the sender made up", "reject", REJECT, False, ["v1"]),
        ("a v1 signature, then the receiver's v1a", "accept", ACCEPT, True, ["v1", "v1a"]),
    ],
}


@pytest.mark.parametrize(("check", "mode"), list(TABLE))
def test_each_probe_says_what_a_correct_receiver_does_and_is_signed_so(check: str, mode: str) -> None:
    kit, key = _endpoint(mode)
    probes = {"key-rotation": ROTATION, "v1a": V1A}[check].probes(kit)
    rows = [(p.label, p.expect, p.expected, p.signed, _entries(p)) for p in probes]
    assert rows == TABLE[(check, mode)]
    for probe in probes:
        assert probe.cause == "signature" and probe.lenient is None and probe.effect is None
        # the message id the audit counts effects under is the one the request carries
        assert probe.event_id == probe.headers["webhook-id"] and probe.event_id
        # a correct receiver holding the endpoint's key: a valid signature exactly when it should accept
        assert _verifies(probe, key) is (probe.expect == "accept"), probe.label


@pytest.mark.parametrize("mode", ["v1", "v1a"])
def test_a_probe_holding_the_receivers_signature_is_the_only_kind_marked_signed(mode: str) -> None:
    """``signed`` tells the audit that only a holder of the key could have made the request (a crash
    on it is then retried with a forged signature): true exactly when the receiver's key signed."""
    kit, key = _endpoint(mode)
    for probe in [*ROTATION.probes(kit), *V1A.probes(kit)]:
        entries = probe.headers["webhook-signature"].split(" ")
        own = any(
            SW.check(
                {**probe.headers, "webhook-signature": e},
                probe.body,
                key,
                now=int(probe.headers["webhook-timestamp"]),
            ).ok
            for e in entries
        )
        assert probe.signed is own, probe.label


def test_the_old_keys_are_of_the_receivers_kind_and_differ_from_its_key() -> None:
    for mode, scheme in (("v1", "v1"), ("v1a", "v1a")):
        kit, key = _endpoint(mode)
        rejected = ROTATION.probes(kit)[3]
        assert _entries(rejected) == [scheme, scheme]
        assert not _verifies(rejected, key)


@pytest.mark.parametrize("mode", ["v1", "v1a"])
def test_the_same_seed_gives_the_same_requests(mode: str) -> None:
    def run(seed: int) -> list[tuple[str, dict[str, str], bytes]]:
        kit, _ = _endpoint(mode, seed)
        return [(p.label, dict(p.headers), p.body) for p in [*ROTATION.probes(kit), *V1A.probes(kit)]]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_the_confused_hmacs_are_keyed_with_the_public_key_as_a_lenient_v1_verifier_reads_it() -> None:
    """What an attacker computes from the public key alone, the two ways a confused receiver keys its
    HMAC: with the key's raw bytes, and with ``whpk_…`` decoded as if it were a ``whsec_`` secret."""
    kit, public = _endpoint("v1a")
    raw = base64.b64decode(public.removeprefix("whpk_"))
    lenient = base64.b64decode(public + "==")  # the 'whpk' letters read as base64 too
    _, by_raw, by_text, *_ = V1A.probes(kit)
    for probe, key in ((by_raw, raw), (by_text, lenient)):
        text = "whsec_" + base64.b64encode(key).decode()
        assert _verifies(probe, text), probe.label  # a v1 verifier keyed so accepts it
        assert probe.headers["webhook-id"] == probe.event_id
    assert public_key_of(kit.secret) == public


def test_the_entry_that_is_not_base64_is_as_long_as_a_v1a_signature() -> None:
    """So that a receiver cannot refuse it for its length alone: it must fail to decode it."""
    kit, _ = _endpoint("v1")
    real = SW.sign(b"{}", generate_key_pair()[0], START, message_id="msg_1")["webhook-signature"]
    probe = V1A.probes(kit)[1]
    scheme, _, value = probe.headers["webhook-signature"].partition(",")
    assert scheme == "v1a" and len(value) == len(real.partition(",")[2]) == 88
    assert set(value) == {"!"}  # outside the base64 alphabet
