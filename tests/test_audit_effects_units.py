"""The effect judgements (auditing/probes_delivery.py, probes_effects.py, probes_body.py), check by
check, against scripted receivers and effect probes answering fixed counts.

"Applied exactly once" is the promise: every check that reads the probe is run with it answering
0, 1, 2 and 3, and only 1 passes; the reasons are read word for word.  Whole audits of receivers
that really apply events twice are in tests/test_audit_twice.py."""

from __future__ import annotations

import contextlib
import json
import types
from collections.abc import Iterator
from typing import Any

import pytest

from hookmock.auditing import probes_body, probes_delivery, probes_effects
from hookmock.auditing.effect import ProbeFailed
from hookmock.auditing.model import ProbeRequest
from hookmock.clock import SECOND, VirtualClock
from hookmock.factories import EventFactory
from receivers.scripted import UnsignedProfile, context, counting

NEEDS_PROBE = (
    "needs an effect probe (probe=callable in Python, --probe-url TEMPLATE on the command line) "
    "to count how many times the receiver applied an event"
)
NEEDS_HOOK = (
    "needs a fail-once hook to make the receiver's work fail once: fail_once=(app_or_module, "
    "'function_name') in Python, --fail-once-url TEMPLATE on the command line"
)


def _failing_probe(event_id: str) -> int:
    raise ProbeFailed(f"the probe for {event_id} answered 500")


def _ts(request: ProbeRequest) -> int:
    return int(request.headers["X-Webhook-Timestamp"])


# -- what a check needs ----------------------------------------------------------------------------
def test_the_checks_that_count_effects_say_what_they_need() -> None:
    assert probes_delivery.needs_probe(context()) == NEEDS_PROBE
    assert probes_delivery.needs_probe(context(probe=counting(1))) is None
    assert probes_delivery.skip_unless_fresh_signatures(context()) == NEEDS_PROBE
    assert probes_delivery.skip_unless_fresh_signatures(context(probe=counting(1))) is None
    assert probes_delivery.skip_unless_fresh_signatures(context("modio", probe=counting(1))) == (
        "mod.io re-sends identical requests, so nothing changes between attempts "
        "(the 'idempotency' check covers its retries)"
    )
    assert probes_effects.skip_unless_auth(context()) == NEEDS_PROBE
    assert probes_effects.skip_unless_auth(context("modio", probe=counting(1))) is None
    assert probes_effects.skip_unless_auth(context(UnsignedProfile(), probe=counting(1))) == (
        "Moda sends neither a signature nor a token, so nothing can be forged"
    )
    assert probes_effects.needs_fail_once(context()) == NEEDS_PROBE
    assert probes_effects.needs_fail_once(context(probe=counting(1))) == NEEDS_HOOK
    assert probes_effects.needs_fail_once(context(probe=counting(1), fail_once=lambda e: None)) is None


# -- baseline ----------------------------------------------------------------------------------------
def test_a_refused_baseline_fails_with_the_secret_hint() -> None:
    ctx = context(signed=401, probe=counting(1))
    status, detail, cases = probes_delivery.check_baseline(ctx)
    why = (
        "HTTP 401: the receiver rejected a valid delivery (the sender retries it) "
        "(is the signing secret right? every other check depends on this one)"
    )
    assert (status, detail) == ("fail", why)
    [case] = cases
    assert (case.label, case.status, case.why, case.effect) == ("valid delivery", "fail", why, None)
    assert case.expected == "2xx for a valid, fresh, correctly signed delivery"
    assert len(case.exchanges) == 1 and case.exchanges[0].status == 401


def test_the_baseline_passes_when_the_probe_counts_one() -> None:
    ctx = context(probe=counting(1))
    status, detail, [case] = probes_delivery.check_baseline(ctx)
    assert (status, detail) == (
        "pass",
        "HTTP 200; the effect probe counts 1 (effects read after 0 ms without a change (settle=0 s))",
    )
    assert (case.status, case.label) == ("pass", "valid delivery")


def test_the_baseline_without_a_probe_passes_on_the_answer_alone() -> None:
    status, detail, [case] = probes_delivery.check_baseline(context(signed=202))
    assert (status, detail, case.status) == ("pass", "HTTP 202 for a valid delivery", "pass")


@pytest.mark.parametrize("count", [0, 2, 3])
def test_the_baseline_fails_unless_the_probe_counts_one(count: int) -> None:
    ctx = context(probe=counting(count))
    status, detail, [case] = probes_delivery.check_baseline(ctx)
    waited = " after waiting 0.0 s" if count == 0 else ""
    why = (
        f"the effect probe counts {count} application(s) of an accepted delivery{waited}; expected 1 "
        "(is the probe URL right?)"
    )
    assert (status, detail) == ("fail", why)
    assert (case.status, case.why, case.effect, case.label) == ("fail", why, count, "valid delivery")
    assert [e.status for e in case.exchanges] == [200]
    assert case.expected == "2xx for a valid, fresh, correctly signed delivery"


def test_a_baseline_never_applied_says_how_long_it_waited() -> None:
    ctx = context(probe=counting(0), settle=0.5)
    status, detail, _ = probes_delivery.check_baseline(ctx)
    assert ctx.watcher is not None
    waited = ctx.watcher.read("x", at_least=1).waited_ns  # the same bound again
    assert status == "fail"
    assert detail == (
        f"the effect probe counts 0 application(s) of an accepted delivery after waiting "
        f"{waited / SECOND:.1f} s; expected 1 (is the probe URL right?)"
    )
    assert waited >= SECOND


def test_a_baseline_counted_twice_shows_how_the_count_went() -> None:
    ctx = context(probe=counting([0, 2]), settle=0.2)
    status, detail, _ = probes_delivery.check_baseline(ctx)
    assert status == "fail"
    assert detail.startswith("the effect probe counts 2 application(s) of an accepted delivery; expected 1 (")
    assert "the count went 0 → 2 within " in detail
    assert detail.endswith(") (is the probe URL right?)")


def test_a_failing_probe_fails_the_baseline_with_its_reason() -> None:
    ctx = context(probe=_failing_probe)
    status, detail, [case] = probes_delivery.check_baseline(ctx)
    assert status == "fail" and detail.startswith("the probe for ") and detail.endswith(" answered 500")
    assert (case.status, case.why, case.cause) == ("fail", detail, "probe")
    assert (case.label, case.expected) == (
        "valid delivery",
        "2xx for a valid, fresh, correctly signed delivery",
    )
    assert [e.status for e in case.exchanges] == [200]


