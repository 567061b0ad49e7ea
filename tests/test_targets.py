"""One way to name a target: a URL, an app, or (app, path), accepted by every fixture and entry
point, WSGI or ASGI; the fault proxy forwards to the path it was given."""

from __future__ import annotations

import threading
import time
from typing import Any

# Shared with pytester's in-process runs (see tests/test_plugin_fixtures.py); fastapi's pydantic
# core cannot be imported twice either.
import fastapi  # noqa: F401
import pytest

import hookmock
import hookmock.auditing
import hookmock.pytest_plugin.receiver
import hookmock.pytest_plugin.support
import hookmock.receiver.proxy
import hookmock.sender
from hookmock import FaultProxy, VirtualClock
from hookmock.auditing import audit
from hookmock.profiles import get_profile

pytest_plugins = ["pytester"]

APPS = """
import json
import threading

import pytest
from fastapi import FastAPI, Request, Response
from flask import Flask, request

import hookmock
from hookmock import UsageError


def make_flask(secret, clock):
    app = Flask("shop")
    app.paths, applied, lock = [], {}, threading.Lock()

    @app.post("/webhooks/moda")
    def hook():
        body = request.get_data()
        app.paths.append(request.path)
        try:
            hookmock.verify("moda", request.headers, body, secret, clock=clock)
        except hookmock.VerificationError:
            return "bad signature", 401
        with lock:
            applied.setdefault(json.loads(body)["id"], 1)
        return "ok"

    app.count = lambda event_id: applied.get(event_id, 0)
    return app


def make_fastapi(secret, clock):
    app = FastAPI()
    app.paths, applied = [], {}

    @app.post("/webhooks/moda")
    async def hook(request: Request):
        body = await request.body()
        app.paths.append(request.url.path)
        try:
            hookmock.verify("moda", request.headers, body, secret, clock=clock)
        except hookmock.VerificationError:
            return Response("bad signature", status_code=401)
        applied.setdefault(json.loads(body)["id"], 1)
        return {"ok": True}

    app.count = lambda event_id: applied.get(event_id, 0)
    return app


@pytest.fixture(params=["flask", "fastapi"])
def app(request, hookmock_secret, hookmock_clock):
    return (make_flask if request.param == "flask" else make_fastapi)(hookmock_secret, hookmock_clock)


def test_proxy_forwards_to_the_path_it_was_given(app, hookmock_sender, hookmock_proxy):
    proxy = hookmock_proxy((app, "/webhooks/moda"))
    proxy.tamper(signature=True)
    delivery = hookmock_sender.send(proxy, "task.succeeded")
    assert [a.status for a in delivery.attempts] == [401, 200]  # rejected, not "no such route"
    assert app.paths == ["/webhooks/moda", "/webhooks/moda"]
    assert repr(proxy).endswith(" at /webhooks/moda>") and "SGI app " in repr(proxy)


def test_a_bare_app_behind_the_proxy_gets_the_incoming_path(app, hookmock_sender, hookmock_proxy):
    proxy = hookmock_proxy(app)
    assert hookmock_sender.send((proxy, "/webhooks/moda"), "task.succeeded").status == "succeeded"
    assert app.paths == ["/webhooks/moda"]


def test_scenario_takes_app_and_path(app, hookmock_scenario):
    result = hookmock_scenario("moda-lost-ack", (app, "/webhooks/moda"), probe=app.count)
    assert result.ok


def test_audit_takes_app_and_path(app, hookmock_audit):
    report = hookmock_audit((app, "/webhooks/moda"), probe=app.count, only=["signature", "idempotency"])
    assert report.target.startswith(("WSGI app ", "ASGI app "))
    assert report.target.endswith(" at /webhooks/moda")


def test_audit_of_the_wrong_path_stops_with_a_usage_error(app, hookmock_audit):
    with pytest.raises(UsageError, match="the path is probably wrong"):
        hookmock_audit(app)


def test_a_receiver_serves_the_app_behind_a_real_socket(app, hookmock_sender, hookmock_make_receiver):
    server = hookmock_make_receiver(handler=app)
    delivery = hookmock_sender.send(server.url_for("/webhooks/moda"), "task.succeeded")
    assert delivery.status == "succeeded" and app.paths == ["/webhooks/moda"]


def test_sender_takes_the_app_with_its_path(app, hookmock_sender):
    delivery = hookmock_sender.send((app, "/webhooks/moda"), "task.succeeded")
    assert delivery.status == "succeeded" and delivery.target.endswith("/webhooks/moda")
"""


def test_every_fixture_takes_app_and_path_wsgi_and_asgi(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(APPS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=14)


def test_repr_of_a_fault_proxy_never_raises() -> None:
    half_built = FaultProxy.__new__(FaultProxy)  # what a traceback shows when __init__ failed
    assert repr(half_built).startswith("<FaultProxy ?")
    with pytest.raises(hookmock.UsageError, match="FaultProxy upstream: cannot deliver to 42"):
        FaultProxy(42, "moda")  # type: ignore[arg-type]
    proxy = FaultProxy(("http://127.0.0.1:1/webhooks"), "moda")
    assert repr(proxy) == "<FaultProxy moda -> http://127.0.0.1:1/webhooks>"


def test_an_app_handed_clock_time_agrees_in_process_and_over_sockets() -> None:
    """``now=clock.time`` in-process (virtual clock) and ``now=time.time`` behind a socket are the
    same type now (float seconds), so the same app gets the same verdicts both ways."""
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    secret = get_profile("moda").generate_secret()

    def make_app(now: Any) -> Any:
        @Request.application
        def app(request: Request) -> Response:
            ts = request.headers.get("X-Webhook-Timestamp", "")
            if not ts.isdigit():
                return Response("bad timestamp", status=400)
            if abs(now() - int(ts)) > 300:  # float - a 400-digit int: OverflowError, a 500
                return Response("stale", status=401)
            try:
                hookmock.verify("moda", request.headers, request.get_data(), secret, now=now())
            except hookmock.VerificationError:
                return Response("bad signature", status=401)
            return Response("ok")

        return app

    clock = VirtualClock(start=time.time())
    checks = ["timestamp-parsing", "replay"]
    in_process = audit(make_app(clock.time), profile="moda", secret=secret, clock=clock, only=checks)
    server = make_server("127.0.0.1", 0, make_app(time.time), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        over_sockets = audit(f"http://127.0.0.1:{server.port}/", profile="moda", secret=secret, only=checks)
    finally:
        server.shutdown()
        thread.join()
    verdicts = {c.name: c.status for c in in_process}
    assert verdicts == {c.name: c.status for c in over_sockets}
    assert verdicts["timestamp-parsing"] == "fail"  # the overflow is caught both ways


def test_a_bare_path_needs_an_app_unless_the_senders_transport_has_one() -> None:
    from hookmock import Sender, UsageError, WSGITransport

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [environ["PATH_INFO"].encode()]

    with pytest.raises(UsageError, match=r"give \(app, '/hooks'\)"):
        Sender("moda", clock=VirtualClock()).send("/hooks", "task.succeeded")
    sender = Sender("moda", clock=VirtualClock(), transport=WSGITransport(app=app))
    assert sender.send("/hooks", "task.succeeded").attempts[0].excerpt == b"/hooks"
