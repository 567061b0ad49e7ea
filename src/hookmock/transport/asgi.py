"""The in-process transport for ASGI applications (FastAPI, Starlette, Django's ``ASGIHandler``...).

Same semantics as :class:`~hookmock.transport.wsgi.WSGITransport`: a POST with the exact body
bytes and headers (names lower-cased, values latin-1, as a server hands them over); the status,
the headers and the first ``excerpt_bytes`` of the body are kept, the rest counted and dropped;
the outcomes are the same (``"error"`` with ``extra["exception"]`` when the app raises before
answering, ``"malformed"`` for a response that breaks the ASGI spec, ``"timeout"`` past the
deadline, counted on real handler time as in :mod:`hookmock.transport.inprocess`).

Like a server, and unlike a test client, the attempt ends when the response is complete: work
the app does afterwards (FastAPI ``BackgroundTasks``, a task it spawned) carries on while the
sender moves on, so an asynchronous receiver behaves in-process as it does over a socket.  A
response still incomplete at the deadline is a timeout; the app is then told the client went away
(``receive()`` answers ``http.disconnect``, ``send()`` raises ``OSError``), as a server would.
Lifespan events are not run (as with Starlette's ``TestClient`` used without ``with``).

Every app runs on one event loop in one background thread (as under a server), so state an app
binds to its loop (locks, queues, pools) keeps working from one delivery to the next and from any
calling thread.  An app that blocks that thread (``time.sleep``, CPU-bound work) past a deadline
would make every later delivery time out as well, to any app: when a deadline passes and the loop
does not answer within :data:`PROBE_S`, the loop is retired (left to finish on its own thread,
which stops once its tasks are done) and later deliveries run on a fresh one.

The ASGI plumbing comes from **asgiref**, the ASGI reference library (maintained with Django,
pure Python, no dependencies): ASGI 2 apps are adapted with its ``double_to_single_callable``,
and an app is recognised with its ``iscoroutinefunction`` (which knows Django's markers).
httpx's ``ASGITransport`` was not chosen: it
collects the whole response body in memory (no bounded read, so an endless body is never cut
off) and awaits the app's background work before answering, unlike a server.  asgiref is the
optional extra ``hookmock[asgi]``; without it an ASGI target is refused with how to install it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import weakref
from collections.abc import Callable, Mapping
from time import monotonic_ns
from typing import Any

from ..clock import SECOND, Clock
from ..errors import UsageError
from . import EXCERPT_BYTES, AttemptResult
from ._asgi_scope import build_scope
from ._gate import Gate
from ._handler_time import HandlerTime
from .apps import as_target

__all__ = ["ASGITransport"]


#: per app: whether it is an ASGI 2 app to adapt (not asked again on every delivery)
_DOUBLE: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _single_callable(app: Any) -> Callable[..., Any]:
    """The app as an ASGI 3 callable: an ASGI 2 app (a class called with the scope) is adapted."""
    try:
        double = _DOUBLE[app]
    except (KeyError, TypeError):  # not seen yet, or cannot be remembered (not weak-referenceable)
        double = None
    if double is False:  # the usual case: an ASGI 3 app seen before
        return app
    try:
        from asgiref.compatibility import double_to_single_callable, is_double_callable
    except ImportError:
        raise UsageError(
            "delivering to an ASGI application in-process needs asgiref: pip install 'hookmock[asgi]' "
            "(or serve the app and give its URL)"
        ) from None
    if double is None:
        # asgiref counts any callable that is not a coroutine function as ASGI 2; hookmock already
        # knows this one is ASGI (a wrapper returning a coroutine is ASGI 3), so only a class is ASGI 2.
        double = inspect.isclass(app) or (
            is_double_callable(app) and bool(getattr(app, "_asgi_double_callable", False))
        )
        with contextlib.suppress(TypeError):
            _DOUBLE[app] = double
    return double_to_single_callable(app) if double else app


class _Loop:
    """One event loop in a daemon thread, where every in-process ASGI app runs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="hookmock-asgi", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            with contextlib.suppress(RuntimeError):
                self.loop.close()


