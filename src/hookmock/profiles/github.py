"""The GitHub profile: every fact hookmock knows about GitHub's webhooks (repository webhooks).

Sources, all on https://docs.github.com/en/webhooks (``docs/providers.md`` says which fact is
documented and which gap hookmock settled):

* ``X-Hub-Signature-256: sha256=<hex>`` = HMAC-SHA256(key = the webhook secret, message = the raw
  body), and the legacy ``X-Hub-Signature: sha1=<hex>`` (HMAC-SHA1), both sent whenever a secret
  is set ("Webhook events and payloads", delivery headers; "Validating webhook deliveries").
* ``X-GitHub-Event`` (the event name: the payload does not carry it), ``X-GitHub-Delivery`` (a
  GUID identifying the event, the same when a delivery is redelivered: "Best practices for using
  webhooks"), ``X-GitHub-Hook-ID``, ``X-GitHub-Hook-Installation-Target-Type`` and ``-ID``, and a
  ``User-Agent`` starting ``GitHub-Hookshot/``.
* No timestamp at all: replay protection comes from deduplicating on ``X-GitHub-Delivery``.
* 10 s to answer (GitHub.com; GitHub Enterprise Server allows 30 s), **no automatic
  redelivery**, manual redelivery of a failed or any recent delivery ("Handling failed webhook
  deliveries", "Redelivering webhooks").
* A ``ping`` event when the webhook is created; the catalogue here is ``ping``, ``push``,
  ``pull_request`` and ``issues``.
"""

from __future__ import annotations

import hmac
import json
import random
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._util.headers import HeadersLike, get_header
from .._util.overrides import apply_overrides, lookup_override
from ..clock import SECOND
from ..errors import BadSignature, MalformedHeader, MissingHeader, UnknownEventType, UsageError
from . import _github_payloads as payloads
from ._base import DEFAULT_TOLERANCE_S, EventSpec, Profile
from ._github_payloads import Hook

if TYPE_CHECKING:  # pragma: no cover
    from faker import Faker

    from ._audit import ProfileCheck

__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "HOOK_ID_HEADER",
    "LEGACY_SIGNATURE_HEADER",
    "PROFILE",
    "SIGNATURE_HEADER",
    "GitHubProfile",
    "Hook",
    "compute_sha1_signature",
    "compute_signature",
    "sign_request",
    "verify_request",
]

SIGNATURE_HEADER = "X-Hub-Signature-256"
LEGACY_SIGNATURE_HEADER = "X-Hub-Signature"
EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"
HOOK_ID_HEADER = "X-GitHub-Hook-ID"
TARGET_TYPE_HEADER = "X-GitHub-Hook-Installation-Target-Type"
TARGET_ID_HEADER = "X-GitHub-Hook-Installation-Target-ID"
#: GitHub documents the prefix only; the build id after it is the one of the docs' example delivery.
USER_AGENT = "GitHub-Hookshot/044aadd"

DEADLINE_S = 10

_HEX64 = re.compile(r"^[0-9a-f]{64}$")

_EVENTS: dict[str, EventSpec] = {
    spec.name: spec
    for spec in (
        EventSpec("push", "One or more commits were pushed to a branch or tag"),
        EventSpec(
            "pull_request",
            "Activity on a pull request (action: opened, synchronize, closed, reopened, edited)",
            extra={"actions": payloads.PULL_REQUEST_ACTIONS},
        ),
        EventSpec(
            "issues",
            "Activity on an issue (action: opened, edited, closed, reopened, labeled)",
            extra={"actions": payloads.ISSUES_ACTIONS},
        ),
        EventSpec("ping", "Sent when the webhook is created (and by 'Ping' / POST .../pings)"),
    )
}

#: The key that only each event's payload has at the top level: how a payload names its event
#: (GitHub sends the name in ``X-GitHub-Event``, not in the payload).
_MARKERS = (("zen", "ping"), ("pull_request", "pull_request"), ("issue", "issues"), ("commits", "push"))
_SCHEMAS = {
    "ping": "github-ping",
    "push": "github-push",
    "pull_request": "github-pull-request",
    "issues": "github-issues",
}


def compute_signature(body: bytes, secret: str) -> str:
    """Lower-case hex HMAC-SHA256 of the raw ``body`` keyed with ``secret`` as UTF-8."""
    return hmac.digest(secret.encode("utf-8"), bytes(body), "sha256").hex()


def compute_sha1_signature(body: bytes, secret: str) -> str:
    """The legacy ``X-Hub-Signature`` digest: lower-case hex HMAC-SHA1 of the raw ``body``."""
    return hmac.digest(secret.encode("utf-8"), bytes(body), "sha1").hex()