def test_the_baseline_is_read_as_soon_as_it_is_applied() -> None:
    ctx = context(probe=counting([0, 1]), settle=0.5)
    started = ctx.clock.now_ns()
    assert probes_delivery.check_baseline(ctx)[0] == "pass"
    assert ctx.clock.now_ns() - started < SECOND


# -- redeliveries ----------------------------------------------------------------------------------
def test_identical_redeliveries_are_one_request_repeated() -> None:
    ctx = context()
    copies = probes_delivery._redeliveries(ctx, "same", fresh=False)
    assert [r.label for r in copies] == ["same, copy 1", "same, copy 2", "same, copy 3"]
    assert len({(tuple(r.headers.items()), r.body, r.event_id) for r in copies}) == 1
    assert len(probes_delivery._redeliveries(ctx, "same", fresh=False, copies=5)) == 5


def test_fresh_redeliveries_are_one_event_re_signed_a_second_apart() -> None:
    ctx = context()
    copies = probes_delivery._redeliveries(ctx, "again", fresh=True)
    assert [r.label for r in copies] == ["again, attempt 1", "again, attempt 2", "again, attempt 3"]
    assert [_ts(r) for r in copies] == [ctx.now() - 2, ctx.now() - 1, ctx.now()]
    assert len({r.body for r in copies}) == 1 and len({r.event_id for r in copies}) == 1
    assert len(probes_delivery._redeliveries(ctx, "again", fresh=True, copies=2)) == 2


# -- idempotency and the dedupe key: exactly once ------------------------------------------------
@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_identical_redeliveries_pass_only_when_applied_once(count: int) -> None:
    ctx = context(probe=counting(count))
    status, detail, [case] = probes_delivery.check_idempotency(ctx)
    event_id = case.exchanges[0].request.event_id
    assert len(case.exchanges) == 3 and ctx.requests_sent == 3
    assert case.label == "identical redeliveries"
    assert [e.request.label for e in case.exchanges] == [
        f"the same request sent 3 times, copy {i}" for i in (1, 2, 3)
    ]
    assert len({tuple(e.request.headers.items()) for e in case.exchanges}) == 1
    assert case.expected == "2xx each time, and the event applied exactly once"
    assert case.effect == count
    assert ctx.dedupes_identical is (count == 1)
    if count == 1:
        assert (status, detail, case.why) == (
            "pass",
            "3 deliveries, applied once",
            "3 deliveries, applied once",
        )
    else:
        why = f"3 deliveries of event {event_id} were applied {count} time(s)"
        assert (status, detail, case.why) == ("fail", why, why)
    assert [label for label, _ in ctx.valid_durations] == [e.request.label for e in case.exchanges]


def test_redeliveries_whose_count_changes_show_the_progression() -> None:
    ctx = context(probe=counting([1, 2, 2]), settle=0.2)
    status, detail, [case] = probes_delivery.check_idempotency(ctx)
    assert status == "fail" and case.effect == 2
    assert detail.startswith(
        f"3 deliveries of event {case.exchanges[0].request.event_id} were applied 2 time(s) ("
    )
    assert "the count went 1 → 2 within " in detail


def test_a_first_delivery_refused_fails_before_the_probe_is_read() -> None:
    ctx = context(signed=[503, 200], probe=_failing_probe)
    status, detail, [case] = probes_delivery.check_idempotency(ctx)
    assert status == "fail"
    assert detail == (
        "the first delivery was not accepted: HTTP 503: a server error on a "
        "valid delivery (the sender retries it)"
    )
    assert case.effect is None and len(case.exchanges) == 3
    assert case.expected == "2xx each time, and the event applied exactly once"
    assert ctx.dedupes_identical is None


def test_a_failing_probe_fails_the_effect_check_with_its_reason() -> None:
    ctx = context(probe=_failing_probe)
    status, detail, [case] = probes_delivery.check_idempotency(ctx)
    assert status == "fail" and detail.endswith(" answered 500") and case.why == detail
    assert (case.label, case.expected) == (
        "identical redeliveries",
        "2xx each time, and the event applied exactly once",
    )
    assert len(case.exchanges) == 3
    assert ctx.dedupes_identical is None


def test_redeliveries_are_read_once_the_count_settles_at_one() -> None:
    ctx = context(probe=counting([0, 1]), settle=0.5)
    started = ctx.clock.now_ns()
    assert probes_delivery.check_idempotency(ctx)[0] == "pass"
    assert ctx.clock.now_ns() - started < 1.5 * SECOND  # the settle period, not the whole bound


@pytest.mark.parametrize(
    ("identical", "hint"),
    [
        (
            True,
            "identical copies are deduplicated, so the key changes per attempt (the signature or the "
            "timestamp?): deduplicate on the event id",
        ),
        (False, "an identical copy was applied again too: the receiver does not deduplicate at all"),
        (None, "deduplicate on the event id, never on a value that changes per attempt"),
    ],
)
@pytest.mark.parametrize("count", [2, 3])
def test_fresh_redeliveries_applied_more_than_once_get_the_hint(
    identical: bool | None, hint: str, count: int
) -> None:
    ctx = context(probe=counting(count))
    ctx.dedupes_identical = identical
    status, detail, [case] = probes_delivery.check_dedupe_key(ctx)
    event_id = case.exchanges[0].request.event_id
    why = f"3 deliveries of event {event_id} were applied {count} time(s); {hint}"
    assert (status, detail, case.why, case.effect, case.cause) == ("fail", why, why, count, "dedupe")
    assert case.label == "redeliveries with fresh timestamps and signatures"
    assert case.expected == "2xx each time, and the event applied exactly once"
    assert [r.request.label for r in case.exchanges] == [
        f"one event re-signed with a fresh timestamp, attempt {i}" for i in (1, 2, 3)
    ]
    assert ctx.dedupes_identical is identical
    assert [label for label, _ in ctx.valid_durations] == [e.request.label for e in case.exchanges]


