"""Calibrated verdicts: fail only for what breaks with the real provider or can be exploited, one
failing check per root cause, hostile header encodings, and the anonymous-caller diagnosis.
In-process (WSGI) and over real sockets (werkzeug's server, HTTP and HTTPS)."""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from hookmock.auditing import audit
from hookmock.clock import VirtualClock
from hookmock.profiles import get_profile
from receivers import BROKEN, Broken, build
from receivers.broken import (
    IntCrashReceiver,
    JsonCrashReceiver,
    NoDedupeReceiver,
    NoReplayCheckReceiver,
    NoSignatureCheckReceiver,
    OneSidedWindowReceiver,
    SignatureDedupeReceiver,
)
from receivers.hostile import ParseFirstCrashReceiver, StrCompareDigestReceiver, StrCompareTokenReceiver
from receivers.lenient import LenientReceiver


def _audit(factory: Any, profile: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    clock = VirtualClock()
    secret = get_profile(profile).generate_secret()
    app = build(factory, profile, secret, clock)
    return audit(app, profile=profile, secret=secret, probe=app.count, clock=clock, **kwargs)


@contextlib.contextmanager
def serving(app: Any, ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    scheme = "https" if ssl_context is not None else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _socket_audit(factory: Any, profile: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    secret = get_profile(profile).generate_secret()
    app = build(factory, profile, secret)
    with serving(app) as url:
        return audit(url + "webhook", profile=profile, secret=secret, probe=app.count, **kwargs)


# -- one failing check per root cause ----------------------------------------------------------
@pytest.mark.parametrize(
    "case", [pytest.param((b, p), id=f"{b.name}-{p}") for b in BROKEN for p in b.profiles]
)
def test_each_broken_receiver_fails_only_the_check_of_its_root_cause(case: tuple[Broken, str]) -> None:
    broken, profile = case
    report = _audit(broken.factory, profile)
    failed = [c.name for c in report.failed]
    assert failed == ([broken.check] if broken.status == "fail" else []), report.text()


def test_no_signature_check_is_one_failure_and_the_other_checks_point_at_it() -> None:
    report = _audit(NoSignatureCheckReceiver, "moda")
    assert [c.name for c in report.failed] == ["signature"]
    for name in ("effect-before-verify", "replay", "timestamp-parsing", "future-timestamp"):
        assert report.status(name) == "see", report.text()
        assert report[name].see == "signature"
        assert "same root cause as 'signature'" in report[name].detail
    doc = json.loads(report.to_json())
    replay = next(c for c in doc["checks"] if c["name"] == "replay")
    assert replay["see"] == "signature"
    assert {c["status"] for c in replay["cases"]} == {"see"}
    import xml.etree.ElementTree as ET

    cases = {c.get("name"): c for c in ET.fromstring(report.junit_xml()).iter("testcase")}
    assert cases["signature"].find("failure") is not None
    skipped = cases["replay"].find("skipped")
    assert skipped is not None and "same root cause as 'signature'" in skipped.get("message", "")


def test_effect_before_verify_does_not_fail_a_receiver_that_verifies_first_without_replay_check() -> None:
    report = _audit(NoReplayCheckReceiver, "moda")
    assert report.status("replay") == "fail"
    assert report.status("effect-before-verify") == "see"
    assert report["effect-before-verify"].see == "replay"


def test_dedupe_key_hint_only_for_receivers_that_dedupe_on_the_wrong_key() -> None:
    no_dedupe = _audit(NoDedupeReceiver, "moda")
    assert no_dedupe.status("dedupe-key") == "see"
    assert "changes per attempt" not in no_dedupe["dedupe-key"].cases[0].why
    assert "does not deduplicate at all" in no_dedupe["dedupe-key"].cases[0].why
    wrong_key = _audit(SignatureDedupeReceiver, "moda")
    assert wrong_key.status("dedupe-key") == "fail"
    assert "changes per attempt" in wrong_key["dedupe-key"].cases[0].why


# -- fail versus warn --------------------------------------------------------------------------
@pytest.mark.parametrize("profile", ["moda", "modio"])
@pytest.mark.parametrize("where", ["in-process", "sockets"])
def test_a_lenient_but_correct_receiver_gets_no_failure(profile: str, where: str) -> None:
    run = _audit if where == "in-process" else _socket_audit
    report = run(LenientReceiver, profile)
    assert report.ok, report.text()
    assert len(report.text().splitlines()) == len(report.checks) + 2  # title, one line each, footer
    assert report.status("bad-input") == "warn"  # validly signed non-events acknowledged with 202
    if profile == "moda":
        assert report.status("future-timestamp") == "warn"
        assert "stripe" in report["future-timestamp"].detail
        # 13-digit and 400-digit timestamps are far-future numbers: the same root cause
        assert report.status("timestamp-parsing") == "see", report.text()
        assert report["timestamp-parsing"].see == "future-timestamp"
        assert report.summary["see"] == 1, report.text()
    else:
        assert report.summary["see"] == 0, report.text()


def test_future_timestamps_accepted_are_a_warning_with_the_reason() -> None:
    report = _audit(OneSidedWindowReceiver, "moda")
    assert report.ok
    assert report.status("future-timestamp") == "warn"
    assert all(c.status == "warn" for c in report["future-timestamp"].cases)


def test_a_crash_before_verifying_is_anonymous_and_fails_with_the_forged_request_shown() -> None:
    report = _audit(IntCrashReceiver, "moda")
    check = report["timestamp-parsing"]
    assert check.status == "fail"
    crash = next(c for c in check.cases if c.status == "fail")
    assert crash.anonymous is True
    assert "anyone can trigger it" in crash.why
    assert "the timestamp is parsed before the signature is verified" in crash.why
    assert "validly signed" not in crash.label
    # the first exchange shown (and its curl) is the forged one: no secret needed to reproduce
    assert crash.exchanges[0].request.headers["X-Webhook-Signature"] == "v1=" + "0" * 64


@pytest.mark.parametrize("profile", ["moda", "modio"])
def test_a_crash_only_a_secret_holder_can_trigger_is_a_warning(profile: str) -> None:
    report = _audit(JsonCrashReceiver, profile)
    assert report.ok, report.text()
    check = report["bad-input"]
    assert check.status == "warn"
    crashes = [c for c in check.cases if c.anonymous is not None]
    assert crashes and all(c.anonymous is False and c.status == "warn" for c in crashes)
    assert "only a holder of the secret" in crashes[0].why


@pytest.mark.parametrize("profile", ["moda", "modio"])
@pytest.mark.parametrize("where", ["in-process", "sockets"])
def test_a_crash_anyone_can_trigger_on_bad_input_fails(profile: str, where: str) -> None:
    run = _audit if where == "in-process" else _socket_audit
    report = run(ParseFirstCrashReceiver, profile)
    assert [c.name for c in report.failed] == ["bad-input"], report.text()
    crash = next(c for c in report["bad-input"].cases if c.status == "fail")
    assert crash.anonymous is True
    assert "the body is parsed before the request is authenticated" in crash.why
    doc = json.loads(report.to_json())
    case = next(
        c for ch in doc["checks"] if ch["name"] == "bad-input" for c in ch["cases"] if c["status"] == "fail"
    )
    assert case["anonymous"] is True and "also_sent" in case  # the forged copy first, the signed one after


# -- hostile header encodings ------------------------------------------------------------------
@pytest.mark.parametrize("where", ["in-process", "sockets"])
def test_str_compare_digest_on_a_non_ascii_signature_is_a_failure(where: str) -> None:
    run = _audit if where == "in-process" else _socket_audit
    report = run(StrCompareDigestReceiver, "moda", only=["signature"])
    check = report["signature"]
    assert check.status == "fail", report.text()
    failing = {c.label for c in check.cases if c.status == "fail"}
    assert failing == {
        "signature header non-ASCII (latin-1 bytes)",
        "signature header non-latin-1 (raw UTF-8 bytes)",
    }, report.text()


@pytest.mark.parametrize("where", ["in-process", "sockets"])
def test_str_compare_digest_on_a_non_ascii_token_is_a_failure(where: str) -> None:
    run = _audit if where == "in-process" else _socket_audit
    report = run(StrCompareTokenReceiver, "modio", only=["token"])
    failing = {c.label for c in report["token"].cases if c.status == "fail"}
    assert failing == {"token header non-ASCII (latin-1 bytes)", "token header non-latin-1 (raw UTF-8 bytes)"}


def test_hostile_headers_reach_the_app_as_raw_bytes_over_sockets_and_in_process() -> None:
    seen: dict[str, list[str]] = {"in-process": [], "sockets": []}

    def recorder(where: str) -> Any:
        def app(environ: dict[str, Any], start_response: Any) -> Any:
            seen[where].append(environ.get("HTTP_X_WEBHOOK_SIGNATURE", ""))
            # the baseline (the first, valid delivery) is accepted, or the audit stops there
            start_response("200 OK" if len(seen[where]) == 1 else "401 Unauthorized", [])
            return [b"no"]

        return app

    secret = "whsec_hostile_headers_000000000000000"
    audit(recorder("in-process"), secret=secret, clock=VirtualClock(), only=["signature"])
    with serving(recorder("sockets")) as url:
        audit(url, secret=secret, only=["signature"])
    for where, values in seen.items():
        raw = [v.encode("latin-1") for v in values if not v.isascii()]
        assert b"v1=" + b"\xe9" * 64 in raw, where
        assert ("v1=" + "€" * 21).encode() in raw, where
        assert any(len(v) >= 8000 for v in values), where
        assert any(v.count("v1=") == 2 for v in values), where  # a repeated header, joined


# -- reports -----------------------------------------------------------------------------------
def test_the_naive_receivers_text_report_fits_a_ci_log(tmp_path: Path) -> None:
    from receivers.naive import make_naive_receiver

    report = _audit(make_naive_receiver, "moda", seed=3)
    report.files_dir = str(tmp_path)
    text = report.text()
    lines = text.splitlines()
    assert len(report.failed) >= 5
    assert len(lines) <= 2 + len(report.checks) + 5 * len(report.failed), text
    assert len(text.encode()) < 16_000
    assert max(len(line) for line in lines) < 700
    files = sorted(tmp_path.iterdir())
    assert files and f"long bodies and headers are in {tmp_path}" in text
    for path in files:
        assert f"@{path}" in text
    bodies = {e.request.body for c in report for case in c.cases for e in case.exchanges}
    assert all(p.read_bytes() in bodies for p in files if p.name.startswith("body-"))
    verbose = report.text(verbose=True)
    assert len(verbose) > 4 * len(text)
    assert "sent:" in verbose


def test_the_footer_counts_every_request_sent() -> None:
    calls: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append(1)
        start_response("200 OK", [])
        return [b"ok"]

    report = audit(app, secret="whsec_footer_0000000000000000000000", clock=VirtualClock(), only=["deadline"])
    assert len(calls) == 2  # the baseline and the deadline's timed delivery
    assert report.summary["requests"] == 2
    assert "(2 requests in" in report.text()


def test_an_in_process_target_has_a_readable_title() -> None:
    def receiver(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        return [b"ok"]

    secret = "whsec_title_00000000000000000000000"
    report = audit((receiver, "/hooks/moda"), secret=secret, clock=VirtualClock(), only=["baseline"])
    name = f"{__name__}.test_an_in_process_target_has_a_readable_title.locals.receiver"
    assert report.target == f"WSGI app {name} at /hooks/moda"
    assert "tuple" not in report.text()

    from hookmock.transport.apps import describe_target

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        return None

    assert describe_target(asgi_app).startswith("ASGI app ")
    assert describe_target(asgi_app).endswith(" at /")


def test_an_https_audit_over_a_certificate_made_at_test_time(tmp_path: Path) -> None:
    from hookmock._util.tls import make_tls_files

    files = make_tls_files(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert_file, files.key_file)
    secret = get_profile("moda").generate_secret()
    app = build(StrCompareDigestReceiver, "moda", secret)
    with serving(app, ssl_context=context) as url:
        assert url.startswith("https://")
        report = audit(url, secret=secret, probe=app.count, ca_file=files.ca_file)
    assert report.target == url
    assert [c.name for c in report.failed] == ["signature"], report.text()
    assert report.status("baseline") == "pass"
    assert "curl -sS -i -X POST " + url in report.text(verbose=True)


def test_a_refused_baseline_stops_the_rest_instead_of_passing_rejection_checks() -> None:
    """A receiver holding the wrong secret refuses everything: forged and stale requests too.  The
    rejection checks used to *pass* on it (replay, future-timestamp, effect-before-verify)."""

    def refuses_everything(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("401 Unauthorized", [])
        return [b"bad signature"]

    report = audit(refuses_everything, secret="whsec_wrong_000000000000000000000", clock=VirtualClock())
    assert report.status("baseline") == "fail"
    others = [c for c in report.checks if c.name not in ("baseline", "deadline")]
    assert others and all(c.status == "skip" for c in others), [(c.name, c.status) for c in others]
    assert "fix 'baseline' first" in others[0].detail
