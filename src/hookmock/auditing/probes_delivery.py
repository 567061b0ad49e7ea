"""Checks on how deliveries are handled: the baseline, idempotency, duplicate handling, the
response deadline, ordering and the advisory constant-time check (defect classes 10-14, 19, 20)."""

from __future__ import annotations

from ..clock import MS, SECOND, VirtualClock
from ..factories import EventFactory
from .context import AuditContext, Outcome, summarize
from .effect import ProbeFailed
from .model import CaseResult, Exchange, ProbeRequest, judge

__all__ = [
    "check_baseline",
    "check_concurrent",
    "check_constant_time",
    "check_deadline",
    "check_dedupe_key",
    "check_duplicate_status",
    "check_idempotency",
    "check_ordering",
    "skip_unless_fresh_signatures",
]

ONCE = "2xx each time, and the event applied exactly once"


def needs_probe(ctx: AuditContext) -> str | None:
    if ctx.probe is not None:
        return None
    return (
        "needs an effect probe (probe=callable in Python, --probe-url TEMPLATE on the command line) "
        "to count how many times the receiver applied an event"
    )


def skip_unless_fresh_signatures(ctx: AuditContext) -> str | None:
    if ctx.shape.timestamp:
        return needs_probe(ctx)
    return (
        f"{ctx.profile.title} re-sends identical requests, so nothing changes between attempts "
        "(the 'idempotency' check covers its retries)"
    )


def check_baseline(ctx: AuditContext) -> Outcome:
    """A plain valid delivery: 2xx (and, with a probe, applied once: the probe works)."""
    request = ctx.valid("valid delivery")
    case = ctx.case(request, "accept", "2xx for a valid, fresh, correctly signed delivery")
    if case.status == "fail":
        hint = f" (is the {ctx.profile.secret_name} right? every other check depends on this one)"
        return (
            "fail",
            case.why + hint,
            [CaseResult(case.label, "fail", case.why + hint, case.expected, case.exchanges)],
        )
    if ctx.probe is not None:
        try:
            reading = ctx.read_effect(request.event_id, at_least=1)
        except ProbeFailed as exc:
            failed = CaseResult(case.label, "fail", str(exc), case.expected, case.exchanges, cause="probe")
            return "fail", str(exc), [failed]
        count = reading.count
        if count != 1:
            waited = f" after waiting {reading.waited_ns / SECOND:.1f} s" if count == 0 else ""
            progression = reading.progression()
            why = (
                f"the effect probe counts {count} application(s) of an accepted delivery{waited}; expected 1"
                f"{f' ({progression})' if progression else ''} (is the probe URL right?)"
            )
            return "fail", why, [CaseResult(case.label, "fail", why, case.expected, case.exchanges, count)]
        lag = ctx.watcher.describe() if ctx.watcher is not None else ""
        return "pass", f"{case.why}; the effect probe counts 1 ({lag})", [case]
    return "pass", f"{case.why} for a valid delivery", [case]


def _redeliveries(ctx: AuditContext, label: str, *, fresh: bool, copies: int = 3) -> list[ProbeRequest]:
    """``copies`` deliveries of one event: identical requests, or re-signed one second apart."""
    payload = ctx.event()
    now = ctx.now()
    if not fresh:
        first = ctx.signed(label, payload)
        return [
            ProbeRequest(f"{label}, copy {i + 1}", first.headers, first.body, first.event_id)
            for i in range(copies)
        ]
    return [
        ctx.signed(f"{label}, attempt {i + 1}", payload, timestamp=now - (copies - 1 - i))
        for i in range(copies)
    ]