def sign_request(body: bytes, secret: str, *, legacy_sha1: bool = True) -> dict[str, str]:
    """The signature headers GitHub sends with ``body`` (``legacy_sha1``: the SHA-1 one too)."""
    headers = {SIGNATURE_HEADER: "sha256=" + compute_signature(body, secret)}
    if legacy_sha1:
        headers[LEGACY_SIGNATURE_HEADER] = "sha1=" + compute_sha1_signature(body, secret)
    return headers


def verify_request(headers: HeadersLike, body: bytes, secret: str) -> None:
    """Check ``X-Hub-Signature-256`` of a received GitHub delivery, in constant time.

    The legacy SHA-1 ``X-Hub-Signature`` is never enough on its own: GitHub sends the SHA-256
    header with every signed delivery, so a request without it is refused."""
    if not secret:
        raise UsageError("the webhook secret is empty; pass the secret set in the webhook's settings")
    raw = get_header(headers, SIGNATURE_HEADER)
    if raw is None:
        if get_header(headers, LEGACY_SIGNATURE_HEADER) is not None:
            raise MissingHeader(
                f"only the legacy SHA-1 {LEGACY_SIGNATURE_HEADER} header is present; GitHub sends "
                f"{SIGNATURE_HEADER} with every signed delivery, and SHA-1 alone is not accepted"
            )
        raise MissingHeader(f"the {SIGNATURE_HEADER} header is missing; GitHub sends 'sha256=<hex>' there")
    scheme, sep, digest = raw.partition("=")
    if not sep or scheme != "sha256":
        raise MalformedHeader(f"the {SIGNATURE_HEADER} header must start with 'sha256='")
    if not _HEX64.match(digest):
        raise MalformedHeader(
            f"the {SIGNATURE_HEADER} value after 'sha256=' must be 64 lower-case hex digits, "
            f"got {len(digest)} characters"
        )
    expected = compute_signature(body, secret)
    if not hmac.compare_digest(expected.encode("ascii"), digest.encode("ascii")):
        raise BadSignature(
            "the sha256 signature does not match HMAC-SHA256 of the raw body with this secret; check that "
            "the raw request bytes (not re-serialized JSON) and the right secret are used"
        )


def new_delivery_guid(rng: random.Random | None = None) -> str:
    """A delivery GUID shaped like GitHub's (``72d3162e-cc78-11e3-81ab-4c9367dc0958``: version 1)."""
    bits = random.SystemRandom().getrandbits(128) if rng is None else rng.getrandbits(128)
    return str(uuid.UUID(int=bits, version=1))


def event_name_of(payload: Any) -> str | None:
    """The event a GitHub payload belongs to, told by the key only that event's payload has."""
    if not isinstance(payload, Mapping):
        return None
    for key, name in _MARKERS:
        if key in payload:
            return name
    return None