_LOOP: _Loop | None = None
_LOOP_LOCK = threading.Lock()

#: After a deadline passed, the loop must run a callback within this many seconds, or it is held
#: by an app that blocks it (``time.sleep``, CPU-bound work) and is retired.
PROBE_S = 0.1
#: A retired loop stops once the tasks left on it are done; it looks this often (seconds).
RETIRED_POLL_S = 0.5


def _loop() -> asyncio.AbstractEventLoop:
    global _LOOP
    running = _LOOP
    if running is not None and running.thread.is_alive():  # the usual case: no lock taken
        return running.loop
    with _LOOP_LOCK:
        if _LOOP is None or not _LOOP.thread.is_alive():
            _LOOP = _Loop()
        return _LOOP.loop


def _check_loop(loop: asyncio.AbstractEventLoop) -> None:
    """After a timeout on ``loop``: if the loop does not run a callback within :data:`PROBE_S`,
    an app is blocking its thread, and every delivery queued behind it would time out too.  The
    loop is then retired: it is left to finish what it runs (its thread stops once its tasks are
    done), and the next delivery gets a fresh loop.  A healthy loop (the app merely slow, awaiting)
    is kept, with the state apps bound to it."""
    global _LOOP
    if loop.is_closed():
        return
    probe = _Latch()
    try:
        loop.call_soon_threadsafe(probe.set)
    except RuntimeError:  # closed meanwhile
        return
    if probe.wait(PROBE_S):
        return
    with _LOOP_LOCK:
        if _LOOP is not None and _LOOP.loop is loop:
            _LOOP = None
    with contextlib.suppress(RuntimeError):
        asyncio.run_coroutine_threadsafe(_stop_when_idle(), loop)


async def _stop_when_idle() -> None:
    """On a retired loop: stop it once no other task is left (an app's background work finishes)."""
    me = asyncio.current_task()
    while any(task is not me for task in asyncio.all_tasks()):
        await asyncio.sleep(RETIRED_POLL_S)
    asyncio.get_running_loop().stop()


class _Latch:
    """A one-shot event with one waiter (the calling thread), set from any thread, any number of
    times.  A held lock the setter releases: a quarter of the cost of a ``threading.Event`` (no
    ``Condition``, no lock allocated per wait), paid on every delivery."""

    __slots__ = ("_lock", "is_set")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self.is_set = False

    def set(self) -> None:
        if not self.is_set:
            self.is_set = True
            with contextlib.suppress(RuntimeError):  # another setter released it first
                self._lock.release()

    def wait(self, timeout_s: float) -> bool:
        """True once set (at once if it already is); False if ``timeout_s`` passed first."""
        return self.is_set or self._lock.acquire(timeout=timeout_s) or self.is_set


class _Disconnected(OSError):
    """Raised by ``send()`` once the sender has stopped waiting (the deadline passed)."""


