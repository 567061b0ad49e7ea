"""The whole harness with ``profile="github"``: the CLI (sign, send, events, schema), the pytest
fixtures, a scenario and a storm, against GitHub receivers in-process and over loopback sockets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import hookmock
from hookmock.cli import main
from hookmock.clock import VirtualClock
from hookmock.profiles import get_profile
from hookmock.scenarios.model import parse_scenario
from hookmock.scenarios.runner import run_scenario
from receivers.github import GitHubReceiver, NoDeliveryDedupeReceiver
from serving_support import serve_wsgi as _serve

pytest_plugins = ["pytester"]

GITHUB = get_profile("github")
DOC_SECRET = "It's a Secret to Everybody"
DOC_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


# -- CLI ------------------------------------------------------------------------------------------
def test_cli_sign_prints_githubs_headers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "body.txt"
    body.write_bytes(b"Hello, World!")
    assert main(["sign", str(body), "--profile", "github", "--secret", DOC_SECRET, "--event", "push"]) == 0
    headers = json.loads(capsys.readouterr().out)
    assert headers["X-Hub-Signature-256"] == DOC_SIGNATURE
    assert headers["X-GitHub-Event"] == "push"
    hookmock.verify("github", headers, b"Hello, World!", DOC_SECRET)
    assert main(["sign", str(body), "--profile", "github", "--secret", "s", "--event", "star"]) == 2
    err = capsys.readouterr().err
    assert "'star' is not in hookmock's GitHub catalogue" in err and "Traceback" not in err


def test_cli_send_delivers_to_a_github_receiver(capsys: pytest.CaptureFixture[str]) -> None:
    secret = GITHUB.generate_secret()
    app = GitHubReceiver("github", secret)
    with _serve(app) as url:
        code = main(
            ["send", url, "--profile", "github", "--event", "pull_request", "--secret", secret, "--json"]
        )
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["status"] == "succeeded" and summary["event_type"] == "pull_request"
    assert app.count(summary["event_id"]) == 1  # the receiver deduplicated on that X-GitHub-Delivery
    assert secret not in out + err


def test_cli_send_makes_one_attempt_only(capsys: pytest.CaptureFixture[str]) -> None:
    secret = GITHUB.generate_secret()
    with _serve(GitHubReceiver("github", "another secret")) as url:
        code = main(["send", url, "--profile", "github", "--event", "ping", "--secret", secret, "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert [line["type"] for line in lines] == ["attempt", "summary"]  # no automatic retry
    assert lines[0]["status_code"] == 401


def test_cli_redeliver_sends_the_same_delivery_guid_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = GITHUB.generate_secret()
    db = str(tmp_path / "log.db")
    seen: list[str] = []

    class Recording(GitHubReceiver):
        def handle(self, request: Any) -> Any:
            seen.append(request.headers["X-GitHub-Delivery"])
            return super().handle(request)

    app = Recording("github", secret)
    with _serve(app) as url:
        args = [
            "send",
            url,
            "--profile",
            "github",
            "--event",
            "issues",
            "--secret",
            secret,
            "--db",
            db,
            "--json",
        ]
        assert main(args) == 0
        first = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert main(["redeliver", first["id"], "--db", db, "--secret", secret, "--json"]) == 0
        again = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert again["id"] != first["id"] and again["event_id"] == first["event_id"]
    assert seen == [first["event_id"], first["event_id"]]
    assert app.count(first["event_id"]) == 1  # the redelivery was recognised by its GUID


def test_cli_lists_the_catalogue_and_the_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "--profile", "github"]) == 0
    listed = capsys.readouterr().out
    assert [line.split()[0] for line in listed.splitlines() if line.strip()] == list(GITHUB.event_types)
    assert main(["schema", "github-push"]) == 0
    assert json.loads(capsys.readouterr().out)["$id"] == "github-push.schema.json"


def test_cli_validate_tells_each_github_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    factory = hookmock.EventFactory("github", seed=4)
    for event_type in GITHUB.event_types:
        path = tmp_path / f"{event_type}.json"
        payload = factory.event(event_type)
        path.write_text(json.dumps(payload))
        assert main(["validate", str(path)]) == 0
        assert capsys.readouterr().out.strip().endswith(GITHUB.schema_for(payload))
        del payload["sender"]
        path.write_text(json.dumps(payload))
        assert main(["validate", str(path), "--schema", GITHUB.schema_for(factory.event(event_type))]) == 1
        assert "sender" in capsys.readouterr().out


# -- scenario and storm ----------------------------------------------------------------------------
SCENARIO = """
[scenario]
name = "GitHub: no automatic retry, a redelivery under the same GUID, and a replay"
profile = "github"

