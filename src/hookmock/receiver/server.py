"""The fake receiver: a threaded werkzeug server (pytest-httpserver's ``HTTPServer``) that accepts
webhook POSTs on any path, records each one, and answers as planned.

    with FakeReceiver("moda", secret, clock=clock) as receiver:
        receiver.script("500,500,ok")            # every event: fail twice, then succeed
        receiver.plan(event_id, Hang())          # this event only
        sender.send(receiver.url, "task.succeeded")
        assert_attempts(receiver, 3)

What a request gets, in order: the plan for its event id, else seeded chaos (when on), else the
default plan (``Respond(200)``, or the ``handler`` app's own answer when one is set).  A planned
fault pre-empts the handler (the handler never sees that request); to let the handler process a
request and still fail the sender, put a :class:`~hookmock.receiver.proxy.FaultProxy` in front of it.
See :mod:`hookmock.receiver.faults` for the time rule under a virtual clock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable
from typing import Any, cast

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from werkzeug.exceptions import HTTPException

from .._util.serving import HardenedWSGIServer, ServerLimits, make_server_or_raise
from ..clock import Clock, RealClock
from ..errors import UsageError
from ..profiles import Profile, get_profile
from ._body import DEFAULT_MAX_BODY_BYTES, BodyError, read_body
from ._connection import ENV_ANSWER, ENV_EXCHANGE, Dropped, Exchange, FaultRequestHandler, _Answer, execute
from ._environ import environ_headers, refuse_body, request_path
from .faults import Chaos, Fault, Plan, Respond, as_plan, fault_for
from .record import DEFAULT_KEEP_BYTES, ReceivedRequest, Record

__all__ = ["FakeReceiver"]

WSGIApp = Callable[..., Any]

#: A server bound to every interface is reached on this machine through loopback.
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1", "[::]": "::1"}


class _Keep:
    """Marks a :meth:`FakeReceiver.rebind` argument left out (the current value is kept)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


def _checked_secret(profile: Profile, secret: str | None) -> str | None:
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise UsageError(f"secret={secret!r}: give the {profile.secret_name} as a non-empty string")
    if secret is not None:
        profile.check_secret(secret, signing=False)
    return secret


def _checked_count(name: str, value: object, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name}={value!r}: give a whole number of at least 1")