class _Exchange:
    """One request and its response, between the calling thread and the app's task on the loop."""

    def __init__(self, body: bytes, excerpt_bytes: int, gate: Gate | None = None) -> None:
        self.body = body
        self.gate = gate
        self.excerpt_limit = excerpt_bytes
        self.request_taken = False
        self.status: int | None = None
        self.reason = ""
        self.headers: tuple[tuple[str, str], ...] = ()
        self.excerpt = bytearray()
        self.total = 0
        self.complete_at: int | None = None  # monotonic_ns when the response was complete
        self.malformed: str | None = None
        self.exception: BaseException | None = None
        self.returned = False
        self.abandoned = False
        self.wake = _Latch()  # set on a complete response, a failure, or an abort
        self.over = False  # the client went away: receive() answers http.disconnect (on the loop)
        self.disconnect: asyncio.Event | None = None  # made when an app waits for it (seldom)
        self.task: asyncio.Task[None] | None = None

    # -- the ASGI callables (on the loop) --------------------------------------------------
    async def receive(self) -> dict[str, Any]:
        if not self.request_taken:
            self.request_taken = True
            if self.gate is not None:  # wait off the loop: the other copies run on it meanwhile
                await _wait_at(self.gate)
            return {"type": "http.request", "body": self.body, "more_body": False}
        if not self.over:
            if self.disconnect is None:
                self.disconnect = asyncio.Event()  # binds to the running loop on first use
            await self.disconnect.wait()
        return {"type": "http.disconnect"}

    def hang_up(self) -> None:
        """The exchange is over, as when a server's client hangs up (on the loop)."""
        self.over = True
        if self.disconnect is not None:
            self.disconnect.set()

    async def send(self, message: Mapping[str, Any]) -> None:
        if self.abandoned:
            raise _Disconnected("hookmock: the sender stopped waiting (the deadline passed)")
        if self.complete_at is not None or self.malformed is not None:
            raise RuntimeError(f"ASGI message {message.get('type')!r} sent after the response was complete")
        kind = message.get("type") if isinstance(message, Mapping) else None
        if kind == "http.response.start":
            self._start(message)
        elif kind == "http.response.body":
            if self._body(message):
                await asyncio.sleep(0)  # more to come: an endless body cannot starve the loop
        else:
            self._fail(f"the app sent {kind!r}, not an HTTP response message")

    def _start(self, message: Mapping[str, Any]) -> None:
        if self.status is not None:
            self._fail("the app sent http.response.start twice")
        status = message.get("status")
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 999:
            self._fail(f"bad ASGI status {status!r}")
        headers = []
        for pair in message.get("headers", ()) or ():
            try:
                name, value = pair
                headers.append((bytes(name).decode("latin-1"), bytes(value).decode("latin-1")))
            except (TypeError, ValueError):
                self._fail(f"bad ASGI response header {pair!r}: give (name, value) byte strings")
        self.status = status
        self.headers = tuple(headers)

    def _body(self, message: Mapping[str, Any]) -> bool:
        """Take one body message; True while more of the body is to come."""
        if self.status is None:
            self._fail("the app sent http.response.body before http.response.start")
        chunk = message.get("body", b"")
        if not isinstance(chunk, (bytes, bytearray)):
            self._fail(f"the app sent a body of {type(chunk).__name__}, not bytes")
        room = self.excerpt_limit - len(self.excerpt)
        if room > 0:
            self.excerpt.extend(chunk[:room])
        self.total += len(chunk)
        if message.get("more_body", False):
            return True
        self.complete_at = monotonic_ns()
        self.hang_up()
        self.wake.set()
        return False

    def _fail(self, detail: str) -> None:
        self.malformed = detail
        self.wake.set()
        raise RuntimeError(detail)

    def start(self, loop: asyncio.AbstractEventLoop, app: Callable[..., Any], scope: dict[str, Any]) -> None:
        self.task = loop.create_task(self.run(app, scope))  # held: the loop keeps only a weak one

    async def run(self, app: Callable[..., Any], scope: dict[str, Any]) -> None:
        try:
            await app(scope, self.receive, self.send)
        except Exception as exc:  # after a complete response it is the app's own business
            if self.complete_at is None and self.malformed is None and not self.abandoned:
                self.exception = exc
        finally:
            self.returned = True
            if self.gate is not None:
                self.gate.abandon()  # it never asked for its body: the others need not wait
            self.wake.set()

    # -- from the calling thread -----------------------------------------------------------
    def abandon(self, loop: asyncio.AbstractEventLoop) -> None:
        self.abandoned = True
        self.wake.set()
        if not loop.is_closed():
            loop.call_soon_threadsafe(self.hang_up)


