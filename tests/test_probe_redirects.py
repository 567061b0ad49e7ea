"""The effect probe and the fail-once hook are outbound fetches like deliveries: loopback policy on
every templated URL, no proxies from the environment, and no redirects (issue 12, item 5).

A real loopback probe server answers 302 to an address off the machine; a connect guard records
every ``connect`` (``socket.socket.connect`` / ``connect_ex`` and ``socket.create_connection``) and
refuses the ones that are not loopback.  The assertion is zero non-loopback connects.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import hookmock
from hookmock.auditing.effect import ProbeFailed, url_hook, url_probe
from hookmock.cli import main
from hookmock.clock import VirtualClock
from hookmock.errors import UsageError
from hookmock.profiles import get_profile
from receivers import CORRECT, build

OFF_MACHINE = ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[2001:db8::1]/x"]


class Guard:
    def __init__(self) -> None:
        self.loopback: list[Any] = []
        self.refused: list[Any] = []

    def check(self, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        try:
            ok = ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            ok = False  # a name: the code under test must connect to checked addresses only
        (self.loopback if ok else self.refused).append(address)
        if not ok:
            raise ConnectionRefusedError(f"test guard: no traffic beyond loopback ({address!r})")


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[Guard]:
    g = Guard()
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            g.check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            g.check(address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        g.check(address)
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    # a proxy from the environment would be another way off the machine
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://10.9.9.9:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    yield g


class Server:
    """A loopback server answering every GET and POST with ``status`` (and ``Location``)."""

    def __init__(self, status: int, location: str | None = None, body: bytes = b"") -> None:
        self.paths: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.paths.append((self.command, self.path))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def serve() -> Iterator[Any]:
    made: list[Server] = []

    def make(status: int, location: str | None = None, body: bytes = b"") -> Server:
        made.append(Server(status, location, body))
        return made[-1]

    yield make
    for s in made:
        s.close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("location", OFF_MACHINE)
def test_a_redirecting_probe_is_an_error_naming_the_location_and_is_never_followed(
    guard: Guard, serve: Any, status: int, location: str
) -> None:
    server = serve(status, location)
    probe = url_probe(server.url + "/effects/{event_id}")
    with pytest.raises(ProbeFailed, match="redirect") as caught:
        probe("evt_1")
    assert location in str(caught.value)
    assert "never follows redirects" in str(caught.value)
    assert server.paths == [("GET", "/effects/evt_1")]
    assert guard.refused == []
    assert guard.loopback  # the probe itself did connect, on loopback


def test_a_redirect_to_loopback_is_not_followed_either(guard: Guard, serve: Any) -> None:
    final = serve(200, body=b"1")
    server = serve(302, final.url + "/effects/evt_1")
    with pytest.raises(ProbeFailed, match="give the final URL"):
        url_probe(server.url + "/effects/{event_id}")("evt_1")
    assert final.paths == []


def test_the_audit_reports_a_redirecting_probe_and_connects_nowhere_else(guard: Guard, serve: Any) -> None:
    """The reproduction of the issue: ``hookmock.audit(probe=URL)`` against a 302 probe."""
    server = serve(302, "http://10.0.0.1/")
    clock = VirtualClock()
    secret = get_profile("moda").generate_secret()
    app = build(CORRECT["werkzeug"], "moda", secret, clock)
    from hookmock.auditing import ProbeUnusable

    # a probe that cannot be read is a setup problem, not a finding: the audit stops (exit 2 in the CLI)
    with pytest.raises(ProbeUnusable, match=r"redirect to 'http://10\.0\.0\.1/'"):
        hookmock.audit(app, profile="moda", secret=secret, clock=clock, probe=server.url + "/{event_id}")
    assert guard.refused == []


def test_scenario_run_with_a_redirecting_probe_connects_nowhere_else(
    guard: Guard, serve: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from receivers.rawsocket import make_handler
    from receivers.rawsocket import serve as serve_receiver

    probe = serve(302, "http://169.254.169.254/")
    handler, _store = make_handler("moda", "whsec_scn", case_sensitive=False)
    with serve_receiver(handler) as url:
        code = main(
            ["scenario", "run", "moda-replays-and-races", "--target", url + "hooks", "--secret", "whsec_scn",
             "--probe-url", probe.url + "/effects/{event_id}"]
        )  # fmt: skip
    out = capsys.readouterr()
    assert code != 0
    assert "169.254.169.254" in out.out + out.err
    assert guard.refused == []


def test_the_event_id_is_percent_encoded_and_cannot_change_the_host(guard: Guard, serve: Any) -> None:
    server = serve(200, body=b'{"count": 1}')
    probe = url_probe(server.url + "/effects/{event_id}?x=1")
    assert probe("a/b@10.0.0.1:80/#?") == 1
    assert server.paths == [("GET", "/effects/a%2Fb%4010.0.0.1%3A80%2F%23%3F?x=1")]
    assert guard.refused == []


@pytest.mark.parametrize(
    "template",
    ["http://{event_id}/effects", "http://127.0.0.1{event_id}/x", "http://127.0.0.1:{event_id}/x"],
)
def test_a_placeholder_in_the_host_part_is_refused(template: str) -> None:
    with pytest.raises(UsageError, match="host part"):
        url_probe(template)


def test_the_probe_template_must_be_loopback_unless_allowed() -> None:
    with pytest.raises(hookmock.TargetNotAllowed):
        url_probe("http://10.0.0.1/effects/{event_id}")
    with pytest.raises(hookmock.TargetNotAllowed):
        url_hook("http://169.254.169.254/fail/{event_id}")


def test_the_fail_once_hook_refuses_redirects_too(guard: Guard, serve: Any) -> None:
    server = serve(307, "http://10.0.0.1/arm")
    with pytest.raises(ProbeFailed, match=re.escape("redirect to 'http://10.0.0.1/arm'")):
        url_hook(server.url + "/fail-once/{event_id}")("evt_9")
    assert server.paths == [("POST", "/fail-once/evt_9")]
    assert guard.refused == []


def test_proxy_variables_are_ignored(guard: Guard, serve: Any) -> None:
    server = serve(200, body=b"0")
    assert url_probe(server.url + "/e/{event_id}")("evt_2") == 0
    assert guard.refused == [] and server.paths == [("GET", "/e/evt_2")]


def test_the_emulator_clients_return_a_redirect_and_do_not_follow_it(guard: Guard, serve: Any) -> None:
    """hookmock's other urllib callers (the emulator client, the plugin's emulator handle)."""
    from hookmock.emulator.client import EmulatorClient
    from hookmock.pytest_plugin.emulator import EmulatorProcess

    server = serve(302, "http://169.254.169.254/latest/")
    status, _body, headers = EmulatorClient(server.url).call("GET", "/v1/tasks")
    assert status == 302 and headers["Location"] == "http://169.254.169.254/latest/"
    handle = EmulatorProcess(None, {"base_url": server.url, "api_key": "k", "signing_secret": "s"}, None)  # type: ignore[arg-type]
    assert handle.request("POST", "/_hookmock/reset", {})[0] == 302
    assert [p for _, p in server.paths] == ["/v1/tasks", "/_hookmock/reset"]
    assert guard.refused == []


def test_the_fault_proxy_returns_an_upstream_redirect_and_does_not_follow_it(
    guard: Guard, serve: Any
) -> None:
    """The proxy's upstream fetch is the delivery transport: a 3xx is the answer, never followed."""
    upstream = serve(302, "http://169.254.169.254/latest/")
    clock = VirtualClock()
    proxy = hookmock.FaultProxy(upstream.url + "/hooks", "moda", clock=clock)
    sender = hookmock.Sender("moda", "whsec_px", clock=clock)
    delivery = sender.send((proxy, "/hooks"), "task.succeeded")
    assert {a.status for a in delivery.attempts} == {302}
    assert all(p == ("POST", "/hooks") for p in upstream.paths)
    assert len(upstream.paths) == len(delivery.attempts)
    assert guard.refused == []


