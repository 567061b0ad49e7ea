"""Carrying out a fault on a live connection (werkzeug's server, one thread per request).

The WSGI environ of werkzeug's development server holds the socket (``werkzeug.socket``); our
request handler also puts itself there (``hookmock.handler``) so a fault can write raw bytes,
ask for an abortive close (RST) or a clean close (FIN) without an answer.  Dropping an exchange
raises :class:`Dropped` (a ``ConnectionError``), which werkzeug treats as a dropped connection:
nothing more is written.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from werkzeug import Response

from .._util.framing import HardenedRequestHandler
from ..clock import SECOND, Clock, RealClock
from ._head import FastHeadersMixin
from .faults import CloseBeforeStatus, Delay, Dribble, Fault, Hang, Malformed, Reset, Respond
from .record import ReceivedRequest

__all__ = [
    "ENV_ANSWER",
    "ENV_EXCHANGE",
    "Dropped",
    "Exchange",
    "FaultRequestHandler",
    "answer_for",
    "execute",
]

#: Environ keys the fake receiver sets for a FaultProxy served behind it (here, below both, so the
#: proxy does not import the server that imports it).
ENV_ANSWER = "hookmock.answer"
ENV_EXCHANGE = "hookmock.exchange"


#: The ``Date`` header is real time, whatever clock the receiver's test uses.
_REAL = RealClock()


class Dropped(ConnectionError):
    """Raised to end an exchange without (finishing) an answer."""


class FaultRequestHandler(HardenedRequestHandler, FastHeadersMixin):
    """hookmock's hardened handler (timeouts, limits; able to end a connection with a RST), quiet,
    reading header fields without the ``email`` package (:mod:`._head`)."""

    def make_environ(self) -> Any:
        environ = super().make_environ()
        environ["hookmock.handler"] = self
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    #: The last ``Date`` header made, and its second: formatted once per second, not per answer.
    _date: tuple[int, str] = (-1, "")

    def date_time_string(self, timestamp: float | None = None) -> str:
        second = int(_REAL.time() if timestamp is None else timestamp)
        made, text = FaultRequestHandler._date
        if made != second:
            text = super().date_time_string(second)
            FaultRequestHandler._date = (second, text)
        return text

    def log_error(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Exchange:
    """Everything a fault needs to carry itself out on one request."""

    item: ReceivedRequest
    clock: Clock
    deadline_ns: int
    grace_s: float
    stopping: threading.Event
    handler: FaultRequestHandler | None
    #: Called once the exchange has ended (the answer is known).
    notify: Callable[[ReceivedRequest], object] | None = None

    @property
    def give_up_ns(self) -> int:
        return self.item.arrival_ns + self.deadline_ns

    def end(self, answer: str, status: int | None = None) -> None:
        self.item._fill(answer=answer, status=status, ended_ns=min(self.clock.now_ns(), self.give_up_ns))
        if self.notify is not None:
            self.notify(self.item)

    def require_socket(self, fault: Fault) -> FaultRequestHandler:
        if self.handler is None:
            from ..errors import UsageError

            raise UsageError(
                f"{fault.describe()!r} needs a real connection: serve the app behind FakeReceiver "
                "instead of calling it in-process"
            )
        return self.handler

    def drop(self, *, rst: bool = False) -> Dropped:
        if self.handler is not None:
            self.handler.close_connection = True
            self.handler.rst_on_close = rst
        return Dropped("hookmock fault: connection dropped on purpose")

    # -- waiting -----------------------------------------------------------------------
    def wait_hangup(self, seconds: float) -> bool:
        """Wait up to ``seconds`` of real time for the sender to hang up; True if it did."""
        sock = None if self.handler is None else self.handler.connection
        step = 0.05
        waited = 0.0
        while waited < seconds and not self.stopping.is_set():
            timeout = min(step, seconds - waited)
            if sock is None:
                self.stopping.wait(timeout)
            elif _peer_closed(sock, timeout):
                return True
            waited += timeout
        return False

    def hold_until_deadline(self) -> None:
        """The sender's deadline passes with no answer: record when it hung up, then drop."""
        item = self.item
        item._fill(held_past_deadline=True)
        if self.clock.is_virtual:
            advance_to(self.clock, self.give_up_ns)
            # A sender with this deadline hangs up inside advance_to (its abort timer runs there),
            # so a hang-up seen now happened at give_up_ns; later clock movement is the sender's
            # own, after it gave up.  A sender with a longer (or no) deadline is still connected.
            if self.wait_hangup(self.grace_s):
                item._fill(gave_up_ns=self.give_up_ns)
            else:
                item._fill(sender_waited=True)
        else:
            remaining = (self.give_up_ns - self.clock.now_ns()) / SECOND
            if self.wait_hangup(max(0.0, remaining) + self.grace_s):
                item._fill(gave_up_ns=self.clock.now_ns())
            else:
                item._fill(sender_waited=True)

    def wait(self, until_ns: int) -> bool:
        """Wait until ``until_ns`` (advancing a virtual clock); False if the sender hung up first."""
        if self.clock.is_virtual:
            advance_to(self.clock, until_ns)
            return True
        if self.wait_hangup(max(0, until_ns - self.clock.now_ns()) / SECOND):
            self.item._fill(gave_up_ns=self.clock.now_ns())
            return False
        return True


