"""The audit against GitHub receivers: the correct ones pass with no warning, each broken one is
caught by its check, in-process (WSGI, virtual clock) and over real loopback sockets; the checks
GitHub's format cannot have are skipped with the reason; the CLI runs it with --profile github."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hookmock.auditing import audit, catalogue_for
from hookmock.cli import main
from hookmock.clock import VirtualClock
from hookmock.profiles import get_profile
from receivers.github import BROKEN, CORRECT, PlainEqualsReceiver
from serving_support import serve_wsgi as _serve

GITHUB = get_profile("github")
TIMESTAMP_CHECKS = ("replay", "future-timestamp", "clock-skew", "timestamp-parsing")


def _audit(factory: Any, **kwargs: Any) -> Any:
    clock = VirtualClock()
    secret = GITHUB.generate_secret()
    app = factory("github", secret, clock)
    return audit(app, profile="github", secret=secret, probe=app.count, clock=clock, seed=3, **kwargs)


@pytest.mark.parametrize("style", sorted(CORRECT))
def test_correct_github_receivers_pass_with_no_failure_or_warning(style: str) -> None:
    report = _audit(CORRECT[style])
    assert report.ok and report.summary["warn"] == 0, report.text()
    assert [c.name for c in report] == [c.name for c in catalogue_for("github")]
    assert report.status("delivery-replay") == "pass" and report.status("sha1-legacy") == "pass"
    for name in TIMESTAMP_CHECKS:
        assert report.status(name) == "skip"
        assert (
            "GitHub sends no timestamp: replay protection must come from delivery-id dedupe"
            in report[name].detail
        )
    # the generic checks apply where the defect class exists
    for name in ("raw-body", "charset", "signature", "effect-before-verify", "idempotency", "event-types"):
        assert report.status(name) == "pass", name


@pytest.mark.parametrize("case", [pytest.param(c, id=f"{c[0].__name__}-{c[1]}") for c in BROKEN])
def test_each_broken_github_receiver_is_caught_by_its_check(case: tuple[Any, str, str]) -> None:
    factory, check, status = case
    report = _audit(factory)
    assert report.status(check) == status, report.text()
    assert not report.ok


def test_a_receiver_without_delivery_dedupe_is_caught_by_the_replay_check_too() -> None:
    from receivers.github import NoDeliveryDedupeReceiver

    report = _audit(NoDeliveryDedupeReceiver, only=["delivery-replay"])
    assert report.status("delivery-replay") == "fail", report.text()
    assert "applied 3 time(s); expected 1" in report["delivery-replay"].detail


def test_the_replay_check_needs_an_effect_probe() -> None:
    clock = VirtualClock()
    secret = GITHUB.generate_secret()
    app = CORRECT["github-werkzeug"]("github", secret, clock)
    report = audit(app, profile="github", secret=secret, clock=clock, only=["delivery-replay", "sha1-legacy"])
    assert report.status("delivery-replay") == "skip" and "effect probe" in report["delivery-replay"].detail
    assert report.status("sha1-legacy") == "pass"


def test_a_plain_equals_comparison_is_only_advised_against() -> None:
    report = _audit(PlainEqualsReceiver)
    assert report.ok, report.text()
    assert report.status("constant-time") == "skip"


@pytest.mark.parametrize("name", ["GitHubDocsReceiver", "EitherSignatureReceiver", "PayloadIdDedupeReceiver"])
def test_over_real_sockets_the_verdicts_are_the_same(name: str) -> None:
    import receivers.github

    factory = getattr(receivers.github, name)
    secret = GITHUB.generate_secret()
    in_process_app = factory("github", secret)
    in_process = audit(in_process_app, profile="github", secret=secret, probe=in_process_app.count, seed=5)
    served_app = factory("github", secret)
    with _serve(served_app) as url:
        over_sockets = audit(url, profile="github", secret=secret, probe=served_app.count, seed=5)
    assert {c.name: c.status for c in over_sockets} == {c.name: c.status for c in in_process}, (
        over_sockets.text()
    )
    assert over_sockets.ok is (name == "GitHubDocsReceiver")


def test_the_cli_audits_a_github_receiver(capsys: pytest.CaptureFixture[str]) -> None:
    from receivers.github import Sha1OnlyReceiver

    secret = GITHUB.generate_secret()
    good = CORRECT["github-docs"]("github", secret)
    with _serve(good) as url:
        code = main(
            [
                "audit",
                url,
                "--profile",
                "github",
                "--secret",
                secret,
                "--probe-url",
                url + "/effects/{event_id}",
                "--json",
            ]
        )
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    statuses = {c["name"]: c["status"] for c in out["checks"]}
    assert statuses["delivery-replay"] == "pass" and statuses["sha1-legacy"] == "pass"
    bad = Sha1OnlyReceiver("github", secret)
    with _serve(bad) as url:
        code = main(["audit", url, "--profile", "github", "--secret", secret, "--only", "sha1-legacy"])
    text = capsys.readouterr().out
    assert code == 1 and "sha1-legacy" in text and secret not in text
