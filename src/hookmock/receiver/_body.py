"""Reading a request body on the fake receiver, with a limit.

werkzeug's development server trusts the sizes a client declares: its ``Transfer-Encoding: chunked``
decoder made one request with chunk size ``ffffffffffffffff`` and a disconnect grow the process by
gigabytes, and it refuses legal chunk extensions (``2;name=value``).  The receiver reads the body
itself instead (:func:`read_body`): never more than ``limit`` bytes kept, chunk sizes and lines checked
before anything is read, a client that leaves mid-body reported as such.  A body over the limit is
answered 413, a malformed chunked body 400, and the connection is closed after either (the rest of
the body is never read).
"""

from __future__ import annotations

import contextlib
import re
import socket
from typing import IO, Any

from werkzeug.exceptions import HTTPException
from werkzeug.serving import DechunkedInput

from .._util.chunked import ChunkedBody

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyError", "linger", "read_body"]

#: The receiver's default request body limit (``FakeReceiver(max_body_bytes=...)``,
#: ``hookmock listen --max-body-bytes``).  Webhook payloads are a few kilobytes.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

#: Longest chunk-size line accepted (size, extensions and CRLF); RFC 9112 sets no limit, servers do.
_MAX_CHUNK_LINE = 4096
#: Longest trailer section accepted after the last chunk.
_MAX_TRAILERS = 16 * 1024
_PIECE = 64 * 1024
_HEX = re.compile(rb"[0-9A-Fa-f]{1,32}")


class BodyError(Exception):
    """The body was not read in full.  ``status`` is the answer (413, 400), or ``None`` when the
    client left before sending it all; ``received`` is what had arrived (at most the limit)."""

    def __init__(self, status: int | None, reason: str, received: bytes = b"") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.received = received


def read_body(environ: dict[str, Any], limit: int, *, on_socket: bool = True) -> bytes:
    """The body of the request in ``environ``, at most ``limit`` bytes; raises :class:`BodyError`
    otherwise.  ``on_socket=False``: an in-process call, whose stream the caller has framed."""
    stream = environ["wsgi.input"]
    if not on_socket:
        return _read_stream(stream, limit)
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        if isinstance(stream, DechunkedInput):  # werkzeug's own decoder: unbounded, so read it here
            return _read_chunked(stream._rfile, limit)
        if isinstance(stream, ChunkedBody) and stream.limit is None:
            stream.limit = limit  # the server left the body limit to the receiver: sizes checked first
        return _read_stream(stream, limit)  # a server's decoder that checks sizes itself
    return _read_plain(stream, environ.get("CONTENT_LENGTH"), limit)


def _read_stream(stream: IO[bytes], limit: int) -> bytes:
    """Read a decoded stream to its end, at most ``limit`` bytes; a decoder's own refusal (an
    ``HTTPException`` such as 400 or 413) becomes a :class:`BodyError` with its status."""
    parts: list[bytes] = []
    got = 0
    try:
        while got <= limit:
            piece = stream.read(min(_PIECE, limit + 1 - got))
            if not piece:
                break
            parts.append(piece)
            got += len(piece)
    except HTTPException as exc:
        raise BodyError(exc.code, exc.description or str(exc), b"".join(parts)[:limit]) from None
    except OSError as exc:  # the connection broke or timed out mid-body
        raise BodyError(None, f"the body did not arrive in full ({exc})", b"".join(parts)[:limit]) from None
    data = b"".join(parts)
    if len(data) > limit:
        raise BodyError(413, f"body over the receiver's limit of {limit} bytes", data[:limit])
    return data


def _read_plain(rfile: IO[bytes], length_text: str | None, limit: int) -> bytes:
    text = (length_text or "").strip()
    if not text:
        return b""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise BodyError(400, f"Content-Length {text[:40]!r} is not a number of bytes (up to 18 digits)")
    length = int(text)
    if length > limit:
        raise BodyError(413, f"Content-Length {length} is over the receiver's limit of {limit} bytes")
    data = _read_exactly(rfile, length, b"")
    return data


def _read_exactly(rfile: IO[bytes], n: int, so_far: bytes) -> bytes:
    parts = [so_far]
    got = len(so_far)
    want = got + n
    while got < want:
        try:
            piece = rfile.read(min(_PIECE, want - got))
        except HTTPException as exc:  # the server's body deadline passed (408)
            raise BodyError(exc.code, exc.description or str(exc), b"".join(parts)) from None
        except OSError as exc:  # the connection broke mid-body
            raise BodyError(None, f"the body did not arrive in full ({exc})", b"".join(parts)) from None
        if not piece:
            raise BodyError(None, f"the client closed the connection after {got} body bytes", b"".join(parts))
        parts.append(piece)
        got += len(piece)
    return b"".join(parts)


def _line(rfile: IO[bytes], limit: int, what: str, received: bytes) -> bytes:
    line = rfile.readline(limit + 1)
    if not line:
        raise BodyError(None, f"the client closed the connection in a {what}", received)
    if len(line) > limit or not line.endswith(b"\n"):
        if len(line) <= limit:  # readline stopped at EOF
            raise BodyError(None, f"the client closed the connection in a {what}", received)
        raise BodyError(400, f"{what} longer than {limit} bytes", received)
    return line


def _read_chunked(rfile: IO[bytes], limit: int) -> bytes:
    body = b""
    while True:
        line = _line(rfile, _MAX_CHUNK_LINE, "chunk-size line", body)
        size_text = line.split(b";", 1)[0].strip(b" \t\r\n")  # extensions (;name=value) are ignored
        if not _HEX.fullmatch(size_text):
            shown = size_text[:40].decode("latin-1")
            raise BodyError(400, f"chunk size {shown!r} is not a hexadecimal number (1-32 digits)", body)
        size = int(size_text, 16)
        if size == 0:
            break
        if len(body) + size > limit:
            raise BodyError(
                413,
                f"chunk of {size} bytes after {len(body)} would take the body over the receiver's "
                f"limit of {limit} bytes",
                body,
            )
        body = _read_exactly(rfile, size, body)
        end = rfile.readline(3)
        if not end:
            raise BodyError(None, "the client closed the connection after a chunk", body)
        if end not in (b"\r\n", b"\n"):
            raise BodyError(400, "chunk data is longer than its chunk size", body)
    trailers = 0
    while True:  # the trailer section ends with an empty line
        line = _line(rfile, _MAX_CHUNK_LINE, "trailer line", body)
        trailers += len(line)
        if trailers > _MAX_TRAILERS:
            raise BodyError(400, f"trailers longer than {_MAX_TRAILERS} bytes", body)
        if not line.strip(b"\r\n"):
            return body


def linger(sock: socket.socket, seconds: float = 1.0, most: int = 4 * 1024 * 1024) -> None:
    """Half-close, then read and drop what the client still sends (at most ``most`` bytes, for at
    most ``seconds``): closing with unread bytes would reset the connection, and the client could
    lose the answer.  Without this, werkzeug reads the whole rest of the body after answering."""
    from ..clock import SECOND, RealClock  # real time: a real socket, whatever the test's clock

    clock = RealClock()
    end = clock.monotonic_ns() + int(seconds * SECOND)
    with contextlib.suppress(OSError, ValueError):
        sock.shutdown(socket.SHUT_WR)
        drained = 0
        while drained < most and (left := end - clock.monotonic_ns()) > 0:
            sock.settimeout(left / SECOND)
            data = sock.recv(65536)
            if not data:
                return
            drained += len(data)
