"""Moda tasks in the emulator: created by the API, moved queued → running → terminal on the
emulator's clock, each terminal status firing its webhook through one callable (``fire``).

How a task ends is chosen by a *magic value* in the request, the way Stripe's test card numbers
work: any string in the request body (or the canvas id of an export) containing
``hookmock:<outcome>`` picks the outcome, e.g. ``{"prompt": "a poster hookmock:fail"}``.

=================  ===================================================================
``succeed``        the default: running after 1 s, ``succeeded`` 2 s later
``fail``           ``failed`` with ``error.retryable = false`` (dead-lettered)
``fail-retryable`` ``failed`` with ``error.retryable = true``
``cancel``         ``canceled`` while running (``task.canceled``; an export fires nothing)
``expire``         never starts: ``expired`` 60 s after creation, no webhook (as Moda)
``slow``           runs 60 s before succeeding (poll it, cancel it)
=================  ===================================================================

Three more magic values make the request itself fail with an error type of Moda's that a client
should handle: ``hookmock:permission`` (403 ``permission``), ``hookmock:unprocessable`` (422
``unprocessable``) and ``hookmock:rate-limited`` (429 ``rate_limited``, with ``Retry-After`` and
``retry_after_ms``); nothing is created.

These timings are hookmock's own (*decided*), not Moda's; ``Timings`` changes them.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..clock import SECOND, Clock, format_iso
from ..ids import crockford_id
from ..profiles.moda import TERMINAL_STATUSES, build_envelope, event_for_task
from .errors import ApiError
from .store import Store, TaskMoved, TaskRow, write_task

__all__ = ["ERROR_MAGIC", "MAGIC_PREFIX", "OUTCOMES", "TaskEngine", "Timings", "find_magic"]

MAGIC_PREFIX = "hookmock:"
OUTCOMES = ("succeed", "fail", "fail-retryable", "cancel", "expire", "slow")
#: outcome -> terminal status
_FINAL = {
    "succeed": "succeeded",
    "slow": "succeeded",
    "fail": "failed",
    "fail-retryable": "failed",
    "cancel": "canceled",
    "expire": "expired",
}
#: How long an export's download link lives, counted from the export's completion (decided).
EXPORT_TTL_NS = 86400 * SECOND
_ERRORS = {
    "fail": "Canvas could not be rendered: unsupported font (hookmock:fail)",
    "fail-retryable": "Upstream model timed out (hookmock:fail-retryable)",
}
#: Magic values that answer the request with an error: name -> (type, message).
ERROR_MAGIC: dict[str, tuple[str, str]] = {
    "permission": ("permission", "this API key may not do that (magic value hookmock:permission)"),
    "unprocessable": (
        "unprocessable",
        "the request is well-formed but cannot be processed (magic value hookmock:unprocessable)",
    ),
    "rate-limited": (
        "rate_limited",
        "too many requests; retry after 1 s (magic value hookmock:rate-limited)",
    ),
}
#: How long a ``hookmock:rate-limited`` answer asks the client to wait.
MAGIC_RETRY_AFTER_MS = 1000
_SORTED_OUTCOMES = sorted([*OUTCOMES, *ERROR_MAGIC], key=len, reverse=True)


def _magic_error(name: str) -> ApiError:
    type_, message = ERROR_MAGIC[name]
    if type_ == "rate_limited":
        return ApiError(
            type_,
            "rate_limited",
            message,
            retry_after_ms=MAGIC_RETRY_AFTER_MS,
            headers={"Retry-After": str(MAGIC_RETRY_AFTER_MS // 1000)},
        )
    return ApiError(type_, type_, message, details={"value": MAGIC_PREFIX + name})


@dataclass(frozen=True)
class Timings:
    queued_ns: int = 1 * SECOND
    run_ns: int = 2 * SECOND
    slow_run_ns: int = 60 * SECOND
    expire_ns: int = 60 * SECOND
    max_attempts: int = 3


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def find_magic(values: Iterable[Any]) -> str:
    """The outcome named by a ``hookmock:<outcome>`` magic value, or ``succeed``."""
    for text in (s for v in values for s in _strings(v)):
        start = text.find(MAGIC_PREFIX)
        while start != -1:
            rest = text[start + len(MAGIC_PREFIX) :]
            for outcome in _SORTED_OUTCOMES:
                if rest.startswith(outcome):
                    if outcome in ERROR_MAGIC:
                        raise _magic_error(outcome)
                    return outcome
            word = rest.split()[0] if rest.split() else ""
            raise ApiError(
                "invalid_request",
                "unknown_magic_value",
                f"{MAGIC_PREFIX}{word} is not a hookmock magic value; use one of "
                + ", ".join(MAGIC_PREFIX + o for o in (*OUTCOMES, *ERROR_MAGIC)),
                details={"value": MAGIC_PREFIX + word},
            )
    return "succeed"


#: ``fire(row, event_type, envelope, commit)`` creates the task's webhook delivery and runs
#: ``commit(db, delivery_id)`` (the task's own new state) in the same transaction; returns its id.
FireFn = Callable[[TaskRow, str, dict[str, Any], Callable[[sqlite3.Connection, str], None]], "str | None"]


class TaskEngine:
    def __init__(self, store: Store, clock: Clock, fire: FireFn, *, timings: Timings | None = None) -> None:
        self.store = store
        self.clock = clock
        self.fire = fire
        self.timings = timings or Timings()
        self._rng = random.Random()

    # -- creating ----------------------------------------------------------------------
    def create(
        self,
        *,
        kind: str,
        input: dict[str, Any],
        callback_url: str | None,
        api_key_id: str,
        outcome: str,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
        canvas_id: str | None = None,
    ) -> TaskRow:
        now = self.clock.now_ns()
        row = TaskRow(
            id=crockford_id("task", ms=now // 1_000_000),
            kind=kind,
            status="queued",
            outcome=outcome,
            api_key_id=api_key_id,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            callback_url=callback_url,
            input_json=json.dumps(input, ensure_ascii=False),
            canvas_id=canvas_id,
            created_ns=now,
            started_ns=None,
            completed_ns=None,
            due_ns=now + self.timings.queued_ns,
            result_json=None,
            error_json=None,
            event_id=None,
            delivery_id=None,
        )
        self.store.insert_task(row)
        return row

    # -- moving ------------------------------------------------------------------------
    def next_due_ns(self) -> int | None:
        return self.store.next_due_ns()

    def tick(self) -> int:
        """Make every transition due by now; returns how many were made."""
        moved = 0
        for row in self.store.due_tasks(self.clock.now_ns()):
            try:
                self._step(row)
            except TaskMoved:  # canceled or forced meanwhile: that transition won
                continue
            moved += 1
        return moved

    def _step(self, row: TaskRow) -> None:
        now = self.clock.now_ns()
        t = self.timings
        if row.status == "queued":
            if row.outcome == "expire":
                if now >= row.created_ns + t.expire_ns:
                    self._finish(row, "expired")
                else:
                    self.store.update_task(
                        row.id, expect_status="queued", due_ns=row.created_ns + t.expire_ns
                    )
                return
            run = t.slow_run_ns if row.outcome == "slow" else t.run_ns
            if row.outcome == "cancel":
                run //= 2
            self.store.update_task(
                row.id, expect_status="queued", status="running", started_ns=now, due_ns=now + run
            )
        elif row.status == "running":
            self._finish(row, _FINAL[row.outcome])
        else:  # terminal rows have no due time; clear a stray one
            self.store.update_task(row.id, due_ns=None)

    def cancel(self, task_id: str) -> TaskRow:
        row = self.get(task_id)
        if row.status in TERMINAL_STATUSES:
            raise ApiError(
                "conflict",
                "task_not_cancelable",
                f"task {task_id} is already {row.status}; only queued or running tasks can be canceled",
                details={"status": row.status},
            )
        return self._ending(row, "canceled", "task_not_cancelable")

    def _ending(self, row: TaskRow, status: str, code: str, **extra: Any) -> TaskRow:
        """:meth:`_finish` for a client's request: losing the race to the clock is a conflict."""
        try:
            return self._finish(row, status, **extra)
        except TaskMoved:
            now = self.get(row.id).status
            message = f"task {row.id} is already {now}"
            raise ApiError("conflict", code, message, details={"status": now}) from None

    def force(self, task_id: str, outcome: str) -> TaskRow:
        """Control API: end a task now with ``outcome`` (one of :data:`OUTCOMES`)."""
        if outcome not in OUTCOMES:
            raise ApiError(
                "invalid_request",
                "unknown_outcome",
                f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}",
                details={"outcome": outcome},
            )
        row = self.get(task_id)
        if row.status in TERMINAL_STATUSES:
            raise ApiError("conflict", "task_already_finished", f"task {task_id} is already {row.status}")
        row.outcome = outcome
        extra: dict[str, Any] = {"outcome": outcome}  # committed with the end of the task
        if row.started_ns is None and outcome != "expire":
            extra["started_ns"] = row.started_ns = self.clock.now_ns()
        return self._ending(row, _FINAL[outcome], "task_already_finished", **extra)

    def _finish(self, row: TaskRow, status: str, **extra: Any) -> TaskRow:
        """End the task with ``status``.  With a webhook, the task's new state and its delivery
        are committed in ONE transaction (see :meth:`fire_pending`): a crash leaves either the
        task unfinished (the next tick finishes it) or finished with exactly one delivery.  Only
        if the task is still in the status read (:class:`TaskMoved` otherwise, nothing written):
        a cancel racing the clock ends the task once, with one webhook."""
        now = self.clock.now_ns()
        result = self._result(row, completed_ns=now) if status == "succeeded" else None
        error = None
        if status == "failed":
            retryable = row.outcome == "fail-retryable"
            error = {"message": _ERRORS["fail-retryable" if retryable else "fail"], "retryable": retryable}
        event_type = event_for_task(row.kind, status)
        fire = event_type is not None and row.callback_url is not None
        fields: dict[str, Any] = {
            **extra,
            "status": status,
            "completed_ns": now,
            "due_ns": None,
            "result_json": None if result is None else json.dumps(result),
            "error_json": None if error is None else json.dumps(error),
            "event_id": crockford_id("evt", ms=now // 1_000_000) if fire else None,
            "fired": 1 if fire else 0,
        }
        if fire:
            self.fire_pending(dataclasses.replace(row, **fields), fields, expect_status=row.status)
        else:
            self.store.update_task(row.id, expect_status=row.status, **fields)
        return self.get(row.id)

    def fire_pending(
        self, row: TaskRow, fields: dict[str, Any] | None = None, *, expect_status: str | None = None
    ) -> None:
        """Hand a terminal task's webhook to the sender, same event id every time.

        ``fields`` (the task's own new columns) are committed in the transaction that creates the
        delivery, with ``delivery_id`` set: a task has its webhook recorded, or not at all.  With
        ``expect_status``, only if the task is still in it (else :class:`TaskMoved`, no delivery)."""
        event_type = event_for_task(row.kind, row.status)
        if event_type is None or row.event_id is None or row.callback_url is None:
            return
        envelope = build_envelope(
            event_type,
            self.task_json(row),
            event_id=row.event_id,
            created_s=(row.completed_ns or self.clock.now_ns()) // SECOND,
        )
        new = dict(fields or {})

        def commit(db: sqlite3.Connection, delivery_id: str) -> None:
            write_task(db, row.id, {**new, "delivery_id": delivery_id}, expect_status=expect_status)

        self.fire(row, event_type, envelope, commit)

    def recover(self) -> int:
        """Fire the webhooks decided but never handed over (rows written before the task's state
        and its delivery were one transaction).  A delivery that already exists for the task's
        event is linked, never created a second time."""
        rows = self.store.unfired_tasks()
        for row in rows:
            existing = self.store.task_delivery(row.id, row.event_id or "")
            if existing is not None:
                self.store.update_task(row.id, delivery_id=existing)
            else:
                self.fire_pending(row)
        return len(rows)

    # -- reading -----------------------------------------------------------------------
    def get(self, task_id: str) -> TaskRow:
        row = self.store.task(task_id)
        if row is None:
            raise ApiError(
                "not_found", "task_not_found", f"no task with id {task_id!r}", details={"id": task_id}
            )
        return row

    def _result(self, row: TaskRow, *, completed_ns: int) -> dict[str, Any]:
        """The result of a task that succeeded at ``completed_ns`` (an export's link expires a day
        after it was made, not after the task was created)."""
        rng = random.Random(row.id)
        ms = completed_ns // 1_000_000
        canvas = crockford_id("cvs", ms=ms, rng=rng)
        inp = row.input
        if row.kind == "design":
            conv = crockford_id("conv", ms=ms, rng=rng)
            return {
                "canvas_id": canvas,
                "canvas_url": f"https://moda.app/canvas/{canvas}",
                "conversation_id": conv,
            }
        if row.kind == "remix":
            return {
                "canvas_id": canvas,
                "canvas_url": f"https://moda.app/canvas/{canvas}",
                "source_canvas_id": str(inp.get("source_canvas_id", "")),
            }
        if row.kind == "export":
            fmt = str(inp.get("format", "png"))
            return {
                "export_url": f"https://exports.moda.app/{row.id}.{fmt}",
                "format": fmt,
                "expires_at": format_iso(completed_ns + EXPORT_TTL_NS),
            }
        return {"brand_kit_id": crockford_id("bk", ms=ms, rng=rng)}

    def task_json(self, row: TaskRow) -> dict[str, Any]:
        terminal = row.status in TERMINAL_STATUSES
        result = json.loads(row.result_json) if row.result_json else None
        progress: dict[str, Any] | None
        if row.status == "running":
            total = max(1, (row.due_ns or 0) - (row.started_ns or 0))
            done = self.clock.now_ns() - (row.started_ns or 0)
            pct = max(1, min(99, done * 100 // total))
            progress = {"percent": pct, "step": "rendering", "message": "Rendering"}
        elif row.status == "succeeded":
            progress = {"percent": 100, "step": "done", "message": "Completed"}
        else:
            progress = None
        return {
            "id": row.id,
            "kind": row.kind,
            "status": row.status,
            "created_at": format_iso(row.created_ns),
            "started_at": format_iso(row.started_ns) if row.started_ns else None,
            "completed_at": format_iso(row.completed_ns) if row.completed_ns else None,
            "progress": progress,
            "attempt": 1,
            "max_attempts": self.timings.max_attempts,
            "input": row.input,
            "result": result,
            "error": json.loads(row.error_json) if row.error_json else None,
            "credits": {"credits_used": 4, "credits_remaining": 996} if row.status == "succeeded" else None,
            "links": {
                "self": f"/v1/tasks/{row.id}",
                "events": f"/v1/tasks/{row.id}/events",
                "cancel": None if terminal else f"/v1/tasks/{row.id}/cancel",
                # the emulator serves no canvas: null, as Moda gives when there is none (decided)
                "canvas": None,
            },
            "retry_after_ms": None if terminal else 1000,
        }
