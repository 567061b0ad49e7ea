"""A bounded HTTP/1.x response reader: keeps an excerpt of the body and discards the rest.

It pulls bytes through a ``recv(n) -> bytes`` callable (``b""`` means the peer closed), so it
never touches a socket itself and knows nothing of deadlines: the caller's ``recv`` enforces
those.  Memory stays bounded whatever the peer sends: the head is limited, body bytes past the
excerpt are counted and dropped, and chunk-size lines are limited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["IncompleteBody", "MalformedResponse", "ParsedResponse", "ResponseReader"]

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 200
MAX_LINE_BYTES = 8 * 1024
RECV_BYTES = 64 * 1024

_STATUS_RE = re.compile(rb"^HTTP/1\.[01] ([0-9]{3})(?: ([^\r\n]*))?$")
_TOKEN_RE = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HEX_RE = re.compile(rb"^[0-9A-Fa-f]+$")


class MalformedResponse(Exception):
    """The peer sent something that is not an HTTP/1.x response (or stopped before its head ended)."""


class IncompleteBody(Exception):
    """The peer closed the connection before the body it announced was complete."""


@dataclass(frozen=True)
class ParsedResponse:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    excerpt: bytes
    body_bytes: int
    framing: str  # "content-length", "chunked", "close", "none"


class ResponseReader:
    """Read one response from ``recv``; call :meth:`read` once."""

    def __init__(self, recv: Callable[[int], bytes], *, excerpt_bytes: int) -> None:
        self._recv = recv
        self._buf = bytearray()
        self._eof = False
        self._excerpt_limit = excerpt_bytes
        self._excerpt = bytearray()
        self._body_bytes = 0
        self.head_started = False

    # -- buffer ------------------------------------------------------------------------
    def _fill(self) -> bool:
        if self._eof:
            return False
        data = self._recv(RECV_BYTES)
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    def _line(self, limit: int, what: str) -> bytes | None:
        """One line without its line ending; None when the peer closed before a line ended."""
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line = bytes(self._buf[:end])
                del self._buf[: end + 1]
                return line[:-1] if line.endswith(b"\r") else line
            if len(self._buf) > limit:
                raise MalformedResponse(f"{what} longer than {limit} bytes")
            if not self._fill():
                return None

    def _take_body(self, data: bytes | bytearray) -> None:
        room = self._excerpt_limit - len(self._excerpt)
        if room > 0:
            self._excerpt += data[:room]
        self._body_bytes += len(data)

    # -- head --------------------------------------------------------------------------
    def _head(self) -> tuple[int, str, list[tuple[str, str]]]:
        used = 0
        line = self._line(MAX_LINE_BYTES, "status line")
        if line is None:
            if self._buf:
                raise MalformedResponse(f"peer closed after {len(self._buf)} bytes, inside the status line")
            raise MalformedResponse("peer closed the connection without sending a status line")
        self.head_started = True
        match = _STATUS_RE.match(line)
        if match is None:
            raise MalformedResponse(f"not an HTTP/1.x status line: {line[:80]!r}")
        status = int(match.group(1))
        reason = (match.group(2) or b"").decode("latin-1")
        used += len(line)
        headers: list[tuple[str, str]] = []
        while True:
            line = self._line(MAX_LINE_BYTES, "header line")
            if line is None:
                raise MalformedResponse("peer closed the connection before the end of the response headers")
            if not line:
                return status, reason, headers
            used += len(line)
            if used > MAX_HEAD_BYTES:
                raise MalformedResponse(f"response head longer than {MAX_HEAD_BYTES} bytes")
            if line[:1] in (b" ", b"\t"):
                if not headers:
                    raise MalformedResponse("response head starts with a continuation line")
                prev_name, prev_value = headers[-1]
                headers[-1] = (prev_name, f"{prev_value} {line.strip().decode('latin-1')}")
                continue
            name, sep, value = line.partition(b":")
            if not sep or not _TOKEN_RE.match(name):
                raise MalformedResponse(f"bad header line: {line[:80]!r}")
            headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
            if len(headers) > MAX_HEADERS:
                raise MalformedResponse(f"more than {MAX_HEADERS} response headers")

    # -- body --------------------------------------------------------------------------
    def _exactly(self, count: int, what: str) -> None:
        remaining = count
        while remaining:
            if not self._buf and not self._fill():
                raise IncompleteBody(f"peer closed {what} after {count - remaining} of {count} bytes")
            piece = self._buf[:remaining]
            del self._buf[: len(piece)]
            if what == "the body":
                self._take_body(piece)
            remaining -= len(piece)

    def _until_close(self) -> None:
        while True:
            if self._buf:
                self._take_body(self._buf)
                self._buf.clear()
            if not self._fill():
                return

    def _chunked(self) -> None:
        while True:
            line = self._line(MAX_LINE_BYTES, "chunk-size line")
            if line is None:
                raise IncompleteBody(f"peer closed a chunked body after {self._body_bytes} bytes")
            size_text = line.split(b";", 1)[0].strip()
            if not _HEX_RE.match(size_text) or len(size_text) > 16:
                raise MalformedResponse(f"bad chunk-size line: {line[:80]!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            remaining = size
            while remaining:
                if not self._buf and not self._fill():
                    raise IncompleteBody(f"peer closed a chunked body after {self._body_bytes} bytes")
                piece = self._buf[:remaining]
                del self._buf[: len(piece)]
                self._take_body(piece)
                remaining -= len(piece)
            crlf = self._line(MAX_LINE_BYTES, "chunk end")
            if crlf is None:
                raise IncompleteBody(f"peer closed a chunked body after {self._body_bytes} bytes")
            if crlf:
                raise MalformedResponse("chunk data longer than its announced size")
        # Trailer section: header lines up to an empty line.  A peer that closes here has sent
        # the whole body; accept it like common clients do.
        for _ in range(MAX_HEADERS):
            line = self._line(MAX_LINE_BYTES, "trailer line")
            if not line:
                return
        raise MalformedResponse(f"more than {MAX_HEADERS} trailer lines")

    def read(self) -> ParsedResponse:
        while True:
            status, reason, headers = self._head()
            if 100 <= status < 200 and status != 101:
                continue  # interim response (100 Continue, 103 Early Hints): the real one follows
            break
        lowered = [(name.lower(), value) for name, value in headers]
        transfer = [v for n, v in lowered if n == "transfer-encoding"]
        lengths = [v for n, v in lowered if n == "content-length"]
        if status in (101, 204, 304) or status < 200:
            framing = "none"
        elif transfer:
            codings = [c.strip().lower() for v in transfer for c in v.split(",") if c.strip()]
            framing = "chunked" if codings and codings[-1] == "chunked" else "close"
        elif lengths:
            values = {v.strip() for joined in lengths for v in joined.split(",")}
            if len(values) != 1:
                raise MalformedResponse(f"conflicting Content-Length headers: {sorted(values)}")
            value = values.pop()
            if not value.isdigit() or len(value) > 18:
                raise MalformedResponse(f"bad Content-Length: {value[:40]!r}")
            framing = "content-length"
            self._exactly(int(value), "the body")
        else:
            framing = "close"
        if framing == "chunked":
            self._chunked()
        elif framing == "close":
            self._until_close()
        return ParsedResponse(
            status=status,
            reason=reason,
            headers=tuple(headers),
            excerpt=bytes(self._excerpt),
            body_bytes=self._body_bytes,
            framing=framing,
        )