class GitHubProfile(Profile):
    """GitHub repository webhooks.  ``hook`` is the simulated webhook (its id, repository and
    target); ``legacy_sha1=False`` drops ``X-Hub-Signature`` (*not faithful*: GitHub sends it)."""

    name = "github"
    title = "GitHub"
    secret_name = "webhook secret"
    deadline_ns = DEADLINE_S * SECOND
    retry_delays_ns: tuple[int, ...] = ()
    #: A redelivery is a new delivery (``redelivery: true`` in the deliveries API) of the same
    #: payload under the same ``X-GitHub-Delivery`` GUID.
    manual_retry = "new_delivery"
    has_timestamp = False
    schemas = ("github-push", "github-pull-request", "github-issues", "github-ping")
    signature_header = SIGNATURE_HEADER
    #: Where the audit adds a value to a payload: objects GitHub extends over time (receivers must
    #: ignore keys they do not know), here the repository every event carries.
    free_form_path = ("repository",)
    audit_skips: Mapping[str, str] = {
        name: "GitHub sends no timestamp: replay protection must come from delivery-id dedupe "
        "(the 'delivery-replay' check)"
        for name in ("replay", "future-timestamp", "clock-skew", "timestamp-parsing")
    }

    def __init__(self, hook: Hook | None = None, *, legacy_sha1: bool = True) -> None:
        self.hook = hook or Hook()
        self.legacy_sha1 = legacy_sha1

    # -- catalogue ---------------------------------------------------------------------
    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(_EVENTS)

    def event_spec(self, event_type: str) -> EventSpec:
        try:
            return _EVENTS[event_type]
        except KeyError:
            raise UnknownEventType(
                f"{event_type!r} is not in hookmock's GitHub catalogue ({', '.join(_EVENTS)})"
            ) from None

    # -- payloads ----------------------------------------------------------------------
    def build_payload(
        self, event_type: str, *, fake: Faker, rng: random.Random, now_s: int, overrides: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.event_spec(event_type)
        action = lookup_override(overrides, "action")
        if event_type == "ping":
            payload = payloads.build_ping(self.hook, fake, rng, now_s)
        elif event_type == "push":
            payload = payloads.build_push(self.hook, fake, rng, now_s)
        elif event_type == "issues":
            chosen = action if action in payloads.ISSUES_ACTIONS else None
            payload = payloads.build_issues(self.hook, fake, rng, now_s, chosen)
        else:
            chosen = action if action in payloads.PULL_REQUEST_ACTIONS else None
            payload = payloads.build_pull_request(self.hook, fake, rng, now_s, chosen)
        return apply_overrides(payload, overrides)

    def optional_fields(self, payload: Mapping[str, Any]) -> dict[tuple[str, ...], bool]:
        """Fields a receiver must cope with being absent, mapped to whether null is legal too."""
        event = event_name_of(payload)
        if event == "issues":
            return {("issue", "body"): True, ("issue", "state_reason"): True}
        if event == "pull_request":
            return {("pull_request", "body"): True, ("pull_request", "auto_merge"): True}
        return {}

    def event_id(self, payload: Mapping[str, Any]) -> str | None:
        return None  # the delivery GUID travels in X-GitHub-Delivery, never in the payload

    def new_message_id(self, rng: random.Random | None = None) -> str | None:
        return new_delivery_guid(rng)

    def received_event_id(self, headers: HeadersLike, payload: Any) -> str | None:
        return get_header(headers, DELIVERY_HEADER)

    def event_type_of(self, payload: Mapping[str, Any]) -> str | None:
        return event_name_of(payload)

    def schema_for(self, payload: Mapping[str, Any]) -> str:
        return _SCHEMAS.get(event_name_of(payload) or "", "github-push")

    def body_variants(self, payload: Mapping[str, Any]) -> dict[str, bytes]:
        from .._util.bodies import hostile_variants

        return hostile_variants(payload, self.free_form_path)

    # -- authenticity ------------------------------------------------------------------
    def sign(
        self, body: bytes, secret: str, timestamp: int, *, message_id: str | None = None
    ) -> dict[str, str]:
        return sign_request(body, secret, legacy_sha1=self.legacy_sha1)

    def verify(
        self,
        headers: HeadersLike,
        body: bytes,
        secret: str,
        *,
        now: int,
        tolerance: int = DEFAULT_TOLERANCE_S,
    ) -> int | None:
        verify_request(headers, body, secret)
        return None

    def delivery_headers(
        self,
        body: bytes,
        secret: str,
        timestamp: float,
        *,
        message_id: str | None = None,
        extra_secrets: Sequence[str] = (),
    ) -> dict[str, str]:
        """GitHub's headers for one delivery of ``body``: the event (told by the payload's shape;
        a sender that knows the name adds :meth:`event_headers`), the delivery GUID
        (``message_id``, the same on a redelivery; a new one when None), the hook, the signatures."""
        signed = super().delivery_headers(
            body, secret, timestamp, message_id=message_id, extra_secrets=extra_secrets
        )
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            EVENT_HEADER: self._event_of_body(body),
            DELIVERY_HEADER: message_id or new_delivery_guid(),
            HOOK_ID_HEADER: str(self.hook.hook_id),
            TARGET_TYPE_HEADER: self.hook.target_type,
            TARGET_ID_HEADER: str(self.hook.repository_id),
        }
        headers.update({k: v for k, v in signed.items() if k not in ("User-Agent", "Content-Type")})
        return headers

    def event_headers(self, event_type: str) -> dict[str, str]:
        return {EVENT_HEADER: event_type}

    def _event_of_body(self, body: bytes) -> str:
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # not JSON (the audit's bad bodies): no known shape
            payload = None
        return event_name_of(payload) or "ping"

    def generate_secret(self, rng: random.Random | None = None) -> str:
        bits = random.SystemRandom().getrandbits(160) if rng is None else rng.getrandbits(160)
        return f"{bits:040x}"

    # -- audit ---------------------------------------------------------------------------
    def audit_checks(self) -> tuple[ProfileCheck, ...]:
        from ._github_audit import CHECKS

        return CHECKS


PROFILE = GitHubProfile()