def test_audit_cli_with_a_redirecting_probe_connects_nowhere_else(
    guard: Guard, serve: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from receivers.rawsocket import make_handler
    from receivers.rawsocket import serve as serve_receiver

    probe = serve(302, "http://10.0.0.1/")
    handler, _store = make_handler("moda", "whsec_cli", case_sensitive=False)
    with serve_receiver(handler) as url:
        code = main(
            ["audit", url + "hooks", "--secret", "whsec_cli", "--probe-url", probe.url + "/e/{event_id}",
             "--only", "idempotency"]
        )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2  # the baseline runs first: an unreadable probe stops the audit
    assert "redirect to 'http://10.0.0.1/'" in err
    assert guard.refused == []


def test_audit_cli_stops_with_exit_2_when_the_probe_redirects(
    guard: Guard, serve: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A probe answering 3xx used to fail baseline, raw-body, idempotency… ("8 failed", exit 1),
    as if the receiver were broken."""
    from receivers.rawsocket import make_handler
    from receivers.rawsocket import serve as serve_receiver

    probe = serve(302, "http://10.0.0.1/")
    handler, _store = make_handler("moda", "whsec_cli", case_sensitive=False)
    with serve_receiver(handler) as url:
        code = main(
            ["audit", url + "hooks", "--secret", "whsec_cli", "--probe-url", probe.url + "/e/{event_id}"]
        )
    captured = capsys.readouterr()
    assert code == 2
    assert "the effect probe could not be read" in captured.err
    assert "redirect to 'http://10.0.0.1/'" in captured.err
    assert "Traceback" not in captured.err
    assert guard.refused == []
