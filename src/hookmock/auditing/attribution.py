"""Root-cause attribution: one failing check per cause, the others point at it.

A receiver that verifies nothing accepts forged requests, stale ones, future ones and malformed
ones: four checks would fail for one missing line of code.  After every check has run, the cases
that went wrong for a cause another check already reports get the status ``see`` and name that
check; a check whose every problem is attributed gets the status ``see`` too.  The rules, in order
(each names the check that owns the cause):

1. ``baseline`` rejects valid deliveries with status N: every case the provider really sends
   that got N too.
2. ``deadline`` failed: every case that timed out.
3. ``signature`` / ``token`` accepted a request signed with another secret (a wrong token): every
   accepted request in the authenticity and freshness checks (nothing is verified at all).
4. ``replay`` accepted a timestamp 30 days old (the age is never checked): every acknowledged
   future or malformed timestamp.  Otherwise ``replay`` / ``future-timestamp`` accepted stale /
   future timestamps: the malformed timestamps whose number lies that far out (``-1``, ``1e9``;
   milliseconds, 400 digits) and were acknowledged.
5. a case with the same request label as a problem of another check (``effect-before-verify``
   sends the signature, token and replay checks' requests) and that was accepted.
6. crashes by what the request damages: ``timestamp`` -> ``timestamp-parsing``, ``signature`` ->
   ``signature``, ``token`` -> ``token``, ``body`` -> ``bad-input`` (when that check crashed too).
7. ``charset`` crashed on non-ASCII text: every crash on a body with non-ASCII bytes; ``raw-body``
   rejected byte-exact variants: every non-ASCII variant ``charset`` saw rejected the same way.
8. ``idempotency`` applied identical copies more than once: the other duplicate checks' excess
   effects; ``duplicate-status`` refused duplicates: refused concurrent copies.
9. ``event-types`` refused some event types with status N: every case of those types refused
   with N.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import replace

from .context import summarize
from .model import CaseResult, CheckResult, crashed
from .probes_auth import NEVER_CHECKED_LABEL

__all__ = ["attribute"]

#: Checks about authenticity and freshness, where "accepted" is the symptom of no verification.
_AUTH_CHECKS = (
    "signature",
    "token",
    "effect-before-verify",
    "replay",
    "future-timestamp",
    "timestamp-parsing",
)
_CRASH_OWNERS = {
    "timestamp": "timestamp-parsing",
    "signature": "signature",
    "token": "token",
    "body": "bad-input",
}
_FORGERY_LABELS = ("signed with another secret", "wrong token")

Matcher = Callable[[CheckResult, CaseResult], bool]


def _code(case: CaseResult) -> int | None:
    return case.exchanges[0].status if case.exchanges else None


def _accepted(case: CaseResult) -> bool:
    code = _code(case)
    return code is not None and 200 <= code <= 299


def _crash(case: CaseResult) -> bool:
    return bool(case.exchanges) and any(crashed(e.result) for e in case.exchanges)


def _open(case: CaseResult) -> bool:
    return case.status in ("fail", "warn") and case.see is None


def _event_type(case: CaseResult) -> str | None:
    if not case.exchanges:
        return None
    try:
        payload = json.loads(case.exchanges[0].request.body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    kind = payload.get("type", payload.get("event_name", payload.get("event")))
    return kind if isinstance(kind, str) else None


def _crash_on(cause: str) -> Callable[[CaseResult], bool]:
    return lambda case: case.cause == cause and _crash(case)


def _any_check(test: Callable[[CaseResult], bool]) -> Matcher:
    return lambda _, case: test(case)


def _reported_by(reported: dict[str, str], owner: str) -> Matcher:
    return lambda _, case: reported.get(case.label) == owner and case.cause == "accepted"


def _point(checks: Iterable[CheckResult], owner: str, matches: Matcher, why: str) -> None:
    for check in checks:
        if check.name == owner:
            continue
        for i, case in enumerate(check.cases):
            if _open(case) and matches(check, case):
                check.cases[i] = replace(case, status="see", see=owner, why=f"{why}: {case.why}")


def attribute(results: list[CheckResult]) -> None:
    """Mark the cases (and checks) whose root cause another check reports; in place."""
    by_name = {c.name: c for c in results}

    def owner_has(name: str, test: Callable[[CaseResult], bool]) -> bool:
        check = by_name.get(name)
        return (
            check is not None
            and check.status in ("fail", "warn")
            and any(_open(c) and test(c) for c in check.cases)
        )

    # 1. the baseline valid delivery is refused: everything the provider sends is refused alike.
    baseline = by_name.get("baseline")
    if baseline is not None and baseline.status == "fail" and baseline.cases:
        code = _code(baseline.cases[0])
        if code is not None and not 200 <= code <= 299:
            _point(
                results,
                "baseline",
                lambda _, c: c.expect == "accept" and _code(c) == code,
                f"valid deliveries are refused (HTTP {code})",
            )
    # 2. too slow: every timeout.
    if owner_has("deadline", lambda c: True):
        _point(
            results,
            "deadline",
            lambda _, c: bool(c.exchanges) and c.exchanges[0].result.outcome == "timeout",
            "slower than the deadline",
        )
    # 3. nothing is verified: every accepted request in the authenticity and freshness checks.
    for owner in ("signature", "token"):
        if owner_has(owner, lambda c: c.label.startswith(_FORGERY_LABELS) and _accepted(c)):
            _point(
                results,
                owner,
                lambda check, c: check.name in _AUTH_CHECKS and (_accepted(c) or c.cause == "accepted"),
                "the receiver accepts forged requests",
            )
    # 4. the timestamp window: what a missing window lets through is reported once.
    _attribute_window(results, owner_has)
    # 5. the same request already reported by another check (effect-before-verify's requests).
    reported: dict[str, str] = {}
    for check in results:
        if check.name != "effect-before-verify":
            for case in check.cases:
                if _open(case):
                    reported.setdefault(case.label, check.name)
    for owner in sorted(set(reported.values())):
        _point(
            results,
            owner,
            _reported_by(reported, owner),
            "accepted, as that check reports",
        )
    # 6. crashes, by what the request damages.
    for cause, owner in _CRASH_OWNERS.items():
        if owner_has(owner, _crash_on(cause)):
            _point(
                results,
                owner,
                _any_check(_crash_on(cause)),
                f"crashes on a damaged {cause}",
            )
    # 7. charset and raw bytes.
    if owner_has("charset", _crash):
        _point(
            results,
            "charset",
            lambda _, c: _crash(c) and bool(c.exchanges) and not c.exchanges[0].request.body.isascii(),
            "crashes on non-ASCII text",
        )
    raw_codes = {_code(c) for c in by_name["raw-body"].cases if _open(c)} if "raw-body" in by_name else set()
    raw_codes = {code for code in raw_codes if code is not None and 400 <= code <= 499}
    if raw_codes:
        _point(
            results,
            "raw-body",
            lambda check, c: check.name == "charset" and _code(c) in raw_codes,
            "verifies other bytes than the raw body",
        )
    # 8. duplicates.
    if owner_has("idempotency", lambda c: (c.effect or 0) > 1):
        _point(
            results,
            "idempotency",
            lambda _, c: (c.effect or 0) > 1,
            "the receiver does not deduplicate identical copies",
        )
    if owner_has("duplicate-status", lambda c: not _accepted(c)):
        _point(
            results,
            "duplicate-status",
            lambda check, c: check.name == "concurrent-duplicates" and not _accepted(c) and not _crash(c),
            "duplicates are refused",
        )
    # 9. event types refused.
    events = by_name.get("event-types")
    if events is not None:
        refused = {(_event_type(c), _code(c)) for c in events.cases if _open(c) and not _accepted(c)}
        if refused:
            _point(
                results,
                "event-types",
                lambda _, c: not _accepted(c) and (_event_type(c), _code(c)) in refused,
                "this event type is refused",
            )
    for check in results:
        _settle(check)


def _attribute_window(
    results: list[CheckResult], owner_has: Callable[[str, Callable[[CaseResult], bool]], bool]
) -> None:
    """A receiver that never checks the timestamp's age accepts stale, future and malformed
    timestamps alike: one cause, reported by ``replay``.  One that checks only the past accepts
    far-future numbers (milliseconds, 400 digits) as it accepts a timestamp an hour ahead: the
    cause ``future-timestamp`` reports."""
    if owner_has("replay", lambda c: c.label == NEVER_CHECKED_LABEL and _accepted(c)):
        _point(
            results,
            "replay",
            lambda check, c: check.name in ("future-timestamp", "timestamp-parsing") and _accepted(c),
            "the receiver never checks the timestamp's age",
        )
    for side, owner in (("past", "replay"), ("future", "future-timestamp")):
        if owner_has(owner, _accepted_beyond(side)):
            _point(
                results,
                owner,
                _parsing_accepted_beyond(side),
                f"a number that far in the {side} is accepted, as that check reports",
            )


def _accepted_beyond(side: str) -> Callable[[CaseResult], bool]:
    return lambda case: case.reads_as == side and _accepted(case)


def _parsing_accepted_beyond(side: str) -> Matcher:
    test = _accepted_beyond(side)
    return lambda check, case: check.name == "timestamp-parsing" and test(case)


def _settle(check: CheckResult) -> None:
    """The check's status and detail after attribution."""
    seen = check.attributed
    if not seen:
        return
    owners = sorted({c.see for c in seen if c.see})
    named = ", ".join(repr(o) for o in owners)
    remaining = [c.status for c in check.cases if c.status != "see"]
    if check.status in ("fail", "warn") and not any(s in ("fail", "warn") for s in remaining):
        check.status = "see"
        check.see = owners[0]
        check.detail = f"same root cause as {named} ({len(seen)} case(s)): {seen[0].why}"
        return
    if check.status in ("fail", "warn"):
        check.status, check.detail, _ = summarize(check.cases, check.detail)
    check.detail += f" (+{len(seen)} case(s) with the root cause that {named} reports)"
