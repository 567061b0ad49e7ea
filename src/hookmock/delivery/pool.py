"""The concurrent driver: many deliveries at once, on the real clock (or a virtual one).

A scheduler holds every delivery's next due time; when one falls due its id goes on a work
queue served by a bounded pool of worker threads (small stacks, created on demand), each doing
one attempt with :meth:`Engine.step` and handing the delivery back to the scheduler.  A worker is
started without waiting for it to run (``Thread.start`` waits, and with hundreds of threads busy
that wait for the GIL made each ``submit`` cost milliseconds).  On a real
clock the scheduler is one thread waiting on a heap; on a :class:`~hookmock.clock.VirtualClock` it
is the clock's own timers, so a test that advances the clock drives the pool.
"""

from __future__ import annotations

import _thread
import heapq
import itertools
import queue
import threading
from collections.abc import Iterable

from .._util.sqlite import DatabaseLocked, is_locked
from ..clock import SECOND, RealClock
from .engine import Engine
from .machine import Done, Send, Wait, WaitForResult
from .records import DeliveryRecord

__all__ = ["DEFAULT_STACK_SIZE", "DEFAULT_WORKERS", "PoolDriver"]

#: At most this many attempts at once (a provider does not make 1,000 deliveries wait behind
#: hung receivers; an idle worker costs a small stack).
DEFAULT_WORKERS = 1024
#: Worker thread stack size: an attempt needs little stack, and 1,000 threads must stay cheap.
DEFAULT_STACK_SIZE = 512 * 1024

#: A delivery whose attempt met the log's file locked by another process is tried again this
#: long after (real clock); on a virtual clock, at the clock's next move.
LOCKED_PAUSE_NS = 1 * SECOND

_stack_lock = threading.Lock()


