"""The in-process transport: deliver an attempt to a WSGI application, no socket at all.

Integrators can test a Flask/Django-style app without running a server.  The request environ
is what werkzeug's ``EnvironBuilder`` builds (a POST with the exact body bytes and headers): the
URL-dependent part is built by it once per URL and copied, the headers and body set per request; the
app's response is consumed like the HTTP transport consumes one: the status, the headers, the
first ``excerpt_bytes`` of the body, the rest counted and dropped, redirects never followed.

Deadline: an in-process call cannot be interrupted, so the deadline is judged on the clock.  If
the app (or a fault proxy wrapping it) moves a virtual clock to or past ``start + deadline``
before the response is complete, the outcome is ``"timeout"`` with ``duration_ns ==
deadline_ns``; body iteration also stops once the deadline (or its real-time backstop) passes,
so an endless body cannot hang the sender.  An exception raised by the app is the outcome
``"error"``, with the exception kept in ``extra["exception"]`` so a test can re-raise it.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..clock import SECOND, Clock, RealClock
from ..errors import UsageError
from . import EXCERPT_BYTES, AttemptResult

__all__ = ["WSGITarget", "WSGITransport"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_REAL = RealClock()
_STATUS_RE = re.compile(r"^([0-9]{3})(?: (.*))?$")
_RESERVED_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding"})
#: base environs (no headers, no body) kept per (URL, REMOTE_ADDR); building one costs ~35 µs
_BASE_CACHE_SIZE = 64


@dataclass(frozen=True)
class WSGITarget:
    """A WSGI application and the URL to deliver to inside it (path, query, host, scheme)."""

    app: WSGIApp
    url: str = "http://localhost/"

    def __post_init__(self) -> None:
        if not callable(self.app):
            raise UsageError(f"WSGITarget needs a WSGI application (a callable), not {self.app!r}")


class _Malformed(Exception):
    pass


class WSGITransport:
    """Deliver attempts to WSGI applications in-process.

    ``send(target, ...)`` accepts a WSGI callable (delivered to ``default_url``), a
    :class:`WSGITarget`, an ``(app, url_or_path)`` tuple, or, when the transport was made with
    ``app=``, a URL or path string for that app.
    """

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
        _split_url(default_url)
        self.app = app
        self.default_url = default_url
        self.excerpt_bytes = excerpt_bytes
        self.remote_addr = remote_addr
        self._bases: dict[tuple[str, str], dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"WSGITransport(app={self.app!r}, default_url={self.default_url!r})"

    def _resolve(self, target: object) -> tuple[WSGIApp, str]:
        if isinstance(target, WSGITarget):
            return target.app, target.url
        if isinstance(target, tuple) and len(target) == 2 and callable(target[0]):
            return target[0], _absolute(self.default_url, str(target[1]))
        if isinstance(target, str):
            if self.app is None:
                raise UsageError(
                    f"WSGITransport got the URL {target!r} but no application; pass the WSGI app as the "
                    "target (or WSGITarget(app, url)), or use HTTPTransport for a real server"
                )
            return self.app, _absolute(self.default_url, target)
        if callable(target):
            return target, self.default_url
        raise UsageError(
            f"WSGITransport cannot deliver to {target!r}; give a WSGI application, WSGITarget(app, url) "
            "or (app, path)"
        )

    def send(
        self,
        target: object,
        headers: Mapping[str, str],
        body: bytes,
        *,
        deadline_ns: int,
        clock: Clock,
    ) -> AttemptResult:
        if not isinstance(deadline_ns, int) or deadline_ns <= 0:
            raise UsageError(f"deadline_ns={deadline_ns!r} must be a positive integer number of nanoseconds")
        app, url = self._resolve(target)
        environ = self._environ(url, headers, bytes(body))
        start = clock.now_ns()
        real_deadline = _REAL.monotonic_ns() + deadline_ns

        def expired() -> bool:
            return clock.now_ns() - start >= deadline_ns or _REAL.monotonic_ns() >= real_deadline

        def timeout(where: str, **extra: object) -> AttemptResult:
            duration = deadline_ns if clock.is_virtual else clock.now_ns() - start
            detail = f"no complete response within {deadline_ns / SECOND:g} s ({where})"
            return AttemptResult("timeout", duration, detail=detail, peer="wsgi", extra=extra)

        started: list[tuple[str, list[tuple[str, str]]]] = []
        written: list[bytes] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None and started and written:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [(status, list(response_headers))]
            return written.append

        excerpt = bytearray()
        total = 0

        def take(chunk: object) -> None:
            nonlocal total
            if not isinstance(chunk, (bytes, bytearray)):
                raise _Malformed(f"the app produced {type(chunk).__name__}, not bytes")
            room = self.excerpt_bytes - len(excerpt)
            if room > 0:
                excerpt.extend(chunk[:room])
            total += len(chunk)

        app_rv: Iterable[bytes] | None = None
        try:
            try:
                app_rv = app(environ, start_response)
                iterator = iter(app_rv)
                while True:
                    for piece in written:
                        take(piece)
                    written.clear()
                    if expired():
                        return timeout("reading the response body")
                    try:
                        chunk = next(iterator)
                    except StopIteration:
                        break
                    take(chunk)
                for piece in written:
                    take(piece)
            finally:
                close = getattr(app_rv, "close", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        close()
        except _Malformed as exc:
            if expired():
                return timeout("the app answered after the deadline")
            return AttemptResult("malformed", clock.now_ns() - start, detail=str(exc), peer="wsgi")
        except Exception as exc:
            if clock.now_ns() - start >= deadline_ns:
                return timeout("the app raised after the deadline", exception=exc)
            detail = f"the app raised {type(exc).__name__}: {exc}"
            return AttemptResult(
                "error", clock.now_ns() - start, detail=detail, peer="wsgi", extra={"exception": exc}
            )
        elapsed = clock.now_ns() - start
        if elapsed >= deadline_ns or _REAL.monotonic_ns() >= real_deadline:
            return timeout("the app answered after the deadline")
        if not started:
            return AttemptResult(
                "malformed", elapsed, detail="the app never called start_response", peer="wsgi"
            )
        status_text, response_headers = started[0]
        match = _STATUS_RE.match(status_text) if isinstance(status_text, str) else None
        if match is None:
            return AttemptResult("malformed", elapsed, detail=f"bad WSGI status {status_text!r}", peer="wsgi")
        return AttemptResult(
            "response",
            elapsed,
            status=int(match.group(1)),
            headers=tuple((str(n), str(v)) for n, v in response_headers),
            excerpt=bytes(excerpt),
            detail=match.group(2) or "",
            peer="wsgi",
            extra={"body_bytes": total, "framing": "wsgi"},
        )

    def _environ(self, url: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """The environ werkzeug's ``EnvironBuilder`` makes for this POST, without its per-request cost."""
        environ = dict(self._base_environ(url))
        environ["wsgi.input"] = io.BytesIO(body)
        environ["wsgi.errors"] = sys.stderr  # what EnvironBuilder takes, read now (pytest swaps it)
        if body:  # EnvironBuilder sets no CONTENT_LENGTH for an empty body
            environ["CONTENT_LENGTH"] = str(len(body))
        joined: dict[str, str] = {}
        for name, value in headers.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise UsageError(f"header {name!r}: names and values must be strings")
            if "\r" in value or "\n" in value:
                raise UsageError(f"header {name!r} has a line break in its value; remove it")
            lower = name.lower()
            if lower in _RESERVED_HEADERS:
                continue
            if lower == "content-type":  # the first one wins, as Headers.get does
                environ.setdefault("CONTENT_TYPE", value)
                continue
            key = f"HTTP_{name.upper().replace('-', '_')}"
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
        environ.update(joined)
        return environ

    def _base_environ(self, url: str) -> dict[str, Any]:
        key = (url, self.remote_addr)
        base = self._bases.get(key)
        if base is None:
            from werkzeug.test import EnvironBuilder

            root, path = _split_url(url)
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


def _split_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"WSGI target URL {url!r} must be an absolute http:// or https:// URL")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return f"{parts.scheme}://{parts.netloc}/", path


def _absolute(default_url: str, url_or_path: str) -> str:
    if url_or_path.startswith(("http://", "https://")):
        return url_or_path
    if not url_or_path.startswith("/"):
        raise UsageError(f"WSGI target path {url_or_path!r} must start with '/' (or be a full URL)")
    base, _ = _split_url(default_url)
    return base.rstrip("/") + url_or_path
