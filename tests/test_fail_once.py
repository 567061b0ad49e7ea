"""``hookmock.fail_once``: make one named callable of the app fail on its first call for one event,
and the audit's ``retry-after-failure`` check that uses it (in-process, and over HTTP through a
hook the integrator's test build exposes)."""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import pytest

import hookmock
from hookmock import Sender, VirtualClock
from hookmock.cli import main
from hookmock.profiles import get_profile
from receivers.async_receivers import MarkSeenThenWorkReceiver, TransactionalReceiver
from receivers.base import WerkzeugReceiver
from receivers.hooks import WithFailOnceHook


def _module() -> types.ModuleType:
    mod = types.ModuleType("fake_app_module")
    mod.calls = []  # type: ignore[attr-defined]

    def apply_effect(event: dict[str, Any]) -> str:
        mod.calls.append(event["id"])  # type: ignore[attr-defined]
        return "done"

    mod.apply_effect = apply_effect  # type: ignore[attr-defined]
    return mod


def test_the_first_call_for_the_event_fails_and_later_calls_run() -> None:
    mod = _module()
    original = mod.apply_effect
    with hookmock.fail_once(mod, "apply_effect", event_id="evt_A") as failure:
        assert mod.apply_effect({"id": "evt_B"}) == "done"  # another event: runs
        with pytest.raises(hookmock.InjectedFailure, match="apply_effect failed on purpose for event evt_A"):
            mod.apply_effect({"id": "evt_A", "data": {}})
        assert mod.apply_effect({"id": "evt_A"}) == "done"  # the retry
        assert failure.fired and failure.failures == 1 and failure.calls == 3
    assert mod.apply_effect is original
    assert mod.calls == ["evt_B", "evt_A"]


@pytest.mark.parametrize(
    "argument",
    [
        "evt_A",
        b'{"id": "evt_A"}',
        {"payload": {"id": "evt_A"}},
        ["x", ("evt_A",)],
        types.SimpleNamespace(event_id="evt_A"),
    ],
)
def test_the_event_id_is_found_in_strings_bytes_dicts_lists_and_objects(argument: Any) -> None:
    calls: list[Any] = []
    holder = types.SimpleNamespace(work=lambda value: calls.append(value))
    original = holder.work
    with hookmock.fail_once(holder, "work", event_id="evt_A") as failure:
        holder.work("evt_B")
        with pytest.raises(hookmock.InjectedFailure):
            holder.work(argument)
    assert failure.fired and len(calls) == 1
    assert holder.work is original


def test_methods_on_an_instance_and_on_a_class_are_patched_and_restored() -> None:
    clock = VirtualClock()
    app = MarkSeenThenWorkReceiver("moda", "whsec_x", clock)
    with hookmock.fail_once(app, "apply_effect", event_id="evt_1"):
        with pytest.raises(hookmock.InjectedFailure):
            app.apply_effect("evt_1")
        app.apply_effect("evt_1")
    assert "apply_effect" not in vars(app)  # the instance attribute is gone again
    assert app.count("evt_1") == 1

    with hookmock.fail_once(MarkSeenThenWorkReceiver, "apply_effect", event_id="evt_2") as failure:
        other = MarkSeenThenWorkReceiver("moda", "whsec_x", clock)
        with pytest.raises(hookmock.InjectedFailure):
            other.apply_effect("evt_2")
        other.apply_effect("evt_2")
    assert failure.failures == 1
    assert MarkSeenThenWorkReceiver.apply_effect is vars(MarkSeenThenWorkReceiver)["apply_effect"]


def test_custom_exception_and_match() -> None:
    mod = _module()
    with hookmock.fail_once(
        mod, "apply_effect", match=lambda e: e["id"].endswith("9"), exception=TimeoutError
    ):
        mod.apply_effect({"id": "evt_1"})
        with pytest.raises(TimeoutError):
            mod.apply_effect({"id": "evt_9"})


@pytest.mark.parametrize(
    ("target", "name", "message"),
    [
        (types.SimpleNamespace(), "nope", "has no attribute 'nope'"),
        (types.SimpleNamespace(x=1), "x", "not callable"),
    ],
)
def test_a_wrong_name_is_a_clear_usage_error(target: Any, name: str, message: str) -> None:
    with pytest.raises(hookmock.UsageError, match=message):
        hookmock.fail_once(target, name)


@pytest.mark.parametrize(("factory", "applied"), [(MarkSeenThenWorkReceiver, 0), (TransactionalReceiver, 1)])
def test_with_the_sender_a_failed_attempt_is_retried_and_must_still_apply(factory: Any, applied: int) -> None:
    """Issue 13 §8's reproduction: attempts [500, 200], delivery succeeded, effect count 0."""
    clock = VirtualClock()
    app = factory("moda", "whsec_fo", clock)
    sender = Sender("moda", "whsec_fo", clock=clock)
    event = hookmock.make_event("moda", "task.succeeded")
    with hookmock.fail_once(app, "apply_effect", event_id=event["id"]) as failure:
        delivery = sender.send((app, "/"), payload=event)
    assert failure.fired
    assert [a.status for a in delivery.attempts] == [500, 200]
    assert app.count(event["id"]) == applied


