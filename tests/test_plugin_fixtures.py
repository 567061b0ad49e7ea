"""The pytest plugin's fixtures, run inside pytester sessions as a user would use them."""

from __future__ import annotations

import pytest

# Imported here, in the outer process, so that pytester's in-process runs (which drop the modules
# they import) all share one copy of hookmock's classes and of cryptography's (whose Rust extension
# cannot be imported twice).
import hookmock._util.tls
import hookmock.auditing
import hookmock.pytest_plugin.receiver
import hookmock.pytest_plugin.support
import hookmock.receiver.proxy
import hookmock.sender

pytest_plugins = ["pytester"]

#: Every public fixture, from the plugin's own list (tests/test_plugin_surface.py checks that list).
FIXTURES = [name for name in hookmock.pytest_plugin.__all__ if name.startswith("hookmock_")]


def test_every_fixture_is_listed_with_its_documentation(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures", "-p", "no:cacheprovider")
    text = result.stdout.str()
    for name in FIXTURES:
        assert f"{name} " in text or f"{name}\n" in text, name
    assert "shared by this test's sender, receiver and events" in text
    assert result.ret == 0


def test_fixtures_work_together(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from hookmock import EventFactory, Profile, Sender, VirtualClock, VerificationError

        def test_types(hookmock_clock, hookmock_profile, hookmock_secret, hookmock_events, hookmock_sender):
            assert isinstance(hookmock_clock, VirtualClock)
            assert isinstance(hookmock_profile, Profile) and hookmock_profile.name == "moda"
            assert hookmock_secret.startswith("whsec_")
            assert isinstance(hookmock_events, EventFactory)
            assert isinstance(hookmock_sender, Sender) and hookmock_sender.secret == hookmock_secret
            assert hookmock_sender.clock is hookmock_clock and hookmock_events.clock is hookmock_clock

        def test_sender_to_receiver(hookmock_sender, hookmock_receiver, hookmock_clock):
            hookmock_receiver.script("500,timeout,ok")
            start = hookmock_clock.now_ns()
            delivery = hookmock_sender.send(hookmock_receiver.url, "task.succeeded")
            assert delivery.status == "succeeded"
            assert [a.outcome for a in delivery.attempts] == ["response", "timeout", "response"]
            assert hookmock_clock.now_ns() - start == 36 * 10**9   # 1 s + 30 s deadline + 5 s, virtually
            assert len(hookmock_receiver.requests) == 3
            assert all(r.verdict.ok for r in hookmock_receiver.requests)

        def test_receiver_is_cleared_between_tests(hookmock_receiver):
            assert hookmock_receiver.requests == []
            assert hookmock_receiver.expectations == ()

        def test_wsgi_app_in_process(hookmock_sender):
            seen = []
            def app(environ, start_response):
                seen.append(environ["wsgi.input"].read())
                start_response("204 No Content", [])
                return [b""]
            delivery = hookmock_sender.send(app, "task.failed")
            assert delivery.status == "succeeded" and len(seen) == 1

        def test_verify_helpers(hookmock_verify, hookmock_clock):
            headers, body = hookmock_verify.signed_request("task.succeeded")
            hookmock_verify.assert_valid(headers, body)
            hookmock_clock.advance(301)
            verdict = hookmock_verify.assert_rejected(headers, body)
            assert verdict.authentic and verdict.fresh is False
            with pytest.raises(VerificationError):
                hookmock_verify.verify(headers, body)

        def test_make_sender_and_receiver(hookmock_make_sender, hookmock_make_receiver):
            modio = hookmock_make_receiver("modio", "token-1")
            sender = hookmock_make_sender("modio", "token-1")
            delivery = sender.send(modio.url, "ADD_MOD_COMMENT")
            assert delivery.status == "succeeded"
            assert modio.requests[0].verdict.ok
            other = hookmock_make_receiver()
            assert other.port != modio.port

        def test_proxy(hookmock_sender, hookmock_proxy):
            calls = []
            def app(environ, start_response):
                calls.append(1)
                start_response("200 OK", [])
                return [b"ok"]
            proxy = hookmock_proxy(app)
            proxy.lose_ack(503)
            delivery = hookmock_sender.send(proxy, "task.succeeded")
            assert [a.status for a in delivery.attempts] == [503, 200] and len(calls) == 2

        def test_expectation_met(hookmock_sender, hookmock_receiver):
            hookmock_receiver.expect_delivery("task.succeeded", count=2)
            hookmock_receiver.script("500,ok")
            hookmock_sender.send(hookmock_receiver.url, "task.succeeded")   # two attempts, one delivery
            hookmock_sender.send(hookmock_receiver.url, "task.succeeded")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)


def test_events_and_secret_are_reproducible(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json, pathlib

        def test_a(hookmock_events, hookmock_secret, hookmock_settings):
            out = pathlib.Path("out-%s.json" % hookmock_settings.effective_seed)
            out.write_text(json.dumps([hookmock_events.event("task.succeeded"), hookmock_secret]))
        """
    )
    pytester.makeini("[pytest]\nhookmock_clock_start = 2026-05-01T00:00:00Z\n")  # times in the payloads
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    outputs = sorted(pytester.path.glob("out-*.json"))
    assert len(outputs) == 1  # same seed both runs, same file rewritten
    first = outputs[0].read_text()
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert outputs[0].read_text() == first


WALL_CLOCK_RECEIVER = """
import hookmock

def make_app(secret):
    def app(environ, start_response):  # checks freshness against the wall clock: no now=
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        try:
            hookmock.verify("moda", headers, body, secret)
        except hookmock.VerificationError as exc:
            start_response("401 Unauthorized", [])
            return [str(exc).encode()]
        start_response("200 OK", [])
        return [b"ok"]
    return app

def test_sender(hookmock_sender, hookmock_secret):
    delivery = hookmock_sender.send(make_app(hookmock_secret), "task.succeeded")
    assert [a.status for a in delivery.attempts] == [200]

def test_proxy(hookmock_sender, hookmock_proxy, hookmock_secret):
    proxy = hookmock_proxy(make_app(hookmock_secret))
    proxy.lose_ack(503)
    delivery = hookmock_sender.send(proxy, "task.succeeded")
    assert [a.status for a in delivery.attempts] == [503, 200]
    assert [a.status for item in proxy.captured for a in item.upstream] == [200, 200]

def test_audit(hookmock_audit, hookmock_secret):
    report = hookmock_audit(make_app(hookmock_secret), check=False)
    assert report.status("baseline") == "pass" and report.status("signature") == "pass"

def test_scenario(hookmock_scenario, hookmock_secret):
    result = hookmock_scenario("moda-lost-ack", make_app(hookmock_secret), check=False)
    assert "401" not in result.text()
"""


def test_a_receiver_checking_the_wall_clock_accepts_the_fixtures_deliveries(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(WALL_CLOCK_RECEIVER)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)
    pytester.makeini("[pytest]\nhookmock_clock_start = 2026-05-01T00:00:00Z\n")  # what used to happen
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "sender or proxy")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*[401*"])


def test_tls_receiver_and_sender(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.hookmock(tls=True)
        def test_https(hookmock_sender, hookmock_receiver):
            assert hookmock_receiver.url.startswith("https://")
            assert hookmock_sender.send(hookmock_receiver.url, "task.succeeded").status == "succeeded"

        def test_http(hookmock_sender, hookmock_receiver):
            assert hookmock_receiver.url.startswith("http://")
            assert hookmock_sender.send(hookmock_receiver.url, "task.succeeded").status == "succeeded"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_audit_fixture_fails_the_test_with_the_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def accepts_anything(environ, start_response):
            start_response("200 OK", [])
            return [b"ok"]

        def test_audit(hookmock_audit):
            hookmock_audit(accepts_anything)

        def test_audit_report_only(hookmock_audit, tmp_path_factory):
            report = hookmock_audit(accepts_anything, check=False)
            assert not report.ok and report.status("signature") == "fail"
            # files for the curl lines live under pytest's own temporary folders, not in /tmp
            assert report.files_dir.startswith(str(tmp_path_factory.getbasetemp()))
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the receiver audit found problems*",
            "*fail*signature*",
            "*audited in-process: to replay a curl line, serve it at http://127.0.0.1:8000 first*",
        ]
    )


def test_emulator_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_one(hookmock_emulator):
            status, body = hookmock_emulator.request("GET", "/v1/webhook_deliveries")
            assert status == 200 and body["data"] == []
            assert hookmock_emulator.api_key and hookmock_emulator.signing_secret
            status, _ = hookmock_emulator.request("GET", "/v1/webhook_deliveries", auth=False)
            assert status == 401

        def test_two_sees_a_reset_emulator(hookmock_emulator):
            assert hookmock_emulator.control("ready")["tasks"] == 0
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_a_task_created_through_the_emulator_arrives_at_its_receiver_valid(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def _task_succeeds(emulator):
            receiver = emulator.receiver
            receiver.expect_delivery("task.succeeded")  # checked when the test ends
            status, task = emulator.request(
                "POST", "/v1/tasks", {"prompt": "a poster", "callback_url": receiver.url}
            )
            assert status in (200, 201, 202), task
            emulator.advance(10)  # the task runs, succeeds, and its webhook is delivered
            assert receiver.wait_for(1)
            verdicts = [r.verdict for r in receiver.requests]
            assert verdicts and all(v.ok for v in verdicts), [v.describe() for v in verdicts]
            return receiver

        def test_first(hookmock_emulator):
            _task_succeeds(hookmock_emulator)
            hookmock_emulator.advance(3600)  # the emulator's clock runs far ahead of the real time

        def test_after_an_hour_of_emulator_time(hookmock_emulator, hookmock_receiver):
            receiver = _task_succeeds(hookmock_emulator)
            assert receiver is not hookmock_receiver  # hookmock_receiver stays the test's own

        @pytest.mark.hookmock(tls=True)
        def test_over_https(hookmock_emulator):
            assert _task_succeeds(hookmock_emulator).url.startswith("https://")
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_scenario_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        applied = []

        def no_dedupe(environ, start_response):
            applied.append(environ["wsgi.input"].read())
            start_response("200 OK", [])
            return [b"ok"]

        def test_drill_fails_without_dedupe(hookmock_scenario):
            applied.clear()
            hookmock_scenario("moda-lost-ack", no_dedupe, probe=lambda event_id: len(applied))

        def test_report_only(hookmock_scenario):
            applied.clear()
            result = hookmock_scenario("moda-lost-ack", no_dedupe, probe=lambda e: len(applied), check=False)
            assert not result.ok

        def test_unknown_name(hookmock_scenario):
            from hookmock import UsageError
            with pytest.raises(UsageError, match="neither a .toml file nor a shipped example"):
                hookmock_scenario("no-such-drill", no_dedupe)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*the scenario failed*"])
