"""A storm aggregates as it goes: no record per request, latencies in bounded memory.

A storm of a million requests once kept one record per request (its memory grew about 0.26 KB
per event).  The tally keeps counts and a latency histogram instead; these tests hold it to the
percentiles it replaced and to memory that does not grow with the storm's length.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from hookmock.clock import MS
from hookmock.storm import StormOptions, StormReport
from hookmock.storm.runner import send_storm
from hookmock.storm.tally import EXACT_LATENCIES, LatencyHistogram, Tally
from hookmock.transport.inprocess import InProcessTransport

SECRET = "whsec_storm_tally_secret_0123456789abcdef"


def _nearest_rank(samples: list[int], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] / MS


def test_percentiles_are_exact_while_every_sample_is_kept() -> None:
    rng = random.Random(3)
    samples = [rng.randint(1, 50_000_000) for _ in range(EXACT_LATENCIES)]
    hist = LatencyHistogram()
    for ns in samples:
        hist.add(ns)
    assert hist.exact
    for q in (0.5, 0.95, 0.99):
        assert hist.percentile_ms(q) == _nearest_rank(samples, q)
    assert hist.summary_ms()["max"] == max(samples) / MS


@pytest.mark.parametrize("spread", ["lognormal", "two_modes", "tiny"])
def test_past_the_exact_samples_percentiles_are_within_a_bucket_and_memory_is_bounded(spread: str) -> None:
    rng = random.Random(7)
    draw = {
        "lognormal": lambda: int(rng.lognormvariate(14, 1.5)),  # ~1 ms, a long tail
        "two_modes": lambda: rng.choice((200_000, 30_000_000)) + rng.randint(0, 5_000),
        "tiny": lambda: rng.randint(0, 300),  # below the histogram's exact range and just above
    }[spread]
    samples = [draw() for _ in range(60_000)]
    hist = LatencyHistogram()
    for ns in samples:
        hist.add(ns)
    assert not hist.exact and hist.count == len(samples)
    summary = hist.summary_ms()
    for q, key in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        true = _nearest_rank(samples, q)
        got = summary[key]
        assert got is not None and true <= got <= true * (1 + 1 / 128) + 1e-9, (key, true, got)
    assert summary["max"] == max(samples) / MS
    assert summary["p50"] <= summary["p95"] <= summary["p99"] <= summary["max"]  # type: ignore[operator]
    assert len(hist._buckets) <= 64 * 256  # a few thousand at most, however many samples
    assert hist._exact is None  # the exact samples are let go


def test_tally_counts_every_kind_of_answer() -> None:
    tally = Tally(keep_events=True)
    for event_id in ("a", "b", "c"):
        tally.event(event_id)
    tally.answer("a", "first", "response", 200, 1_000_000)
    tally.answer("a", "duplicate", "response", 200, 2_000_000)
    tally.answer("a", "stale", "response", 200, 1_000_000)  # an accepted replay
    tally.answer("b", "first", "response", 500, 3_000_000)
    tally.answer("b", "stale", "response", 401, 1_000_000)
    tally.answer("c", "first", "timeout", None, 10_000_000_000)
    assert (tally.requests, tally.events, tally.accepted) == (6, 3, 3)
    assert dict(tally.statuses) == {"200": 3, "500": 1, "401": 1, "timeout": 1}
    assert (tally.over_deadline, tally.errors) == (1, 2)
    assert (tally.stale_sent, tally.stale_accepted) == (2, 1)
    assert tally.by_acceptance() == (["a"], ["b", "c"])  # a stale copy accepts nothing
    assert tally.latency.count == 5  # a timeout has no response latency
    assert Tally().acceptance is None  # without a probe no event id is kept


def _ok(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def test_a_long_storm_keeps_no_record_per_request() -> None:
    count = EXACT_LATENCIES + 1_000
    options = StormOptions(secret=SECRET, count=count, users=4).check()
    run = send_storm(options, _ok, InProcessTransport())
    report = StormReport.build(
        run, profile="moda", target="app", deadline_ns=options.deadline_ns, faithful=True, applied=None
    )
    assert report.requests == report.events == count and report.statuses == {"200": count}
    lat = report.latency_ms
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]  # type: ignore[operator]
    assert run.requests == count and run.accepted == count
    tally = run.tally
    # what the run holds after ``count`` requests: counters, a bounded histogram, no event ids
    assert tally.acceptance is None and not tally.latency.exact
    assert len(tally.latency._buckets) < 2_000
    assert not any(isinstance(v, (list, dict, set)) and len(v) >= count for v in vars(run).values())
