"""The HTTP server under every hookmock server (emulator, fake receiver, ``hookmock listen``).

werkzeug's threaded server, with three changes:

* **binding raises**: werkzeug prints a failed bind itself and calls ``sys.exit(1)`` (right for
  ``flask run``, wrong for a library and for a CLI that promises exit 2 and one message).  The
  socket is bound here and a real :class:`OSError` (with its ``errno``) propagates untouched.
* **bounded connections**: at most ``max_connections`` at once.  When the bound is reached, the
  connection that has waited longest without sending a whole request head (idle, or a slow
  client) is closed to make room; only when every connection is busy in the application is the
  new one refused (503 in the server's JSON error body).  Idle clients cannot starve the others.
* **hardened reading** (:mod:`hookmock._util.framing`): idle, header and body timeouts, strict framing,
  a body limit in both framings, JSON error bodies, and a real close after each answer.

The limits are a :class:`ServerLimits`; every server takes one (``limits=``).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import LISTEN_QUEUE, ThreadedWSGIServer, get_sockaddr, select_address_family

from ..errors import UsageError
from .framing import ErrorRenderer, HardenedRequestHandler, json_error, monotonic

__all__ = [
    "ErrorRenderer",
    "HardenedWSGIServer",
    "ServerLimits",
    "bind_listening_socket",
    "json_error",
    "make_server_or_raise",
]


@dataclass(frozen=True)
class ServerLimits:
    """How long and how much one client may take (seconds, bytes, connections)."""

    #: A connection that sends nothing for this long is closed (also the longest pause in a body).
    idle_timeout: float = 15.0
    #: The request line and headers must arrive within this long of their first byte (else 408).
    header_timeout: float = 10.0
    #: The whole body must arrive within this long of the end of the headers.
    body_timeout: float = 60.0
    #: Request line plus headers, at most (414 / 431 beyond).
    max_header_bytes: int = 64 * 1024
    #: Request body, at most, in either framing (413 beyond); ``None``: the application decides.
    max_body_bytes: int | None = 16 * 1024 * 1024
    #: Connections held at once (idle ones are closed first to make room).
    max_connections: int = 256

    def __post_init__(self) -> None:
        for name in ("idle_timeout", "header_timeout", "body_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 86400:
                raise UsageError(f"{name}={value!r}: give a number of seconds from 0 (excluded) to 86400")
        for name, low in (("max_header_bytes", 1024), ("max_connections", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise UsageError(f"{name}={value!r}: give an integer of at least {low}")
        body = self.max_body_bytes
        if body is not None and (isinstance(body, bool) or not isinstance(body, int) or body < 0):
            raise UsageError(f"max_body_bytes={body!r}: give a number of bytes (or None for no limit)")


#: A body that has not moved for this long (seconds) may be closed to make room for a new client.
STALL_S = 1.0


class _Slot:
    """One connection the server holds, and what it is doing."""

    __slots__ = ("done", "evicted", "phase", "since", "sock", "stalled_since", "thread")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        #: The thread serving it (set when that thread starts), and set once it has let go of it.
        self.thread: threading.Thread | None = None
        self.done = threading.Event()
        self.phase = "idle"
        self.since = monotonic()
        self.evicted = False
        #: When the wait for the next piece of the body began (None: not waiting for the body).
        self.stalled_since: float | None = None

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        self.since = monotonic()

    def waiting_for_body(self, waiting: bool) -> None:
        self.stalled_since = monotonic() if waiting else None

    @property
    def waiting(self) -> bool:
        """Not yet a whole request head: closing it loses nothing the client was promised."""
        return self.phase in ("idle", "head") and not self.evicted

    def stalled(self, now: float) -> bool:
        """Its body has not moved for ``STALL_S``: a slow sender, not the application at work."""
        since = self.stalled_since
        return not self.evicted and since is not None and now - since > STALL_S

    def evict(self) -> None:
        self.evicted = True
        # the base class's shutdown, also for a TLS socket: wakes the thread blocked in recv
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


class HardenedWSGIServer(ThreadedWSGIServer):
    """werkzeug's threaded server with a bound on connections and :class:`ServerLimits`."""

    def __init__(
        self,
        host: str,
        port: int,
        app: Any,
        *,
        handler: type[HardenedRequestHandler],
        fd: int,
        limits: ServerLimits,
        render_error: ErrorRenderer,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.limits = limits
        self.render_error = render_error
        self._slots: dict[int, _Slot] = {}
        self._slots_lock = threading.Lock()
        super().__init__(host, port, app, handler, False, None, fd=fd)
        if ssl_context is not None:
            # the handshake is left to the connection's thread (under the header timeout)
            self.socket = ssl_context.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )
            self.ssl_context = ssl_context

    # -- the bound -----------------------------------------------------------------------
    def process_request(self, request: Any, client_address: Any) -> None:
        with self._slots_lock:
            live = [s for s in self._slots.values() if not s.evicted]
            if len(live) >= self.limits.max_connections:
                # first the longest idle (or slow) request head, then the longest stalled body
                now = monotonic()
                waiting = [s for s in live if s.waiting] or [s for s in live if s.stalled(now)]
                if not waiting:
                    self._refuse(request, len(live))
                    return
                min(waiting, key=lambda s: s.stalled_since or s.since).evict()
            slot = self._slots[id(request)] = _Slot(request)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.shutdown_request(request)
            slot.done.set()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        slot = self.connection_slot(request)
        slot.thread = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            slot.done.set()

    def close_connections(self, timeout: float = 1.0) -> int:
        """End every connection held now, whatever it is doing, and wait for their threads.

        Each socket is shut down (a thread blocked reading a request sees its end at once, one
        writing an answer gets an error), then this waits at most ``timeout`` seconds in all for
        the threads to finish.  Call it once the serving loop has stopped (nothing new is accepted).
        Returns how many threads are still running when it gives up (0: all joined).
        """
        end = monotonic() + timeout
        with self._slots_lock:
            slots = list(self._slots.values())
        for slot in slots:
            slot.evict()
        alive = 0
        for slot in slots:
            slot.done.wait(max(0.0, end - monotonic()))
            thread = slot.thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(max(0.0, end - monotonic()))
            if not slot.done.is_set() or (thread is not None and thread.is_alive()):
                alive += 1
        return alive

    def connection_slot(self, request: Any) -> _Slot:
        with self._slots_lock:
            slot = self._slots.get(id(request))
            if slot is None:  # not accepted through process_request (a subclass's own path)
                slot = self._slots[id(request)] = _Slot(request)
            return slot

    def shutdown_request(self, request: Any) -> None:
        with self._slots_lock:
            self._slots.pop(id(request), None)
        super().shutdown_request(request)

    @property
    def connection_count(self) -> int:
        """Connections held now (evicted ones that are still closing excluded)."""
        with self._slots_lock:
            return sum(1 for s in self._slots.values() if not s.evicted)

    def _refuse(self, request: Any, held: int) -> None:
        if not isinstance(request, ssl.SSLSocket):
            body, headers = self.render_error(
                503,
                "too_many_connections",
                f"the server holds {held} connections, all busy "
                f"(max_connections={self.limits.max_connections}); retry shortly",
            )
            head = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers)
            head += f"Content-Length: {len(body)}\r\n\r\n"
            try:
                request.setblocking(False)
                request.send(head.encode("latin-1") + body)
            except OSError:
                pass
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._slots_lock:
            waiting = [s for s in self._slots.values() if s.waiting]
        for slot in waiting:  # idle connections end now, not after their timeout
            slot.evict()


