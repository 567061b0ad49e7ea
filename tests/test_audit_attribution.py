"""Root-cause attribution (auditing/attribution.py), rule by rule, on synthetic check results.

Each test lays out what the checks found (cases with their answers), runs ``attribute`` and reads
which cases now point at which check, with which reason, and how each check's status and detail
read afterwards.  Whole audits of broken receivers (tests/test_audit_verdicts.py) show the same
rules end to end."""

from __future__ import annotations

import json

import pytest

from hookmock.auditing.attribution import attribute
from hookmock.auditing.model import CaseResult, CheckResult
from hookmock.auditing.probes_auth import NEVER_CHECKED_LABEL
from receivers.scripted import case, check


def _see(result: CheckResult) -> list[tuple[str, str, str | None]]:
    return [(c.label, c.status, c.see) for c in result.cases]


def _event(kind_key: str, kind: object) -> bytes:
    return json.dumps({kind_key: kind, "id": "evt_1"}).encode()


# -- 1. a refused baseline -----------------------------------------------------------------------
@pytest.mark.parametrize("code", [401, 300, 199, 500])
def test_a_refused_baseline_owns_every_valid_delivery_refused_the_same_way(code: int) -> None:
    baseline = check("baseline", "fail", case("valid delivery", "fail", code, expect="accept"))
    other = check(
        "raw-body",
        "fail",
        case("variant a", "fail", code, expect="accept"),
        case("variant b", "fail", 404, expect="accept"),
        case("forged", "fail", code, expect="reject"),
        case("variant c", "warn", code, expect="accept", see="deadline"),
    )
    attribute([baseline, other])
    assert _see(other) == [
        ("variant a", "see", "baseline"),
        ("variant b", "fail", None),
        ("forged", "fail", None),
        ("variant c", "warn", "deadline"),
    ]
    assert other.cases[0].why == f"valid deliveries are refused (HTTP {code}): why variant a"
    assert (baseline.status, baseline.cases[0].status) == ("fail", "fail")
    assert other.status == "fail"
    assert other.detail == (
        "3 of 4 case(s): variant b: why variant b; forged: why forged; variant c: why variant c (+1 "
        "case(s) with the root cause that 'baseline' reports)"
    )


@pytest.mark.parametrize(
    "baseline",
    [
        check("baseline", "fail", case("valid delivery", "fail", 200, expect="accept")),
        check("baseline", "fail", case("valid delivery", "fail", 250, expect="accept")),
        check("baseline", "fail", case("valid delivery", "fail", 299, expect="accept")),
        check("baseline", "fail", case("valid delivery", "fail", None, outcome="error", expect="accept")),
        check("baseline", "warn", case("valid delivery", "fail", 401, expect="accept")),
        check("baseline", "fail"),
    ],
    ids=["200", "250", "299", "no answer", "warn", "no case"],
)
def test_a_baseline_that_was_acknowledged_or_did_not_fail_owns_nothing(baseline: CheckResult) -> None:
    other = check(
        "raw-body",
        "fail",
        *(case(f"v{code}", "fail", code, expect="accept") for code in (200, 250, 299, 401)),
    )
    other.cases.append(case("none", "fail", None, outcome="error", expect="accept"))
    attribute([baseline, other])
    assert [c.status for c in other.cases] == ["fail"] * 5
    assert other.detail == "detail"


def test_a_check_whose_every_problem_is_attributed_points_at_the_owner() -> None:
    baseline = check("baseline", "fail", case("valid delivery", "fail", 401, expect="accept"))
    other = check(
        "event-types",
        "fail",
        case("event a", "fail", 401, expect="accept"),
        case("event b", "pass", 200, expect="accept"),
        case("event c", "warn", 401, expect="accept"),
    )
    attribute([baseline, other])
    assert (other.status, other.see) == ("see", "baseline")
    assert other.detail == (
        "same root cause as 'baseline' (2 case(s)): valid deliveries are refused (HTTP 401): why event a"
    )