async def _wait_at(gate: Gate) -> None:
    """Wait at ``gate`` in a thread of its own (not the default executor, which may have fewer
    threads than there are copies), leaving the loop free for the other copies."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def opened() -> None:
        if not done.done():
            done.set_result(None)

    def wait() -> None:
        gate.wait()
        loop.call_soon_threadsafe(opened)

    threading.Thread(target=wait, name="hookmock-gate", daemon=True).start()
    await done


class ASGITransport:
    """Deliver attempts to ASGI applications in-process (see the module docstring)."""

    #: ``send(..., gate=Gate)`` holds concurrent copies together (see :mod:`._gate`)
    supports_gate = True

    def __init__(self, *, excerpt_bytes: int = EXCERPT_BYTES, remote_addr: str = "127.0.0.1") -> None:
        if excerpt_bytes < 0:
            raise UsageError(f"excerpt_bytes={excerpt_bytes} is negative; use 0 or more")
        self.excerpt_bytes = excerpt_bytes
        self.remote_addr = remote_addr

    def __repr__(self) -> str:
        return "ASGITransport()"

    def send(
        self,
        target: object,
        headers: Mapping[str, str],
        body: bytes,
        *,
        deadline_ns: int,
        clock: Clock,
        gate: Gate | None = None,
    ) -> AttemptResult:
        """``gate``: the app's first ``receive()`` waits there (see :mod:`._gate`)."""
        if not isinstance(deadline_ns, int) or deadline_ns <= 0:
            raise UsageError(f"deadline_ns={deadline_ns!r} must be a positive integer number of nanoseconds")
        resolved = as_target(target)
        if isinstance(resolved, str):
            raise UsageError(f"ASGITransport got the URL {resolved!r}; give (app, '/path') for an ASGI app")
        app = _single_callable(resolved.app)
        scope = build_scope(resolved, headers, bytes(body), self.remote_addr)
        exchange = _Exchange(bytes(body), self.excerpt_bytes, gate)
        loop = _loop()
        timer = HandlerTime(clock, deadline_ns)
        abort = None
        if clock.is_virtual and hasattr(clock, "call_at"):  # another thread moving the clock past it
            abort = clock.call_at(timer.start_ns + deadline_ns, exchange.wake.set)
        # a task made on the loop itself: nothing waits on its result (the exchange says how it
        # went), so run_coroutine_threadsafe's cross-thread future would be work for nothing
        loop.call_soon_threadsafe(exchange.start, loop, app, scope)
        try:
            while not exchange.wake.wait(timer.real_left_s()) and not timer.expired():
                pass
        finally:
            if abort is not None:
                abort.cancel()
        return self._result(exchange, timer, loop)

    def _result(
        self, exchange: _Exchange, timer: HandlerTime, loop: asyncio.AbstractEventLoop
    ) -> AttemptResult:
        deadline_s = timer.deadline_ns / SECOND

        def timeout(where: str, **extra: object) -> AttemptResult:
            exchange.abandon(loop)
            _check_loop(loop)
            detail = f"no complete response within {deadline_s:g} s ({where})"
            return AttemptResult("timeout", timer.timeout_ns(), detail=detail, peer="asgi", extra=extra)

        if exchange.complete_at is not None:
            took = timer.finish(exchange.complete_at)
            if took is None:
                return timeout("the app answered after the deadline")
            return AttemptResult(
                "response",
                took,
                status=exchange.status,
                headers=exchange.headers,
                excerpt=bytes(exchange.excerpt),
                peer="asgi",
                extra={"body_bytes": exchange.total, "framing": "asgi"},
            )
        if exchange.malformed is None and exchange.exception is None and not exchange.returned:
            return timeout("the app had not finished its response")
        took = timer.finish()
        if exchange.exception is not None:
            exc = exchange.exception
            if took is None:
                return timeout("the app raised after the deadline", exception=exc)
            detail = f"the app raised {type(exc).__name__}: {exc}"
            return AttemptResult("error", took, detail=detail, peer="asgi", extra={"exception": exc})
        if took is None:
            return timeout("the app answered after the deadline")
        detail = exchange.malformed or (
            "the app returned without sending a response"
            if exchange.status is None
            else "the app returned before its response body was complete"
        )
        return AttemptResult("malformed", took, detail=detail, peer="asgi")
