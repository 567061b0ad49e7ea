"""In-process delivery hands the app header values the way an HTTP server does: without the
optional whitespace around them (RFC 9110 §5.5).  The audit of a ported receiver found the two
disagreeing: a timestamp sent as ``" 1700000000 "`` reached a WSGI app in-process with its spaces
(and was accepted, since the signature covered them), but over sockets the server stripped them
(and the same app refused it)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from flask import Flask, request

from hookmock import VirtualClock
from hookmock.clock import SECOND
from hookmock.transport.asgi import ASGITransport
from hookmock.transport.http import HTTPTransport
from hookmock.transport.wsgi import WSGITransport
from receivers.ported.measure import serving

PADDED = {"X-Webhook-Timestamp": " \t1700000000 \t", "Content-Type": "application/json"}


def _flask() -> Any:
    app = Flask(__name__)

    @app.post("/echo")
    def echo() -> Any:
        return repr(request.headers["X-Webhook-Timestamp"])

    return app


def _fastapi() -> Any:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> Any:
        from fastapi.responses import PlainTextResponse

        return PlainTextResponse(repr(request.headers["x-webhook-timestamp"]))

    return app


def test_an_asgi_app_gets_the_value_stripped_in_process_as_over_sockets() -> None:
    app = _fastapi()
    in_process = ASGITransport().send(
        (app, "/echo"), PADDED, b"{}", deadline_ns=5 * SECOND, clock=VirtualClock()
    )
    with serving(app) as url:  # uvicorn (h11)
        over_sockets = HTTPTransport().send(
            url + "/echo", PADDED, b"{}", deadline_ns=5 * SECOND, clock=VirtualClock()
        )
    assert over_sockets.status == 200, over_sockets.describe()
    assert in_process.excerpt == over_sockets.excerpt == b"'1700000000'"


def test_a_wsgi_app_gets_the_value_stripped_in_process() -> None:
    """As gunicorn and h11 do; werkzeug's development server strips only the leading whitespace
    (``http.server``'s header parser), so over it the app sees ``'1700000000 \\t'``."""
    app = _flask()
    in_process = WSGITransport().send(
        (app, "/echo"), PADDED, b"{}", deadline_ns=5 * SECOND, clock=VirtualClock()
    )
    assert in_process.excerpt == b"'1700000000'"
    with serving(app) as url:
        over_sockets = HTTPTransport().send(
            url + "/echo", PADDED, b"{}", deadline_ns=5 * SECOND, clock=VirtualClock()
        )
    assert over_sockets.excerpt is not None and over_sockets.excerpt.startswith(b"'1700000000")