# -- 2. too slow -----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["fail", "warn"])
def test_a_failed_deadline_owns_every_timeout(status: str) -> None:
    deadline = check("deadline", status, case("valid delivery (timed)", status))
    other = check(
        "idempotency",
        "fail",
        case("slow", "fail", None, outcome="timeout"),
        case("crashed", "fail", None, outcome="error"),
        case("no exchange", "fail"),
    )
    attribute([deadline, other])
    assert _see(other) == [
        ("slow", "see", "deadline"),
        ("crashed", "fail", None),
        ("no exchange", "fail", None),
    ]
    assert other.cases[0].why == "slower than the deadline: why slow"


@pytest.mark.parametrize(
    "deadline",
    [
        check("deadline", "pass", case("timed", "fail")),
        check("deadline", "fail", case("timed", "pass")),
        check("deadline", "fail", case("timed", "fail", see="baseline")),
        check("deadline", "fail"),
    ],
    ids=["passed", "no open case", "already attributed", "no case"],
)
def test_a_deadline_without_an_open_problem_owns_nothing(deadline: CheckResult) -> None:
    other = check("idempotency", "fail", case("slow", "fail", None, outcome="timeout"))
    attribute([deadline, other])
    assert _see(other) == [("slow", "fail", None)]


# -- 3. nothing is verified ------------------------------------------------------------------------
AUTH = ("token", "effect-before-verify", "replay", "future-timestamp", "timestamp-parsing")


@pytest.mark.parametrize(
    ("owner", "label"),
    [
        ("signature", "signed with another secret"),
        ("token", "wrong token"),
        ("signature", "signed with another secret (v0)"),
    ],
)
def test_an_accepted_forgery_owns_every_accepted_request_of_the_authenticity_checks(
    owner: str, label: str
) -> None:
    forgery = check(owner, "fail", case(label, "fail", 200))
    others = [
        check(
            name,
            "fail",
            case(f"{name} ok", "fail", 204),
            case(f"{name} told", "fail", 500, cause="accepted"),
            case(f"{name} crashed", "fail", 500, cause="body"),
        )
        for name in ("signature", *AUTH)
        if name != owner
    ]
    bystander = check("raw-body", "fail", case("raw ok", "fail", 200))
    attribute([forgery, *others, bystander])
    for other in others:
        assert _see(other) == [
            (f"{other.name} ok", "see", owner),
            (f"{other.name} told", "see", owner),
            (f"{other.name} crashed", "fail", None),
        ], other.name
        assert other.cases[0].why == f"the receiver accepts forged requests: why {other.name} ok"
    assert _see(bystander) == [("raw ok", "fail", None)]


@pytest.mark.parametrize(
    "forgery",
    [
        case("signed with another secret", "fail", 401),
        case("signed with another secret", "fail", 300),
        case("signed with another secret", "fail", 199),
        case("missing signature header", "fail", 200),
        case("signed with another secret", "fail"),
    ],
    ids=["refused", "300", "199", "another label", "no answer"],
)
def test_a_forgery_that_was_not_accepted_owns_nothing(forgery: CaseResult) -> None:
    replay = check("replay", "fail", case("stale", "fail", 200))
    attribute([check("signature", "fail", forgery), replay])
    assert _see(replay) == [("stale", "fail", None)]


@pytest.mark.parametrize("code", [200, 250, 299])
def test_any_2xx_is_an_accepted_forgery(code: int) -> None:
    replay = check("replay", "fail", case("stale", "fail", code))
    attribute([check("signature", "fail", case("signed with another secret", "fail", code)), replay])
    assert _see(replay) == [("stale", "see", "signature")]


# -- 4. the timestamp window -----------------------------------------------------------------------
def test_a_never_checked_age_owns_the_accepted_future_and_malformed_timestamps() -> None:
    replay = check("replay", "fail", case(NEVER_CHECKED_LABEL, "fail", 200))
    future = check(
        "future-timestamp", "warn", case("1 hour ahead", "warn", 200), case("refused", "fail", 500)
    )
    parsing = check("timestamp-parsing", "fail", case("-1", "fail", 202))
    bystander = check("signature", "fail", case("missing", "fail", 200))
    attribute([replay, future, parsing, bystander])
    assert _see(future) == [("1 hour ahead", "see", "replay"), ("refused", "fail", None)]
    assert future.cases[0].why == "the receiver never checks the timestamp's age: why 1 hour ahead"
    assert _see(parsing) == [("-1", "see", "replay")]
    assert _see(bystander) == [("missing", "fail", None)]


