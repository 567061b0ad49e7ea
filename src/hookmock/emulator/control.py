"""hookmock's control API under ``/_hookmock/``: never mixed with the faithful ``/v1`` routes.

Probes, the virtual clock, forcing task outcomes, firing any Moda event, drills that make the
sender misbehave on purpose, and a reset of all state (pending deliveries are canceled, earlier
ones hidden: the delivery log itself is append-only).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from ..clock import MS, SECOND, RealClock, format_iso
from ..delivery.machine import Phase
from ..profiles import DEFAULT_TOLERANCE_S
from .errors import ApiError
from .http import Ctx, json_response

if TYPE_CHECKING:  # pragma: no cover
    from .core import EmulatorCore

__all__ = ["DRILLS", "ROUTES", "clock_json", "pending_json"]

#: The longest ``POST /_hookmock/settle?timeout=`` wait, and the default.
SETTLE_MAX_S = 120.0
SETTLE_DEFAULT_S = 10.0
#: How far the virtual clock may be from wall time before it is reported: the receivers'
#: usual freshness window (a signature older or newer than this is refused by a careful receiver).
DRIFT_TOLERANCE_S = DEFAULT_TOLERANCE_S
_log = logging.getLogger("hookmock.emulator")

#: Drill modes: each sends extra requests for an existing delivery (never logged as deliveries).
DRILLS = {
    "duplicate": "send the delivery's exact body again, twice, each correctly signed with a fresh timestamp",
    "concurrent": "send `copies` copies of the delivery at the same moment (a dedupe race)",
    "stale": "replay the delivery with a correct signature over a timestamp older than receivers accept "
    "(more than 300 s before the emulator's clock and before wall time, whichever is earlier: stale "
    "for a receiver that checks against either)",
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


def drift_warning(core: EmulatorCore) -> tuple[float, str | None]:
    """The clock's distance from wall time (seconds, + ahead), and a warning when it is more than
    :data:`DRIFT_TOLERANCE_S`: every webhook is then signed with a timestamp a receiver that checks
    freshness against its own clock refuses."""
    skew_s = (core.clock.now_ns() - RealClock().now_ns()) / SECOND
    if abs(skew_s) <= DRIFT_TOLERANCE_S:
        return skew_s, None
    side = "ahead of" if skew_s > 0 else "behind"
    return skew_s, (
        f"the virtual clock is {abs(skew_s):.0f} s {side} wall time, more than the {DRIFT_TOLERANCE_S} s "
        "receivers usually accept: webhooks sent now carry timestamps a receiver checking freshness "
        "against its own clock refuses (keep advances shorter, or let the receiver use the emulator's time "
        "from GET /_hookmock/clock; a new emulator starts at wall time)"
    )


def pending_json(core: EmulatorCore) -> dict[str, Any]:
    """What is still to happen: unfinished deliveries (how many are in flight, when the next one
    is due) and the next task step."""
    records = core.gateway.log.unfinished()
    flying = sum(1 for r in records if r.state.phase == Phase.IN_FLIGHT)
    dues = [r.state.next_due_ns for r in records if r.state.next_due_ns is not None]
    task_due = core.engine.next_due_ns()
    return {
        "deliveries": len(records),
        "in_flight": flying,
        "next_attempt_at": format_iso(min(dues)) if dues else None,
        "next_task_step_at": None if task_due is None else format_iso(task_due),
    }


def clock_json(core: EmulatorCore) -> dict[str, Any]:
    """The clock, its distance from wall time and the drift warning (null when within tolerance)."""
    skew_s, warning = drift_warning(core)
    return {**core.now_json(), "skew_s": round(skew_s, 3), "warning": warning}


def get_clock(ctx: Ctx) -> Response:
    return json_response(clock_json(ctx.core))


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
    body = {**clock_json(ctx.core), "pending": pending_json(ctx.core)}
    if body["warning"]:
        _log.warning("clock/advance: %s", body["warning"])
    return json_response(body)


def _busy_now(core: EmulatorCore) -> bool:
    """A delivery attempt or a task step is due now, or an attempt is in flight."""
    now = core.clock.now_ns()
    task_due = core.engine.next_due_ns()
    if task_due is not None and task_due <= now:
        return True
    return any(
        r.state.phase == Phase.IN_FLIGHT or (r.state.next_due_ns is not None and r.state.next_due_ns <= now)
        for r in core.gateway.log.unfinished()
    )


def settle(ctx: Ctx) -> Response:
    raw = ctx.request.args.get("timeout")
    timeout = SETTLE_DEFAULT_S
    if raw is not None:
        try:
            timeout = float(raw)
        except ValueError:
            timeout = -1.0
        if not 0 <= timeout <= SETTLE_MAX_S:  # NaN fails this too
            raise ApiError(
                "invalid_request",
                "parameter_invalid",
                f"timeout={raw[:40]!r} is not a number of seconds from 0 to {SETTLE_MAX_S:g}",
                details={"parameter": "timeout"},
            )
    wall = RealClock()
    start = wall.monotonic_ns()
    end = start + round(timeout * SECOND)
    pause = threading.Event()
    core = ctx.core
    mark = core.gateway.locked_mark()  # an attempt meeting the --db file locked: 503 at once
    while True:
        if core.clock.is_virtual:
            core.gateway.settle(min(timeout, 1.0), since=mark)  # runs timers of a time already reached
        busy = _busy_now(core)
        if not busy or wall.monotonic_ns() >= end:
            break
        core.wake()
        pause.wait(0.01)
    return json_response(
        {
            "settled": not busy,
            "waited_ms": (wall.monotonic_ns() - start) // MS,
            "pending": pending_json(core),
        }
    )


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
    ("/_hookmock/settle", ["POST"], "settle", settle),
    ("/_hookmock/reset", ["POST"], "reset", reset),
    ("/_hookmock/tasks/<task_id>/complete", ["POST"], "complete_task", complete_task),
    ("/_hookmock/moda/events", ["POST"], "trigger_moda_event", trigger_moda_event),
    ("/_hookmock/drills", ["POST"], "drill", drill),
]