@pytest.mark.parametrize("count", [0, 1])
def test_fresh_redeliveries_applied_at_most_once_get_no_hint(count: int) -> None:
    ctx = context(probe=counting(count))
    ctx.dedupes_identical = True
    status, detail, [case] = probes_delivery.check_dedupe_key(ctx)
    assert status == ("pass" if count == 1 else "fail")
    assert "deduplicate" not in detail and case.cause is None and case.effect == count


# -- concurrent copies ----------------------------------------------------------------------------
@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_concurrent_copies_pass_only_when_applied_once(count: int) -> None:
    ctx = context(probe=counting(count))
    ctx.concurrency = 2
    status, detail, cases = probes_delivery.check_concurrent(ctx)
    if count == 1:
        assert status == "pass"
        assert detail == (
            "2 concurrent copies of one delivery were applied once (3 burst(s) held until the receiver "
            "had every copy)"
        )
        assert [c.label for c in cases] == ["2 concurrent copies of one delivery"]
        assert ctx.requests_sent == 6
    else:
        [case] = cases
        event_id = case.exchanges[0].request.event_id
        assert (status, case.effect) == ("fail", count)
        assert detail == (
            f"1 of 1 case(s): 2 concurrent copies of one delivery: 2 deliveries of event "
            f"{event_id} were applied {count} time(s)"
        )
        assert ctx.requests_sent == 2  # no more bursts after a failure
        assert [e.request.label for e in case.exchanges] == [
            "2 concurrent copies, copy 1",
            "2 concurrent copies, copy 2",
        ]


def test_concurrent_copies_refused_fail_each_and_stop() -> None:
    ctx = context(signed=409, probe=counting(1))
    ctx.concurrency = 2
    status, _detail, cases = probes_delivery.check_concurrent(ctx)
    assert status == "fail" and ctx.requests_sent == 2
    assert [(c.label, c.status) for c in cases] == [
        ("2 concurrent copies, copy 1", "fail"),
        ("2 concurrent copies, copy 2", "fail"),
        ("2 concurrent copies of one delivery", "fail"),
    ]
    assert cases[0].why == "HTTP 409: the receiver rejected a valid delivery (the sender retries it)"
    assert cases[0].expected == "2xx each time, and the event applied exactly once"
    assert [[e.status for e in c.exchanges] for c in cases[:2]] == [[409], [409]]


def test_concurrent_copies_without_a_probe_are_judged_on_their_answers() -> None:
    ctx = context()
    ctx.concurrency = 3
    status, detail, cases = probes_delivery.check_concurrent(ctx)
    assert (status, detail, cases) == ("skip", f"all 3 concurrent copies got a 2xx; {NEEDS_PROBE}", [])
    ctx = context(signed=500)
    ctx.concurrency = 2
    status, detail, cases = probes_delivery.check_concurrent(ctx)
    assert status == "fail" and len(cases) == 2 and ctx.requests_sent == 2
    assert detail.startswith("2 of 2 case(s): 2 concurrent copies, copy 1: HTTP 500")


