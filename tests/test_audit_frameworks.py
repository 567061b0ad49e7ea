"""FastAPI (ASGI) and Django (WSGI) receivers, audited in-process and over real sockets (uvicorn,
werkzeug's server): both correct, the same verdict for every check either way.  And the audit
refuses a path with no webhook route instead of passing the rejection checks on a 404."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hookmock.auditing import WrongPath, audit
from hookmock.profiles import get_profile
from receivers.django_app import make_django_receiver
from receivers.fastapi_app import make_fastapi_receiver
from serving_support import serve_wsgi as _serve_wsgi

FRAMEWORKS = {"fastapi": make_fastapi_receiver, "django": make_django_receiver}


@contextlib.contextmanager
def _serve_asgi(app: Any) -> Iterator[str]:
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def _serve(framework: str, app: Any) -> contextlib.AbstractContextManager[str]:
    return _serve_asgi(app) if framework == "fastapi" else _serve_wsgi(app)


@pytest.mark.parametrize("profile", ["moda", "modio"])
@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_correct_framework_receiver_passes_the_same_in_process_and_over_sockets(
    framework: str, profile: str
) -> None:
    secret = get_profile(profile).generate_secret()
    path = f"/webhooks/{profile}"
    inproc_app = FRAMEWORKS[framework](profile, secret)
    in_process = audit((inproc_app, path), profile=profile, secret=secret, probe=inproc_app.count, seed=7)
    assert in_process.ok and in_process.summary["warn"] == 0, in_process.text()
    assert in_process.target.startswith("ASGI app" if framework == "fastapi" else "WSGI app")
    assert in_process.target.endswith(f"at {path}")

    served_app = FRAMEWORKS[framework](profile, secret)
    with _serve(framework, served_app) as base:
        over_sockets = audit(base + path, profile=profile, secret=secret, probe=served_app.count, seed=7)
    assert over_sockets.ok and over_sockets.summary["warn"] == 0, over_sockets.text()
    verdicts = {c.name: c.status for c in in_process}
    assert verdicts == {c.name: c.status for c in over_sockets}
    assert "pass" in verdicts.values()


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_a_path_without_the_webhook_route_stops_the_audit(framework: str) -> None:
    secret = get_profile("moda").generate_secret()
    app = FRAMEWORKS[framework]("moda", secret)
    with pytest.raises(WrongPath, match=r"HTTP 404 \(no such route\), so the path is probably wrong") as info:
        audit(app, profile="moda", secret=secret, probe=app.count)  # delivered to "/": no route there
    assert "(app, '/webhooks/moda')" in str(info.value)
    with (
        _serve(framework, FRAMEWORKS[framework]("moda", secret)) as base,
        pytest.raises(WrongPath, match="HTTP 404") as info,
    ):
        audit(base + "/hooks", profile="moda", secret=secret)
    assert "http://127.0.0.1:8000/webhooks/moda" in str(info.value)
    assert app.count("anything") == 0


def test_a_get_only_route_is_a_wrong_path_too() -> None:
    secret = get_profile("moda").generate_secret()
    app = make_fastapi_receiver("moda", secret)
    with pytest.raises(WrongPath, match=r"HTTP 405 \(method not allowed\)"):
        audit((app, "/effects/evt_1"), profile="moda", secret=secret)


def test_the_cli_exits_2_on_a_wrong_path(capsys: pytest.CaptureFixture[str]) -> None:
    from hookmock.cli import main

    secret = get_profile("moda").generate_secret()
    with _serve_wsgi(make_django_receiver("moda", secret)) as base:
        code = main(["audit", base + "/", "--profile", "moda", "--secret", secret])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "path is probably wrong" in err and "Traceback" not in err
