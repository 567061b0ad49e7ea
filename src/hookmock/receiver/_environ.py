"""The request as werkzeug's ``Request`` would read it, straight from the WSGI environ (the fake
receiver builds no werkzeug objects per request), and the answer to a body not read in full."""

from __future__ import annotations

import io
from typing import Any

from werkzeug import Response

from .._util.chunked import json_error
from .._util.framing import ERROR_CODES
from ._body import BodyError, linger
from ._connection import Exchange

__all__ = ["environ_headers", "refuse_body", "request_path"]

#: Header names as werkzeug's ``EnvironHeaders`` spells them, per environ key (bounded).
_HEADER_NAMES: dict[str, str] = {}
_PLAIN_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH")
_SHADOWED_KEYS = ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH")


def environ_headers(environ: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The request's headers as werkzeug's ``Request.headers.items()`` lists them (same names, same
    order, same values), without building werkzeug's per-request objects."""
    names = _HEADER_NAMES
    out = []
    for key, value in environ.items():
        if key[:5] == "HTTP_":
            if key in _SHADOWED_KEYS:
                continue
        elif key not in _PLAIN_KEYS or not value:
            continue
        name = names.get(key)
        if name is None:
            name = (key[5:] if key[:5] == "HTTP_" else key).replace("_", "-").title()
            if len(names) < 1024:
                names[key] = name
        out.append((name, str(value)))
    return tuple(out)


def request_path(environ: dict[str, Any]) -> str:
    """The path (and query string, if any) as werkzeug's ``Request`` gives them."""
    path = "/" + (environ.get("PATH_INFO") or "").encode("latin1").decode(errors="replace").lstrip("/")
    query = environ.get("QUERY_STRING", "").encode("latin1")
    return f"{path}?{query.decode()}".rstrip("?") if query else path


def refuse_body(exchange: Exchange, problem: BodyError) -> Response:
    """A body that was not read in full: 413/400 and close (its rest is never read), or the client
    left (nothing to answer)."""
    if problem.status is None:
        exchange.end(f"no answer: {problem.reason}")
        raise exchange.drop()
    exchange.end(f"HTTP {problem.status} ({problem.reason})", problem.status)
    # the same JSON error body the server layer answers framing errors with
    body, _ = json_error(problem.status, ERROR_CODES.get(problem.status, "bad_request"), problem.reason)
    headers = [("Content-Length", str(len(body)))]
    handler = exchange.handler
    if handler is None:
        headers.append(("Connection", "close"))
        return Response(body, status=problem.status, headers=headers, content_type="application/json")
    handler.close_connection = True  # the server then says "Connection: close" itself
    unread, handler.rfile = handler.rfile, io.BytesIO()  # nothing more is read as this request

    def answer() -> Any:
        yield body
        unread.close()  # the answer is out: half-close, and drop a little of what the client still
        linger(handler.connection)  # sends, so it reads the answer rather than a reset

    return Response(
        answer(),
        status=problem.status,
        headers=headers,
        content_type="application/json",
        direct_passthrough=True,
    )
