"""When the fault proxy's upstream cannot answer (nothing listening, a reset), the reason travels
with the 502: a header and body for the sender, the proxy's and the receiver's records, ``hookmock
listen``'s output, the scenario report; ``scenario run`` refuses an unreachable target up front."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from werkzeug.test import Client

from hookmock.cli import main
from hookmock.clock import VirtualClock
from hookmock.factories import EventFactory
from hookmock.profiles import get_profile
from hookmock.receiver.proxy import UPSTREAM_OUTCOME_HEADER, FaultProxy
from hookmock.receiver.server import FakeReceiver
from hookmock.scenarios import parse_scenario, run_scenario
from hookmock.sender import Sender

SECRET = "whsec_" + "U" * 32


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound, never listening, so it cannot be taken)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_the_502_names_the_transport_outcome(closed_port: int) -> None:
    proxy = FaultProxy(f"http://127.0.0.1:{closed_port}/hooks", "moda", clock=VirtualClock())
    body = EventFactory("moda", seed=1).body("task.succeeded")
    answer = Client(proxy).post("/webhook", data=body, headers=get_profile("moda").sign(body, SECRET, 0))
    assert answer.status_code == 502
    assert answer.headers[UPSTREAM_OUTCOME_HEADER] == "refused"
    assert "refused" in answer.get_data(as_text=True) and "ECONNREFUSED" in answer.get_data(as_text=True)
    assert proxy.captured[0].answered.startswith("upstream could not answer: refused")


def test_check_upstream(closed_port: int) -> None:
    down = FaultProxy(f"http://127.0.0.1:{closed_port}/hooks", "moda")
    assert (down.check_upstream() or "").startswith("refused: 127.0.0.1:")
    with FakeReceiver("moda", SECRET) as receiver:
        assert FaultProxy(receiver.url, "moda").check_upstream() is None
    assert len(receiver.requests) == 0  # a connect and close: nothing was sent


def test_the_receivers_record_carries_the_reason(closed_port: int) -> None:
    with FakeReceiver("moda", SECRET, handler=f"http://127.0.0.1:{closed_port}/") as receiver:
        with Sender("moda", SECRET, retry_delays_s=()) as sender:
            delivery = sender.send(receiver.url, "task.succeeded")
        receiver.wait_for(1)
    assert [a.status for a in delivery.attempts] == [502]
    assert receiver.requests[0].extra["upstream"].startswith("refused: 127.0.0.1:")


def test_scenario_run_refuses_an_unreachable_target_up_front(
    closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{closed_port}/h"
    assert main(["scenario", "run", "moda-lost-ack", "--target", url, "--secret", SECRET]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach {url}: refused" in err and "ECONNREFUSED" in err and "Traceback" not in err


def test_scenario_report_says_why_an_attempt_got_502() -> None:
    scenario = parse_scenario(
        '[scenario]\nname = "target resets"\nprofile = "moda"\n'
        '[[steps]]\naction = "send"\nevent = "task.succeeded"\nexpect = { attempts = 4 }\n'
    )
    with FakeReceiver("moda", SECRET) as target:
        target.script("reset")
        result = run_scenario(scenario, target.url, secret=SECRET)
    notes = result.steps[0].notes
    assert result.ok, result.text()
    assert len(notes) == 4 and all("could not answer an attempt (reset" in n for n in notes), notes
    assert "fault proxy answered the sender 502" in result.text()


def test_listen_prints_why_forwarding_failed(closed_port: int) -> None:
    from test_receiver_listen import Listen

    listen = Listen("--json", "--forward-to", f"http://127.0.0.1:{closed_port}/hooks")
    ready = json.loads(listen.readline())
    assert ready["upstream_unreachable"].startswith("refused")
    with Sender("moda", SECRET, retry_delays_s=()) as sender:
        sender.send(ready["url"], "task.succeeded")
    row = json.loads(listen.readline())
    listen.stop()
    assert row["status"] == 502 and row["upstream"].startswith("refused: 127.0.0.1:")
