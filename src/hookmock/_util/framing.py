"""Reading one HTTP/1.1 request off a socket without letting the client hold the server.

werkzeug's development server reads a request with no timeouts, decodes chunked bodies with no
limit, answers framing errors with ``http.server``'s HTML, and after answering it reads whatever
the client still sends (up to 10 GB, blocking) before it closes the connection.  Every hookmock
server (the emulator, the fake receiver, ``hookmock listen``) uses :class:`HardenedRequestHandler`
instead, which adds, per connection:

* an **idle timeout**: a connection that sends nothing is closed after ``idle_timeout`` seconds;
* a **header timeout**: the request line and headers must arrive within ``header_timeout``
  seconds of their first byte (one header byte every few seconds does not keep it open), and
  within ``max_header_bytes`` (431 otherwise);
* a **body timeout**: the body must arrive within ``body_timeout`` seconds, with no pause longer
  than ``idle_timeout``;
* **strict framing**: one ``Content-Length`` or ``Transfer-Encoding: chunked``, never both;
  bodies over ``max_body_bytes`` get 413 in either framing (the chunked decoder counts decoded
  bytes and stops at the limit: nothing is ever cut silently); chunk extensions and trailers are
  accepted and ignored, as RFC 9112 says; a ``Content-Length`` body cut short by the client closing
  its side is a 400 that says how many bytes were expected and how many came;
* **strict header fields** (:mod:`.fields`): whitespace between a field name and its colon, a
  folded line (obs-fold) and a control character other than HTAB in a value are each a 400 that
  names the line or the character (RFC 9112 sections 5.1 and 5.2, RFC 9110 section 5.5);
* **expectations**: ``Expect: 100-continue`` is met; any other expectation is answered 417 (RFC 9110
  section 10.1.1), never silently ignored;
* **JSON error bodies** for everything answered before the application runs (400, 408, 413, 414,
  417, 431, 501, 505): the server's ``render_error`` makes the body (the emulator gives Moda's shape);
* **one request per connection, then a real close**: the answer says ``Connection: close``, the
  write side is shut at once (the client sees the end), and what the client still sends (an unread
  body, pipelined requests) is read and dropped for at most ``LINGER_S`` seconds: never parsed as
  a request, never holding the thread.
"""

from __future__ import annotations

import contextlib
import io
import re
import select
import socket
import ssl
import struct
from http import HTTPStatus
from socketserver import _SocketWriter  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any

from werkzeug.serving import WSGIRequestHandler

from ..clock import SECOND, RealClock
from .chunked import BodyCutShort, BodyTimedOut, ChunkedBody, ErrorRenderer, json_error
from .fields import check_expect, check_fields

if TYPE_CHECKING:  # pragma: no cover
    from .serving import HardenedWSGIServer, ServerLimits

__all__ = ["ErrorRenderer", "HardenedRequestHandler", "json_error", "monotonic"]

_REAL = RealClock()


def monotonic() -> float:
    """Real seconds (socket deadlines are real time, whatever clock the server's app uses)."""
    return _REAL.monotonic_ns() / SECOND


#: After the answer, what the client still sends is dropped for at most this long (seconds) ...
LINGER_S = 2.0
#: ... or until it pauses this long ...
LINGER_PAUSE_S = 0.2
#: ... or until this many bytes were dropped; then the connection is closed.
LINGER_MAX_BYTES = 4 * 1024 * 1024

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(rb"HTTP/(\d)\.(\d)")

#: The ``code`` of the JSON error body for each status answered by the server itself.
ERROR_CODES = {
    400: "bad_request",
    408: "request_timeout",
    411: "length_required",
    413: "body_too_large",
    414: "request_line_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    501: "not_implemented",
    503: "too_many_connections",
    505: "http_version_not_supported",
}


class _DeadlineReader(io.RawIOBase):
    """The socket as a raw stream whose every read is bounded by the phase's deadline.

    Phases: ``idle`` (no byte of the request yet), ``head`` (request line and headers), ``body``,
    ``done`` (answered: reads return end-of-file at once).
    """

    def __init__(self, sock: socket.socket, limits: ServerLimits, slot: Any) -> None:
        self.sock = sock
        self.limits = limits
        self.slot = slot  # the server's record of this connection (phase, stalled body)
        self.phase = "idle"
        self.deadline = monotonic() + limits.idle_timeout
        self.head_bytes = 0
        self.head_overflow = False
        self.head_timed_out = False

    def readable(self) -> bool:
        return True

    def enter(self, phase: str) -> None:
        self.phase = phase
        if phase == "head":
            self.deadline = monotonic() + self.limits.header_timeout
        elif phase == "body":
            self.deadline = monotonic() + self.limits.body_timeout
        self.slot.set_phase(phase)

    def readinto(self, buffer: Any) -> int:
        phase = self.phase
        if phase == "done":
            return 0
        if phase == "head" and self.head_bytes >= self.limits.max_header_bytes:
            self.head_overflow = True
            return 0
        remaining = self.deadline - monotonic()
        if phase == "body":
            remaining = min(remaining, self.limits.idle_timeout)
        if remaining <= 0:
            return self._timed_out(phase)
        if phase in ("idle", "head"):  # never read past the header limit: the bound is exact
            buffer = memoryview(buffer)[: self.limits.max_header_bytes - self.head_bytes]
        self.sock.settimeout(remaining)
        if phase == "body":
            self.slot.waiting_for_body(True)
        try:
            count = self.sock.recv_into(buffer)
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
            return self._timed_out(phase)
        finally:
            self.sock.settimeout(self.limits.idle_timeout)  # writes: a client that stops reading
            if phase == "body":
                self.slot.waiting_for_body(False)
        if phase == "idle" and count:
            self.enter("head")
        if self.phase == "head":
            self.head_bytes += count
        return count

    def _timed_out(self, phase: str) -> int:
        if phase == "body":
            raise TimeoutError(
                f"body timeout {self.limits.body_timeout:g} s, "
                f"at most {self.limits.idle_timeout:g} s between pieces"
            )
        if phase == "head":
            self.head_timed_out = True
        return 0  # idle: end of file, the connection is closed without an answer


