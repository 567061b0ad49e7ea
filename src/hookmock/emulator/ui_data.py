"""What the history page shows, as JSON: rows (filtered, searched, keyset-paged) and one
delivery's attempts with the request each one sent, rebuilt and redacted, and a curl line for it.

Everything that leaves here has passed through the emulator's redactor (the gateway's: signing
secret, API key, admin token, every game's token).  The rows come from the delivery log's own
keyset pagination (``created_ns``, ``seq`` cursors, never OFFSET), so the page is as fast on the
millionth row as on the first.
"""

from __future__ import annotations

import math
import shlex
from typing import TYPE_CHECKING, Any

from ..delivery.machine import Phase
from ..delivery.records import DeliveryRecord
from ..profiles import get_profile
from ..profiles.moda import SIGNATURE_HEADER, SIGNATURE_SCHEME, TIMESTAMP_HEADER
from ..profiles.modio import TOKEN_HEADER
from .control import clock_json
from .errors import ApiError

if TYPE_CHECKING:  # pragma: no cover
    from .http import Ctx

__all__ = ["FILTERS", "PAGE_SIZE", "SECRET_ENV", "attempts_view", "rows_page"]

MS = 1_000_000
PAGE_SIZE = 50
STATUSES = ("pending", "succeeded", "failed")
PROFILES = ("moda", "modio")
#: The filters of the page (query parameters of ``/_hookmock/ui`` and ``/_hookmock/ui/rows``).
FILTERS = ("status", "event_type", "profile", "q")
#: The environment variable each copied curl line reads the secret from.
SECRET_ENV = {"moda": "HOOKMOCK_MODA_SECRET", "modio": "HOOKMOCK_MODIO_TOKEN"}


def _choice(ctx: Ctx, name: str, allowed: tuple[str, ...]) -> str | None:
    value = ctx.query(name) or None
    if value is not None and value not in allowed:
        raise ApiError(
            "invalid_request",
            "parameter_invalid",
            f"the query parameter {name}={value[:40]!r} must be one of {', '.join(allowed)} (or empty)",
            details={"parameter": name},
        )
    return value


def filters(ctx: Ctx) -> dict[str, str | None]:
    """The page's filters from the query string (an unknown status or profile is a 400)."""
    event_type = (ctx.query("event_type") or "").strip() or None
    q = (ctx.query("q") or "").strip() or None
    return {
        "status": _choice(ctx, "status", STATUSES),
        "event_type": event_type,
        "profile": _choice(ctx, "profile", PROFILES),
        "q": q,
    }


def row_json(ctx: Ctx, record: DeliveryRecord) -> dict[str, Any]:
    """One row of the page: the mod.io history's columns, and the delivery's live state."""
    gw = ctx.core.gateway
    state = record.state
    excerpt = record.response_body_excerpt
    return {
        "id": record.id,
        "profile": record.profile,
        "event_id": record.event_id,
        "name": record.event_type,
        "date": record.moda_row()["created_at"],
        "created_ms": record.created_ns // MS,
        "status": record.status,
        "phase": state.phase.value,
        "http_status": record.response_status_code,
        "response": gw._redact(None if excerpt is None else excerpt.decode("utf-8", "replace")),
        "duration_ms": None if record.last_duration_ns is None else record.last_duration_ns // MS,
        "attempts": record.attempts,
        "next_attempt_ms": state.next_due_ns // MS
        if state.phase == Phase.SCHEDULED and state.next_due_ns is not None
        else None,
        "in_flight_since_ms": state.started_ns // MS
        if state.phase == Phase.IN_FLIGHT and state.started_ns is not None
        else None,
    }


def rows_page(ctx: Ctx) -> dict[str, Any]:
    """``{"clock", "now_ms", "filters", "rows", "next_cursor"}`` for the page's query string."""
    core = ctx.core
    gw = core.gateway
    chosen = filters(ctx)
    cursor = ctx.query("cursor") or None
    next_cursor = None
    if chosen["q"] is not None:
        since = gw._since() or 0
        records = [
            r
            for r in gw.log.find(chosen["q"])
            if r.seq > since
            and all(
                chosen[k] is None or getattr(r, a) == chosen[k]
                for k, a in (("status", "status"), ("event_type", "event_type"), ("profile", "profile"))
            )
        ]
    else:
        page = gw.log.list(
            status=chosen["status"],
            event_type=chosen["event_type"],
            profile=chosen["profile"],
            limit=PAGE_SIZE,
            cursor=cursor,
            after_seq=gw._since(),
        )
        records, next_cursor = page.records, page.next_cursor
    clock = clock_json(core)  # with the drift warning the page shows in its banner
    return {
        "clock": clock,
        "now_ms": clock["now_ns"] // MS,
        "filters": chosen,
        "cursor": cursor,
        "rows": [row_json(ctx, r) for r in records],
        "next_cursor": next_cursor,
    }


def _secret(ctx: Ctx, record: DeliveryRecord) -> str | None:
    try:
        return ctx.core.gateway._secret_for(record)
    except ApiError:  # a mod.io entry whose game has no webhook any more
        return None


def _curl(record: DeliveryRecord, headers: dict[str, str], secret_header: set[str]) -> str:
    """A shell snippet that sends this attempt again, reading the secret from the environment
    (never written in the text): Moda's signature is computed anew at the current time."""
    env = SECRET_ENV[record.profile]
    body = record.body.decode("utf-8", "replace")
    lines = [
        f': "${{{env}:?export {env}=the secret (hookmock serve printed it)}}"',
        f"BODY={shlex.quote(body)}",
    ]
    parts = [f"curl -sS -X POST {shlex.quote(record.target_url)}"]
    if record.profile == "moda":
        lines.append("TS=$(date +%s)")
        lines.append(
            'SIG=$(printf \'%s.%s\' "$TS" "$BODY" | '
            f"openssl dgst -sha256 -hmac \"${env}\" -r | cut -d' ' -f1)"
        )
    for name, value in headers.items():
        if name == TIMESTAMP_HEADER and record.profile == "moda":
            parts.append(f'-H "{name}: $TS"')
        elif name == SIGNATURE_HEADER and record.profile == "moda":
            parts.append(f'-H "{name}: {SIGNATURE_SCHEME}=$SIG"')
        elif name in secret_header:
            parts.append(f'-H "{name}: ${env}"')
        else:
            parts.append(f"-H {shlex.quote(f'{name}: {value}')}")
    parts.append('--data-binary "$BODY"')
    return "\n".join(lines) + "\n" + " \\\n  ".join(parts)


def attempts_view(ctx: Ctx, record: DeliveryRecord, attempts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each attempt of the timeline with ``request_headers`` (as sent, rebuilt from the stored
    signing timestamp, with the mod.io token redacted; Moda's signature is not a secret and is
    shown) and ``curl`` (the secret read from an environment variable)."""
    gw = ctx.core.gateway
    profile = get_profile(record.profile)
    secret = _secret(ctx, record)
    stamps = {a.number: a.timestamp for a in gw.log.attempts(record.id)}
    secret_header = {TOKEN_HEADER} if record.profile == "modio" else set()
    out = []
    for item in attempts:
        ts = stamps.get(item["number"])
        if ts is None:
            ts = math.floor(item["started_ns"] / 1e9)
        if secret is None:
            headers = {"Content-Type": "application/json"}
        else:
            headers = {
                k: str(gw._redact(v)) for k, v in profile.delivery_headers(record.body, secret, ts).items()
            }
        shown = dict(item)
        shown["request_headers"] = headers
        shown["curl"] = gw._redact(_curl(record, headers, secret_header))
        out.append(shown)
    return out