def test_a_stale_timestamp_refused_owns_nothing() -> None:
    replay = check("replay", "fail", case(NEVER_CHECKED_LABEL, "fail", 500), case("other", "fail", 200))
    parsing = check("timestamp-parsing", "fail", case("-1", "fail", 202))
    attribute([replay, parsing])
    assert _see(parsing) == [("-1", "fail", None)]


@pytest.mark.parametrize(("side", "owner"), [("past", "replay"), ("future", "future-timestamp")])
def test_a_number_beyond_the_window_is_owned_by_the_check_of_that_side(side: str, owner: str) -> None:
    other_side = "future" if side == "past" else "past"
    window = check(owner, "fail", case("beyond", "fail", 200, reads_as=side))
    parsing = check(
        "timestamp-parsing",
        "fail",
        case("this side", "fail", 200, reads_as=side),
        case("other side", "fail", 200, reads_as=other_side),
        case("refused", "fail", 401, reads_as=side),
    )
    elsewhere = check("signature", "fail", case("same side", "fail", 200, reads_as=side))
    attribute([window, parsing, elsewhere])
    assert _see(parsing) == [
        ("this side", "see", owner),
        ("other side", "fail", None),
        ("refused", "fail", None),
    ]
    assert (
        parsing.cases[0].why
        == f"a number that far in the {side} is accepted, as that check reports: why this side"
    )
    assert _see(elsewhere) == [("same side", "fail", None)]


@pytest.mark.parametrize("owned", [case("beyond", "fail", 200), case("beyond", "fail", 401, reads_as="past")])
def test_a_window_check_without_an_accepted_number_beyond_owns_nothing(owned: CaseResult) -> None:
    parsing = check("timestamp-parsing", "fail", case("this side", "fail", 200, reads_as="past"))
    attribute([check("replay", "fail", owned), parsing])
    assert _see(parsing) == [("this side", "fail", None)]


# -- 5. the same request, reported by another check ----------------------------------------------
def test_a_request_already_reported_is_owned_by_the_first_check_reporting_it() -> None:
    first = check("signature", "fail", case("missing signature header", "fail", 500, cause="signature"))
    second = check("timestamp-parsing", "warn", case("missing signature header", "warn", 500, cause="x"))
    effect = check(
        "effect-before-verify",
        "fail",
        case("missing signature header", "fail", 500, cause="accepted"),
        case("missing signature header", "fail", 500, cause="effect"),
        case("unreported", "fail", 500, cause="accepted"),
    )
    attribute([first, second, effect])
    assert _see(effect) == [
        ("missing signature header", "see", "signature"),
        ("missing signature header", "fail", None),
        ("unreported", "fail", None),
    ]
    assert effect.cases[0].why == "accepted, as that check reports: why missing signature header"
    assert _see(second) == [("missing signature header", "warn", None)]


def test_effect_before_verify_reports_nothing_for_the_others_to_point_at() -> None:
    effect = check("effect-before-verify", "fail", case("wrong token", "fail", 500, cause="accepted"))
    token = check("token", "fail", case("wrong token", "fail", 500, cause="accepted"))
    attribute([effect, token])
    assert _see(token) == [("wrong token", "fail", None)]
    assert _see(effect) == [("wrong token", "see", "token")]


def test_a_passed_or_attributed_case_reports_nothing() -> None:
    signature = check(
        "signature", "fail", case("a", "pass", 401, cause="accepted"), case("b", "fail", 401, see="baseline")
    )
    effect = check(
        "effect-before-verify",
        "fail",
        case("a", "fail", 500, cause="accepted"),
        case("b", "fail", 500, cause="accepted"),
    )
    attribute([signature, effect])
    assert _see(effect) == [("a", "fail", None), ("b", "fail", None)]


