"""Readable failures: the timeline on a failed test, server-thread errors, unconsumed expectations."""

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
import hookmock.sender  # noqa: F401

pytest_plugins = ["pytester"]


def test_a_failed_assertion_shows_the_delivery_timeline(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_gives_up(hookmock_sender, hookmock_receiver):
            hookmock_receiver.script("500,500,503,500")
            delivery = hookmock_sender.send(hookmock_receiver.url, "task.succeeded")
            assert delivery.status == "succeeded"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*hookmock timeline*",
            "hookmock: profile=moda seed=* (from the test id) tls=off clock_start=*Z (now) -- "
            "reproduce with @pytest.mark.hookmock(seed=*, clock_start='*Z')",
            "delivery whd_* (moda) event evt_* task.succeeded -> http://127.0.0.1:*/webhook: "
            "failed, 4 attempt(s)*",
            "*1  +0.000 *response*500*",
            "*2  +1.000 *response*500*",
            "*3  +6.000 *response*503*",
            "*4  +36.000 *response*500*",
            "fake receiver http://127.0.0.1:*",
            "*#4 attempt 4 at +36.000s*HTTP 500*",
        ]
    )


def test_a_passing_test_prints_no_timeline(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_ok(hookmock_sender, hookmock_receiver):
            assert hookmock_sender.send(hookmock_receiver.url, "task.succeeded").succeeded
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1)
    assert "hookmock timeline" not in result.stdout.str()


def test_an_exception_in_a_server_thread_fails_the_test_that_caused_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def broken_app(environ, start_response):
            raise KeyError("order_id")

        def test_causes_it(hookmock_sender, hookmock_make_receiver):
            receiver = hookmock_make_receiver(handler=broken_app)
            delivery = hookmock_sender.send(receiver.url, "task.succeeded")
            # the test body itself does not look at the receiver's errors

        def test_next_one_is_clean(hookmock_sender, hookmock_receiver):
            hookmock_receiver.on_request = None
            assert hookmock_sender.send(hookmock_receiver.url, "task.succeeded").succeeded

        def test_callback_error_in_the_session_receiver(hookmock_sender, hookmock_receiver):
            def callback(item):
                raise RuntimeError("callback bug")
            hookmock_receiver.on_request = callback
            hookmock_sender.send(hookmock_receiver.url, "task.succeeded")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*_ test_causes_it _*",
            "the fake receiver's server thread raised KeyError: 'order_id' (and 3 more)",
            "*Traceback (most recent call last):*",
            "*in broken_app*",
            "KeyError: 'order_id'",
            "*delivery timeline*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*_ test_callback_error_in_the_session_receiver _*", "*RuntimeError: callback bug*"]
    )


def test_an_unconsumed_expectation_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_nothing_sent(hookmock_receiver):
            hookmock_receiver.expect_delivery("task.failed", count=2)

        def test_one_of_two(hookmock_sender, hookmock_receiver):
            hookmock_receiver.expect_delivery("task.succeeded", count=2)
            hookmock_sender.send(hookmock_receiver.url, "task.succeeded")

        def test_too_many(hookmock_sender, hookmock_receiver):
            hookmock_receiver.expect_delivery(count=1)
            hookmock_sender.send(hookmock_receiver.url, "task.succeeded")
            hookmock_sender.send(hookmock_receiver.url, "task.failed")

        def test_by_event_id(hookmock_sender, hookmock_receiver, hookmock_events):
            event = hookmock_events.event("task.canceled")
            hookmock_receiver.expect_delivery(event_id=event["id"])
            hookmock_sender.send(hookmock_receiver.url, payload=event)

        def test_bad_event_type(hookmock_receiver):
            hookmock_receiver.expect_delivery("task.done")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=4)
    result.stdout.fnmatch_lines(
        [
            "*expect_delivery(event_type='task.failed', count=2): 0 of 2 expected deliveries arrived; "
            "2 expected deliveries were left unconsumed*",
            "*expect_delivery(event_type='task.succeeded', count=2): 1 of 2 expected deliveries arrived; "
            "1 expected delivery was left unconsumed*",
            "*#1 attempt 1 at +0.000s: POST /webhook event evt_* (task.succeeded)*",
            "*expect_delivery(count=1): 2 deliveries arrived, 1 more than expected*",
            "*event_type='task.done' is not a moda event; choose one of*",
        ]
    )


def test_the_timeline_shows_the_fault_proxy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def app(environ, start_response):
            start_response("200 OK", [])
            return [b"ok"]

        def test_lost_ack(hookmock_sender, hookmock_proxy):
            proxy = hookmock_proxy(app)
            proxy.lose_ack(502)
            delivery = hookmock_sender.send(proxy, "task.succeeded")
            assert len(delivery.attempts) == 1
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "fault proxy in front of WSGI app *.app at /:",
            "  #1 POST / event evt_*: handler answered ?HTTP 200?; "
            "sender got lost acknowledgement: HTTP 502*",
            "  #2 POST / event evt_*: handler answered ?HTTP 200?; sender got upstream*",
        ]
    )
