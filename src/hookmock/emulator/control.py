"""hookmock's control API under ``/_hookmock/``: never mixed with the faithful ``/v1`` routes.

Probes, the virtual clock, forcing task outcomes, firing any Moda event, drills that make the
sender misbehave on purpose, and a reset of all state (pending deliveries are canceled, earlier
ones hidden: the delivery log itself is append-only).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..clock import MS, SECOND
from .errors import ApiError
from .http import Ctx, json_response

__all__ = ["DRILLS", "ROUTES"]

#: Drill modes: each sends extra requests for an existing delivery (never logged as deliveries).
DRILLS = {
    "duplicate": "send the delivery's exact body again, twice, each correctly signed with a fresh timestamp",
    "concurrent": "send `copies` copies of the delivery at the same moment (a dedupe race)",
    "stale": "replay the delivery with a correct signature over a timestamp older than receivers accept",
    "out_of_order": "send the given deliveries newest first (`delivery_ids`, in the order they happened)",
    "bad_signature": "send the delivery signed with a wrong secret",
}


#: How far the clock may go: 2200-01-01T00:00:00Z (times are stored as int64 nanoseconds, which end
#: in 2262).
_LATEST_NS = 7_258_118_400 * SECOND


def health(ctx: Ctx) -> Response:
    return json_response({"status": "ok"})


def ready(ctx: Ctx) -> Response:
    core = ctx.core
    return json_response(
        {
            "ready": True,
            "base_url": core.base_url,
            "clock": "virtual" if core.clock.is_virtual else "real",
            "tasks": core.store.count_tasks(),
        }
    )


def get_clock(ctx: Ctx) -> Response:
    return json_response(ctx.core.now_json())


_TEN_YEARS_S = 10 * 365 * 86400
_MOST = {"seconds": _TEN_YEARS_S, "ms": _TEN_YEARS_S * 1000}


def advance_clock(ctx: Ctx) -> Response:
    seconds = ctx.field("seconds", (int, float), default=0)
    ms = ctx.field("ms", int, default=0)
    for name, value in (("seconds", seconds), ("ms", ms)):
        if not 0 <= value <= _MOST[name]:  # NaN fails this too
            raise ApiError(
                "invalid_request",
                "parameter_invalid",
                f"{name}={value!r} is out of range: give a number from 0 to {_MOST[name]:g} "
                "(a clock cannot go backwards, nor jump more than ten years at once)",
                details={"parameter": name, "value": repr(value)},
            )
    delta = round(seconds * SECOND) + ms * MS
    if ctx.core.clock.now_ns() + delta > _LATEST_NS:
        raise ApiError(
            "invalid_request",
            "parameter_invalid",
            "the clock cannot be advanced past 2200-01-01T00:00:00+00:00; "
            "advance by less or reset the emulator",
            details={"parameter": "seconds"},
        )
    ctx.core.advance(delta)
    return json_response(ctx.core.now_json())


def reset(ctx: Ctx) -> Response:
    ctx.core.reset()
    return json_response({"reset": True})


def complete_task(ctx: Ctx) -> Response:
    outcome = ctx.field("outcome", str, required=True)
    row = ctx.core.engine.force(str(ctx.args["task_id"]), outcome)
    return json_response(ctx.core.engine.task_json(row))


def trigger_moda_event(ctx: Ctx) -> Response:
    event_type = ctx.field("event_type", str, required=True)
    callback_url = ctx.field("callback_url", str, required=True)
    overrides: dict[str, Any] = ctx.field("overrides", dict, default={})
    unfaithful = ctx.field("unfaithful", bool, default=False)
    ctx.core.check_callback_url(callback_url)
    row = ctx.core.gateway.fire_moda_event(event_type, callback_url, overrides, unfaithful=unfaithful)
    ctx.core.wake()
    return json_response(row, 202)


def drill(ctx: Ctx) -> Response:
    mode = ctx.field("mode", str, required=True)
    if mode not in DRILLS:
        raise ApiError(
            "invalid_request",
            "parameter_invalid",
            f"mode {mode!r} is not a drill; choose one of {', '.join(DRILLS)}",
            details={"parameter": "mode"},
        )
    ids: list[Any] = ctx.field("delivery_ids", list, default=[])
    one = ctx.field("delivery_id", str)
    if one is not None:
        ids = [one, *ids]
    if not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(
            "invalid_request",
            "parameter_missing",
            "give delivery_id (a string) or delivery_ids (an array of strings)",
            details={"parameter": "delivery_id"},
        )
    if mode == "out_of_order" and len(ids) < 2:
        raise ApiError(
            "invalid_request",
            "parameter_invalid",
            "out_of_order needs at least two delivery_ids, oldest first",
            details={"parameter": "delivery_ids"},
        )
    copies = ctx.field("copies", int, default=5)
    if not 2 <= copies <= 20:
        raise ApiError(
            "invalid_request",
            "parameter_invalid",
            f"copies={copies} must be from 2 to 20",
            details={"parameter": "copies"},
        )
    results = ctx.core.gateway.drill(mode, ids, copies=copies)
    return json_response({"mode": mode, "sent": results})


ROUTES = [
    ("/_hookmock/health", ["GET"], "health", health),
    ("/_hookmock/ready", ["GET"], "ready", ready),
    ("/_hookmock/clock", ["GET"], "get_clock", get_clock),
    ("/_hookmock/clock/advance", ["POST"], "advance_clock", advance_clock),
    ("/_hookmock/reset", ["POST"], "reset", reset),
    ("/_hookmock/tasks/<task_id>/complete", ["POST"], "complete_task", complete_task),
    ("/_hookmock/moda/events", ["POST"], "trigger_moda_event", trigger_moda_event),
    ("/_hookmock/drills", ["POST"], "drill", drill),
]
