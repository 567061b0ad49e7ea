"""The Moda profile: every fact hookmock knows about Moda's webhooks.

Sources: Moda's webhook documentation and its API reference; ``docs/providers.md`` says which
fact is documented and which gap hookmock settled (*decided*, also marked in the README).

* Registration per task (``callback_url``), HTTPS only.
* Closed event set: ``task.succeeded``, ``task.failed``, ``task.canceled``, ``export.succeeded``,
  ``export.failed``.
* Envelope ``{"id": "evt_…", "type", "created", "api_version", "data": <Task>}``.
* ``X-Webhook-Signature: v1=<hex>`` = HMAC-SHA256(secret as UTF-8, ``"{ts}.{raw body}"``) and
  ``X-Webhook-Timestamp: <unix seconds>``; receivers reject ``abs(now - ts) > 300``.
* A whole-response deadline of 30 s; non-2xx or no answer is a failure; retries 1 s, 5 s and
  30 s after the failed attempt, four attempts in all.
"""

from __future__ import annotations

import hmac
import random
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._util.headers import HeadersLike, get_header
from .._util.overrides import apply_overrides, lookup_override
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
from ..ids import crockford_id, random_token
from ._base import DEFAULT_TOLERANCE_S, EventSpec, Profile
from ._text import Text, text_of

if TYPE_CHECKING:  # pragma: no cover
    from faker import Faker

__all__ = [
    "API_VERSION",
    "LEGACY_API_VERSIONS",
    "PROFILE",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "ModaProfile",
    "compute_signature",
    "sign_request",
    "verify_request",
]

SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
SIGNATURE_SCHEME = "v1"
#: The canonical ``Moda-Version`` of webhook payloads.
API_VERSION = "2026-05-01"
LEGACY_API_VERSIONS = ("2026-04-12",)
VERSION_HEADER = "Moda-Version"
#: Prefix of Moda API keys (``Authorization: Bearer moda_live_…``).
API_KEY_PREFIX = "moda_live_"
SECRET_PREFIX = "whsec_"

DEADLINE_S = 30
RETRY_DELAYS_S = (1, 5, 30)

TASK_KINDS = ("design", "export", "remix", "brand_kit_extract")
TASK_STATUSES = ("queued", "running", "succeeded", "failed", "canceled", "expired")
TERMINAL_STATUSES = ("succeeded", "failed", "canceled", "expired")

_EVENTS: dict[str, EventSpec] = {
    spec.name: spec
    for spec in (
        EventSpec("task.succeeded", "A design task finished successfully", extra={"status": "succeeded"}),
        EventSpec(
            "task.failed",
            "A design task failed (transient or dead-lettered, see data.error.retryable)",
            extra={"status": "failed"},
        ),
        EventSpec("task.canceled", "A design task was canceled", extra={"status": "canceled"}),
        EventSpec(
            "export.succeeded", "An async canvas export finished successfully", extra={"status": "succeeded"}
        ),
        EventSpec("export.failed", "An async canvas export failed", extra={"status": "failed"}),
    )
}


#: Which task status fires which event; ``queued``, ``running`` and ``expired`` fire nothing.
def event_for_task(kind: str, status: str) -> str | None:
    family = "export" if kind == "export" else "task"
    if status in ("succeeded", "failed") or (status == "canceled" and family == "task"):
        return f"{family}.{status}"
    return None


_TS_RE = re.compile(r"^[0-9]{1,15}$")
_HEX_RE = re.compile(r"^[0-9a-f]{64}$")
#: 64 lower-case hex digits from a position to the very end (``match(text, pos)``; no ``^``)
_HEX_TAIL_RE = re.compile(r"[0-9a-f]{64}\Z")


def compute_signature(body: bytes, secret: str, timestamp: int | str) -> str:
    """Lower-case hex HMAC-SHA256 of ``"{timestamp}.{body}"`` keyed with ``secret`` as UTF-8."""
    message = str(timestamp).encode("ascii") + b"." + bytes(body)
    return hmac.digest(secret.encode("utf-8"), message, "sha256").hex()