# -- 6. crashes by what the request damages --------------------------------------------------------
@pytest.mark.parametrize(
    ("cause", "owner"),
    [
        ("timestamp", "timestamp-parsing"),
        ("signature", "signature"),
        ("token", "token"),
        ("body", "bad-input"),
    ],
)
def test_a_crash_on_a_damaged_part_is_owned_by_the_check_of_that_part(cause: str, owner: str) -> None:
    owning = check(owner, "fail", case("owned crash", "fail", 502, cause=cause))
    other = check(
        "charset",
        "fail",
        case("crash", "fail", 500, cause=cause),
        case("no answer", "fail", None, outcome="error", cause=cause),
        case("refused", "fail", 401, cause=cause),
        case("other cause", "fail", 500, cause="elsewhere"),
    )
    attribute([owning, other])
    assert _see(other) == [
        ("crash", "see", owner),
        ("no answer", "see", owner),
        ("refused", "fail", None),
        ("other cause", "fail", None),
    ]
    assert other.cases[0].why == f"crashes on a damaged {cause}: why crash"


@pytest.mark.parametrize(
    "owned",
    [
        case("x", "fail", 401, cause="body"),
        case("x", "fail", 500, cause="timestamp"),
        case("x", "fail", 499, cause="body"),
    ],
    ids=["no crash", "other cause", "499"],
)
def test_an_owner_without_a_crash_of_that_cause_owns_no_crash(owned: CaseResult) -> None:
    other = check("charset", "fail", case("crash", "fail", 500, cause="body"))
    attribute([check("bad-input", "fail", owned), other])
    assert _see(other) == [("crash", "fail", None)]


# -- 7. charsets and raw bytes ---------------------------------------------------------------------
def test_a_charset_crash_owns_every_crash_on_non_ascii_bytes() -> None:
    charset = check("charset", "fail", case("utf-8", "fail", 500, body="ü".encode()))
    other = check(
        "payload-variants",
        "fail",
        case("non-ascii", "fail", 500, body="☃".encode()),
        case("ascii", "fail", 500, body=b"{}"),
        case("non-ascii refused", "fail", 400, body="☃".encode()),
        case("no exchange", "fail"),
    )
    attribute([charset, other])
    assert _see(other) == [
        ("non-ascii", "see", "charset"),
        ("ascii", "fail", None),
        ("non-ascii refused", "fail", None),
        ("no exchange", "fail", None),
    ]
    assert other.cases[0].why == "crashes on non-ASCII text: why non-ascii"


def test_a_charset_check_without_a_crash_owns_nothing() -> None:
    other = check("payload-variants", "fail", case("non-ascii", "fail", 500, body="☃".encode()))
    attribute([check("charset", "fail", case("utf-8", "fail", 400, body="ü".encode())), other])
    assert _see(other) == [("non-ascii", "fail", None)]


@pytest.mark.parametrize("code", [400, 401, 499])
def test_raw_body_refusals_own_the_charset_refusals_of_the_same_status(code: int) -> None:
    raw = check("raw-body", "fail", case("variant", "fail", code), case("crashed", "fail", 500))
    charset = check(
        "charset",
        "fail",
        case("same", "fail", code, body="☃".encode()),
        case("other", "fail", 403 if code != 403 else 404, body="☃".encode()),
        case("crash", "fail", 500, body="☃".encode()),
    )
    bystander = check("event-types", "fail", case("same", "fail", code))
    attribute([raw, charset, bystander])
    assert _see(charset) == [("same", "see", "raw-body"), ("other", "fail", None), ("crash", "fail", None)]
    assert charset.cases[0].why == "verifies other bytes than the raw body: why same"
    assert _see(bystander) == [("same", "fail", None)]


@pytest.mark.parametrize(
    "raw",
    [
        case("variant", "fail", 399),
        case("variant", "fail", 500),
        case("variant", "fail", None, outcome="error"),
        case("variant", "pass", 401),
        case("variant", "fail", 401, see="baseline"),
    ],
    ids=["399", "500", "no answer", "passed", "attributed"],
)
def test_raw_body_without_an_open_4xx_owns_nothing(raw: CaseResult) -> None:
    code = _code = raw.exchanges[0].status if raw.exchanges and raw.exchanges[0].status else 500
    charset = check(
        "charset", "fail", case("same", "fail", code, body=b"x"), case("none", "fail", None, outcome="error")
    )
    attribute([check("raw-body", "fail", raw), charset])
    assert [c.status for c in charset.cases] == ["fail", "fail"]


