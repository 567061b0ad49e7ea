"""Webhook storms over loopback: exactly-once verdicts, stale replays, the deadline under a burst.

Receivers from tests/receivers/ are served over real sockets by werkzeug's threaded server; every
storm is bounded (a few hundred requests at most) and sends only to 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import hookmock
from hookmock.cli import main
from hookmock.storm import StormFailed, assert_exactly_once, storm
from receivers import broken as b
from receivers.base import WerkzeugReceiver

pytestmark = pytest.mark.realtime  # deadlines, races and rates are real time
SECRET = "whsec_storm_test_secret_0123456789abcdef"


@contextmanager
def serving(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.socket.listen(256)  # a burst connects all at once
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class SerialSlowReceiver(WerkzeugReceiver):
    """Correct, but does its work one request at a time, 20 ms each: a queue that backs up."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.work = threading.Lock()

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        with self.work:
            time.sleep(0.02)
            return super().process(request, payload)


def _cli(url: str, *extra: str, profile: str = "moda") -> tuple[int, dict[str, Any]]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["storm", f"{url}/hook", "--profile", profile, "--secret", SECRET, "--json", *extra])
    return code, json.loads(out.getvalue())


@pytest.mark.parametrize("profile", ["moda", "modio"])
def test_a_correct_receiver_passes(profile):
    app = WerkzeugReceiver(profile, SECRET)
    stale = ["--stale", "0.2"] if profile == "moda" else []
    with serving(app) as url:
        code, report = _cli(
            url, "--count", "120", "--users", "8", "--duplicates", "0.3", "--concurrent-duplicates", "0.3",
            *stale, "--probe-url", url + "/effects/{event_id}", "--max-errors", "0", profile=profile,
        )  # fmt: skip
    assert code == 0, report["failures"]
    assert report["ok"] and report["events"] == 120
    assert report["applied"] == {"0": 0, "1": 120, ">1": 0, "never_accepted": 0}
    assert report["requests"] > 120 and report["statuses"].get("200", 0) >= 120
    # every applied event is one the receiver counted: the receiver and the report agree
    assert sum(app.store.applied.values()) == 120
    if profile == "moda":
        assert report["stale"]["sent"] > 0
        assert report["stale"]["rejected"] == report["stale"]["sent"]
        assert report["statuses"]["401"] == report["stale"]["sent"]
    lat = report["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert report["rate"] > 0


def test_a_check_then_insert_dedupe_race_is_reported_and_exits_1(tmp_path):
    app = b.RacyDedupeReceiver("moda", SECRET)
    junit = tmp_path / "storm.xml"
    with serving(app) as url:
        code, report = _cli(
            url, "--count", "60", "--users", "8", "--concurrent-duplicates", "0.6",
            "--probe-url", url + "/effects/{event_id}", "--junit", str(junit),
        )  # fmt: skip
    assert code == 1
    assert report["applied"][">1"] > 0
    doubled = report["doubled_ids"][0]
    assert app.count(doubled) > 1  # the receiver really applied it twice
    assert any("applied more than once" in f for f in report["failures"])
    suite = ET.parse(junit).getroot()
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["exactly-once"]


def test_no_replay_protection_reports_accepted_stale_replays():
    app = b.NoReplayCheckReceiver("moda", SECRET)
    with serving(app) as url:
        code, report = _cli(url, "--count", "40", "--users", "4", "--stale", "0.5", "--seed", "3")
    assert code == 1
    assert report["stale"]["sent"] > 0
    assert report["stale"]["accepted"] == report["stale"]["sent"] and report["stale"]["rejected"] == 0
    assert any("stale replay" in f for f in report["failures"])


def test_a_burst_against_a_slow_receiver_reports_deliveries_over_the_deadline():
    app = SerialSlowReceiver("moda", SECRET)
    with serving(app) as url:
        code, report = _cli(url, "--burst", "40", "--users", "40", "--deadline", "0.15")
    assert report["faithful"] is False and report["deadline_s"] == 0.15
    # 40 requests queued on one 20 ms lock: those behind the 7th or so finish after 150 ms
    assert report["over_deadline"] > 10
    assert report["statuses"]["timeout"] == report["over_deadline"]
    assert report["events"] == 40 and report["requests"] == 40
    assert code == 0  # no probe, no thresholds: the report states it, the verdict has nothing to fail
    code, report = _cli(url_dead := "http://127.0.0.1:9", "--count", "2", "--max-errors", "0")
    assert code == 1 and report["statuses"] == {"refused": 2}, url_dead


def test_max_p99_fails_a_slow_receiver():
    app = SerialSlowReceiver("moda", SECRET)
    with serving(app) as url:
        code, report = _cli(url, "--count", "10", "--users", "4", "--max-p99", "1")
    assert code == 1 and any("--max-p99" in f for f in report["failures"])


def test_rate_paces_the_storm():
    app = WerkzeugReceiver("moda", SECRET)
    with serving(app) as url:
        code, report = _cli(url, "--rate", "50", "--duration", "0.5", "--users", "4")
    assert code == 0
    assert 15 <= report["events"] <= 30  # 50/s for 0.5 s: about 25
    assert report["seconds"] >= 0.4


def test_in_process_exactly_once_assertion():
    good = WerkzeugReceiver("moda", SECRET)
    report = assert_exactly_once(good, probe=good.count, secret=SECRET, count=80, seed=1)
    assert report.applied is not None and report.applied["1"] == 80
    racy = b.RacyDedupeReceiver("moda", SECRET)
    with pytest.raises(StormFailed, match="applied more than once"):
        assert_exactly_once(racy, probe=racy.count, secret=SECRET, count=40, concurrent_duplicates=0.8)
    nodedupe = b.NoDedupeReceiver("modio", SECRET)
    report = storm(nodedupe, profile="modio", secret=SECRET, count=30, duplicates=1.0, probe=nodedupe.count)
    assert not report.ok and report.applied is not None and report.applied[">1"] == 30
    assert hookmock.run_storm is storm


def test_usage_errors_name_the_value(capsys):
    cases = [
        (["--profile", "modio", "--stale", "0.1", "--count", "1"], "--stale 0.1"),
        (["--count", "1", "--mix", "task.nope=1"], "task.nope"),
        (["--count", "1", "--mix", "oops"], "'oops'"),
        (["--count", "1", "--duplicates", "1.5"], "'1.5'"),
        ([], "--count N or --duration"),
        (["--count", "1", "--probe-url", "http://127.0.0.1:1/effects"], "{event_id}"),
        (["--count", "1", "--master-bind", "127.0.0.1:5557"], "--master-bind"),
    ]
    for extra, needle in cases:
        argv = ["storm", "http://127.0.0.1:1/hook", "--secret", SECRET, *extra]
        assert main(argv) == 2, extra
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err, (extra, err)
    assert main(["storm", "http://192.0.2.1/hook", "--secret", SECRET, "--count", "1"]) == 2
    assert "192.0.2.1" in capsys.readouterr().err


def test_progress_is_reported_while_the_storm_runs_and_a_report_without_probe_verifies_nothing():
    app = WerkzeugReceiver("moda", SECRET)
    seen: list[int] = []
    report = storm(
        app, secret=SECRET, rate=40, duration=1.2, users=2, on_progress=lambda run: seen.append(run.requests)
    )
    assert len(seen) >= 2 and seen == sorted(seen) and seen[-1] > 0
    report.assert_ok()  # nothing failed...
    with pytest.raises(StormFailed, match="probe"):
        report.assert_exactly_once()  # ...but nothing was verified either