def sign_request(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """The two headers Moda sends with a webhook body at ``timestamp`` (unix seconds)."""
    return {
        SIGNATURE_HEADER: f"{SIGNATURE_SCHEME}={compute_signature(body, secret, timestamp)}",
        TIMESTAMP_HEADER: str(int(timestamp)),
    }


def _parse_timestamp(headers: HeadersLike) -> tuple[str, int]:
    raw = get_header(headers, TIMESTAMP_HEADER)
    if raw is None:
        raise MissingHeader(
            f"the {TIMESTAMP_HEADER} header is missing; Moda sends the unix time in seconds there"
        )
    if not _TS_RE.match(raw):
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise MalformedHeader(
            f"the {TIMESTAMP_HEADER} header {shown!r} is not a unix time in whole seconds (1 to 15 digits)"
        )
    return raw, int(raw)


def _parse_signatures(headers: HeadersLike) -> list[str]:
    raw = get_header(headers, SIGNATURE_HEADER)
    if raw is None:
        raise MissingHeader(f"the {SIGNATURE_HEADER} header is missing; Moda sends 'v1=<hex>' there")
    if len(raw) == 67 and raw.startswith("v1=") and _HEX_TAIL_RE.match(raw, 3):  # what Moda sends: one v1
        return [raw[3:]]
    found: list[str] = []
    for part in raw.split(","):
        scheme, sep, value = part.strip().partition("=")
        if not sep or scheme != SIGNATURE_SCHEME:
            continue
        if not _HEX_RE.match(value):
            raise MalformedHeader(
                f"the {SIGNATURE_HEADER} value after 'v1=' must be 64 lower-case hex digits, "
                f"got {len(value)} characters"
            )
        found.append(value)
    if not found:
        raise MalformedHeader(f"the {SIGNATURE_HEADER} header has no 'v1=<hex>' entry")
    return found


def verify_request(
    headers: HeadersLike,
    body: bytes,
    secret: str,
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_S,
) -> int:
    """Check a received Moda webhook; return its timestamp or raise a VerificationError.

    ``now`` is unix seconds (pass ``clock.time()``); ``tolerance`` applies both ways:
    ``abs(now - ts) > tolerance`` is rejected.  Signatures are compared in constant time.
    """
    if not secret:
        raise UsageError("the signing secret is empty; pass the whsec_… secret your Moda account shows")
    ts_text, ts = _parse_timestamp(headers)
    candidates = _parse_signatures(headers)
    expected = compute_signature(body, secret, ts_text)
    if len(candidates) == 1:
        matched = hmac.compare_digest(expected, candidates[0])
    else:
        matched = any(hmac.compare_digest(expected, c) for c in candidates)
    if not matched:
        raise BadSignature(
            "the v1 signature does not match HMAC-SHA256 of '{timestamp}.{raw body}' with this secret; "
            "check that the raw request bytes (not re-serialized JSON) and the right secret are used"
        )
    if now - ts > tolerance:
        raise TimestampTooOld(
            f"timestamp {ts} is {now - ts} s old; at most {tolerance} s is accepted (a replay?)"
        )
    if ts - now > tolerance:
        raise TimestampTooNew(
            f"timestamp {ts} is {ts - now} s in the future; at most {tolerance} s is accepted"
        )
    return ts


# -- payloads -----------------------------------------------------------------------------------

_EXPORT_FORMATS = ("png", "jpg", "pdf", "svg", "mp4")
_FAIL_MESSAGES = (
    ("Upstream model timed out", True),
    ("Rate limited by the rendering backend", True),
    ("Canvas could not be rendered: unsupported font", False),
    ("Input image could not be downloaded", False),
    ("Brand kit source page returned 404", False),
)


def _task_input(kind: str, rng: random.Random, text: Text, now_s: int) -> dict[str, Any]:
    """What the task was asked to do; a canvas it names was made a day before."""
    if kind == "design":
        return {
            "prompt": text.sentence(10),
            "format": rng.choice(["instagram_post", "poster", "slide"]),
        }
    earlier_ms = (now_s - 86400) * 1000
    if kind == "remix":
        return {
            "source_canvas_id": crockford_id("cvs", ms=earlier_ms, rng=rng),
            "prompt": text.sentence(8),
        }
    if kind == "export":
        return {
            "canvas_id": crockford_id("cvs", ms=earlier_ms, rng=rng),
            "format": rng.choice(_EXPORT_FORMATS),
        }
    return {"url": text.url()}


def _task_result(
    kind: str, rng: random.Random, task_id: str, now_s: int, task_input: Mapping[str, Any]
) -> dict[str, Any]:
    """What a task that succeeded at ``now_s`` made: a remix names the canvas it was given, an
    export has the format it was asked for (as the emulator's tasks do)."""
    canvas_id = crockford_id("cvs", ms=now_s * 1000, rng=rng)
    if kind == "design":
        return {
            "canvas_id": canvas_id,
            "canvas_url": f"https://moda.app/canvas/{canvas_id}",
            "conversation_id": crockford_id("conv", ms=now_s * 1000, rng=rng),
        }
    if kind == "remix":
        return {
            "canvas_id": canvas_id,
            "canvas_url": f"https://moda.app/canvas/{canvas_id}",
            "source_canvas_id": task_input["source_canvas_id"],
        }
    if kind == "export":
        fmt = task_input["format"]
        return {
            "export_url": f"https://exports.moda.app/{task_id}.{fmt}",
            "format": fmt,
            "expires_at": format_iso((now_s + 86400) * SECOND),
        }
    return {"brand_kit_id": crockford_id("bk", ms=now_s * 1000, rng=rng)}


def build_task(
    *,
    kind: str,
    status: str,
    fake: Faker,
    rng: random.Random,
    now_s: int,
    retryable: bool | None = None,
    task_id: str | None = None,
) -> dict[str, Any]:
    """A full Task object whose ``kind``, ``status``, ``result`` and ``error`` agree."""
    if kind not in TASK_KINDS:
        raise UsageError(f"unknown Moda task kind {kind!r}; choose one of {', '.join(TASK_KINDS)}")
    if status not in TASK_STATUSES:
        raise UsageError(f"unknown Moda task status {status!r}; choose one of {', '.join(TASK_STATUSES)}")
    created = now_s - rng.randint(20, 600)
    started = created + rng.randint(0, 10) if status != "queued" else None
    completed = now_s if status in TERMINAL_STATUSES else None
    task_id = task_id or crockford_id("task", ms=created * 1000, rng=rng)
    max_attempts = 3
    error = None
    if status == "failed":  # a message of the kind asked for: transient (retryable) or dead-lettered
        message, flag = rng.choice([m for m in _FAIL_MESSAGES if retryable is None or m[1] is retryable])
        error = {"message": message, "retryable": flag}
    text = text_of(fake)
    task_input = _task_input(kind, rng, text, now_s)
    result = _task_result(kind, rng, task_id, now_s, task_input) if status == "succeeded" else None
    if status == "succeeded":
        progress: dict[str, Any] | None = {"percent": 100, "step": "done", "message": "Completed"}
    elif status == "running":
        progress = {"percent": rng.randint(1, 99), "step": "rendering", "message": text.sentence(4)}
    elif status == "failed":
        progress = {"percent": rng.randint(0, 99), "step": "rendering", "message": "Failed"}
    else:
        progress = None
    canvas = (result or {}).get("canvas_id")
    return {
        "id": task_id,
        "kind": kind,
        "status": status,
        "created_at": format_iso(created * SECOND),
        "started_at": format_iso(started * SECOND) if started is not None else None,
        "completed_at": format_iso(completed * SECOND) if completed is not None else None,
        "progress": progress,
        "attempt": rng.randint(1, max_attempts) if status == "failed" else 1,
        "max_attempts": max_attempts,
        "input": task_input,
        "result": result,
        "error": error,
        "credits": {"credits_used": rng.randint(1, 40), "credits_remaining": rng.randint(0, 5000)}
        if status == "succeeded"
        else None,
        "links": {
            "self": f"/v1/tasks/{task_id}",
            "events": f"/v1/tasks/{task_id}/events",
            "cancel": f"/v1/tasks/{task_id}/cancel",
            "canvas": f"/v1/canvases/{canvas}" if canvas else None,
        },
        "retry_after_ms": None if status in TERMINAL_STATUSES else rng.choice([None, 1000, 2000]),
    }


def build_envelope(
    event_type: str, task: Mapping[str, Any], *, event_id: str, created_s: int
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type,
        "created": format_iso(created_s * SECOND),
        "api_version": API_VERSION,
        "data": dict(task),
    }


class ModaProfile(Profile):
    name = "moda"
    title = "Moda"
    secret_name = "signing secret"
    secret_prefix = SECRET_PREFIX
    deadline_ns = DEADLINE_S * SECOND
    retry_delays_ns = tuple(d * SECOND for d in RETRY_DELAYS_S)
    manual_retry = "new_delivery"
    has_timestamp = True
    schemas = ("moda-envelope", "moda-task", "moda-delivery", "moda-error")
    signature_header = SIGNATURE_HEADER
    timestamp_header = TIMESTAMP_HEADER
    free_form_path = ("data", "input")

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(_EVENTS)

    def event_spec(self, event_type: str) -> EventSpec:
        try:
            return _EVENTS[event_type]
        except KeyError:
            raise UnknownEventType(
                f"{event_type!r} is not a Moda event; Moda's set is closed: {', '.join(_EVENTS)}"
            ) from None

    def build_payload(
        self, event_type: str, *, fake: Faker, rng: random.Random, now_s: int, overrides: Mapping[str, Any]
    ) -> dict[str, Any]:
        spec = self.event_spec(event_type)
        # no overrides (the usual call): nothing to look up
        kind = lookup_override(overrides, "data", "kind") if overrides else None
        if not isinstance(kind, str) or kind not in TASK_KINDS:
            kind = (
                "export"
                if event_type.startswith("export.")
                else rng.choice(("design", "remix", "brand_kit_extract"))
            )
        retryable = lookup_override(overrides, "data", "error", "retryable") if overrides else None
        task = build_task(
            kind=kind,
            status=spec.extra["status"],
            fake=fake,
            rng=rng,
            now_s=now_s,
            retryable=retryable if isinstance(retryable, bool) else None,
        )
        envelope = {  # build_envelope's, without copying the task just built
            "id": crockford_id("evt", ms=now_s * 1000, rng=rng),
            "type": event_type,
            "created": format_iso(now_s * SECOND),
            "api_version": API_VERSION,
            "data": task,
        }
        return apply_overrides(envelope, overrides) if overrides else envelope

    def optional_fields(self, payload: Mapping[str, Any]) -> dict[tuple[str, ...], bool]:
        """Fields a receiver must cope with being absent, mapped to whether null is legal too."""
        failed = isinstance(payload.get("data"), Mapping) and payload["data"].get("status") == "failed"
        return {
            ("data", "progress"): True,
            ("data", "result"): True,
            ("data", "error"): not failed,
            ("data", "credits"): True,
            ("data", "started_at"): True,
            ("data", "completed_at"): True,
            ("data", "retry_after_ms"): True,
            ("data", "links", "canvas"): True,
        }

    def event_id(self, payload: Mapping[str, Any]) -> str | None:
        value = payload.get("id") if isinstance(payload, Mapping) else None
        return value if isinstance(value, str) else None

    def event_type_of(self, payload: Mapping[str, Any]) -> str | None:
        value = payload.get("type") if isinstance(payload, Mapping) else None
        return value if isinstance(value, str) else None

    def schema_for(self, payload: Mapping[str, Any]) -> str:
        return "moda-envelope"

    def body_variants(self, payload: Mapping[str, Any]) -> dict[str, bytes]:
        from .._util.bodies import hostile_variants

        return hostile_variants(payload, self.free_form_path)

    def sign(
        self, body: bytes, secret: str, timestamp: int, *, message_id: str | None = None
    ) -> dict[str, str]:
        return sign_request(body, secret, timestamp)

    def sign_timestamp_text(
        self, body: bytes, secret: str, timestamp_text: str, *, message_id: str | None = None
    ) -> dict[str, str] | None:
        return {
            SIGNATURE_HEADER: f"{SIGNATURE_SCHEME}={compute_signature(body, secret, timestamp_text)}",
            TIMESTAMP_HEADER: timestamp_text,
        }

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
        return SECRET_PREFIX + random_token(32, rng)


PROFILE = ModaProfile()