class FakeReceiver(HTTPServer):
    """A programmable webhook receiver on a real loopback socket (HTTP or HTTPS).

    ``secret`` (the signing secret / webhook token) lets the record carry the profile's verdict
    for each request.  ``clock`` is shared with the sender (a ``VirtualClock`` makes delays free).
    ``handler`` is a WSGI app (or an upstream URL, wrapped in a ``FaultProxy``) that answers
    requests the plan leaves alone.  ``grace`` is how long (real seconds) the receiver waits for a
    sender to hang up once its deadline has passed before it gives up waiting.  ``limits`` bounds
    what one client may take (timeouts, header sizes, connections; see :class:`hookmock.ServerLimits`).

    Bounds: a request body over ``max_body_bytes`` is answered 413 (and recorded, marked truncated);
    the server's own body limit follows it.  The record keeps at most ``keep_bytes`` of bodies (the
    oldest are released first) and, when ``keep_requests`` is set, only the newest that many requests.
    """

    DEFAULT_PATH = "/webhook"

    def __init__(
        self,
        profile: str | Profile = "moda",
        secret: str | None = None,
        *,
        clock: Clock | None = None,
        tls: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        handler: WSGIApp | str | None = None,
        grace: float = 1.0,
        on_request: Callable[[ReceivedRequest], object] | None = None,
        limits: ServerLimits | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        keep_bytes: int = DEFAULT_KEEP_BYTES,
        keep_requests: int | None = None,
    ) -> None:
        _checked_count("max_body_bytes", max_body_bytes)
        _checked_count("keep_bytes", keep_bytes)
        _checked_count("keep_requests", keep_requests, optional=True)
        super().__init__(host=host, port=port, threaded=True)
        if limits is not None and not isinstance(limits, ServerLimits):
            raise UsageError(f"limits={limits!r}: give a hookmock.ServerLimits")
        # The receiver reads (and records) bodies itself, bounded by max_body_bytes: unless limits are
        # given, the server layer leaves the body limit to it, so an oversized request is still
        # recorded, marked truncated.  Given limits are the server's, refused before the record.
        self.limits = (
            limits if limits is not None else dataclasses.replace(ServerLimits(), max_body_bytes=None)
        )
        self.profile = get_profile(profile)
        self.clock: Clock = clock if clock is not None else RealClock()
        self.secret = _checked_secret(self.profile, secret)
        self.tls = tls
        self.grace = grace
        self.on_request = on_request
        self.max_body_bytes = max_body_bytes
        self._keep_bytes, self._keep_requests = keep_bytes, keep_requests
        self.record = self._new_record()
        self.handler = self._wrap_handler(handler)
        self._default: Plan = Respond(200)
        self._plans: dict[str | None, Plan] = {}
        self._chaos: Chaos | None = None
        self._stopping = threading.Event()
        self._cond = threading.Condition()
        self._tls_dir: str | None = None
        self.ca_file: str | None = None

    def rebind(
        self,
        *,
        profile: str | Profile = KEEP,
        secret: str | None = KEEP,
        clock: Clock | None = KEEP,
        handler: WSGIApp | str | None = KEEP,
        on_request: Callable[[ReceivedRequest], object] | None = KEEP,
    ) -> FakeReceiver:
        """Forget everything (as :meth:`clear`), then serve with what is given, on the same socket.

        Each argument given replaces the current one (``secret=None``: no verdicts; ``clock=None``:
        the real clock; ``handler=None`` / ``on_request=None``: none); those left out are kept.
        This is how one server is reused test after test (the pytest plugin's ``hookmock_receiver``).
        """
        new_profile = self.profile if profile is KEEP else get_profile(profile)
        new_secret = self.secret if secret is KEEP else _checked_secret(new_profile, secret)
        if not (handler is KEEP or handler is None or isinstance(handler, (str, tuple)) or callable(handler)):
            raise UsageError(f"handler={handler!r}: give a WSGI or ASGI application or an upstream URL")
        self.clear()
        self.profile, self.secret = new_profile, new_secret
        if clock is not KEEP:
            self.clock = clock if clock is not None else RealClock()
        self.record = self._new_record()
        if handler is not KEEP:
            self.handler = self._wrap_handler(handler)
        if on_request is not KEEP:
            self.on_request = on_request
        return self

    @property
    def secret(self) -> str | None:
        """The signing secret / webhook token requests are verified with (``None``: no verdicts).

        Assigning it takes effect for requests arriving afterwards; those recorded before keep
        the verdict worked out with the secret of their arrival.  ``rebind(secret=...)`` also
        forgets what was received."""
        return self._secret

    @secret.setter
    def secret(self, value: str | None) -> None:
        self._secret = _checked_secret(self.profile, value)
        record: Record | None = self.__dict__.get("record")
        if record is not None:
            record.secret = self._secret

    def _new_record(self) -> Record:
        return Record(
            self.profile,
            self.secret,
            self.clock,
            keep_bytes=self._keep_bytes,
            keep_requests=self._keep_requests,
        )

    def _wrap_handler(self, handler: WSGIApp | str | None) -> WSGIApp | None:
        from ..transport.apps import is_asgi

        # an upstream URL, an ASGI app or (app, path): served through a (rule-less) fault proxy
        if isinstance(handler, (str, tuple)) or (callable(handler) and is_asgi(handler)):
            from .proxy import FaultProxy

            return FaultProxy(handler, self.profile, clock=self.clock)
        if handler is not None and not callable(handler):
            raise UsageError(f"handler={handler!r}: give a WSGI or ASGI application or an upstream URL")
        return handler

    def __repr__(self) -> str:  # never shows the secret
        return f"<FakeReceiver {self.profile.name} {self.url_for('/') if self.server else 'stopped'}>"

    # -- planning ----------------------------------------------------------------------
    def respond_with(self, plan: Plan | Fault | str | int | list[Any]) -> FakeReceiver:
        """The default plan for every event without its own plan (``"500,500,ok"`` works too)."""
        self._default = as_plan(plan)
        return self

    def script(self, script: str) -> FakeReceiver:
        """Same as :meth:`respond_with` with a script string such as ``"500,500,ok"``."""
        return self.respond_with(script)

    def plan(self, event_id: str | None, plan: Plan | Fault | str | int | list[Any]) -> FakeReceiver:
        """The plan for one event id (attempt ``n`` of that event gets step ``n``)."""
        self._plans[event_id] = as_plan(plan)
        return self

    def chaos(
        self, probability: float = 0.3, seed: int = 0, faults: tuple[Fault, ...] | None = None
    ) -> FakeReceiver:
        """Seeded random faults for events without their own plan; the seed is in every timeline."""
        self._chaos = Chaos(probability, seed) if faults is None else Chaos(probability, seed, tuple(faults))
        self.record.notes = [n for n in self.record.notes if not n.startswith("chaos")]
        self.record.notes.append(self._chaos.describe() + " (re-run with this seed to reproduce)")
        return self

    def choose(self, item: ReceivedRequest) -> tuple[Fault, str]:
        """The fault for a request and where it came from (``plan``/``chaos``/``default``)."""
        if item.event_id in self._plans:
            return fault_for(self._plans[item.event_id], item.attempt), "plan"
        if self._chaos is not None:
            chosen = self._chaos.choose(item.event_id, item.attempt)
            if chosen is not None:
                return chosen, "chaos"
        return fault_for(self._default, item.attempt), "default"

    # -- lifecycle ---------------------------------------------------------------------
    @staticmethod
    def format_host(host: str) -> str:
        """URLs name a reachable address: a wildcard bind (``0.0.0.0``, ``::``) is loopback here."""
        return HTTPServer.format_host(_WILDCARD_HOSTS.get(host, host))

    @property
    def url(self) -> str:
        """The URL to give the sender (any path works; this one is ``/webhook``)."""
        return self.url_for(self.DEFAULT_PATH)

    def start(self) -> None:
        """Start serving in a background thread (one more thread per request)."""
        if self.is_running():
            raise UsageError("this FakeReceiver is already running; stop() it first")
        self._stopping.clear()
        if self.tls and self.ssl_context is None:
            self.ssl_context = self._make_ssl_context()
        self.server = make_server_or_raise(
            self.host,
            self.port,
            self._wsgi_app(),
            request_handler=FaultRequestHandler,
            ssl_context=self.ssl_context,
            limits=self.limits,
        )
        self.port = self.server.port
        self.server_thread = threading.Thread(
            target=self.thread_target, name="hookmock-receiver", daemon=True
        )
        self.server_thread.start()

    #: How often the serving loop looks for a stop request when no connection wakes it.
    POLL_INTERVAL_S = 0.05

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=self.POLL_INTERVAL_S)

    #: How long (real seconds, in all) :meth:`stop` waits for the threads of connections in flight.
    STOP_JOIN_S = 1.0

    def stop(self) -> None:
        """Stop serving.  When this returns nothing more is accepted or recorded: connections in
        flight (a body still arriving, a planned hang) are closed without an answer and their
        threads joined (at most :attr:`STOP_JOIN_S` seconds)."""
        self._stopping.set()
        if self.is_running():
            server = self.server
            assert server is not None
            # Wake the serving loop now instead of at its next poll (up to 50 ms per receiver): a
            # shut-down listening socket is readable at once, its accept fails (the loop ignores
            # that) and the loop then sees the stop request shutdown() makes. Nothing is accepted.
            with contextlib.suppress(OSError):
                server.socket.shutdown(socket.SHUT_RDWR)
            super().stop()
            # then end what was accepted before: werkzeug's threads would serve it to its end
            if isinstance(server, HardenedWSGIServer):
                server.close_connections(self.STOP_JOIN_S)
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None
            self.ca_file = None
            self.ssl_context = None

    def _make_ssl_context(self) -> ssl.SSLContext:
        from .._util.tls import make_tls_files

        self._tls_dir = tempfile.mkdtemp(prefix="hookmock-tls-")
        hosts = ["localhost", "127.0.0.1", "::1"]
        if self.host not in hosts:
            hosts.append(self.host)
        files = make_tls_files(self._tls_dir, hosts)
        self.ca_file = files.ca_file
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files.cert_file, files.key_file)
        return context

    def clear(self) -> None:
        """Forget everything received and every plan (like pytest-httpserver's ``clear``)."""
        super().clear()
        self.record.clear()
        self._default = Respond(200)
        self._plans = {}
        self._chaos = None

    # -- reading -----------------------------------------------------------------------
    @property
    def requests(self) -> list[ReceivedRequest]:
        return self.record.requests

    def timeline(self, event_id: str | None = None) -> str:
        return self.record.timeline(event_id)

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Wait (real time, at most ``timeout`` s) until ``count`` requests have been answered."""
        with self._cond:
            return self._cond.wait_for(
                lambda: sum(1 for r in self.record.requests if r.ended_ns is not None) >= count, timeout
            )

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait (real time) until every request received so far has been answered."""
        with self._cond:
            return self._cond.wait_for(
                lambda: all(r.ended_ns is not None for r in self.record.requests), timeout
            )

    # -- serving -----------------------------------------------------------------------
    def _wsgi_app(self) -> WSGIApp:
        """The WSGI app the server runs: :meth:`_serve` straight from the environ, or through
        :meth:`application` and a werkzeug ``Request`` when a subclass overrides either entry."""
        own = (
            type(self).application is FakeReceiver.application
            and type(self).dispatch is FakeReceiver.dispatch
        )
        return self._wsgi if own else Request.application(self.application)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            answer = self._serve(environ)
        except HTTPException as exc:  # as werkzeug's Request.application answers them
            answer = exc.get_response(environ)
        return answer(environ, start_response)

    def application(self, request: Request) -> Response:
        """werkzeug's entry point.  Unlike pytest-httpserver's, it neither reads the whole body
        unbounded nor keeps every request in ``self.log``: :attr:`record` is the (bounded) record."""
        return self.dispatch(request)

    def dispatch(self, request: Request) -> Response:
        answer = self._serve(request.environ)
        if isinstance(answer, _Answer):  # the werkzeug Response it stands for, as before
            return answer.response()
        return cast(Response, answer)

    def _serve(self, environ: dict[str, Any]) -> WSGIApp:
        """Record the request in ``environ`` and carry out its plan: the WSGI response to run."""
        handler = environ.get("hookmock.handler")
        problem: BodyError | None = None
        try:
            body = read_body(environ, self.max_body_bytes, on_socket=handler is not None)
        except BodyError as exc:
            body, problem = exc.received, exc
        if self._stopping.is_set():  # stop() was called while the body arrived: not recorded
            if handler is not None:
                handler.close_connection = True
            raise Dropped("the receiver was stopped before this request was recorded")
        arrival = self.clock.now_ns()
        headers = environ_headers(environ)
        truncated = None if problem is None else f"not read in full: {problem.reason}"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        item = self.record.receive(method, request_path(environ), headers, body, arrival, truncated=truncated)
        exchange = Exchange(
            item, self.clock, self.profile.deadline_ns, self.grace, self._stopping, handler, self._notify
        )
        if problem is not None:
            return refuse_body(exchange, problem)
        try:
            fault, source = self.choose(item)
            item._fill(source=source)
            if item.source == "default" and self.handler is not None and isinstance(fault, Respond):
                return self._call_handler(exchange, environ, body)
            return execute(exchange, fault)
        except Dropped:
            raise
        except Exception as exc:
            self.handler_errors.append(exc)
            exchange.end(f"HTTP 500 (receiver error: {type(exc).__name__}: {exc})", 500)
            return Response(f"hookmock receiver error: {exc}\n", status=500)

    def _call_handler(self, exchange: Exchange, request_environ: dict[str, Any], body: bytes) -> WSGIApp:
        assert self.handler is not None
        environ = {k: v for k, v in request_environ.items() if not k.startswith(("werkzeug.", "hookmock."))}
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ[ENV_EXCHANGE] = exchange
        slot: list[Fault] = []  # werkzeug copies the environ: a FaultProxy appends to this list
        environ[ENV_ANSWER] = slot
        exchange.item._fill(source="handler")
        response = Response.from_app(self.handler, environ, buffered=True)
        if slot:  # a FaultProxy asked for a fault after its upstream answered
            return execute(exchange, slot[0])
        exchange.end(f"HTTP {response.status_code}", response.status_code)
        return response

    def _notify(self, item: ReceivedRequest) -> None:
        with self._cond:
            self._cond.notify_all()
        if self.on_request is not None:
            try:
                self.on_request(item)
            except Exception as exc:  # a callback's bug is the test's, re-raised by check()
                self.handler_errors.append(exc)