def _effect_case(ctx: AuditContext, label: str, exchanges: list[Exchange]) -> CaseResult:
    first = exchanges[0]
    status, why = judge(first.result, "accept")
    if status == "fail":
        return CaseResult(
            label, "fail", f"the first delivery was not accepted: {why}", ONCE, tuple(exchanges)
        )
    try:
        reading = ctx.read_effect(first.request.event_id, at_least=1)
    except ProbeFailed as exc:
        return CaseResult(label, "fail", str(exc), ONCE, tuple(exchanges))
    count = reading.count
    if count != 1:
        why = f"{len(exchanges)} deliveries of event {first.request.event_id} were applied {count} time(s)"
        progression = reading.progression()
        if progression:
            why += f" ({progression})"
        return CaseResult(label, "fail", why, ONCE, tuple(exchanges), count)
    return CaseResult(label, "pass", f"{len(exchanges)} deliveries, applied once", ONCE, tuple(exchanges), 1)


def check_idempotency(ctx: AuditContext) -> Outcome:
    requests = _redeliveries(ctx, "the same request sent 3 times", fresh=False)
    exchanges = [ctx.send(r, valid=True) for r in requests]
    case = _effect_case(ctx, "identical redeliveries", exchanges)
    if case.effect is not None:
        ctx.dedupes_identical = case.effect == 1
    return case.status, case.why, [case]


def check_dedupe_key(ctx: AuditContext) -> Outcome:
    requests = _redeliveries(ctx, "one event re-signed with a fresh timestamp", fresh=True)
    exchanges = [ctx.send(r, valid=True) for r in requests]
    case = _effect_case(ctx, "redeliveries with fresh timestamps and signatures", exchanges)
    if case.status == "fail" and (case.effect or 0) > 1:
        # The per-attempt-key hint is for receivers that recognise identical copies (found by
        # 'idempotency'); one that applies those again too does no dedupe at all, and the
        # attribution step points this case at 'idempotency'.
        if ctx.dedupes_identical:
            hint = (
                "identical copies are deduplicated, so the key changes per attempt (the signature or "
                "the timestamp?): deduplicate on the event id"
            )
        elif ctx.dedupes_identical is False:
            hint = "an identical copy was applied again too: the receiver does not deduplicate at all"
        else:
            hint = "deduplicate on the event id, never on a value that changes per attempt"
        case = CaseResult(
            case.label,
            "fail",
            f"{case.why}; {hint}",
            case.expected,
            case.exchanges,
            case.effect,
            cause="dedupe",
        )
    return case.status, case.why, [case]


#: How many bursts of concurrent copies (each of a fresh event) a receiver must apply once each.
#: A check-then-insert race shows in a burst only if the scheduler lets a second copy reach the
#: check before the first one inserts; the gate (see ``AuditContext.send_concurrently``) makes that
#: very likely, and a few bursts make a miss on a loaded machine vanishingly rare.
CONCURRENT_ROUNDS = 3


def check_concurrent(ctx: AuditContext) -> Outcome:
    """Bursts of identical copies released together; every burst must be applied exactly once."""
    together = 0
    for burst in range(1, CONCURRENT_ROUNDS + 1):
        label = f"{ctx.concurrency} concurrent copies" + (f" (burst {burst})" if burst > 1 else "")
        requests = _redeliveries(ctx, label, fresh=False, copies=ctx.concurrency)
        exchanges, held = ctx.send_concurrently(requests)
        together += held
        cases: list[CaseResult] = []
        for exchange in exchanges:
            status, why = judge(exchange.result, "accept")
            if status == "fail":
                cases.append(CaseResult(exchange.request.label, status, why, ONCE, (exchange,)))
        if ctx.probe is None:
            if cases:
                return summarize(cases, "")
            why = f"all {len(exchanges)} concurrent copies got a 2xx; {needs_probe(ctx) or ''}"
            return "skip", why, []
        case = _effect_case(ctx, f"{len(exchanges)} concurrent copies of one delivery", exchanges)
        cases.append(case)
        if any(c.status != "pass" for c in cases) or not held:
            # a failure; or the copies could not be held together (the receiver serialises its
            # requests, or answers before reading the body): more bursts would show nothing new
            break
    how = f"{together} burst(s) held until the receiver had every copy" if together else "sent at once"
    return summarize(cases, f"{len(exchanges)} concurrent copies of one delivery were applied once ({how})")


