"""The audit's "applied exactly once" judgements tell once from twice.

Receivers that apply an event exactly twice (receivers.twice) fail the matching check, and every
effect judgement is unit-tested with a probe answering 0, 1, 2 and 3: only 1 passes.  Without these,
changing any ``count != 1`` to ``count > 2`` went unnoticed (issue 20)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

import hookmock
from hookmock.clock import VirtualClock
from hookmock.profiles import get_profile
from receivers.async_receivers import TransactionalReceiver
from receivers.base import WerkzeugReceiver
from receivers.twice import TWICE, NonTransactionalReceiver

PROFILES = ("moda", "modio")


def _audit(app: Any, profile: str, secret: str, clock: VirtualClock, **kwargs: Any) -> hookmock.AuditReport:
    kwargs.setdefault("probe", app.count)
    return hookmock.audit(app, profile=profile, secret=secret, clock=clock, **kwargs)


def _build(factory: Any, profile: str) -> tuple[Any, str, VirtualClock]:
    clock = VirtualClock()
    secret = get_profile(profile).generate_secret()
    return factory(profile, secret, clock), secret, clock


def _applies(check: str, profile: str) -> bool:
    return not (check == "dedupe-key" and profile == "modio")  # mod.io re-sends identical requests


@pytest.mark.parametrize(
    ("factory", "check", "profile"),
    [
        pytest.param(f, c, p, id=f"{f.__name__}-{c}-{p}")
        for f, checks in TWICE
        for c in checks
        for p in PROFILES
        if _applies(c, p)
    ],
)
def test_a_receiver_applying_exactly_twice_fails_the_matching_check(
    factory: Any, check: str, profile: str
) -> None:
    app, secret, clock = _build(factory, profile)
    fail_once = (app, "notify") if factory is NonTransactionalReceiver else None
    report = _audit(app, profile, secret, clock, only=[check], fail_once=fail_once)
    assert report.status("baseline") == "pass", report.text()
    assert report.status(check) == "fail", report.text()
    assert "2 time(s)" in report[check].detail or "counts 2" in report[check].detail, report.text()
    assert any(case.effect == 2 for case in report[check].cases), report.text()


class _SwallowingReceiver(WerkzeugReceiver):
    """Answers 200 even when its work fails (the audit's 'acknowledged anyway' path)."""

    def apply_effect(self, event_id: str) -> None:
        self.store.apply_always(event_id)

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        with contextlib.suppress(Exception):
            self.apply_effect(self.profile.event_id(payload) or "")
        return Response("ok", status=200)


def _answering(count: int) -> Any:
    """An effect probe answering 1 for the first event it is asked about (the baseline delivery's)
    and ``count`` for every other event."""
    baseline: list[str] = []

    def probe(event_id: str) -> int:
        if not baseline:
            baseline.append(event_id)
        return 1 if event_id == baseline[0] else count

    return probe


#: (check, receiver, name of its callable for fail_once or None); the receiver itself is correct.
JUDGED = [
    ("raw-body", WerkzeugReceiver, None),
    ("idempotency", WerkzeugReceiver, None),
    ("dedupe-key", WerkzeugReceiver, None),
    ("concurrent-duplicates", WerkzeugReceiver, None),
    ("dedupe-poisoning", WerkzeugReceiver, None),
    ("retry-after-failure", TransactionalReceiver, "apply_effect"),  # attempt 1 fails, then the retry
    ("retry-after-failure", _SwallowingReceiver, "apply_effect"),  # attempt 1 acknowledged anyway
]


@pytest.mark.parametrize("count", [0, 1, 2, 3])
@pytest.mark.parametrize(
    ("check", "factory", "hook"), [pytest.param(*j, id=f"{j[0]}-{j[1].__name__}") for j in JUDGED]
)
def test_each_effect_judgement_passes_exactly_one_application(
    check: str, factory: Any, hook: str | None, count: int
) -> None:
    app, secret, clock = _build(factory, "moda")
    fail_once = (app, hook) if hook else None
    report = _audit(app, "moda", secret, clock, only=[check], probe=_answering(count), fail_once=fail_once)
    assert report.status("baseline") == "pass", report.text()
    assert report.status(check) == ("pass" if count == 1 else "fail"), report.text()
    assert count in {case.effect for case in report[check].cases}, report.text()


@pytest.mark.parametrize("count", [0, 2, 3])
def test_the_baseline_fails_unless_the_probe_counts_one(count: int) -> None:
    app, secret, clock = _build(WerkzeugReceiver, "moda")
    report = _audit(app, "moda", secret, clock, only=["baseline"], probe=lambda _: count)
    assert report.status("baseline") == "fail", report.text()
    assert f"counts {count} application(s)" in report["baseline"].detail


def test_the_baseline_passes_when_the_probe_counts_one() -> None:
    app, secret, clock = _build(WerkzeugReceiver, "moda")
    report = _audit(app, "moda", secret, clock, only=["baseline"], probe=lambda _: 1)
    assert report.status("baseline") == "pass", report.text()
    assert "the effect probe counts 1" in report["baseline"].detail