# -- 8. duplicates ---------------------------------------------------------------------------------
def test_an_idempotency_failure_owns_every_excess_effect() -> None:
    idem = check("idempotency", "fail", case("identical", "fail", 200, effect=2))
    other = check(
        "dedupe-key",
        "fail",
        case("twice", "fail", 200, effect=2),
        case("never", "fail", 200, effect=0),
        case("once", "fail", 200, effect=1),
        case("unknown", "fail", 200),
    )
    attribute([idem, other])
    assert _see(other) == [
        ("twice", "see", "idempotency"),
        ("never", "fail", None),
        ("once", "fail", None),
        ("unknown", "fail", None),
    ]
    assert other.cases[0].why == "the receiver does not deduplicate identical copies: why twice"


@pytest.mark.parametrize("effect", [1, 0, None])
def test_an_idempotency_failure_without_an_excess_effect_owns_nothing(effect: int | None) -> None:
    other = check("dedupe-key", "fail", case("twice", "fail", 200, effect=2))
    attribute([check("idempotency", "fail", case("identical", "fail", 500, effect=effect)), other])
    assert _see(other) == [("twice", "fail", None)]


def test_refused_duplicates_own_the_refused_concurrent_copies() -> None:
    dup = check("duplicate-status", "fail", case("again", "fail", 409))
    concurrent = check(
        "concurrent-duplicates",
        "fail",
        case("refused", "fail", 409),
        case("crashed", "fail", 500),
        case("no answer", "fail", None, outcome="error"),
        case("accepted", "fail", 200),
    )
    bystander = check("idempotency", "fail", case("refused", "fail", 409))
    attribute([dup, concurrent, bystander])
    assert _see(concurrent) == [
        ("refused", "see", "duplicate-status"),
        ("crashed", "fail", None),
        ("no answer", "fail", None),
        ("accepted", "fail", None),
    ]
    assert concurrent.cases[0].why == "duplicates are refused: why refused"
    assert _see(bystander) == [("refused", "fail", None)]


def test_acknowledged_duplicates_own_nothing() -> None:
    concurrent = check("concurrent-duplicates", "fail", case("refused", "fail", 409))
    attribute([check("duplicate-status", "fail", case("again", "fail", 204)), concurrent])
    assert _see(concurrent) == [("refused", "fail", None)]


# -- 9. event types --------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["type", "event_name", "event"])
def test_a_refused_event_type_owns_the_refusals_of_that_type_and_status(key: str) -> None:
    events = check(
        "event-types",
        "fail",
        case("event a", "fail", 400, body=_event(key, "a")),
        case("event b", "pass", 200, body=_event(key, "b")),
    )
    other = check(
        "payload-variants",
        "fail",
        case("a 400", "fail", 400, body=_event(key, "a")),
        case("a 422", "fail", 422, body=_event(key, "a")),
        case("b 400", "fail", 400, body=_event(key, "b")),
        case("a accepted", "fail", 200, body=_event(key, "a")),
    )
    attribute([events, other])
    assert _see(other) == [
        ("a 400", "see", "event-types"),
        ("a 422", "fail", None),
        ("b 400", "fail", None),
        ("a accepted", "fail", None),
    ]
    assert other.cases[0].why == "this event type is refused: why a 400"


def test_the_type_key_comes_first() -> None:
    body = json.dumps({"type": "a", "event_name": "b", "event": "c"}).encode()
    events = check("event-types", "fail", case("event", "fail", 400, body=body))
    other = check(
        "payload-variants",
        "fail",
        case("a", "fail", 400, body=_event("type", "a")),
        case("b", "fail", 400, body=_event("event_name", "b")),
    )
    attribute([events, other])
    assert _see(other) == [("a", "see", "event-types"), ("b", "fail", None)]

    body = json.dumps({"event_name": "b", "event": "c"}).encode()
    events = check("event-types", "fail", case("event", "fail", 400, body=body))
    other = check(
        "payload-variants",
        "fail",
        case("b", "fail", 400, body=_event("event_name", "b")),
        case("c", "fail", 400, body=_event("event", "c")),
    )
    attribute([events, other])
    assert _see(other) == [("b", "see", "event-types"), ("c", "fail", None)]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1]", json.dumps({"type": 3}).encode(), b"{}"],
    ids=["not json", "array", "number", "none"],
)
def test_a_body_without_a_readable_type_is_matched_as_having_none(body: bytes) -> None:
    events = check("event-types", "fail", case("event", "fail", 400, body=body))
    other = check(
        "payload-variants",
        "fail",
        case("no type", "fail", 400, body=b"{}"),
        case("typed", "fail", 400, body=_event("type", "a")),
    )
    attribute([events, other])
    assert _see(other) == [("no type", "see", "event-types"), ("typed", "fail", None)]


