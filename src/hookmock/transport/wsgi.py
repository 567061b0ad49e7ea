"""The in-process transport: deliver an attempt to a WSGI application, no socket at all.

Integrators can test a Flask/Django-style app without running a server.  The request environ
is what werkzeug's ``EnvironBuilder`` builds (a POST with the exact body bytes and headers): the
URL-dependent part is built by it once per URL and copied, the headers and body set per request; the
app's response is consumed like the HTTP transport consumes one: the status, the headers, the
first ``excerpt_bytes`` of the body, the rest counted and dropped, redirects never followed.

Time and deadline (see :mod:`hookmock.transport.inprocess`): the attempt counts the app's real
elapsed time (on a virtual clock, the clock moves by it).  An in-process call cannot be
interrupted, so the deadline is judged when the app returns: an app that took longer (in real
time, or by moving a virtual clock itself) is a ``"timeout"`` with ``duration_ns ==
deadline_ns``; body iteration also stops once the deadline passes, so an endless body cannot hang
the sender.  An exception raised by the app is the outcome ``"error"``, with the exception kept in
``extra["exception"]`` so a test can re-raise it.

Targets: a WSGI callable, ``(app, "/path")``, an :class:`~hookmock.transport.apps.AppTarget`
(``WSGITarget`` is the same class), or a URL/path for the app given as ``WSGITransport(app=...)``.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..clock import SECOND, Clock
from ..errors import UsageError
from . import EXCERPT_BYTES, AttemptResult
from ._gate import Gate, GatedBody
from ._handler_time import HandlerTime
from .apps import AppTarget, WSGITarget, absolute, as_target, split_url

__all__ = ["WSGITarget", "WSGITransport"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_STATUS_RE = re.compile(r"^([0-9]{3})(?: (.*))?$")
_RESERVED_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding"})
#: Optional whitespace around a field value: an HTTP server strips it before the app sees the
#: value (RFC 9110 §5.5), so in-process delivery does too and agrees with delivery over sockets.
_OWS = " \t"

#: base environs (no headers, no body) kept per (URL, REMOTE_ADDR); building one costs ~35 µs
_BASE_CACHE_SIZE = 64


class _Malformed(Exception):
    pass


class WSGITransport:
    """Deliver attempts to WSGI applications in-process.

    ``send(target, ...)`` accepts a WSGI callable (delivered to ``default_url``), an
    :class:`~hookmock.transport.apps.AppTarget`, an ``(app, url_or_path)`` tuple, or, when the
    transport was made with ``app=``, a URL or path string for that app.
    """

    #: ``send(..., gate=Gate)`` holds concurrent copies together (see :mod:`._gate`)
    supports_gate = True

    def __init__(
        self,
        app: WSGIApp | None = None,
        *,
        default_url: str = "http://localhost/",
        excerpt_bytes: int = EXCERPT_BYTES,
        remote_addr: str = "127.0.0.1",
    ) -> None:
        if app is not None and not callable(app):
            raise UsageError(f"WSGITransport(app=...) needs a WSGI application (a callable), not {app!r}")
        if excerpt_bytes < 0:
            raise UsageError(f"excerpt_bytes={excerpt_bytes} is negative; use 0 or more")
        split_url(default_url)
        self.app = app
        self.default_url = default_url
        self.excerpt_bytes = excerpt_bytes
        self.remote_addr = remote_addr
        self._bases: dict[tuple[str, str], dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"WSGITransport(app={self.app!r}, default_url={self.default_url!r})"

    def _resolve(self, target: object) -> tuple[WSGIApp, str]:
        if type(target) is AppTarget and target.interface == "wsgi":  # what a Sender passes
            return target.app, target.url
        if isinstance(target, str):
            if self.app is None:
                raise UsageError(
                    f"WSGITransport got the URL {target!r} but no application; pass the WSGI app as the "
                    "target (or (app, path)), or use HTTPTransport for a real server"
                )
            return self.app, absolute(target, self.default_url)
        if isinstance(target, tuple) and len(target) == 2 and callable(target[0]):
            return target[0], absolute(target[1], self.default_url)
        if callable(target) and not isinstance(target, AppTarget):
            return target, self.default_url
        resolved = as_target(target)
        assert isinstance(resolved, AppTarget)
        if resolved.interface == "asgi":
            raise UsageError(
                f"{resolved.describe()} is an ASGI application; deliver it with InProcessTransport "
                "(what Sender and audit use for any app) or ASGITransport"
            )
        return resolved.app, resolved.url

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
        """``gate``: the app's first read of its body waits there (see :mod:`._gate`)."""
        if not isinstance(deadline_ns, int) or deadline_ns <= 0:
            raise UsageError(f"deadline_ns={deadline_ns!r} must be a positive integer number of nanoseconds")
        app, url = self._resolve(target)
        body = bytes(body)
        environ = self._environ(url, headers, body)
        gated = None if gate is None else GatedBody(body, gate)
        if gated is not None:
            environ["wsgi.input"] = gated
        timer = HandlerTime(clock, deadline_ns)
        started: list[tuple[str, list[tuple[str, str]]]] = []
        written: list[bytes] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None and started and written:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [(status, list(response_headers))]
            return written.append

        keep = self.excerpt_bytes
        excerpt = bytearray()
        total = 0
        app_rv: Iterable[bytes] | None = None
        try:
            try:
                app_rv = app(environ, start_response)
                if type(app_rv) is list:  # the usual answer: every chunk is made, no app code runs
                    total = _take_all(excerpt, written, keep, total)
                    if timer.expired():
                        return _timeout(timer, deadline_ns, "reading the response body")
                    for chunk in app_rv:
                        total = _take(excerpt, chunk, keep, total)
                else:
                    if inspect.isawaitable(app_rv):
                        _close_awaitable(app_rv)
                        raise _Malformed(
                            "the app returned a coroutine: it is an ASGI application hookmock did not "
                            "recognise; give hookmock.AppTarget(app, '/path', interface='asgi')"
                        )
                    iterator = iter(app_rv)
                    while True:
                        total = _take_all(excerpt, written, keep, total)
                        if timer.expired():
                            return _timeout(timer, deadline_ns, "reading the response body")
                        try:
                            chunk = next(iterator)
                        except StopIteration:
                            break
                        total = _take(excerpt, chunk, keep, total)
                total = _take_all(excerpt, written, keep, total)
            finally:
                if gated is not None:
                    gated.release()
                close = getattr(app_rv, "close", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        close()
        except _Malformed as exc:
            took = timer.finish()
            if took is None:
                return _timeout(timer, deadline_ns, "the app answered after the deadline")
            return AttemptResult("malformed", took, detail=str(exc), peer="wsgi")
        except Exception as exc:
            took = timer.finish()
            if took is None:
                return _timeout(timer, deadline_ns, "the app raised after the deadline", exception=exc)
            detail = f"the app raised {type(exc).__name__}: {exc}"
            return AttemptResult("error", took, detail=detail, peer="wsgi", extra={"exception": exc})
        took = timer.finish()
        if took is None:
            return _timeout(timer, deadline_ns, "the app answered after the deadline")
        elapsed = took
        if not started:
            return AttemptResult(
                "malformed", elapsed, detail="the app never called start_response", peer="wsgi"
            )
        status_text, response_headers = started[0]
        status = _status(status_text) if isinstance(status_text, str) else None
        if status is None:
            return AttemptResult("malformed", elapsed, detail=f"bad WSGI status {status_text!r}", peer="wsgi")
        return AttemptResult(
            "response",
            elapsed,
            status[0],
            tuple([(str(n), str(v)) for n, v in response_headers]),
            bytes(excerpt),
            status[1],
            "wsgi",
            {"body_bytes": total, "framing": "wsgi"},
        )

    def _environ(self, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """The environ werkzeug's ``EnvironBuilder`` makes for this POST, without its per-request cost."""
        environ = dict(self._base_environ(url))
        environ["wsgi.input"] = io.BytesIO(body)
        environ["wsgi.errors"] = sys.stderr  # what EnvironBuilder takes, read now (pytest swaps it)
        if body:  # EnvironBuilder sets no CONTENT_LENGTH for an empty body
            environ["CONTENT_LENGTH"] = str(len(body))
        joined: dict[str, str] = {}
        keys = _CGI_KEYS
        for name, value in headers.items():
            if type(value) is not str and not isinstance(value, str):
                raise UsageError(f"header {name!r}: names and values must be strings")
            key = keys.get(name)  # only str names are kept there
            if key is None:
                if not isinstance(name, str):
                    raise UsageError(f"header {name!r}: names and values must be strings")
                key = _cgi_key(name)
            if "\r" in value or "\n" in value:
                raise UsageError(f"header {name!r} has a line break in its value; remove it")
            if not key:  # a header the server sets itself
                continue
            value = value.strip(_OWS)  # as a server parses the field line (RFC 9112 §5)
            if key in joined:
                joined[key] = f"{joined[key]}, {value}"
            elif key == "CONTENT_TYPE":  # the first one wins, as Headers.get does
                environ.setdefault("CONTENT_TYPE", value)
            else:
                joined[key] = value
        environ.update(joined)
        return environ

    def _base_environ(self, url: str) -> dict[str, Any]:
        key = (url, self.remote_addr)
        base = self._bases.get(key)
        if base is None:
            from werkzeug.test import EnvironBuilder

            root, path = split_url(url)
            builder = EnvironBuilder(
                path=path, base_url=root, method="POST", environ_base={"REMOTE_ADDR": self.remote_addr}
            )
            try:
                base = builder.get_environ()
            finally:
                builder.close()
            for name in ("wsgi.input", "CONTENT_LENGTH", "CONTENT_TYPE"):
                base.pop(name, None)
            if len(self._bases) >= _BASE_CACHE_SIZE:
                self._bases.clear()
            self._bases[key] = base
        return base


#: header name -> its environ key ("" for a header the server sets itself); the same few names
#: are sent on every attempt
_CGI_KEYS: dict[str, str] = {}


def _cgi_key(name: str) -> str:
    lower = name.lower()
    if lower in _RESERVED_HEADERS:
        key = ""
    elif lower == "content-type":
        key = "CONTENT_TYPE"
    else:
        key = f"HTTP_{name.upper().replace('-', '_')}"
    if len(_CGI_KEYS) < 1024:  # bounded: names a caller makes up anew are not all kept
        _CGI_KEYS[name] = key
    return key


#: WSGI status line -> (code, reason): an app answers with the same few (bounded)
_STATUSES: dict[str, tuple[int, str]] = {}


def _status(text: str) -> tuple[int, str] | None:
    """The code and reason of a WSGI status line (``"200 OK"``), None if it is not one."""
    status = _STATUSES.get(text)
    if status is None:
        match = _STATUS_RE.match(text)
        if match is None:
            return None
        status = (int(match.group(1)), match.group(2) or "")
        if len(_STATUSES) < 256 and len(text) <= 256:
            _STATUSES[text] = status
    return status


def _take(excerpt: bytearray, chunk: object, keep: int, total: int) -> int:
    """Keep the first ``keep`` bytes of the body in ``excerpt``; returns the bytes seen so far."""
    if not isinstance(chunk, (bytes, bytearray)):
        raise _Malformed(f"the app produced {type(chunk).__name__}, not bytes")
    room = keep - len(excerpt)
    if room > 0:
        excerpt.extend(chunk[:room])
    return total + len(chunk)


def _take_all(excerpt: bytearray, written: list[bytes], keep: int, total: int) -> int:
    """Take what the app wrote with ``start_response``'s ``write`` so far."""
    if written:
        for piece in written:
            total = _take(excerpt, piece, keep, total)
        written.clear()
    return total


def _timeout(timer: HandlerTime, deadline_ns: int, where: str, **extra: object) -> AttemptResult:
    detail = f"no complete response within {deadline_ns / SECOND:g} s ({where})"
    return AttemptResult("timeout", timer.timeout_ns(), detail=detail, peer="wsgi", extra=extra)


def _close_awaitable(value: object) -> None:
    close = getattr(value, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):
            close()