class PoolDriver:
    """Runs deliveries concurrently.  ``schedule(id)`` hands one over; ``wait(id)`` joins it."""

    def __init__(
        self, engine: Engine, *, max_workers: int = DEFAULT_WORKERS, stack_size: int = DEFAULT_STACK_SIZE
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers={max_workers} must be at least 1")
        self.engine = engine
        self.max_workers = max_workers
        self.stack_size = stack_size
        self._work: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._heap: list[tuple[int, int, str]] = []
        self._seq = itertools.count()
        #: names of the worker threads started so far (they run until :meth:`stop`)
        self._workers: list[str] = []
        self._live = 0
        self._idle = 0
        self._active: dict[str, threading.Event] = {}
        self._errors: list[BaseException] = []
        #: how many attempts met the log's file locked (see :attr:`locked`), and the last error
        self._locked_count = 0
        self._locked_error: BaseException | None = None
        self._stopping = False
        self._scheduler: threading.Thread | None = None
        self._virtual = bool(engine.clock.is_virtual and hasattr(engine.clock, "call_at"))

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._scheduler is not None or self._virtual:
                return
            self._scheduler = threading.Thread(
                target=self._run_scheduler, name="hookmock-scheduler", daemon=True
            )
            self._scheduler.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop taking work; attempts in flight finish (or stay in flight in the log if killed)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            workers = len(self._workers)
        for _ in range(workers):
            self._work.put(None)
        real = RealClock()
        end = None if timeout is None else real.monotonic_ns() + int(timeout * 1e9)

        def left() -> float | None:
            return None if end is None else max(0.0, (end - real.monotonic_ns()) / 1e9)

        with self._cond:  # one overall limit: a worker stuck in a send does not multiply it
            self._cond.wait_for(lambda: self._live == 0, left())
        if self._scheduler is not None:
            self._scheduler.join(left())

    @property
    def errors(self) -> list[BaseException]:
        """Unexpected exceptions raised in worker threads (a driver bug; tests should check)."""
        return list(self._errors)

    @property
    def locked(self) -> tuple[int, BaseException | None]:
        """How many attempts so far met the log's file locked by another process (each delivery
        stays pending and is tried again: see :data:`LOCKED_PAUSE_NS`), and the last such error.
        A caller waiting for attempts compares the count with the one it saw before."""
        return self._locked_count, self._locked_error

    # -- work --------------------------------------------------------------------------
    def schedule(self, delivery_id: str, record: DeliveryRecord | None = None) -> None:
        """Take over ``delivery_id`` (it must be pending in the log) and run it to completion.
        ``record``: the delivery as the caller has just read it (used instead of reading it again)."""
        with self._cond:
            if self._stopping:
                raise RuntimeError("the delivery pool is stopped")
            self._active.setdefault(delivery_id, threading.Event())
        self.start()
        self._dispatch(delivery_id, record)

    def schedule_all(self, deliveries: Iterable[str | DeliveryRecord]) -> None:
        """Take over each delivery: an id, or a record just read from the log (a restart hands over
        every unfinished delivery it has just listed: reading each again by id, on a large log
        not in the page cache, was a random read per delivery)."""
        for item in deliveries:
            if isinstance(item, str):
                self.schedule(item)
            else:
                self.schedule(item.id, item)

    def release(self, delivery_ids: Iterable[str]) -> None:
        """Stop tracking deliveries that are finished in the log (e.g. canceled): their waiters
        return now, and a timer still set for one finds it finished and does nothing."""
        drop = set(delivery_ids)
        with self._cond:
            done = [self._active.pop(i) for i in drop if i in self._active]
            if any(entry[2] in drop for entry in self._heap):
                self._heap = [entry for entry in self._heap if entry[2] not in drop]
                heapq.heapify(self._heap)
                self._cond.notify()
        for event in done:
            event.set()

    def wait(self, delivery_id: str, timeout: float | None = None) -> bool:
        """Block until ``delivery_id`` is finished (real seconds); False on timeout."""
        with self._cond:
            done = self._active.get(delivery_id)
        return True if done is None else done.wait(timeout)

    def wait_all(self, timeout: float | None = None) -> bool:
        with self._cond:
            events = list(self._active.values())
        return all(event.wait(timeout) for event in events)

    def __contains__(self, delivery_id: object) -> bool:
        """Whether this driver holds ``delivery_id`` (scheduled to it and not finished yet)."""
        with self._cond:
            return delivery_id in self._active

    @property
    def active(self) -> int:
        with self._cond:
            return len(self._active)

    def _dispatch(self, delivery_id: str, record: DeliveryRecord | None = None) -> None:
        action = self._action(delivery_id, record)
        if isinstance(action, Done):
            self._finish(delivery_id)
        elif isinstance(action, Wait):
            self._at(action.until_ns, delivery_id)
        elif isinstance(action, Send):
            self._submit(delivery_id)
        # WaitForResult: a worker holds it and will hand it back

    def _action(
        self, delivery_id: str, record: DeliveryRecord | None = None
    ) -> Send | Wait | WaitForResult | Done:
        from . import machine

        if record is None:
            record = self.engine.log.get(delivery_id)
        return machine.next_action(record.state, self.engine.clock.now_ns())

    def _finish(self, delivery_id: str) -> None:
        with self._cond:
            done = self._active.pop(delivery_id, None)
        if done is not None:
            done.set()

    def _at(self, due_ns: int, delivery_id: str) -> None:
        if self._virtual:
            self.engine.clock.call_at(due_ns, lambda: self._submit(delivery_id))  # type: ignore[attr-defined]
            return
        with self._cond:
            heapq.heappush(self._heap, (due_ns, next(self._seq), delivery_id))
            self._cond.notify()

    def _submit(self, delivery_id: str) -> None:
        with self._cond:
            if self._stopping:
                return
            if self._idle == 0 and len(self._workers) < self.max_workers:
                self._spawn()
            elif self._idle > 0:
                self._idle -= 1
        self._work.put(delivery_id)

    def _spawn(self) -> None:
        """Start one worker (called holding ``_cond``); returns without waiting for it to run."""
        name = f"hookmock-worker-{len(self._workers)}"
        with _stack_lock:
            previous = threading.stack_size(self.stack_size)
            try:
                _thread.start_new_thread(self._worker_main, ())  # a daemon, like every worker
            finally:
                threading.stack_size(previous)
        self._workers.append(name)
        self._live += 1

    def _worker_main(self) -> None:
        try:
            self._run_worker()
        finally:
            with self._cond:
                self._live -= 1
                self._cond.notify_all()

    def _run_worker(self) -> None:
        while True:
            delivery_id = self._work.get()
            if delivery_id is None:
                return
            try:
                action = self.engine.step(delivery_id)
                if isinstance(action, Done):
                    self._finish(delivery_id)
                elif isinstance(action, Wait):
                    self._at(action.until_ns, delivery_id)
                elif isinstance(action, Send):
                    self._submit(delivery_id)
                else:  # pragma: no cover - only another driver could leave it in flight
                    self._finish(delivery_id)
            except Exception as exc:
                if not (isinstance(exc, DatabaseLocked) or is_locked(exc)):
                    self._errors.append(exc)  # keep the pool alive; surface through .errors
                    self._finish(delivery_id)
                    continue
                # another process holds the log's file: the delivery is still pending there; keep
                # it and try again later (dropping it left it due for ever, with no driver to send it)
                with self._cond:
                    self._locked_error = exc
                    self._locked_count += 1
                now = self.engine.clock.now_ns()
                self._at(now if self._virtual else now + LOCKED_PAUSE_NS, delivery_id)
            except BaseException as exc:  # keep the pool alive; surface through .errors
                self._errors.append(exc)
                self._finish(delivery_id)
            finally:
                with self._cond:
                    self._idle += 1

    def _run_scheduler(self) -> None:
        clock = self.engine.clock
        while True:
            with self._cond:
                if self._stopping:
                    return
                if not self._heap:
                    self._cond.wait()
                    continue
                due, _, delivery_id = self._heap[0]
                remaining = due - clock.now_ns()
                if remaining > 0:
                    self._cond.wait(remaining / 1e9)
                    continue
                heapq.heappop(self._heap)
            self._submit(delivery_id)
