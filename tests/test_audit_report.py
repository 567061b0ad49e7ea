"""The audit report: text, JSON, JUnit XML, curl commands; the secret never appears."""

from __future__ import annotations

import json
import shlex
import subprocess
import xml.etree.ElementTree as ET

import pytest

from hookmock.auditing import audit
from hookmock.auditing.curl import shell_bytes
from hookmock.auditing.effect import ProbeFailed, parse_count, url_probe
from hookmock.clock import VirtualClock
from hookmock.errors import TargetNotAllowed, UsageError
from receivers import build
from receivers.broken import PrefixTokenReceiver, ReserializingReceiver
from receivers.hostile import ParseFirstCrashReceiver as JsonCrashReceiver  # crashes for anyone


def _report(factory, profile: str, secret: str):
    clock = VirtualClock()
    app = build(factory, profile, secret, clock)
    return audit(app, profile=profile, secret=secret, probe=app.count, clock=clock)


def test_failure_text_says_what_was_sent_received_expected_and_gives_curl(tmp_path) -> None:
    report = _report(ReserializingReceiver, "moda", "whsec_report_secret_0123456789abcd")
    report.files_dir = str(tmp_path)
    text = report.text()
    assert "fail  #1  raw-body" in text
    for marker in ("received:", "HTTP 401", "correct:", "curl -sS -i -X POST"):
        assert marker in text
    assert "sent:" in report.text(verbose=True)  # the default shows the curl command instead
    assert "whsec_report_secret_0123456789abcd" not in text + report.text(verbose=True)


def test_text_lists_the_checks_in_the_order_of_their_numbers(tmp_path) -> None:
    report = _report(ReserializingReceiver, "moda", "whsec_report_secret_0123456789abcd")
    report.files_dir = str(tmp_path)
    run_order = [c.defect for c in report.checks]
    assert run_order != sorted(run_order)  # checks run in another order (the deadline last)...
    shown = [
        int(line.split()[1][1:])
        for line in report.text().splitlines()
        if line[:4] in ("pass", "fail", "warn", "skip", "see ") and line.split()[1].startswith("#")
    ]
    assert shown == sorted(shown) and len(shown) == len([d for d in run_order if d])  # ...shown in order
    assert report.text().splitlines()[1].split()[1] == "baseline"


def test_token_and_derived_values_never_appear_in_any_output() -> None:
    secret = "ModioTokenValue0123456789abcdefXYZ"
    report = _report(PrefixTokenReceiver, "modio", secret)
    assert report.status("token") == "fail"
    outputs = report.text(verbose=True) + report.to_json() + report.junit_xml()
    for leaked in (secret, secret[: len(secret) // 2], secret[:-1], secret.swapcase(), secret.upper()):
        assert leaked not in outputs
    assert "<first half of the token>" in outputs


def test_json_is_one_document_with_the_documented_keys() -> None:
    report = _report(JsonCrashReceiver, "moda", "whsec_json")
    doc = json.loads(report.to_json())
    assert set(doc) >= {"target", "profile", "checks", "summary"}
    assert doc["profile"] == "moda"
    assert {c["status"] for c in doc["checks"]} <= {"pass", "fail", "warn", "see", "skip"}
    bad = next(c for c in doc["checks"] if c["name"] == "bad-input")
    assert bad["status"] == "fail"
    assert bad["problems"][0]["curl"].startswith("curl ")
    # every case is there with its own status, the passing ones too
    assert len(bad["cases"]) == len(report["bad-input"].cases) > len(bad["problems"])
    assert {c["status"] for c in bad["cases"]} >= {"pass", "fail"}
    assert all(c["anonymous"] is True for c in bad["problems"] if c["status"] == "fail")
    assert doc["summary"]["fail"] >= 1 and doc["summary"]["ok"] is False
    assert doc["summary"]["total"] == len(doc["checks"])


def test_junit_xml_has_one_testcase_per_check_and_failures() -> None:
    report = _report(JsonCrashReceiver, "modio", "token-abc")
    root = ET.fromstring(report.junit_xml())
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(report.checks)
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == [c.name for c in report.failed]
    assert suite.get("failures") == str(len(failed))


def test_raise_for_failures_is_a_two_line_fixture() -> None:
    report = _report(JsonCrashReceiver, "moda", "whsec_x")
    with pytest.raises(AssertionError, match="bad-input"):
        report.raise_for_failures()


@pytest.mark.parametrize(
    "data",
    [b'{"a":"b"}', b"", b"it's", b'{"x":"\xff\xfe"}', "é \u2028 🚀".encode(), b"a\x1bb", b"back\\slash'"],
)
def test_shell_bytes_round_trips_through_bash(data: bytes) -> None:
    out = subprocess.run(
        ["bash", "-c", f"printf '%s' {shell_bytes(data)}"], capture_output=True, check=True
    ).stdout
    assert out == data


def test_curl_command_is_valid_shell() -> None:
    report = _report(ReserializingReceiver, "moda", "whsec_curl")
    exchange = report["raw-body"].problems[0].exchanges[0]
    words = shlex.split(report.curl(exchange))
    assert words[:5] == ["curl", "-sS", "-i", "-X", "POST"]
    assert "--data-binary" in words


def test_parse_count_accepts_integer_or_count_object() -> None:
    assert parse_count(b"3\n", "p") == 3
    assert parse_count(b'{"count": 0}', "p") == 0
    for bad in (b"three", b'{"n": 1}', b"-1", b"true", b"1.5"):
        with pytest.raises(ProbeFailed):
            parse_count(bad, "p")


def test_probe_url_needs_the_placeholder_and_a_loopback_host() -> None:
    with pytest.raises(UsageError, match="event_id"):
        url_probe("http://127.0.0.1:1/effects")
    with pytest.raises(TargetNotAllowed):
        url_probe("http://192.0.2.10/effects/{event_id}")


def test_audit_rejects_bad_arguments() -> None:
    with pytest.raises(UsageError, match="secret"):
        audit("http://127.0.0.1:9/", profile="moda", secret="")
    with pytest.raises(TargetNotAllowed):
        audit("http://192.0.2.10/hook", profile="moda", secret="s")


def test_a_seeded_audit_sends_the_same_requests_on_every_run() -> None:
    def run(seed: int | None) -> list[bytes]:
        bodies: list[bytes] = []

        def accepts_anything(environ, start_response):  # type: ignore[no-untyped-def]
            bodies.append(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
            start_response("200 OK", [])
            return [b"ok"]

        clock = VirtualClock(start=1_700_000_000)
        audit(accepts_anything, secret="whsec_seeded_audit_000000000000000", clock=clock, seed=seed)
        return sorted(bodies)  # concurrent copies may arrive in any order

    first = run(11)
    assert len(first) > 10 and first == run(11)
    assert first != run(12)
    with pytest.raises(UsageError, match=r"seed=1\.5"):
        audit(lambda e, s: [], secret="whsec_seeded_audit_000000000000000", seed=1.5)  # type: ignore[arg-type]
