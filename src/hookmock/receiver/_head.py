"""Reading a request's header fields without the ``email`` package, for the fake receiver's server.

``http.server`` reads the header lines and hands them to ``email``'s feed parser (a third of the
CPU that werkzeug's server spends on a webhook request, whose header fields are all plain
``Name: value`` lines).  :class:`FastHeadersMixin` reads the same lines, under the same limits and
with the same errors, and builds the same :class:`http.client.HTTPMessage` directly when every line
is a plain field; any other line (a folded continuation, a bare CR, a name ``email`` would not take
as one) sends the whole head through ``email`` as before, so the headers are always what
``http.server`` would have made of them.

It sits below :class:`~hookmock._util.framing.HardenedRequestHandler` in the handler's class
hierarchy: the hardened handler checks the request line and the framing around it as it does for
every hookmock server, and its ``super().parse_request()`` lands here instead of in
``http.server``.
"""

from __future__ import annotations

import email.parser
import http.client
import re
from http import HTTPStatus
from typing import Any

from werkzeug.serving import WSGIRequestHandler

__all__ = ["FastHeadersMixin", "PlainFields", "parse_header_lines", "read_header_lines"]

#: One whole header field as ``email`` reads it: a name of the characters its header pattern
#: takes (no space, no colon), a colon, and a value with no CR or LF inside.
_FIELD = re.compile(r"([!-9;-~]+):([^\r\n]*)\r?\n")
_MAXLINE = 65536  # http.client's limits, and its errors
_MAXHEADERS = 100


def read_header_lines(rfile: Any) -> list[bytes]:
    """The header lines up to and including the empty line (as ``http.client`` reads them)."""
    lines: list[bytes] = []
    while True:
        line = rfile.readline(_MAXLINE + 1)
        if len(line) > _MAXLINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > _MAXHEADERS:
            raise http.client.HTTPException(f"got more than {_MAXHEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            return lines


class PlainFields(http.client.HTTPMessage):
    """An ``HTTPMessage`` of plain fields: read without the policy's per-read check, which only
    changes values holding surrogates (text decoded from ISO-8859-1 never does)."""

    _headers: list[tuple[str, str]]

    def get(self, name: str, failobj: Any = None) -> Any:
        name = name.lower()
        for key, value in self._headers:
            if key.lower() == name:
                return value
        return failobj

    def get_all(self, name: str, failobj: Any = None) -> Any:
        name = name.lower()
        values = [value for key, value in self._headers if key.lower() == name]
        return values or failobj

    def items(self) -> list[tuple[str, str]]:
        return list(self._headers)

    def values(self) -> list[str]:
        return [value for _, value in self._headers]

    def __getitem__(self, name: str) -> Any:
        return self.get(name)


def parse_header_lines(lines: list[bytes], message_class: type[Any] = http.client.HTTPMessage) -> Any:
    """The message ``http.client.parse_headers`` makes of ``lines``."""
    text = b"".join(lines).decode("iso-8859-1")
    if lines[-1] in (b"\r\n", b"\n"):
        fields = []
        match = _FIELD.match
        position, end = 0, len(text) - len(lines[-1])
        while position < end:
            found = match(text, position)
            if found is None:
                break
            # email's compat32 policy: the value without the blanks after the colon
            fields.append((found[1], found[2].lstrip(" \t")))
            position = found.end()
        else:
            message: Any = PlainFields() if message_class is http.client.HTTPMessage else message_class()
            message._headers = fields
            message.set_payload("")
            return message
    return email.parser.Parser(_class=message_class).parsestr(text)


class FastHeadersMixin(WSGIRequestHandler):
    """``http.server``'s ``parse_request`` (Python 3.11), its header fields read by
    :func:`parse_header_lines`."""

    def parse_request(self) -> bool:
        self.command = None  # type: ignore[assignment]
        self.request_version = version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if len(words) == 0:
            return False
        if len(words) >= 3:  # Enough to determine protocol version
            version = words[-1]
            try:
                if not version.startswith("HTTP/"):
                    raise ValueError
                base_version_number = version.split("/", 1)[1]
                parts = base_version_number.split(".")
                if len(parts) != 2:
                    raise ValueError
                if any(not component.isdigit() for component in parts):
                    raise ValueError("non digit in http version")
                if any(len(component) > 10 for component in parts):
                    raise ValueError("unreasonable length http version")
                version_number = int(parts[0]), int(parts[1])
            except (ValueError, IndexError):
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request version ({version!r})")
                return False
            if version_number >= (1, 1) and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            if version_number >= (2, 0):
                self.send_error(
                    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, f"Invalid HTTP version ({base_version_number})"
                )
                return False
            self.request_version = version
        if not 2 <= len(words) <= 3:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({requestline!r})")
            return False
        command, path = words[:2]
        if len(words) == 2:
            self.close_connection = True
            if command != "GET":
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad HTTP/0.9 request type ({command!r})")
                return False
        self.command, self.path = command, path
        if self.path.startswith("//"):  # gh-87389, as http.server does
            self.path = "/" + self.path.lstrip("/")
        try:
            self.headers = parse_header_lines(read_header_lines(self.rfile), self.MessageClass)
        except http.client.LineTooLong as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long", str(err))
            return False
        except http.client.HTTPException as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers", str(err))
            return False
        conntype = self.headers.get("Connection", "")
        if conntype.lower() == "close":
            self.close_connection = True
        elif conntype.lower() == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        expect = self.headers.get("Expect", "")
        if (
            expect.lower() == "100-continue"
            and self.protocol_version >= "HTTP/1.1"
            and self.request_version >= "HTTP/1.1"
        ):
            return bool(self.handle_expect_100())
        return True