def test_event_types_without_a_refusal_own_nothing() -> None:
    events = check(
        "event-types",
        "fail",
        case("event a", "fail", 200, body=_event("type", "a")),
        case("seen", "fail", 400, body=_event("type", "a"), see="baseline"),
    )
    other = check("payload-variants", "fail", case("a", "fail", 400, body=_event("type", "a")))
    attribute([events, other])
    assert _see(other) == [("a", "fail", None)]


# -- the checks' status and detail afterwards ------------------------------------------------------
def test_a_check_with_problems_left_keeps_its_summary_and_names_the_owners() -> None:
    baseline = check("baseline", "fail", case("valid", "fail", 401, expect="accept"))
    deadline = check("deadline", "warn", case("timed", "warn"))
    other = check(
        "raw-body",
        "fail",
        case("refused", "fail", 401, expect="accept"),
        case("slow", "warn", None, outcome="timeout"),
        case("left", "warn", 200),
        detail="old detail",
    )
    attribute([baseline, deadline, other])
    assert other.status == "warn"
    assert other.detail == (
        "1 of 3 case(s): left: why left (+2 case(s) with the root cause that 'baseline', 'deadline' reports)"
    )


def test_a_check_fully_attributed_to_two_owners_names_both_and_points_at_the_first() -> None:
    baseline = check("baseline", "fail", case("valid", "fail", 401, expect="accept"))
    deadline = check("deadline", "fail", case("timed", "fail"))
    other = check(
        "raw-body",
        "warn",
        case("slow", "warn", None, outcome="timeout"),
        case("refused", "fail", 401, expect="accept"),
    )
    attribute([baseline, deadline, other])
    assert (other.status, other.see) == ("see", "baseline")
    assert other.detail == (
        "same root cause as 'baseline', 'deadline' (2 case(s)): slower than the deadline: why slow"
    )


def test_a_passed_check_with_an_attributed_case_keeps_its_status() -> None:
    baseline = check("baseline", "fail", case("valid", "fail", 401, expect="accept"))
    other = check("raw-body", "pass", case("refused", "fail", 401, expect="accept"), detail="all good")
    attribute([baseline, other])
    assert (other.status, other.see) == ("pass", None)
    assert other.detail == "all good (+1 case(s) with the root cause that 'baseline' reports)"


def test_a_check_with_nothing_attributed_is_left_alone() -> None:
    other = check("raw-body", "fail", case("refused", "fail", 401, expect="accept"), detail="as it was")
    attribute([other])
    assert (other.status, other.detail, other.see) == ("fail", "as it was", None)


def test_a_failure_left_keeps_the_check_failing() -> None:
    baseline = check("baseline", "fail", case("valid", "fail", 401, expect="accept"))
    other = check(
        "raw-body", "fail", case("refused", "fail", 401, expect="accept"), case("left", "fail", 500)
    )
    attribute([baseline, other])
    assert (other.status, other.see) == ("fail", None)
    assert other.detail == (
        "1 of 2 case(s): left: why left (+1 case(s) with the root cause that 'baseline' reports)"
    )


def test_a_warning_check_with_problems_left_is_summarised_again() -> None:
    baseline = check("baseline", "fail", case("valid", "fail", 401, expect="accept"))
    other = check(
        "ordering",
        "warn",
        case("refused", "warn", 401, expect="accept"),
        case("left", "warn", 409),
        case("fine", "pass", 200),
        detail="2 of 3 case(s): before attribution",
    )
    attribute([baseline, other])
    assert (other.status, other.see) == ("warn", None)
    assert other.detail == (
        "1 of 3 case(s): left: why left (+1 case(s) with the root cause that 'baseline' reports)"
    )