class _LengthBody(io.RawIOBase):
    """A ``Content-Length`` body: at most ``length`` bytes of ``rfile``, and a body deadline that
    passes (:class:`_DeadlineReader` raises ``TimeoutError``) becomes a 408 that says how much came."""

    def __init__(self, rfile: Any, length: int, render: ErrorRenderer) -> None:
        self._rfile = rfile
        self.length = length
        self.received = 0
        self._render = render

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self.length - self.received]
        if not len(view):
            return 0
        try:
            data = self._rfile.read1(len(view))
        except TimeoutError as exc:
            raise BodyTimedOut(
                f"the request body did not arrive in time: Content-Length is {self.length} bytes, "
                f"{self.received} arrived before the deadline ({exc})",
                self._render,
            ) from None
        if not data:
            raise BodyCutShort(
                f"the request body ended early: Content-Length is {self.length} bytes, "
                f"{self.received} arrived before the client closed its side of the connection; "
                "send the whole body, or a Content-Length that matches it",
                self._render,
            )
        view[: len(data)] = data
        self.received += len(data)
        return len(data)


class HardenedRequestHandler(WSGIRequestHandler):
    """werkzeug's handler with timeouts, strict framing, JSON errors and a lingering close."""

    server: HardenedWSGIServer
    #: Close with a RST (SO_LINGER 0) instead of a FIN: set by the fake receiver's ``Reset`` fault.
    rst_on_close = False

    # -- connection ----------------------------------------------------------------------
    def setup(self) -> None:
        limits = self.server.limits
        self.connection = self.request
        self._slot = self.server.connection_slot(self.request)
        self._reader: _DeadlineReader | None = None
        if isinstance(self.connection, ssl.SSLSocket):
            # the handshake runs here, in this connection's thread, under the header timeout (the
            # listening socket does not do it on accept, where a silent client would block it)
            self.connection.settimeout(limits.header_timeout)
            try:
                self.connection.do_handshake()
            except (OSError, ValueError):
                self.rfile = io.BytesIO()
                self.wfile = io.BytesIO()
                self.close_connection = True
                return
        self._reader = _DeadlineReader(self.connection, limits, self._slot)
        self.rfile = io.BufferedReader(self._reader, 64 * 1024)
        self.connection.settimeout(limits.idle_timeout)  # for writes: a client that stops reading
        self.wfile = _SocketWriter(self.connection)

    def handle(self) -> None:
        if self._reader is None:  # the TLS handshake failed or timed out
            return
        super().handle()

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().finish()
        if self._reader is not None:
            self._reader.phase = "done"
        if self.rst_on_close:
            # With SO_LINGER on and a zero timeout, close() sends RST instead of FIN.
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            return
        self._linger()

    def _linger(self) -> None:
        """Shut the write side (the client sees the end of the answer), then drop what it still
        sends for a short while, so closing does not reset an answer it has not read yet."""
        sock = self.connection
        plain = not isinstance(sock, ssl.SSLSocket)
        with contextlib.suppress(OSError, ValueError):
            if plain:
                sock.shutdown(socket.SHUT_WR)
            end = monotonic() + LINGER_S
            dropped = 0
            while dropped < LINGER_MAX_BYTES:
                wait = min(LINGER_PAUSE_S, end - monotonic())
                if wait <= 0 or not select.select([sock], [], [], wait)[0]:
                    break
                sock.settimeout(wait)
                data = sock.recv(64 * 1024)
                if not data:
                    break
                dropped += len(data)

    # -- reading the request -------------------------------------------------------------
    def parse_request(self) -> bool:
        reader = self._reader
        assert reader is not None
        limits = self.server.limits
        line = self.raw_requestline
        self.command, self.request_version = "", self.protocol_version
        self.requestline = line.decode("latin-1").rstrip("\r\n")
        if reader.head_overflow and not line.endswith(b"\n"):
            return self._refuse(414, f"the request line is longer than {limits.max_header_bytes} bytes")
        if reader.head_timed_out:
            return self._refuse(
                408, f"the request line and headers did not arrive within {limits.header_timeout:g} s"
            )
        problem = self._check_request_line(line)
        if problem is not None:
            return self._refuse(*problem)
        if not super().parse_request():
            return False
        if reader.head_timed_out:
            return self._refuse(
                408, f"the request line and headers did not arrive within {limits.header_timeout:g} s"
            )
        if reader.head_overflow:
            return self._refuse(431, f"the request headers are larger than {limits.max_header_bytes} bytes")
        problem = (
            check_fields(self.headers)
            or self._check_framing()
            or check_expect(self.headers.get_all("Expect") or [])
        )
        if problem is not None:
            return self._refuse(*problem)
        if self.request_version == "HTTP/1.0":  # RFC 9110: its 100-continue MUST be ignored (no 100)
            del self.headers["Expect"]
        reader.enter("body")
        return True

    def _check_request_line(self, line: bytes) -> tuple[int, str] | None:
        text = line.rstrip(b"\r\n")
        parts = text.split(b" ")
        shown = text[:80].decode("latin-1")
        if not text.strip():
            return 400, "the request line is empty; send 'METHOD /path HTTP/1.1'"
        if len(parts) != 3 or not all(parts):
            return 400, f"malformed request line {shown!r}; send 'METHOD /path HTTP/1.1'"
        method, target, version = parts
        if not _TOKEN.fullmatch(method):
            return 400, f"malformed request method in {shown!r}"
        if any(b < 0x21 or b == 0x7F for b in target):
            return 400, f"the request target in {shown!r} holds a control character or space"
        match = _VERSION.fullmatch(version)
        if match is None:
            return 400, f"malformed HTTP version in {shown!r}; send HTTP/1.1"
        if match.group(1) != b"1":
            return 505, f"HTTP version {version.decode('latin-1')!r} is not supported; send HTTP/1.1"
        return None

    def _check_framing(self) -> tuple[int, str] | None:
        limits = self.server.limits
        encodings = self.headers.get_all("Transfer-Encoding") or []
        lengths = self.headers.get_all("Content-Length") or []
        if encodings:
            codings = [c.strip().lower() for value in encodings for c in value.split(",") if c.strip()]
            if lengths:
                return 400, "the request has both Transfer-Encoding and Content-Length; send only one"
            if codings != ["chunked"]:
                return 501, f"Transfer-Encoding {', '.join(codings)!r} is not supported; send 'chunked' only"
            return None
        if lengths:
            values = {v.strip() for value in lengths for v in value.split(",")}
            if len(values) != 1 or not next(iter(values)).isdigit() or not next(iter(values)).isascii():
                return 400, f"Content-Length {', '.join(sorted(values))[:60]!r} is not one number of bytes"
            length = int(next(iter(values)))
            if limits.max_body_bytes is not None and length > limits.max_body_bytes:
                return 413, f"the request body is larger than {limits.max_body_bytes} bytes"
        return None

    def handle_expect_100(self) -> bool:
        # Refuse a body we would refuse anyway before inviting it; werkzeug sends the
        # "100 Continue" itself when the application runs.
        problem = self._check_framing()
        if problem is not None:
            return self._refuse(*problem)
        return True

    def make_environ(self) -> Any:
        environ = super().make_environ()
        server = self.server
        if environ.get("wsgi.input_terminated"):  # chunked: our decoder, with the body limit
            environ["wsgi.input"] = ChunkedBody(self.rfile, server.limits.max_body_bytes, server.render_error)
        elif (length := environ.get("CONTENT_LENGTH", "")).isdigit() and int(length) > 0:
            # _check_framing has checked it: one number of bytes, within the limit
            environ["wsgi.input"] = _LengthBody(self.rfile, int(length), server.render_error)
        return environ

    # -- answering -----------------------------------------------------------------------
    def send_response(self, code: int, message: str | None = None) -> None:
        if code >= 200 and self._reader is not None:
            self._reader.phase = "done"  # the answer has begun: the request is not read any further
        super().send_response(code, message)

    def _refuse(self, code: int, message: str) -> bool:
        self.send_error(code, message)
        return False

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """An error answered by the server itself, with the server's JSON error body."""
        try:
            short, long = self.responses[code]
        except KeyError:
            short, long = "Error", ""
        detail = message or long or short
        if explain and explain not in detail:
            detail = f"{detail}: {explain}"
        if code == 431 and "header" not in detail.lower():
            detail = f"a request header is too long or there are too many headers ({detail})"
        if code == 414 and "line" not in detail.lower():
            detail = "the request line (method, path and query) is too long"
        self.close_connection = True
        if getattr(self, "request_version", "") in ("", "HTTP/0.9"):
            self.request_version = self.protocol_version  # always a status line and headers
        self.log_error("code %d, message %s", code, detail)
        body, headers = self.server.render_error(code, ERROR_CODES.get(code, f"http_{code}"), detail)
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = short
        self.send_response(code, phrase)
        self.send_header("Connection", "close")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if getattr(self, "command", "") != "HEAD":
            self.wfile.write(body)