def _audit(factory: Any, profile: str, **kwargs: Any) -> hookmock.AuditReport:
    clock = VirtualClock()
    secret = get_profile(profile).generate_secret()
    app = factory(profile, secret, clock)
    kwargs.setdefault("fail_once", (app, "apply_effect"))
    return hookmock.audit(app, profile=profile, secret=secret, probe=app.count, clock=clock, **kwargs)


@pytest.mark.parametrize("profile", ["moda", "modio"])
def test_the_check_fails_a_receiver_that_marks_the_event_seen_before_its_work(profile: str) -> None:
    report = _audit(MarkSeenThenWorkReceiver, profile)
    assert report.status("retry-after-failure") == "fail", report.text()
    assert "never applied" in report["retry-after-failure"].detail
    assert [c.name for c in report if c.status == "fail"] == ["retry-after-failure"]
    assert report["retry-after-failure"].cases[0].exchanges[0].status == 500


@pytest.mark.parametrize("profile", ["moda", "modio"])
def test_the_check_passes_a_transactional_receiver(profile: str) -> None:
    report = _audit(TransactionalReceiver, profile)
    assert report.ok, report.text()
    assert report.status("retry-after-failure") == "pass"


def test_the_store_call_of_the_plain_corpus_receiver_works_as_the_named_callable() -> None:
    clock = VirtualClock()
    app = WerkzeugReceiver("moda", "whsec_p", clock)
    report = hookmock.audit(
        app,
        profile="moda",
        secret="whsec_p",
        probe=app.count,
        clock=clock,
        fail_once=(app.store, "apply_once"),
    )
    assert report.status("retry-after-failure") == "pass", report.text()


def test_a_callable_that_is_never_called_is_a_warning_naming_it() -> None:
    report = _audit(TransactionalReceiver, "moda", fail_once=(sys, "exit"))
    assert report.status("retry-after-failure") == "warn"
    assert "exit was never called" in report["retry-after-failure"].detail


def test_without_a_hook_the_check_is_skipped_with_the_reason() -> None:
    report = _audit(MarkSeenThenWorkReceiver, "moda", fail_once=None)
    assert report.status("retry-after-failure") == "skip"
    assert "--fail-once-url" in report["retry-after-failure"].detail
    assert report.ok


def test_a_bad_fail_once_value_is_a_usage_error() -> None:
    with pytest.raises(hookmock.UsageError, match="fail_once=42"):
        _audit(TransactionalReceiver, "moda", fail_once=42)
    with pytest.raises(hookmock.UsageError, match="has no attribute 'nope'"):
        _audit(TransactionalReceiver, "moda", fail_once=(object(), "nope"))


@pytest.mark.parametrize(("factory", "code"), [(MarkSeenThenWorkReceiver, 1), (TransactionalReceiver, 0)])
def test_over_http_the_cli_arms_the_hook_of_the_test_build(
    factory: Any, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading

    from werkzeug.serving import make_server

    app = WithFailOnceHook(factory("moda", "whsec_http"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    try:
        result = main(
            ["audit", url + "hook", "--secret", "whsec_http", "--probe-url", url + "effects/{event_id}",
             "--fail-once-url", url + "fail-once/{event_id}", "--only", "retry-after-failure", "--json"]
        )  # fmt: skip
    finally:
        server.shutdown()
        thread.join(5)
    doc = json.loads(capsys.readouterr().out)
    check = next(c for c in doc["checks"] if c["name"] == "retry-after-failure")
    assert result == code, check
    assert check["status"] == ("fail" if code else "pass")
    assert len(app.armed) == 1 and app.armed[0].fired


class _DoubleApplyReceiver(TransactionalReceiver):
    """Broken: every event's work is applied twice (two handlers subscribed to the same event)."""

    def apply_effect(self, event_id: str) -> None:
        self.store.applied[event_id] += 2


def test_a_callable_never_called_does_not_hide_an_event_applied_twice() -> None:
    """The warning about the named callable is only for an event applied exactly once: an attempt
    applied twice is a failure whatever the hook did (shown under its root cause, idempotency)."""
    report = _audit(_DoubleApplyReceiver, "moda", fail_once=(sys, "exit"))
    assert report.status("idempotency") == "fail", report.text()
    assert report.status("retry-after-failure") == "see", report.text()
    assert "applied 2 time(s)" in report["retry-after-failure"].detail
    assert "never called" not in report["retry-after-failure"].detail
