"""The Moda API surface: tasks, remix, canvas exports and the webhook deliveries log.

Faithful routes only (``/v1/...``); hookmock's own controls live in :mod:`.control`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from ..profiles.moda import TASK_KINDS, TASK_STATUSES
from .errors import ApiError, bad_cursor, gather
from .http import Ctx, json_response
from .store import TaskRow
from .tasks import find_magic

__all__ = ["ROUTES"]

EXPORT_FORMATS = ("png", "jpg", "pdf", "svg", "mp4")
DELIVERY_STATUSES = ("pending", "succeeded", "failed")
_DIRECT_KINDS = tuple(k for k in TASK_KINDS if k not in ("export", "remix"))


def _create(
    ctx: Ctx,
    route: str,
    kind: str,
    read_input: Callable[[], dict[str, Any]],
    canvas_id: str | None = None,
) -> Response:
    """Create a task of ``kind`` from the input ``read_input`` reads; every problem of the
    request (input, callback URL, idempotency key) is reported at once (``causes``)."""
    core = ctx.core
    body = ctx.body()
    inp, callback_url, key = gather(read_input, lambda: _callback_url(ctx), lambda: _idempotency_key(ctx))
    outcome = find_magic(
        [{k: v for k, v in body.items() if k not in ("callback_url", "idempotency_key")}, canvas_id]
    )
    digest = hashlib.sha256(
        json.dumps([route, canvas_id, body], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    api_key_id = ctx.api_key_id or ""
    if key is not None:
        existing = core.store.task_by_idempotency(api_key_id, key)
        if existing is not None:
            return _replay(ctx, existing, digest)
    try:
        row = core.engine.create(
            kind=kind,
            input=inp,
            callback_url=callback_url,
            api_key_id=api_key_id,
            outcome=outcome,
            idempotency_key=key,
            request_hash=digest,
            canvas_id=canvas_id,
        )
    except sqlite3.IntegrityError:  # the same key raced in from another request
        existing = core.store.task_by_idempotency(api_key_id, key or "")
        if existing is None:
            raise
        return _replay(ctx, existing, digest)
    core.wake()
    return json_response(core.engine.task_json(row), 202)


def _callback_url(ctx: Ctx) -> str | None:
    callback_url: str | None = ctx.field("callback_url", str)
    if callback_url is not None:
        ctx.core.check_callback_url(callback_url)
    return callback_url


def _idempotency_key(ctx: Ctx) -> str | None:
    key: str | None = ctx.field("idempotency_key", str)
    if key is not None and not 1 <= len(key) <= 255:
        raise ApiError(
            "invalid_request",
            "parameter_invalid",
            "the body parameter 'idempotency_key' must be 1 to 255 characters",
            details={"parameter": "idempotency_key"},
        )
    return key


def _replay(ctx: Ctx, existing: TaskRow, digest: str) -> Response:
    if existing.request_hash != digest:
        raise ApiError(
            "conflict",
            "idempotency_conflict",
            "this idempotency_key was already used with a different request body; use a new key "
            "for a different request",
            details={"idempotency_key": existing.idempotency_key, "task_id": existing.id},
        )
    return json_response(ctx.core.engine.task_json(existing), 202, {"Idempotent-Replayed": "true"})


def create_task(ctx: Ctx) -> Response:
    kind = ctx.field("kind", str, default="design")
    if kind not in _DIRECT_KINDS:
        hint = {"remix": "POST /v1/remix", "export": "POST /v1/canvases/{id}/export"}.get(kind)
        raise ApiError(
            "invalid_request",
            "parameter_invalid",
            f"kind {kind!r} cannot be created here; "
            + (f"use {hint}" if hint else f"choose one of {', '.join(_DIRECT_KINDS)}"),
            details={"parameter": "kind"},
        )

    def read_input() -> dict[str, Any]:
        inp: dict[str, Any] = {}
        if kind == "design":
            inp["prompt"] = ctx.field("prompt", str, required=True)
            fmt = ctx.field("format", str)
            if fmt is not None:
                inp["format"] = fmt
        else:
            inp["url"] = ctx.field("url", str, required=True)
        return inp

    return _create(ctx, "tasks", kind, read_input)


def create_remix(ctx: Ctx) -> Response:
    def read_input() -> dict[str, Any]:
        inp: dict[str, Any] = {"source_canvas_id": ctx.field("source_canvas_id", str, required=True)}
        prompt = ctx.field("prompt", str)
        if prompt is not None:
            inp["prompt"] = prompt
        return inp

    return _create(ctx, "remix", "remix", read_input)


def create_export(ctx: Ctx) -> Response:
    canvas_id = str(ctx.args["canvas_id"])

    def read_input() -> dict[str, Any]:
        fmt = ctx.field("format", str, default="png")
        if fmt not in EXPORT_FORMATS:
            raise ApiError(
                "invalid_request",
                "parameter_invalid",
                f"format {fmt!r} is not an export format; choose one of {', '.join(EXPORT_FORMATS)}",
                details={"parameter": "format"},
            )
        return {"canvas_id": canvas_id, "format": fmt}

    return _create(ctx, "export", "export", read_input, canvas_id)


def export_status(ctx: Ctx) -> Response:
    canvas_id = str(ctx.args["canvas_id"])
    task_id = ctx.query("task_id")
    if not task_id:
        raise ApiError(
            "invalid_request",
            "parameter_missing",
            "the query parameter task_id is required (the id POST .../export returned)",
            details={"parameter": "task_id"},
        )
    row = ctx.core.engine.get(task_id)
    if row.kind != "export" or row.canvas_id != canvas_id:
        raise ApiError(
            "not_found",
            "export_not_found",
            f"task {task_id!r} is not an export of canvas {canvas_id!r}",
            details={"task_id": task_id, "canvas_id": canvas_id},
        )
    return json_response(ctx.core.engine.task_json(row))


def get_task(ctx: Ctx) -> Response:
    row = ctx.core.engine.get(str(ctx.args["task_id"]))
    return json_response(ctx.core.engine.task_json(row))


def task_events(ctx: Ctx) -> Response:
    """The webhook events of one task (what ``links.events`` points at): the envelope each event
    sent, newest first, cursor-paged like every list.  A task fires at most one event, so a page
    holds zero or one; the cursor is checked all the same."""
    row = ctx.core.engine.get(str(ctx.args["task_id"]))
    limit = ctx.query_int("limit", default=50, low=1, high=200)
    cursor = ctx.query("cursor")
    start = 0
    if cursor:
        pos = ctx.core.codec.decode("task_events", cursor)
        if not (isinstance(pos, list) and len(pos) == 2 and pos[0] == row.id and isinstance(pos[1], int)):
            raise bad_cursor()
        start = pos[1]
    events = []
    if row.delivery_id is not None:
        record = ctx.core.gateway.log.get(row.delivery_id)
        if record is not None and isinstance(record.payload(), dict):
            events.append(record.payload())
    page = events[start : start + limit]
    more = start + limit < len(events)
    next_cursor = ctx.core.codec.encode("task_events", [row.id, start + limit]) if more else None
    return json_response({"data": page, "next_cursor": next_cursor})


def cancel_task(ctx: Ctx) -> Response:
    row = ctx.core.engine.cancel(str(ctx.args["task_id"]))
    return json_response(ctx.core.engine.task_json(row))


def _enum_query(ctx: Ctx, name: str, allowed: tuple[str, ...]) -> str | None:
    value = ctx.query(name)
    if value is None or value == "":
        return None
    if value not in allowed:
        raise ApiError(
            "invalid_request",
            "parameter_invalid",
            f"the query parameter {name}={value!r} must be one of {', '.join(allowed)}",
            details={"parameter": name},
        )
    return value


def list_tasks(ctx: Ctx) -> Response:
    limit = ctx.query_int("limit", default=50, low=1, high=200)
    status = _enum_query(ctx, "status", TASK_STATUSES)
    kind = _enum_query(ctx, "kind", TASK_KINDS)
    cursor = ctx.query("cursor")
    before = None
    if cursor:
        pos = ctx.core.codec.decode("tasks", cursor)
        if not isinstance(pos, int):
            raise bad_cursor()
        before = pos
    rows = ctx.core.store.list_tasks(before_seq=before, limit=limit + 1, kind=kind, status=status)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = ctx.core.codec.encode("tasks", rows[-1].seq) if more and rows else None
    return json_response({"data": [ctx.core.engine.task_json(r) for r in rows], "next_cursor": next_cursor})


def list_deliveries(ctx: Ctx) -> Response:
    limit = ctx.query_int("limit", default=50, low=1, high=200)
    status = _enum_query(ctx, "status", DELIVERY_STATUSES)
    filters = {
        "event_type": ctx.query("event_type") or None,
        "api_key_id": ctx.query("api_key_id") or None,
        "status": status,
        "from": ctx.core.parse_time_param(ctx.query("from"), "from"),
        "to": ctx.core.parse_time_param(ctx.query("to"), "to"),
    }
    page = ctx.core.gateway.list_moda(filters, limit=limit, cursor=ctx.query("cursor") or None)
    return json_response(page)


def get_delivery(ctx: Ctx) -> Response:
    """hookmock extension: one delivery with its attempt timeline."""
    return json_response(ctx.core.gateway.detail(str(ctx.args["delivery_id"]), profile="moda"))


def redeliver(ctx: Ctx) -> Response:
    new = ctx.core.gateway.redeliver(str(ctx.args["delivery_id"]))
    return json_response(new, 202)


#: (path, methods, endpoint name, handler)
ROUTES = [
    ("/v1/tasks", ["POST"], "create_task", create_task),
    ("/v1/tasks", ["GET"], "list_tasks", list_tasks),
    ("/v1/remix", ["POST"], "create_remix", create_remix),
    ("/v1/tasks/<task_id>", ["GET"], "get_task", get_task),
    ("/v1/tasks/<task_id>/events", ["GET"], "task_events", task_events),
    ("/v1/tasks/<task_id>/cancel", ["POST"], "cancel_task", cancel_task),
    ("/v1/canvases/<canvas_id>/export", ["POST"], "create_export", create_export),
    ("/v1/canvases/<canvas_id>/export-status", ["GET"], "export_status", export_status),
    ("/v1/webhook_deliveries", ["GET"], "list_deliveries", list_deliveries),
    ("/v1/webhook_deliveries/<delivery_id>", ["GET"], "get_delivery", get_delivery),
    ("/v1/webhook_deliveries/<delivery_id>/redeliver", ["POST"], "redeliver", redeliver),
]
