"""Chunked request bodies (RFC 9112 §7.1) decoded with a limit, and the errors the HTTP server
layer answers in JSON (see :mod:`hookmock._util.framing`)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge, RequestTimeout
from werkzeug.wrappers import Response

__all__ = [
    "BadChunkedBody",
    "BodyCutShort",
    "BodyTimedOut",
    "ChunkedBody",
    "ChunkedBodyTooLarge",
    "ErrorRenderer",
    "json_error",
]

_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")

#: ``(status, code, message) -> (body, headers)``: the body of an error the server answers itself.
ErrorRenderer = Callable[[int, str, str], tuple[bytes, list[tuple[str, str]]]]


def json_error(status: int, code: str, message: str) -> tuple[bytes, list[tuple[str, str]]]:
    """The default error body: ``{"error": {"status", "code", "message"}}``."""
    body = {"error": {"status": status, "code": code, "message": message}}
    return json.dumps(body).encode(), [("Content-Type", "application/json")]


class _RenderedError(HTTPException):
    """An error found while the application reads the body; an application that lets it
    through (``Request.application``) answers with the server's error body, not HTML."""

    error_code = "bad_request"

    def __init__(self, description: str, render: ErrorRenderer | None) -> None:
        super().__init__(description)
        self.render = render or json_error

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        assert self.code is not None
        body, headers = self.render(self.code, self.error_code, self.description or "")
        return Response(body, self.code, [*headers, ("Connection", "close")])


class BadChunkedBody(_RenderedError, BadRequest):
    """A chunked body that does not follow RFC 9112 (answered 400)."""

    error_code = "invalid_chunked_body"


class ChunkedBodyTooLarge(_RenderedError, RequestEntityTooLarge):
    """A chunked body longer than the server's limit (answered 413)."""

    error_code = "body_too_large"

    def __init__(self, limit: int, render: ErrorRenderer | None = None) -> None:
        super().__init__(f"the request body is larger than {limit} bytes", render)
        self.limit = limit


class BodyCutShort(_RenderedError, BadRequest):
    """A ``Content-Length`` body that ended (the client closed its side) before all its bytes came
    (answered 400)."""

    error_code = "incomplete_body"


class BodyTimedOut(_RenderedError, RequestTimeout):
    """A request body that did not arrive before the server's body deadline (answered 408)."""

    error_code = "request_timeout"


class ChunkedBody(io.RawIOBase):
    """``Transfer-Encoding: chunked`` decoded with a limit on the decoded size (RFC 9112 §7.1).

    Chunk extensions (``2;a=b``) and trailer fields are read and ignored; anything else malformed
    raises :class:`BadChunkedBody`; more than ``limit`` decoded bytes raises
    :class:`ChunkedBodyTooLarge` before the extra bytes are read.
    """

    _LINE = 4096
    _MAX_TRAILERS = 64

    def __init__(self, rfile: Any, limit: int | None, render: ErrorRenderer | None = None) -> None:
        self._rfile = rfile
        self.limit = limit
        self._render = render
        self._left = 0  # bytes left in the current chunk
        self._total = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _bad(self, message: str) -> BadChunkedBody:
        return BadChunkedBody(message, self._render)

    def _line(self, what: str) -> bytes:
        line: bytes = self._rfile.readline(self._LINE + 1)
        if not line.endswith(b"\n"):
            if len(line) > self._LINE:
                raise self._bad(f"a chunked body's {what} is longer than {self._LINE} bytes")
            raise self._bad(f"the chunked body ended inside a {what} (the client stopped sending)")
        return line.rstrip(b"\r\n")

    def _next_chunk(self) -> None:
        line = self._line("chunk-size line")
        size_text = line.split(b";", 1)[0].strip(b" \t")
        if not _HEX.fullmatch(size_text):
            shown = size_text[:40].decode("latin-1")
            raise self._bad(
                f"chunk size {shown!r} is not a hexadecimal number of at most 16 digits (RFC 9112 §7.1)"
            )
        size = int(size_text, 16)
        if self.limit is not None and self._total + size > self.limit:
            raise ChunkedBodyTooLarge(self.limit, self._render)
        if size == 0:
            for _ in range(self._MAX_TRAILERS):
                if not self._line("trailer field"):
                    self._done = True
                    return
            raise self._bad(f"a chunked body has more than {self._MAX_TRAILERS} trailer fields")
        self._left = size

    def readinto(self, buffer: Any) -> int:
        try:
            return self._readinto(buffer)
        except TimeoutError as exc:  # the server's body deadline (hookmock._util.framing)
            raise BodyTimedOut(
                f"the chunked request body did not arrive in time: {self._total} bytes decoded before "
                f"the deadline, and it had not ended ({exc})",
                self._render,
            ) from None

    def _readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        read = 0
        while read < len(view) and not self._done:
            if self._left == 0:
                self._next_chunk()
                continue
            want = min(len(view) - read, self._left)
            data = self._rfile.read(want)
            if not data:
                raise self._bad("the chunked body ended inside a chunk (the client stopped sending)")
            view[read : read + len(data)] = data
            read += len(data)
            self._left -= len(data)
            self._total += len(data)
            if self._left == 0 and self._rfile.read(2) not in (b"\r\n",):
                raise self._bad("a chunk is not followed by CRLF (its size line is wrong)")
            if read and self._left == 0:
                break  # return what we have; the next read decodes the next chunk
        return read