def check_duplicate_status(ctx: AuditContext) -> Outcome:
    fresh = bool(ctx.shape.timestamp)
    requests = _redeliveries(ctx, "the same event delivered again", fresh=fresh, copies=2)
    expected = "2xx for a duplicate too (a non-2xx makes the sender retry it)"
    cases = [ctx.case(r, "accept", expected) for r in requests]
    return summarize(cases, "a duplicate delivery was acknowledged with a 2xx")


def check_deadline(ctx: AuditContext) -> Outcome:
    ctx.case(ctx.valid("valid delivery (timed)"), "accept", "")
    deadline = ctx.profile.deadline_ns
    limit = f"{ctx.profile.title} waits at most {deadline / SECOND:g} s for the whole response"
    expected = f"a complete response well within the deadline ({limit}); return 2xx first, work later"
    timings = list(ctx.valid_durations)
    if not timings:
        return "skip", "no valid delivery was sent", []
    cases: list[CaseResult] = []
    for label, result in timings:
        if result.outcome == "timeout" or result.duration_ns > deadline:
            why = f"no complete response within the deadline ({result.describe()}); {limit}"
            cases.append(CaseResult(label, "fail", why, expected))
        elif result.duration_ns > ctx.warn_after_ns:
            took, warn_ms = result.duration_ns / MS, ctx.warn_after_ns / MS
            why = f"answered in {took:.0f} ms (over {warn_ms:.0f} ms); {limit}"
            cases.append(CaseResult(label, "warn", why, expected))
    slowest = max(timings, key=lambda t: t[1].duration_ns)
    passed = f"slowest of {len(timings)} valid deliveries: {slowest[1].duration_ns / MS:.1f} ms ({limit})"
    return summarize(cases, passed) if cases else ("pass", passed, [])


def check_ordering(ctx: AuditContext) -> Outcome:
    """Advisory: a newer event arrives before an older one; both must still be acknowledged."""
    types = ctx.profile.event_types
    seed = None if ctx.factory.seed is None else ctx.factory.seed + 1  # reproducible when the audit is
    older_factory = EventFactory(ctx.profile, seed=seed, clock=VirtualClock(start=ctx.now() - 120))
    older = older_factory.event(types[1 % len(types)])
    newer = ctx.event(types[0])
    expected = "2xx for both: events can arrive out of order; compare the event times, do not reject"
    cases = [
        ctx.case(ctx.signed(f"newer event {types[0]} first", newer), "accept", expected),
        ctx.case(
            ctx.signed(f"then an event {types[1 % len(types)]} created 2 min earlier", older),
            "accept",
            expected,
        ),
    ]
    bad = [c for c in cases if c.status == "fail"]
    if bad:
        warned = [
            CaseResult(c.label, "warn" if c in bad else c.status, c.why, c.expected, c.exchanges)
            for c in cases
        ]
        return summarize(warned, "")
    return "pass", "advisory: events delivered out of order were both acknowledged", cases


#: How to compare a secret in constant time, in the languages receivers are commonly written in.
CONSTANT_TIME_ADVICE = (
    "Python hmac.compare_digest, Node crypto.timingSafeEqual (throws on unequal lengths: compare the "
    "lengths first), Go hmac.Equal (crypto/hmac) or subtle.ConstantTimeCompare, Java MessageDigest.isEqual, "
    "Ruby Rack::Utils.secure_compare, PHP hash_equals, .NET CryptographicOperations.FixedTimeEquals"
)


def check_constant_time(ctx: AuditContext) -> Outcome:
    what = "signatures" if ctx.shape.kind == "signature" else "tokens"
    return (
        "skip",
        f"advisory: a non-constant-time comparison is not observable over the network without a flaky "
        f"timing test; compare {what} as bytes in constant time: {CONSTANT_TIME_ADVICE}",
        [],
    )
