"""The Standard Webhooks profile (registry name ``standard-webhooks``): the open specification
many providers send.

Source: the Standard Webhooks specification,
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
(``docs/providers.md`` says which fact is documented and which hookmock decided).

* Headers ``webhook-id`` (the message id, the same on every retry of a message),
  ``webhook-timestamp`` (unix seconds) and ``webhook-signature``.
* Signed content ``{webhook-id}.{webhook-timestamp}.{raw body}``.  ``v1,<base64>``: HMAC-SHA256
  keyed with the base64-decoded secret behind ``whsec_``; ``v1a,<base64>``: ed25519, with the key
  pair serialized as ``whsk_`` (signing key) / ``whpk_`` (public key) + base64.
* The signature header is a space-delimited list (key rotation: sign with the old and the new
  secret); a receiver accepts the request when any signature of its scheme verifies.
* Payload ``{"type", "timestamp" (ISO 8601), "data"}``; 2xx is success, anything else (3xx
  included) a failure; retries on the specification's example schedule.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import random
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._util.headers import HeadersLike, get_header
from .._util.overrides import apply_overrides
from ..clock import SECOND, format_iso
from ..errors import (
    BadSignature,
    MalformedHeader,
    MissingHeader,
    TimestampTooNew,
    TimestampTooOld,
    UnknownEventType,
    UsageError,
)
from ..ids import uuid4
from ._audit import ProfileCheck
from ._base import DEFAULT_TOLERANCE_S, EventSpec, Profile
from ._standard_webhooks_keys import (
    ASYMMETRIC,
    ID_HEADER,
    PUBLIC_KEY_PREFIX,
    SECRET_PREFIX,
    SIGNATURE_HEADER,
    SIGNING_KEY_PREFIX,
    SYMMETRIC,
    TIMESTAMP_HEADER,
    _b64,
    _check_id,
    _content,
    _ed25519,
    _hmac_key,
    check_key,
    generate_key_pair,
    public_key_of,
    signature,
)
from ._text import text_of

if TYPE_CHECKING:  # pragma: no cover
    from faker import Faker

__all__ = [
    "ID_HEADER",
    "PROFILE",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "StandardWebhooksProfile",
    "generate_key_pair",
    "public_key_of",
    "register_event",
]

#: Decided: the low end of the specification's 15-30 s recommendation.
DEADLINE_S = 15
#: The specification's example schedule (after the immediate first attempt); no jitter (decided).
RETRY_DELAYS_S = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
#: Decided: 32 random bytes (the specification allows 24 to 64).
SECRET_BYTES = 32

_TS_RE = re.compile(r"^[0-9]{1,15}$")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

#: A small generic catalogue (the specification's own example types); users add theirs.
_EVENTS: dict[str, EventSpec] = {
    spec.name: spec
    for spec in (
        EventSpec("contact.created", "A contact was created (the specification's example)"),
        EventSpec("invoice.paid", "An invoice was paid (the specification's example)"),
        EventSpec("user.created", "A user was created (the specification's example)"),
        EventSpec("example.event", "The specification's example payload", extra={"shape": "example"}),
    )
}
_TYPE_RE = re.compile(r"^[a-zA-Z0-9_]+(\.[a-zA-Z0-9_]+)*$")


def register_event(name: str, *, description: str = "") -> None:
    """Add an event type (full-stop delimited ``[a-zA-Z0-9_]`` identifiers, e.g. ``order.shipped``)."""
    if not isinstance(name, str) or not _TYPE_RE.match(name):
        raise UsageError(
            f"{name!r} is not a Standard Webhooks event type; use full-stop delimited identifiers "
            "of [a-zA-Z0-9_], e.g. 'order.shipped'"
        )
    _EVENTS[name] = EventSpec(name, description or f"{name} (registered by the user)", inferred=True)


# -- verification ----------------------------------------------------------------------------
def _header(headers: HeadersLike, name: str, what: str) -> str:
    value = get_header(headers, name)
    if value is None:
        raise MissingHeader(f"the {name} header is missing; Standard Webhooks sends {what} there")
    return value


def _matches(entry_scheme: str, value: str, content: bytes, secret: str) -> bool:
    try:
        given = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    if entry_scheme == SYMMETRIC:
        return hmac.compare_digest(hmac.digest(_hmac_key(secret), content, "sha256"), given)
    raw = _b64(public_key_of(secret).removeprefix(PUBLIC_KEY_PREFIX), "public key")
    try:
        _ed25519().Ed25519PublicKey.from_public_bytes(raw).verify(given, content)
    except Exception:  # InvalidSignature, or a signature of the wrong length
        return False
    return True


def verify_request(
    headers: HeadersLike, body: bytes, secret: str, *, now: int, tolerance: int = DEFAULT_TOLERANCE_S
) -> int:
    """Check a received Standard Webhooks request; return its timestamp or raise.

    ``secret``: the ``whsec_`` secret (``v1`` signatures are checked) or the ``whpk_`` public key
    (or ``whsk_`` signing key) of a ``v1a`` endpoint (``v1a`` signatures are checked).  The request
    is authentic when any signature of that scheme in the space-delimited list verifies; entries
    of other schemes are ignored.
    """
    if not secret:
        raise UsageError("the signing secret is empty; pass the whsec_… secret (or the whpk_… key)")
    message_id = _header(headers, ID_HEADER, "the message id")
    ts_text = _header(headers, TIMESTAMP_HEADER, "the unix time in seconds")
    raw = _header(headers, SIGNATURE_HEADER, "'v1,<base64>' signatures")
    if not _TS_RE.match(ts_text):
        shown = ts_text if len(ts_text) <= 40 else ts_text[:40] + "…"
        raise MalformedHeader(f"the {TIMESTAMP_HEADER} header {shown!r} is not a unix time in whole seconds")
    scheme = ASYMMETRIC if secret.startswith((PUBLIC_KEY_PREFIX, SIGNING_KEY_PREFIX)) else SYMMETRIC
    entries = [part.partition(",") for part in raw.split(" ") if part]
    mine = [value for name, sep, value in entries if sep and name == scheme]
    if not mine:
        raise MalformedHeader(f"the {SIGNATURE_HEADER} header has no '{scheme},<base64>' signature")
    content = _content(message_id, ts_text, body)
    if not any(_matches(scheme, value, content, secret) for value in mine):
        raise BadSignature(
            f"no {scheme} signature matches '{{webhook-id}}.{{webhook-timestamp}}.{{raw body}}' with this "
            "key; check that the raw request bytes (not re-serialized JSON) and the right key are used"
        )
    ts = int(ts_text)
    if now - ts > tolerance:
        raise TimestampTooOld(
            f"timestamp {ts} is {now - ts} s old; at most {tolerance} s is accepted (a replay?)"
        )
    if ts - now > tolerance:
        raise TimestampTooNew(
            f"timestamp {ts} is {ts - now} s in the future; at most {tolerance} s is accepted"
        )
    return ts


# -- payloads --------------------------------------------------------------------------------
def _data(event_type: str, fake: Faker, rng: random.Random, now_s: int) -> dict[str, Any]:
    if _EVENTS[event_type].extra.get("shape") == "example":
        return {"foo": text_of(fake).word(), "fizzbuzz": rng.randint(0, 100)}
    noun = event_type.split(".")[0]
    data: dict[str, Any] = {"id": uuid4(rng), "type": noun}
    if noun == "contact":
        data.update(
            fullName=fake.name(), address=fake.address().replace("\n", ", "), phoneNumber=fake.phone_number()
        )
    elif noun == "invoice":
        data.update(
            amount=rng.randint(100, 500_000),
            currency=rng.choice(["usd", "eur", "gbp"]),
            paidAt=format_iso(now_s * SECOND),
        )
    elif noun == "user":
        data.update(email=fake.email(), name=fake.name())
    return data


class StandardWebhooksProfile(Profile):
    name = "standard-webhooks"
    title = "Standard Webhooks"
    secret_name = "signing secret"
    secret_prefix = SECRET_PREFIX
    deadline_ns = DEADLINE_S * SECOND
    retry_delays_ns = tuple(d * SECOND for d in RETRY_DELAYS_S)
    manual_retry = "new_delivery"
    has_timestamp = True
    schemas = ("standard-webhooks-event",)
    signature_encoding = "base64"
    multi_signature = True
    signature_header = SIGNATURE_HEADER
    timestamp_header = TIMESTAMP_HEADER
    id_header = ID_HEADER
    free_form_path = ("data",)

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(_EVENTS)

    def event_spec(self, event_type: str) -> EventSpec:
        try:
            return _EVENTS[event_type]
        except KeyError:
            raise UnknownEventType(
                f"{event_type!r} is not in hookmock's Standard Webhooks catalogue ({', '.join(_EVENTS)}); "
                "add it with hookmock.profiles.standard_webhooks.register_event()"
            ) from None

    def build_payload(
        self, event_type: str, *, fake: Faker, rng: random.Random, now_s: int, overrides: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.event_spec(event_type)
        micros = rng.randrange(1_000_000)
        when = format_iso(now_s * SECOND).replace("+00:00", f".{micros:06d}Z")
        payload = {"type": event_type, "timestamp": when, "data": _data(event_type, fake, rng, now_s)}
        return apply_overrides(payload, overrides)

    def event_id(self, payload: Mapping[str, Any]) -> str | None:
        return None  # the message id travels in the webhook-id header, not in the payload

    def new_message_id(self, rng: random.Random | None = None) -> str | None:
        source = rng if rng is not None else random.SystemRandom()
        return "msg_" + "".join(source.choice(_BASE62) for _ in range(27))

    def received_event_id(self, headers: HeadersLike, payload: Any) -> str | None:
        return get_header(headers, ID_HEADER)

    def event_type_of(self, payload: Mapping[str, Any]) -> str | None:
        value = payload.get("type") if isinstance(payload, Mapping) else None
        return value if isinstance(value, str) else None

    def schema_for(self, payload: Mapping[str, Any]) -> str:
        return "standard-webhooks-event"

    def body_variants(self, payload: Mapping[str, Any]) -> dict[str, bytes]:
        from .._util.bodies import hostile_variants

        return hostile_variants(payload, self.free_form_path)

    # -- authenticity ----------------------------------------------------------------------
    def sign(
        self, body: bytes, secret: str, timestamp: int, *, message_id: str | None = None
    ) -> dict[str, str]:
        return self.sign_rotated(body, [secret], timestamp, message_id=message_id)

    def sign_rotated(
        self, body: bytes, secrets: Sequence[str], timestamp: int, *, message_id: str | None = None
    ) -> dict[str, str]:
        mid = _check_id(message_id if message_id is not None else str(self.new_message_id()))
        return {
            ID_HEADER: mid,
            TIMESTAMP_HEADER: str(int(timestamp)),
            SIGNATURE_HEADER: " ".join(signature(body, s, int(timestamp), mid) for s in secrets),
        }

    def sign_timestamp_text(
        self, body: bytes, secret: str, timestamp_text: str, *, message_id: str | None = None
    ) -> dict[str, str] | None:
        mid = _check_id(message_id if message_id is not None else str(self.new_message_id()))
        return {
            ID_HEADER: mid,
            TIMESTAMP_HEADER: timestamp_text,
            SIGNATURE_HEADER: signature(body, secret, timestamp_text, mid),
        }

    def split_signature(self, value: str) -> tuple[str, str]:
        scheme, sep, rest = value.partition(",")
        return (scheme + sep, rest) if sep else ("", value)

    def verify(
        self,
        headers: HeadersLike,
        body: bytes,
        secret: str,
        *,
        now: int,
        tolerance: int = DEFAULT_TOLERANCE_S,
    ) -> int | None:
        return verify_request(headers, body, secret, now=now, tolerance=tolerance)

    def generate_secret(self, rng: random.Random | None = None) -> str:
        raw = (
            rng.randbytes(SECRET_BYTES) if rng is not None else random.SystemRandom().randbytes(SECRET_BYTES)
        )
        return SECRET_PREFIX + base64.b64encode(raw).decode()

    def check_secret(self, secret: str, *, signing: bool = True) -> None:
        check_key(secret, signing=signing)

    def secret_prefix_of(self, secret: str) -> str:
        for prefix in (SECRET_PREFIX, SIGNING_KEY_PREFIX, PUBLIC_KEY_PREFIX):
            if secret.startswith(prefix):
                return prefix
        return ""

    def audit_checks(self) -> tuple[ProfileCheck, ...]:
        from ._standard_webhooks_audit import CHECKS

        return CHECKS


PROFILE = StandardWebhooksProfile()