def advance_to(clock: Clock, t_ns: int) -> None:
    mover: Callable[[int], object] | None = getattr(clock, "advance_to", None)
    if mover is not None:
        mover(t_ns)


def _peer_closed(sock: socket.socket, timeout: float) -> bool:
    try:
        readable, _, _ = select.select([sock], [], [], timeout)
    except (OSError, ValueError):
        return True
    if not readable:
        return False
    previous = sock.gettimeout()
    try:
        sock.settimeout(0.01)
        data = sock.recv(1)
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:
        return True
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(previous)
    return data == b""


class _Answer:
    """A :class:`Respond` as werkzeug's ``Response`` would answer it (the same status line, headers
    and body), worked out once per fault instead of building a ``Response`` per request."""

    __slots__ = ("body", "empty", "fault", "headers", "status")

    def __init__(self, fault: Respond) -> None:
        self.fault = fault
        response = self.response()
        # werkzeug's headers do not depend on the request here (no Location correction)
        self.headers = response.get_wsgi_headers({}).to_wsgi_list()
        self.status = response.status
        code = response.status_code
        self.empty = 100 <= code < 200 or code in (204, 304)
        self.body = response.get_data()

    def response(self) -> Response:
        """The werkzeug ``Response`` this stands for."""
        fault = self.fault
        return Response(fault.body, status=fault.status, headers=list(fault.headers))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(self.status, list(self.headers))
        return [] if self.empty or environ.get("REQUEST_METHOD") == "HEAD" else [self.body]


_ANSWERS: dict[Respond, _Answer] = {}


def answer_for(fault: Respond) -> Any:
    """The WSGI response for ``fault`` (a :class:`Response` when it cannot be kept)."""
    try:
        answer = _ANSWERS.get(fault)
    except TypeError:  # a fault built with unhashable headers (a list): answered as is
        return Response(fault.body, status=fault.status, headers=list(fault.headers))
    if answer is None:
        if len(_ANSWERS) >= 256:
            _ANSWERS.clear()
        answer = _ANSWERS[fault] = _Answer(fault)
    return answer


def respond(ex: Exchange, fault: Respond, source_answer: str | None = None) -> Response:
    ex.end(source_answer or fault.describe(), fault.status)
    answer: Response = answer_for(fault)  # a WSGI response, as a Response is
    return answer


def execute(ex: Exchange, fault: Fault) -> Response:
    """Carry out ``fault``: return the response to send, or raise :class:`Dropped`."""
    if isinstance(fault, Respond):
        return respond(ex, fault)
    if isinstance(fault, Delay):
        if ex.item.arrival_ns + fault.ns >= ex.give_up_ns:
            ex.hold_until_deadline()
            ex.end(f"{fault.describe()} (past the deadline: no answer)")
            raise ex.drop()
        if not ex.wait(ex.item.arrival_ns + fault.ns):
            ex.end(f"{fault.describe()} (sender hung up first)")
            raise ex.drop()
        return respond(ex, fault.then, fault.describe())
    if isinstance(fault, Hang):
        ex.hold_until_deadline()
        ex.end("hang (no answer)")
        raise ex.drop()
    handler = ex.require_socket(fault)
    if isinstance(fault, Reset):
        ex.end("reset (RST)")
        raise ex.drop(rst=True)
    if isinstance(fault, CloseBeforeStatus):
        ex.end("closed before status line")
        raise ex.drop()
    if isinstance(fault, Malformed):
        ex.end("malformed response")  # before the bytes leave: the sender may move the clock at once
        with contextlib.suppress(OSError):
            handler.wfile.write(fault.data)
            handler.wfile.flush()
        raise ex.drop()
    if isinstance(fault, Dribble):
        return _dribble(ex, fault)
    raise TypeError(f"not a fault: {fault!r}")


def _dribble(ex: Exchange, fault: Dribble) -> Response:
    body = fault.then.body
    ex.item._fill(answer=f"{fault.describe()} (in progress)", status=fault.then.status)

    def chunks() -> Iterator[bytes]:
        sent = 0
        size = fault.chunk_size()
        start = ex.item.arrival_ns
        yield b""  # werkzeug sends the status line and headers on the first write
        try:
            while sent < len(body):
                piece = body[sent : sent + size]
                due = start + fault.step_ns(sent + len(piece))
                if due >= ex.give_up_ns:
                    ex.hold_until_deadline()
                    ex.end(f"{fault.describe()}: {sent} B sent when the deadline passed", fault.then.status)
                    raise ex.drop()
                if not ex.wait(due):
                    ex.end(f"{fault.describe()}: sender hung up after {sent} B", fault.then.status)
                    raise ex.drop()
                sent += len(piece)
                if sent == len(body):  # record the end before the last byte reaches the sender
                    ex.end(f"HTTP {fault.then.status} ({fault.describe()})", fault.then.status)
                yield piece
            if not body:
                ex.end(f"HTTP {fault.then.status} ({fault.describe()})", fault.then.status)
        except (BrokenPipeError, ConnectionResetError) as exc:  # pragma: no cover - depends on timing
            ex.item._fill(gave_up_ns=ex.clock.now_ns())
            ex.end(f"{fault.describe()}: sender hung up", fault.then.status)
            raise Dropped(str(exc)) from exc

    headers = [*fault.then.headers, ("Content-Length", str(len(body)))]
    response = Response(chunks(), status=fault.then.status, headers=headers, direct_passthrough=True)
    return response
