"""Outbound safety, end to end through the Sender, the CLI and the emulator (the address-form table
with an injected resolver is tests/test_transport_targets.py; this file fills its gaps):

* a 3xx with ``Location`` pointing off the machine is recorded as the attempt's answer and never
  followed: no second request, no connection anywhere but the loopback receiver;
* a name that resolves to several addresses is refused when any one of them is not loopback, and a
  name that changes its answer between attempts (DNS rebinding) never gets a connection off loopback;
* ``0.0.0.0`` in every spelling (Linux would connect it to the local machine) is refused.

No traffic leaves loopback: every ``socket.connect`` in these tests is recorded, and one to a
non-loopback address raises instead of connecting.  Name resolution is faked at ``getaddrinfo``.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from hookmock import Sender, VirtualClock
from hookmock.cli import main
from hookmock.errors import TargetNotAllowed

OFF_MACHINE = ["203.0.113.7", "169.254.169.254", "2001:db8::7", "10.1.2.3"]


class ConnectGuard:
    """Records every connect; refuses (raises) one to an address that is not loopback."""

    def __init__(self) -> None:
        self.loopback: list[Any] = []
        self.refused: list[Any] = []

    def check(self, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        try:
            ok = ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            ok = False
        (self.loopback if ok else self.refused).append(address)
        if not ok:
            raise ConnectionRefusedError(f"test guard: no traffic beyond loopback ({address!r})")


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectGuard]:
    g = ConnectGuard()
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            g.check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            g.check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield g
    assert g.refused == [], f"something tried to connect off loopback: {g.refused}"


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names ending in ``.test`` resolve from this table (mutable during a test); others as usual."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if isinstance(host, str) and host.endswith(".test"):
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            out = []
            for addr in table[host]:
                family = socket.AF_INET6 if ":" in addr else socket.AF_INET
                sockaddr = (addr, int(port), 0, 0) if family == socket.AF_INET6 else (addr, int(port))
                out.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
            return out
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


class Receiver:
    """Loopback HTTP server answering every POST with ``status`` and ``Location``."""

    def __init__(self, status: int = 200, location: str | None = None) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append(self.path)
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def make_receiver() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(status: int = 200, location: str | None = None) -> Receiver:
        made.append(Receiver(status, location))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "location", [f"http://{a}/hook" if ":" not in a else f"http://[{a}]/hook" for a in OFF_MACHINE]
)
def test_redirect_off_the_machine_is_never_followed(status, location, guard, make_receiver) -> None:
    rx = make_receiver(status, location)
    with Sender("moda", clock=VirtualClock()) as sender:
        delivery = sender.send(f"http://127.0.0.1:{rx.port}/hook", "task.succeeded")
    assert delivery.status == "failed"  # a 3xx is not a 2xx: every attempt failed, and was retried
    assert [a.status for a in delivery.attempts] == [status] * len(delivery.attempts)
    assert len(rx.requests) == len(delivery.attempts) == sender.rules.max_attempts
    assert {a[1] for a in guard.loopback} == {rx.port} and len(guard.loopback) == len(delivery.attempts)


def test_name_with_one_address_off_the_machine_is_refused_before_anything(
    guard, fake_dns, make_receiver, capsys
):
    rx = make_receiver()
    fake_dns["mixed.test"] = ["127.0.0.1", "203.0.113.7"]
    fake_dns["both-loopback.test"] = ["127.0.0.1", "::1"]
    url = f"http://mixed.test:{rx.port}/hook"
    with Sender("moda", clock=VirtualClock()) as sender:
        with pytest.raises(TargetNotAllowed, match=r"203\.0\.113\.7"):
            sender.send(url, "task.succeeded")
        assert sender.log.count() == 0  # refused before it was accepted
        ok = sender.send(f"http://both-loopback.test:{rx.port}/hook", "task.succeeded")
    assert ok.status == "succeeded" and len(rx.requests) == 1
    assert main(["send", url, "--secret", "whsec_x"]) == 2
    assert "203.0.113.7" in capsys.readouterr().err
    assert len(rx.requests) == 1 and len(guard.loopback) == 1


def test_dns_rebinding_between_attempts_gets_no_connection_off_loopback(guard, fake_dns, make_receiver):
    """The name is loopback when the delivery is accepted and for attempt 1 (which fails), then
    answers with an outside address: later attempts are refused without a connection."""
    rx = make_receiver(503)
    fake_dns["rebind.test"] = ["127.0.0.1"]

    def rebind(event: Any) -> None:
        fake_dns["rebind.test"] = ["169.254.169.254"]

    with Sender("moda", clock=VirtualClock(), on_attempt=rebind) as sender:
        delivery = sender.send(f"http://rebind.test:{rx.port}/hook", "task.succeeded")
    first, *rest = delivery.attempts
    assert first.status == 503 and rest
    assert all(a.outcome == "error" and "169.254.169.254" in a.detail for a in rest), [a.detail for a in rest]
    assert len(rx.requests) == 1 and len(guard.loopback) == 1
    assert delivery.status == "failed"


@pytest.mark.parametrize(
    "host",
    ["0.0.0.0", "0", "0x0", "0.0", "000.0.0.0", "[::]", "[::ffff:0.0.0.0]", "[0:0:0:0:0:0:0:0]", "zero.test"],
)
def test_unspecified_address_is_refused(host, guard, fake_dns, make_receiver, capsys) -> None:
    """On Linux a connect to 0.0.0.0 reaches this machine, so without the check the receiver listening
    on 127.0.0.1 would get the request: it gets nothing."""
    fake_dns["zero.test"] = ["0.0.0.0"]
    rx = make_receiver()
    url = f"http://{host}:{rx.port}/hook"
    with Sender("moda", clock=VirtualClock()) as sender, pytest.raises(TargetNotAllowed):
        sender.send(url, "task.succeeded")
    assert main(["send", url, "--secret", "whsec_x"]) == 2
    assert "allow-target" in capsys.readouterr().err
    assert rx.requests == [] and guard.loopback == []


def test_emulator_refuses_unspecified_and_mixed_callbacks(guard, fake_dns, make_receiver) -> None:
    from emulator_support import running

    fake_dns["mixed.test"] = ["::1", "2001:db8::7"]
    rx = make_receiver()
    with running(allow_http_callbacks=True) as (_, api):
        for url in (f"http://0.0.0.0:{rx.port}/h", f"http://mixed.test:{rx.port}/h"):
            status, body, _ = api.call("POST", "/v1/tasks", {"prompt": "x", "callback_url": url})
            assert status == 400 and body["error"]["code"] == "callback_url_not_allowed", body
    assert rx.requests == []
    assert all(a[1] != rx.port for a in guard.loopback)
