"""The audit against the receivers corpus: every broken receiver fails (or warns on) the matching
check, every correct one passes with no failure.  In-process (WSGI) on a shared virtual clock."""

from __future__ import annotations

import time

import pytest

import hookmock
from hookmock.auditing import CATALOGUE, audit
from hookmock.clock import VirtualClock
from hookmock.profiles import get_profile
from receivers import BROKEN, CORRECT, Broken, build
from receivers.rawsocket import make_handler, serve

PROFILES = ("moda", "modio")


def _audit(factory, profile: str, **kwargs):
    clock = VirtualClock()
    secret = get_profile(profile).generate_secret()
    app = build(factory, profile, secret, clock)
    return audit(app, profile=profile, secret=secret, probe=app.count, clock=clock, **kwargs)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("style", sorted(CORRECT))
def test_correct_receivers_pass_with_no_failure_or_warning(style: str, profile: str) -> None:
    # CPU time, not wall time: on a loaded machine (load 10-20 on 2 cores) the wall time of the
    # same audit varies several-fold, and this test is about the audit's cost, not the scheduler
    started = time.process_time()
    report = _audit(CORRECT[style], profile)
    elapsed = time.process_time() - started
    assert report.ok, report.text()
    assert report.summary["warn"] == 0, report.text()
    assert elapsed < 2.0, f"in-process audit took {elapsed:.2f} s of CPU"
    # every check of the catalogue is reported, skipped ones with a reason
    assert [c.name for c in report] == [c.name for c in CATALOGUE]
    for check in report:
        if check.status == "skip":
            assert check.detail


@pytest.mark.parametrize(
    "case", [pytest.param((b, p), id=f"{b.name}-{p}") for b in BROKEN for p in b.profiles]
)
def test_each_broken_receiver_is_caught_by_its_check(case: tuple[Broken, str]) -> None:
    broken, profile = case
    report = _audit(broken.factory, profile)
    assert report.status(broken.check) == broken.status, report.text()
    if broken.status == "fail":
        assert not report.ok


def test_the_corpus_covers_every_defect_class() -> None:
    covered = {b.defect for b in BROKEN} | {9, 20}  # 9: rawsocket below; 20: advisory, never claimed
    assert covered == set(range(1, 21))
    for profile in PROFILES:
        assert {b.check for b in BROKEN if profile in b.profiles}


@pytest.mark.parametrize("profile", PROFILES)
def test_header_case_defect_over_real_sockets(profile: str) -> None:
    secret = get_profile(profile).generate_secret()
    good, good_store = make_handler(profile, secret, case_sensitive=False)
    bad, bad_store = make_handler(profile, secret, case_sensitive=True)
    with serve(good) as url:
        report = audit(url, profile=profile, secret=secret, probe=good_store.count)
        assert report.ok, report.text()
    with serve(bad) as url:
        report = audit(url, profile=profile, secret=secret, probe=bad_store.count, only=["header-case"])
        assert report.status("header-case") == "fail", report.text()
        assert "lower-case header names" in report["header-case"].detail


def test_constant_time_is_advisory_only() -> None:
    from receivers.broken import PlainEqualsReceiver

    report = _audit(PlainEqualsReceiver, "moda")
    assert report.ok, report.text()
    assert report.status("constant-time") == "skip"
    assert "advisory" in report["constant-time"].detail


def test_without_a_probe_the_effect_checks_are_skipped_with_the_reason() -> None:
    clock = VirtualClock()
    secret = get_profile("moda").generate_secret()
    app = build(CORRECT["werkzeug"], "moda", secret, clock)
    report = audit(app, profile="moda", secret=secret, clock=clock)
    for name in ("effect-before-verify", "idempotency", "dedupe-key", "concurrent-duplicates"):
        assert report.status(name) == "skip", name
        assert "effect probe" in report[name].detail
    assert report.ok


def test_no_dedupe_is_invisible_without_a_probe_but_caught_with_one() -> None:
    from receivers.broken import NoDedupeReceiver

    clock = VirtualClock()
    secret = get_profile("moda").generate_secret()
    app = build(NoDedupeReceiver, "moda", secret, clock)
    assert audit(app, profile="moda", secret=secret, clock=clock).ok
    report = audit(app, profile="moda", secret=secret, clock=clock, probe=app.count)
    assert report["idempotency"].cases[0].effect == 3


def test_wrong_secret_fails_the_baseline_with_a_hint() -> None:
    clock = VirtualClock()
    app = build(CORRECT["flask"], "moda", "whsec_right", clock)
    report = audit(app, profile="moda", secret="whsec_wrong", clock=clock, only=["baseline"])
    assert report.status("baseline") == "fail"
    assert "signing secret right" in report["baseline"].detail


def test_too_slow_receiver_aborts_the_rest_after_the_deadline_failure() -> None:
    from receivers.broken import TooSlowReceiver

    report = _audit(TooSlowReceiver, "modio")
    assert report.status("deadline") == "fail"
    assert report.status("raw-body") == "skip"
    assert "deadline" in report["raw-body"].detail


def test_hookmock_audit_is_the_function_even_after_importing_the_package() -> None:
    import hookmock.auditing

    assert hookmock.audit is audit
    assert callable(hookmock.audit)
    assert hookmock.AuditReport is hookmock.auditing.AuditReport


def test_only_and_skip_select_checks_and_reject_unknown_names() -> None:
    report = _audit(CORRECT["werkzeug"], "moda", only=["signature"], skip=["baseline"])
    assert [c.name for c in report] == ["baseline", "signature"]
    with pytest.raises(hookmock.UsageError, match="unknown audit check"):
        _audit(CORRECT["werkzeug"], "moda", only=["nope"])