def _answers_unread(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def test_copies_that_cannot_be_held_together_are_sent_at_once_in_one_burst() -> None:
    ctx = context(app=_answers_unread, probe=counting(1))
    ctx.concurrency = 2
    status, detail, cases = probes_delivery.check_concurrent(ctx)
    assert (status, detail) == (
        "pass",
        "2 concurrent copies of one delivery were applied once (sent at once)",
    )
    assert len(cases) == 1 and ctx.requests_sent == 2


def test_the_second_burst_is_labelled_by_number() -> None:
    ctx = context(probe=counting([1, 2]))
    ctx.concurrency = 2
    _, _, cases = probes_delivery.check_concurrent(ctx)
    assert [e.request.label for e in cases[0].exchanges] == [
        "2 concurrent copies (burst 2), copy 1",
        "2 concurrent copies (burst 2), copy 2",
    ]


def test_later_bursts_are_labelled_by_number() -> None:
    ctx = context(probe=counting([1, 1, 2]))
    ctx.concurrency = 2
    status, _detail, cases = probes_delivery.check_concurrent(ctx)
    assert status == "fail"
    assert [c.label for c in cases] == ["2 concurrent copies of one delivery"]
    assert [e.request.label for e in cases[0].exchanges] == [
        "2 concurrent copies (burst 3), copy 1",
        "2 concurrent copies (burst 3), copy 2",
    ]


# -- duplicates, deadline, ordering, constant time ------------------------------------------------
def test_a_duplicate_must_be_acknowledged() -> None:
    ctx = context()
    status, detail, cases = probes_delivery.check_duplicate_status(ctx)
    assert (status, detail) == ("pass", "a duplicate delivery was acknowledged with a 2xx")
    assert [c.label for c in cases] == [
        "the same event delivered again, attempt 1",
        "the same event delivered again, attempt 2",
    ]
    assert cases[0].expected == "2xx for a duplicate too (a non-2xx makes the sender retry it)"
    ctx = context("modio", signed=[200, 409])
    status, detail, cases = probes_delivery.check_duplicate_status(ctx)
    assert status == "fail"
    assert [c.label for c in cases] == [
        "the same event delivered again, copy 1",
        "the same event delivered again, copy 2",
    ]
    assert detail == (
        "1 of 2 case(s): the same event delivered again, copy 2: HTTP 409: the receiver "
        "rejected a valid delivery (the sender retries it)"
    )


LIMIT = "Moda waits at most 30 s for the whole response"


def test_the_deadline_check_reports_the_slowest_valid_delivery() -> None:
    ctx = context(signed=[(200, 0.25), (200, 0.5), (200, 0)])
    ctx.valid_durations.extend([])
    probes_delivery.check_duplicate_status(ctx)  # two valid deliveries, 0.25 s and 0.5 s
    status, detail, cases = probes_delivery.check_deadline(ctx)
    assert (status, cases) == ("pass", [])
    assert detail == f"slowest of 3 valid deliveries: 500.0 ms ({LIMIT})"


def test_a_valid_delivery_past_the_deadline_fails_and_a_slow_one_warns() -> None:
    ctx = context(signed=[(200, 1.5), "slow", (200, 0.5)])
    probes_delivery.check_duplicate_status(ctx)
    status, _detail, cases = probes_delivery.check_deadline(ctx)
    assert status == "fail"
    expected = f"a complete response well within the deadline ({LIMIT}); return 2xx first, work later"
    assert [(c.label, c.status, c.expected) for c in cases] == [
        ("the same event delivered again, attempt 1", "warn", expected),
        ("the same event delivered again, attempt 2", "fail", expected),
    ]
    assert cases[0].why == f"answered in 1500 ms (over 1000 ms); {LIMIT}"
    assert cases[1].why.startswith("no complete response within the deadline (timeout")
    assert cases[1].why.endswith(f"); {LIMIT}")


def test_the_deadline_checks_own_delivery_is_timed_too() -> None:
    ctx = context(signed=(200, 2.0))
    status, _, cases = probes_delivery.check_deadline(ctx)
    assert status == "warn" and [c.label for c in cases] == ["valid delivery (timed)"]


@pytest.mark.parametrize(("seconds", "status"), [(1.0, "pass"), (1.001, "warn"), (10.0, "warn")])
def test_the_warning_starts_after_the_threshold_and_the_failure_after_the_deadline(
    seconds: float, status: str
) -> None:
    ctx = context(signed=[(200, seconds), (200, 0)])
    probes_delivery.check_baseline(ctx)
    assert probes_delivery.check_deadline(ctx)[0] == status


def test_events_out_of_order_are_advisory() -> None:
    ctx = context()
    status, detail, cases = probes_delivery.check_ordering(ctx)
    assert (status, detail) == ("pass", "advisory: events delivered out of order were both acknowledged")
    types_ = ctx.profile.event_types
    assert [c.label for c in cases] == [
        f"newer event {types_[0]} first",
        f"then an event {types_[1]} created 2 min earlier",
    ]
    assert (
        cases[0].expected
        == "2xx for both: events can arrive out of order; compare the event times, do not reject"
    )
    ctx = context(signed=[200, 409])
    status, detail, cases = probes_delivery.check_ordering(ctx)
    assert status == "warn" and [c.status for c in cases] == ["pass", "warn"]
    refused = "HTTP 409: the receiver rejected a valid delivery (the sender retries it)"
    assert detail == f"1 of 2 case(s): then an event {types_[1]} created 2 min earlier: {refused}"
    assert [c.why for c in cases] == ["HTTP 200", refused]
    assert [c.expected for c in cases] == [cases[0].expected] * 2 and cases[0].expected.startswith(
        "2xx for both"
    )
    assert [[e.status for e in c.exchanges] for c in cases] == [[200], [409]]


@pytest.mark.parametrize("profile", ["moda", "modio"])
def test_out_of_order_events_are_a_newer_one_then_one_created_two_minutes_earlier(profile: str) -> None:
    ctx = context(profile)
    _, _, cases = probes_delivery.check_ordering(ctx)
    types_ = ctx.profile.event_types
    newer, older = (json.loads(c.exchanges[0].request.body) for c in cases)
    assert [ctx.profile.event_type_of(newer), ctx.profile.event_type_of(older)] == [types_[0], types_[1]]
    # the older event comes from a factory seeded one after the audit's, its clock 2 min behind
    again = EventFactory(ctx.profile, seed=8, clock=VirtualClock(start=ctx.now() - 120)).event(types_[1])
    assert older == json.loads(ctx.profile.serialize(again))
    assert newer == json.loads(ctx.profile.serialize(context(profile).event(types_[0])))
    assert [c.expect for c in cases] == ["accept", "accept"]
    assert [label for label, _ in ctx.valid_durations] == [c.label for c in cases]
    assert cases[1].expected == cases[0].expected
    assert all(c.exchanges[0].request.event_id for c in cases)


def test_out_of_order_events_of_an_unseeded_audit_are_random() -> None:
    ctx = context()
    ctx.factory = EventFactory(ctx.profile, seed=None, clock=ctx.clock)
    status, _, cases = probes_delivery.check_ordering(ctx)
    assert status == "pass" and len(cases) == 2


def test_constant_time_is_advice_naming_signatures_or_tokens() -> None:
    status, detail, cases = probes_delivery.check_constant_time(context())
    assert (status, cases) == ("skip", [])
    assert detail.startswith(
        "advisory: a non-constant-time comparison is not observable over the network without a flaky "
        "timing test; compare signatures as bytes in constant time: Python hmac.compare_digest"
    )
    assert "compare tokens as bytes" in probes_delivery.check_constant_time(context("modio"))[1]


# -- dedupe poisoning -----------------------------------------------------------------------------
GENUINE_ONCE = "the genuine delivery answered 2xx and applied exactly once, whatever came before it"


@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_a_genuine_delivery_after_a_forged_copy_passes_only_when_applied_once(count: int) -> None:
    ctx = context(probe=counting(count))
    status, detail, cases = probes_effects.check_dedupe_poisoning(ctx)
    assert [c.label for c in cases] == [
        "a copy signed with another secret, first, then the genuine delivery",
        "a copy without a signature, first, then the genuine delivery",
    ]
    assert all(c.effect == count and c.expected == GENUINE_ONCE for c in cases)
    assert [[e.status for e in c.exchanges] for c in cases] == [[401, 200], [401, 200]]
    if count == 1:
        assert (status, detail) == (
            "pass",
            "after 2 forged copies carrying real event ids, each genuine delivery was applied once",
        )
        assert cases[0].why == "the genuine delivery was applied once"
    elif count == 0:
        assert status == "fail"
        assert cases[0].why == (
            "the genuine delivery was answered 200 but never applied after a forged copy carrying its "
            "event id: the event id is recorded as seen before the request is verified, so anyone can "
            "block an event (verify first, then deduplicate)"
        )
    else:
        assert status == "fail"
        assert cases[0].why == (
            f"a forged copy and the genuine delivery were applied {count} time(s); see 'effect-before-verify'"
        )


def test_a_forged_copy_applied_too_shows_the_progression() -> None:
    ctx = context(probe=counting([0, 2]), settle=0.2)
    _, _, cases = probes_effects.check_dedupe_poisoning(ctx)
    assert cases[0].why.startswith(
        "a forged copy and the genuine delivery were applied 2 time(s) (the count went 0 → 2 within "
    )
    assert cases[0].why.endswith("); see 'effect-before-verify'")


def test_a_genuine_delivery_refused_after_a_forged_copy_fails() -> None:
    ctx = context(signed=409, probe=_failing_probe)
    status, _, cases = probes_effects.check_dedupe_poisoning(ctx)
    assert status == "fail" and len(cases) == 2
    assert cases[0].label == "a copy signed with another secret, first, then the genuine delivery"
    assert cases[0].expected == GENUINE_ONCE
    assert [e.status for e in cases[0].exchanges] == [401, 409]
    assert [label for label, _ in ctx.valid_durations] == ["then the genuine delivery"] * 2
    assert cases[0].why == (
        "after a forged copy with the same event id, the genuine delivery got HTTP 409: the receiver "
        "rejected a valid delivery (the sender retries it)"
    )
    assert cases[0].effect is None


def test_a_failing_probe_fails_each_poisoning_case() -> None:
    status, _, cases = probes_effects.check_dedupe_poisoning(context(probe=_failing_probe))
    assert status == "fail" and len(cases) == 2
    assert all(c.why.endswith(" answered 500") and c.effect is None for c in cases)
    assert cases[1].label == "a copy without a signature, first, then the genuine delivery"
    assert cases[1].expected == GENUINE_ONCE and [e.status for e in cases[1].exchanges] == [401, 200]


def test_the_genuine_delivery_is_read_as_soon_as_it_is_applied() -> None:
    ctx = context(probe=counting([0, 1]), settle=0.5)
    started = ctx.clock.now_ns()
    status, _, cases = probes_effects.check_dedupe_poisoning(ctx)
    assert status == "pass" and [c.effect for c in cases] == [1, 1]
    assert ctx.clock.now_ns() - started < SECOND  # never waited for a second application


def test_the_forgeries_carry_the_genuine_event_id_and_fail_verification() -> None:
    ctx = context()
    pairs = probes_effects._forgeries(ctx)
    assert len(pairs) == 2 and pairs[0][1].event_id != pairs[1][1].event_id
    (other, genuine), (unsigned, genuine2) = pairs
    assert genuine.label == genuine2.label == "then the genuine delivery"
    assert (other.body, other.event_id) == (genuine.body, genuine.event_id)
    secret = probes_effects._other_secret(ctx)
    assert other.headers == ctx.profile.delivery_headers(other.body, secret, ctx.now())
    assert (
        "X-Webhook-Signature" not in unsigned.headers
        and unsigned.label == "a copy without a signature, first"
    )
    assert "X-Webhook-Timestamp" in unsigned.headers
    tokens = probes_effects._forgeries(context("modio"))
    assert [f.label for f, _ in tokens] == [
        "a copy with a wrong token, first",
        "a copy without the token, first",
    ]
    (wrong, real), (missing, _) = tokens
    assert wrong.headers["X-Modio-Webhook-Token"] not in ("", real.headers["X-Modio-Webhook-Token"])
    assert "X-Modio-Webhook-Token" not in missing.headers
    assert [g.label for _, g in tokens] == ["then the genuine delivery"] * 2
    assert [f.body for f, _ in tokens] == [g.body for _, g in tokens]
    assert len({json.loads(g.body)["event_uuid"] for _, g in tokens}) == 2
    assert [f.event_id for f, _ in tokens] == [g.event_id for _, g in tokens]


def test_a_copy_signed_with_another_secret_keeps_the_message_id_header() -> None:
    ctx = context("standard-webhooks")
    (other, genuine), _ = probes_effects._forgeries(ctx)
    assert other.headers["webhook-id"] == genuine.headers["webhook-id"] == genuine.event_id
    assert probes_effects._forgeries(context(UnsignedProfile())) == []


def test_the_other_secret_is_never_the_audited_one() -> None:
    import random

    ctx = context()
    first = ctx.profile.generate_secret(random.Random(0x5EED))
    assert probes_effects._other_secret(ctx) == first != ctx.secret
    ctx.secret = first
    second = probes_effects._other_secret(ctx)
    assert second != first and second.startswith(ctx.profile.secret_prefix)


# -- a failed attempt and its retry ---------------------------------------------------------------
@contextlib.contextmanager
def _armed(fired: bool | None) -> Iterator[Any]:
    yield None if fired is None else types.SimpleNamespace(fired=fired, name="Receiver.work")


def _hook(fired: bool | None = True, armed: list[str] | None = None) -> Any:
    def hook(event_id: str) -> Any:
        if armed is not None:
            armed.append(event_id)
        return _armed(fired)

    return hook


RETRY_ONCE = "a failed attempt answered non-2xx, then the retry answered 2xx and applied the event once"


@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_a_retry_after_a_failed_attempt_passes_only_when_applied_once(count: int) -> None:
    armed: list[str] = []
    ctx = context(signed=[500, 200], probe=counting(count), fail_once=_hook(armed=armed))
    status, detail, [case] = probes_effects.check_retry_after_failure(ctx)
    assert case.label == "attempt 1 failed (HTTP 500), then the retry"
    assert [e.request.label for e in case.exchanges] == [
        "attempt 1, with the receiver's work made to fail once",
        "the retry",
    ]
    assert armed == [case.exchanges[0].request.event_id]
    assert (case.effect, case.expected, case.status) == (count, RETRY_ONCE, status)
    assert [label for label, _ in ctx.valid_durations] == ["the retry"]
    if count == 1:
        assert (status, detail) == ("pass", "attempt 1 failed (HTTP 500); the retry applied the event once")
    elif count == 0:
        assert (status, detail) == (
            "fail",
            "the retry was answered 200 but the event was never applied: the receiver records the event id "
            "as seen before its work succeeds, so a failed attempt loses the event (record it in the same "
            "transaction as the work, or forget it when the work fails)",
        )
    else:
        assert (status, detail) == ("fail", f"the failed attempt and its retry were applied {count} time(s)")
    assert case.why == detail


def test_a_retry_applied_twice_shows_how_the_count_went() -> None:
    ctx = context(signed=[500, 200], probe=counting([0, 2]), fail_once=_hook(), settle=0.2)
    status, detail, _ = probes_effects.check_retry_after_failure(ctx)
    assert status == "fail"
    assert detail.startswith(
        "the failed attempt and its retry were applied 2 time(s) (the count went 0 → 2 within "
    )


@pytest.mark.parametrize("first", [500, 200])
def test_the_effect_is_read_as_soon_as_the_event_is_applied(first: int) -> None:
    ctx = context(signed=[first, 200], probe=counting([0, 1]), fail_once=_hook(), settle=0.5)
    started = ctx.clock.now_ns()
    status, _, [case] = probes_effects.check_retry_after_failure(ctx)
    assert status == "pass" and case.effect == 1
    assert ctx.clock.now_ns() - started < SECOND  # never waited for a second application


def test_the_retry_is_re_signed_when_the_provider_signs_a_timestamp() -> None:
    ctx = context()
    first = ctx.valid("attempt")
    ctx.clock.advance(5)
    retry = probes_effects._retry(ctx, first)
    assert retry.label == "the retry" and (retry.body, retry.event_id) == (first.body, first.event_id)
    assert _ts(retry) == _ts(first) + 5
    assert retry.headers == ctx.profile.delivery_headers(
        first.body, ctx.secret, ctx.now(), message_id=first.event_id
    )
    ctx = context("modio")
    first = ctx.valid("attempt")
    retry = probes_effects._retry(ctx, first)
    assert (retry.label, retry.headers, retry.body, retry.event_id) == (
        "the retry",
        first.headers,
        first.body,
        first.event_id,
    )


def test_a_retry_keeps_the_message_id() -> None:
    ctx = context("standard-webhooks")
    first = ctx.valid("attempt")
    retry = probes_effects._retry(ctx, first)
    assert retry.headers["webhook-id"] == first.headers["webhook-id"] == first.event_id


def test_a_retry_refused_fails() -> None:
    ctx = context(signed=[503, 400], probe=_failing_probe, fail_once=_hook())
    status, detail, [case] = probes_effects.check_retry_after_failure(ctx)
    assert (status, case.status, case.why) == ("fail", "fail", detail)
    assert detail == (
        "the retry after a failed attempt (HTTP 503) got HTTP 400: the receiver rejected a valid "
        "delivery (the sender retries it)"
    )
    assert case.label == "attempt 1 (work made to fail), then the retry" and len(case.exchanges) == 2
    assert case.expected == RETRY_ONCE


def test_a_failing_probe_fails_the_retry_check() -> None:
    ctx = context(signed=[500, 200], probe=_failing_probe, fail_once=_hook())
    status, detail, [case] = probes_effects.check_retry_after_failure(ctx)
    assert status == "fail" and detail.endswith(" answered 500")
    assert (case.label, case.why, case.exchanges) == (
        "attempt 1 (work made to fail), then the retry",
        detail,
        (),
    )
    assert (case.status, case.expected) == ("fail", RETRY_ONCE)


@pytest.mark.parametrize(
    ("count", "fired", "status", "why"),
    [
        (
            1,
            False,
            "warn",
            "Receiver.work was never called for this event, so nothing failed (the attempt was answered 200 "
            "and applied): name the callable that does the receiver's work",
        ),
        (
            1,
            True,
            "pass",
            "the attempt was answered 200 and the event applied once (recovered from the failure)",
        ),
        (
            1,
            None,
            "pass",
            "the attempt was answered 200 and the event applied once (recovered from the failure); if that "
            "is unexpected, check that the fail-once hook really arms a failure",
        ),
        (
            0,
            True,
            "fail",
            "the receiver's work failed but the attempt was answered 200: the sender will not retry, so the "
            "event is lost (answer 5xx when the work fails, or retry the job durably)",
        ),
        (0, False, "fail", None),
        (2, False, "fail", "one attempt, whose work failed once, was applied 2 time(s)"),
        (3, True, "fail", "one attempt, whose work failed once, was applied 3 time(s)"),
    ],
)
def test_an_attempt_acknowledged_although_its_work_failed(
    count: int, fired: bool | None, status: str, why: str | None
) -> None:
    ctx = context(signed=200, probe=counting(count), fail_once=_hook(fired))
    got, detail, [case] = probes_effects.check_retry_after_failure(ctx)
    assert (got, case.status, case.label, case.effect, case.expected) == (
        status,
        status,
        "attempt 1",
        count,
        RETRY_ONCE,
    )
    assert [e.request.label for e in case.exchanges] == [
        "attempt 1, with the receiver's work made to fail once"
    ]
    if why is not None:
        assert detail == why == case.why
    assert ctx.requests_sent == 1


@pytest.mark.parametrize("code", [199, 300])
def test_an_answer_outside_2xx_is_a_failed_attempt(code: int) -> None:
    ctx = context(signed=[code, 200], probe=counting(1), fail_once=_hook())
    status, detail, [_case] = probes_effects.check_retry_after_failure(ctx)
    assert (status, detail) == ("pass", f"attempt 1 failed (HTTP {code}); the retry applied the event once")


@pytest.mark.parametrize("code", [200, 299])
def test_any_2xx_is_an_acknowledged_attempt(code: int) -> None:
    ctx = context(signed=code, probe=counting(1), fail_once=_hook())
    status, detail, _ = probes_effects.check_retry_after_failure(ctx)
    assert (status, detail) == (
        "pass",
        f"the attempt was answered {code} and the event applied once (recovered from the failure)",
    )


def test_an_attempt_that_crashed_is_retried() -> None:
    ctx = context(signed=["raise", 200], probe=counting(1), fail_once=_hook())
    status, detail, _ = probes_effects.check_retry_after_failure(ctx)
    assert status == "pass" and detail.startswith("attempt 1 failed (error: the app raised RuntimeError")


# -- bodies ------------------------------------------------------------------------------------------
ACCEPT_ONCE = (
    "2xx, and the event applied exactly once: verify the raw bytes received, never re-serialized JSON"
)


@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_body_variants_pass_only_when_each_is_applied_once(count: int) -> None:
    ctx = context(probe=counting(count))
    names = list(ctx.profile.body_variants(ctx.event()))
    status, detail, cases = probes_body.check_raw_body(ctx)
    assert [c.label for c in cases] == [f"body variant {n}" for n in names]
    assert all(c.effect == count and c.expected == ACCEPT_ONCE for c in cases)
    event_id = cases[0].exchanges[0].request.event_id
    if count == 1:
        assert (status, detail) == ("pass", f"all {len(names)} byte-exact body variants were accepted")
        assert cases[0].why == "HTTP 200, applied once"
    else:
        assert status == "fail"
        assert (
            cases[0].why
            == f"HTTP 200, but the effect probe counts {count} application(s) of event {event_id}"
        )


def test_body_variants_are_the_profiles_exact_bytes_validly_signed() -> None:
    ctx = context()
    status, _, cases = probes_body.check_raw_body(ctx)
    assert status == "pass" and all(c.effect is None for c in cases)
    for c in cases:
        request = c.exchanges[0].request
        assert request.headers == ctx.profile.delivery_headers(
            request.body, ctx.secret, ctx.now(), message_id=request.event_id
        )
    same_seed = context()
    names = list(same_seed.profile.body_variants(same_seed.event()))
    expected = [same_seed.profile.body_variants(same_seed.event())[n] for n in names]
    assert [c.exchanges[0].request.body for c in cases] == expected


def test_a_refused_body_variant_is_not_read_and_a_failing_probe_fails() -> None:
    ctx = context(signed=400, probe=_failing_probe)
    status, _, cases = probes_body.check_raw_body(ctx)
    assert status == "fail" and all(c.effect is None for c in cases)
    assert cases[0].why == "HTTP 400: the receiver rejected a valid delivery (the sender retries it)"
    ctx = context(probe=_failing_probe)
    status, _, cases = probes_body.check_raw_body(ctx)
    assert status == "fail" and cases[0].why.endswith(" answered 500") and cases[0].effect is None
    assert cases[0].label == "body variant " + next(iter(ctx.profile.body_variants(ctx.event())))
    assert cases[0].expected == ACCEPT_ONCE and [e.status for e in cases[0].exchanges] == [200]


def test_charset_sends_the_non_ascii_variants_only() -> None:
    ctx = context()
    sample = ctx.profile.body_variants(ctx.event())
    wanted = [f"body variant {n}" for n, b in sample.items() if any(x > 0x7F for x in b)]
    status, detail, cases = probes_body.check_charset(ctx)
    assert wanted and [c.label for c in cases] == wanted
    assert (status, detail) == ("pass", "non-ASCII, astral-plane and line-separator text was accepted")
    assert (
        cases[0].expected == "2xx: the body is UTF-8 JSON; decode it as UTF-8 (after verifying the raw bytes)"
    )


class _AsciiProfile(UnsignedProfile):
    title = "Plain"

    def body_variants(self, payload: Any) -> dict[str, bytes]:
        return {k: v for k, v in super().body_variants(payload).items() if v.isascii()}


class _EdgeBytesProfile(UnsignedProfile):
    def body_variants(self, payload: Any) -> dict[str, bytes]:
        return {"del": b'{"a":"\x7f"}', "x80": b'{"a":"\x80"}', "plain": b'{"a":1}'}


def test_charset_sends_the_variants_with_a_byte_above_7f() -> None:
    _, _, cases = probes_body.check_charset(context(_EdgeBytesProfile()))
    assert [c.label for c in cases] == ["body variant x80"]


def test_charset_variants_are_valid_deliveries() -> None:
    ctx = context()
    _, _, cases = probes_body.check_charset(ctx)
    assert {c.expect for c in cases} == {"accept"}
    assert [label for label, _ in ctx.valid_durations] == [c.label for c in cases]


def test_charset_is_skipped_when_every_variant_is_ascii() -> None:
    assert probes_body.check_charset(context(_AsciiProfile())) == (
        "skip",
        "Plain has no non-ASCII body variant",
        [],
    )


def test_every_event_type_must_be_acknowledged() -> None:
    ctx = context()
    status, detail, cases = probes_body.check_event_types(ctx)
    types_ = ctx.profile.event_types
    assert (status, detail) == ("pass", f"all {len(types_)} event types were acknowledged")
    assert [c.label for c in cases] == [f"event {t}" for t in types_]
    assert (
        cases[0].expected
        == "2xx for every event the provider sends, including ones the receiver does not handle"
    )
    sent = [ctx.profile.event_type_of(json.loads(c.exchanges[0].request.body)) for c in cases]
    assert sent == list(types_)
    status, _, cases = probes_body.check_event_types(context(signed=[200, 400]))
    assert status == "fail" and [c.status for c in cases][:2] == ["pass", "fail"]


def test_payload_variants_are_each_optional_field_absent_or_null_and_each_flag_both_ways() -> None:
    ctx = context()
    variants = probes_body.payload_variants(ctx)
    labels = [label for label, _, _ in variants]
    assert len(labels) == len(set(labels))
    first = ctx.profile.event_types[0]
    sample = context().event(first)  # the same seed: the sample payload_variants started from
    for path, nullable in ctx.profile.optional_fields(sample).items():
        if probes_body._lookup(sample, path) in (None, probes_body.ABSENT):
            continue
        dotted = ".".join(path)
        assert any(label.startswith(f"{dotted} absent (") for label in labels), dotted
        if nullable:
            assert any(label.startswith(f"{dotted} null (") for label in labels), dotted
    long_label = f"a {len(probes_body.LONG_TEXT)}-character unicode string ({first})"
    assert (long_label, first, {"data__input__hookmock_long_text": probes_body.LONG_TEXT}) in variants
    for label, event_type, overrides in variants:
        assert label.endswith(f" ({event_type})")
        [(key, value)] = overrides.items()
        if " = true (" in label:
            assert value is True and key == label.split(" = ")[0].replace(".", "__")
        elif " = false (" in label:
            assert value is False
        elif " absent (" in label:
            assert value is probes_body.ABSENT and key == label.split(" absent")[0].replace(".", "__")
        elif " null (" in label:
            assert value is None
    assert any(" = true (" in label for label in labels) and any(" = false (" in label for label in labels)
    assert any(" null (" in label for label in labels)


class _VariantsProfile(UnsignedProfile):
    """Two event types whose samples are given, with known optional fields."""

    title = "Variants"
    event_types = ("one", "two")  # type: ignore[assignment]
    free_form_path = ("data", "input")

    def optional_fields(self, sample: Any) -> dict[tuple[str, ...], bool]:
        return {("data", k): k != "size" for k in ("note", "size", "gone", "empty", "extra")}


def _sample(event_type: str | None = None, /, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"note": "x", "size": 3, "empty": None, "flags": {"on": True}, "off": False}
    if event_type == "two":
        data.update(extra="y", more={"deep": {"yes": True}})
    return {"type": event_type, "data": data}


def test_payload_variants_drop_or_null_each_field_present_and_flip_each_flag_once() -> None:
    ctx = context(_VariantsProfile())
    ctx.event = _sample  # type: ignore[method-assign]
    absent = probes_body.ABSENT
    assert probes_body.payload_variants(ctx) == [
        ("data.note absent (one)", "one", {"data__note": absent}),
        ("data.note null (one)", "one", {"data__note": None}),
        ("data.size absent (one)", "one", {"data__size": absent}),
        ("data.flags.on = true (one)", "one", {"data__flags__on": True}),
        ("data.flags.on = false (one)", "one", {"data__flags__on": False}),
        ("data.off = true (one)", "one", {"data__off": True}),
        ("data.off = false (one)", "one", {"data__off": False}),
        ("data.extra absent (two)", "two", {"data__extra": absent}),
        ("data.extra null (two)", "two", {"data__extra": None}),
        ("data.more.deep.yes = true (two)", "two", {"data__more__deep__yes": True}),
        ("data.more.deep.yes = false (two)", "two", {"data__more__deep__yes": False}),
        (
            f"a {len(probes_body.LONG_TEXT)}-character unicode string (one)",
            "one",
            {"data__input__hookmock_long_text": probes_body.LONG_TEXT},
        ),
    ]


class _NoVariantsProfile(_VariantsProfile):
    @property
    def free_form_path(self) -> Any:  # a profile of its own need not have one at all
        raise AttributeError("free_form_path")

    def optional_fields(self, sample: Any) -> dict[tuple[str, ...], bool]:
        return {}


def test_payload_variants_are_skipped_when_a_profile_has_none() -> None:
    ctx = context(_NoVariantsProfile())
    ctx.event = lambda event_type=None, /, **o: {"type": event_type}  # type: ignore[method-assign]
    assert probes_body.check_payload_variants(ctx) == (
        "skip",
        "Variants payloads have no optional fields",
        [],
    )


def test_each_payload_variant_sent_is_its_event_type_with_its_override_applied() -> None:
    ctx = context()
    _, _, cases = probes_body.check_payload_variants(ctx)
    assert {c.expect for c in cases} == {"accept"}
    assert [label for label, _ in ctx.valid_durations] == [c.label for c in cases]
    for c in cases:
        body = json.loads(c.exchanges[0].request.body)
        assert c.label.endswith(f" ({ctx.profile.event_type_of(body)})"), c.label
        dotted = c.label.rsplit(" (", 1)[0]
        if dotted.startswith("a "):
            assert body["data"]["input"]["hookmock_long_text"] == probes_body.LONG_TEXT
            continue
        path, _, mode = dotted.replace(" = ", " ").rpartition(" ")
        value = probes_body._lookup(body, tuple(path.split(".")))
        expected = {"absent": probes_body.ABSENT, "null": None, "true": True, "false": False}[mode]
        assert value is expected, c.label


def test_an_illegal_payload_variant_is_left_out_and_the_rest_still_sent() -> None:
    variants = [label for label, _, _ in probes_body.payload_variants(context("github"))]
    _, _, cases = probes_body.check_payload_variants(context("github"))
    labels = [c.label for c in cases]
    # the seeded events make exactly one variant break its event type's schema
    assert [v for v in variants if v not in labels] == ["label.default = true (issues)"]
    assert labels[-1] == variants[-1]
    assert labels == [v for v in variants if v in labels]


def test_legal_payload_variants_must_be_acknowledged() -> None:
    ctx = context()
    status, detail, cases = probes_body.check_payload_variants(ctx)
    assert status == "pass" and detail == f"all {len(cases)} legal payload variants were accepted"
    assert (
        cases
        and cases[0].expected
        == "2xx: optional fields may be null or absent; every legal payload must be handled"
    )
    # the same seed: the same variants; the legal ones were sent
    assert {c.label for c in cases} <= {label for label, _, _ in probes_body.payload_variants(context())}


def test_bad_inputs_are_validly_signed_and_must_be_rejected() -> None:
    ctx = context(signed=400)
    status, detail, cases = probes_body.check_bad_input(ctx)
    assert (status, detail) == ("pass", "all 8 bad inputs got a 4xx (none crashed the receiver)")
    bodies = [c.exchanges[0].request.body for c in cases]
    assert [c.label for c in cases] == [
        "malformed JSON (truncated)",
        "empty body",
        "JSON array instead of an object",
        "JSON null",
        "JSON string",
        "empty JSON object",
        "body that is not UTF-8",
        "valid delivery with Content-Type: text/plain",
    ]
    assert bodies[1:7] == [b"", b"[]", b"null", b'"hookmock"', b"{}", b'{"hookmock":"\xff\xfe\xc3"}']
    same_seed = context()
    full = same_seed.profile.serialize(same_seed.event())
    assert bodies[0] == full[: len(full) // 2]
    assert all(c.cause == "body" for c in cases)
    first_id = same_seed.profile.event_id(json.loads(full))
    assert first_id and [c.exchanges[0].request.event_id for c in cases[:7]] == [first_id] * 7
    assert [c.expect for c in cases] == ["reject"] * 7 + ["no_5xx"]
    assert cases[0].expected == (
        "a 4xx rejection (never a 5xx, which makes the sender retry a request that can never succeed)"
    )
    assert cases[7].expected == "2xx or 4xx, never a 5xx"
    assert cases[7].exchanges[0].request.headers["Content-Type"] == "text/plain"
    for c in cases:
        request = c.exchanges[0].request
        assert ctx.profile.check(request.headers, request.body, ctx.secret, now=ctx.now()).ok


def test_bad_input_acknowledged_is_a_warning_and_a_crash_only_a_secret_holder_triggers_too() -> None:
    ctx = context(signed=200)
    status, _, cases = probes_body.check_bad_input(ctx)
    assert status == "warn" and [c.status for c in cases] == ["warn"] * 7 + ["pass"]
    assert cases[0].why == f"HTTP 200: {probes_body.ACK_LENIENT}"
    ctx = context(signed=500, forged=401)
    status, _, cases = probes_body.check_bad_input(ctx)
    assert status == "warn" and all(c.anonymous is False for c in cases)