[[steps]]
name = "the receiver is down: GitHub records a failure and does not retry"
action = "send"
id = "push"
event = "push"
proxy = ["lost_ack:503"]
expect = { status = "failed", attempts = 1, statuses = [503], effect = 1 }

[[steps]]
name = "a redelivery: the same payload and X-GitHub-Delivery, applied once"
action = "duplicate"
of = "push"
expect = { status = "succeeded", attempts = 1, statuses = ["2xx"], effect = 1 }

[[steps]]
name = "a captured request replayed an hour later (no timestamp: dedupe on the GUID saves the day)"
action = "replay_stale"
of = "push"
after = 3600
expect = { answer = "2xx", effect = 1 }

[[steps]]
name = "a forged signature is rejected and has no effect"
action = "send"
event = "issues"
proxy = ["tamper"]
expect = { status = "failed", statuses = ["4xx"], effect = 0 }
"""


def test_a_github_scenario_passes_on_a_correct_receiver_and_fails_without_dedupe() -> None:
    scenario = parse_scenario(SCENARIO)
    clock = VirtualClock()
    secret = GITHUB.generate_secret()
    good = GitHubReceiver("github", secret, clock)
    result = run_scenario(scenario, good, secret=secret, probe=good.count, clock=clock)
    assert result.ok, result.text()
    bad = NoDeliveryDedupeReceiver("github", secret, clock)
    result = run_scenario(scenario, bad, secret=secret, probe=bad.count, clock=clock)
    assert not result.ok


def test_a_storm_of_github_deliveries_is_applied_exactly_once_over_sockets() -> None:
    secret = GITHUB.generate_secret()
    app = GitHubReceiver("github", secret)
    with _serve(app) as url:
        report = hookmock.assert_exactly_once(
            url, probe=app.count, profile="github", secret=secret, count=40, users=4, seed=2
        )
    assert report.ok
    delivered = {k for k, v in app.store.applied.items() if v}
    assert len(delivered) == 40


# -- pytest fixtures ---------------------------------------------------------------------------------
def test_the_fixtures_work_with_the_github_profile(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n")
    pytester.makepyfile(
        """
        import pytest
        from receivers.github import GitHubReceiver

        pytestmark = pytest.mark.hookmock(profile="github")

        def test_sender_to_receiver(hookmock_sender, hookmock_receiver, hookmock_profile):
            assert hookmock_profile.name == "github"
            hookmock_receiver.script("500,ok")
            delivery = hookmock_sender.send(hookmock_receiver.url, "issues")
            assert delivery.status == "failed" and len(delivery.attempts) == 1
            again = hookmock_sender.redeliver(delivery.id)
            assert again.status == "succeeded" and again.event_id == delivery.event_id
            assert [r.event_id for r in hookmock_receiver.requests] == [delivery.event_id] * 2
            assert all(r.verdict.ok for r in hookmock_receiver.requests)

        def test_verify_helpers(hookmock_verify):
            headers, body = hookmock_verify.signed_request("ping")
            hookmock_verify.assert_valid(headers, body)
            headers.pop("X-Hub-Signature-256")
            hookmock_verify.assert_rejected(headers, body)

        def test_audit(hookmock_audit, hookmock_secret, hookmock_clock):
            app = GitHubReceiver("github", hookmock_secret, hookmock_clock)
            report = hookmock_audit(app, probe=app.count)
            assert report.status("delivery-replay") == "pass" and report.status("replay") == "skip"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