def bind_listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening, as werkzeug would bind it; ``OSError`` if not."""
    family = select_address_family(host, port)
    if family not in (socket.AF_INET, socket.AF_INET6):
        raise OSError(f"{host!r} is not a TCP address")
    address = get_sockaddr(host, int(port), family)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server does
        sock.bind(address)
        sock.listen(LISTEN_QUEUE)
    except BaseException:
        sock.close()
        raise
    return sock


def make_server_or_raise(
    host: str,
    port: int,
    app: Any,
    *,
    request_handler: type[HardenedRequestHandler] = HardenedRequestHandler,
    ssl_context: ssl.SSLContext | None = None,
    limits: ServerLimits | None = None,
    render_error: ErrorRenderer = json_error,
) -> HardenedWSGIServer:
    """A threaded server on a socket bound here: a failed bind raises ``OSError`` and prints
    nothing.  ``request_handler`` must be a :class:`HardenedRequestHandler`."""
    if not issubclass(request_handler, HardenedRequestHandler):
        raise TypeError(f"request_handler must subclass HardenedRequestHandler, got {request_handler!r}")
    sock = bind_listening_socket(host, port)
    try:
        server = HardenedWSGIServer(
            host,
            port,
            app,
            handler=request_handler,
            fd=sock.fileno(),
            limits=limits or ServerLimits(),
            render_error=render_error,
            ssl_context=ssl_context,
        )
    finally:
        sock.close()  # werkzeug works on its own duplicate of the descriptor
    # http.server sets these in server_bind, which is skipped for a socket passed in.
    bound = server.socket.getsockname()
    server.server_name = host
    server.server_port = int(bound[1])
    return server
