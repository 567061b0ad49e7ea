"""The plugin under pytest-xdist: one receiver and one emulator per worker, nothing shared."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]


def test_two_workers_each_get_their_own_receiver(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json, os, pathlib
        import pytest

        @pytest.mark.parametrize("n", range(8))
        def test_deliver(n, hookmock_sender, hookmock_receiver, hookmock_clock, tmp_path):
            hookmock_receiver.script("500,ok")
            hookmock_receiver.expect_delivery("task.succeeded")
            delivery = hookmock_sender.send(hookmock_receiver.url, "task.succeeded")
            assert [a.status for a in delivery.attempts] == [500, 200]
            assert len(hookmock_receiver.requests) == 2   # nothing from another worker's tests
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            out = pathlib.Path(os.environ["PORTS_DIR"]) / f"{worker}-{n}.json"
            out.write_text(json.dumps({"worker": worker, "port": hookmock_receiver.port,
                                       "tmp": str(tmp_path)}))
        """
    )
    ports_dir = pytester.mkdir("ports")
    pytester._monkeypatch.setenv("PORTS_DIR", str(ports_dir))
    # (other heavy plugins are left out of the workers to keep this test short)
    result = pytester.runpytest_subprocess(
        "-n", "2", "-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:benchmark"
    )
    result.assert_outcomes(passed=8)
    rows = [json.loads(p.read_text()) for p in ports_dir.iterdir()]
    workers = {r["worker"] for r in rows}
    assert workers == {"gw0", "gw1"}
    by_worker = {w: {r["port"] for r in rows if r["worker"] == w} for w in workers}
    assert all(len(ports) == 1 for ports in by_worker.values())  # one session receiver per worker
    assert by_worker["gw0"] != by_worker["gw1"]
