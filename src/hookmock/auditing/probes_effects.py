"""Checks that an event is not lost on the way to its effect: dedupe poisoning (a forged copy
carrying a real event id must not block the genuine delivery) and a failed first attempt (the
retry must still apply the event).  Both need the effect probe; the second also the fail-once
hook (``fail_once=`` / ``--fail-once-url``)."""

from __future__ import annotations

import random

from .context import AuditContext, Outcome, summarize
from .effect import ProbeFailed
from .model import CaseResult, Exchange, ProbeRequest, judge

__all__ = ["check_dedupe_poisoning", "check_retry_after_failure", "needs_fail_once", "skip_unless_auth"]

GENUINE_ONCE = "the genuine delivery answered 2xx and applied exactly once, whatever came before it"
RETRY_ONCE = "a failed attempt answered non-2xx, then the retry answered 2xx and applied the event once"


def skip_unless_auth(ctx: AuditContext) -> str | None:
    from .probes_delivery import needs_probe

    if ctx.shape.kind == "none":
        return f"{ctx.profile.title} sends neither a signature nor a token, so nothing can be forged"
    return needs_probe(ctx)


def needs_fail_once(ctx: AuditContext) -> str | None:
    from .probes_delivery import needs_probe

    missing = needs_probe(ctx)
    if missing is not None:
        return missing
    if ctx.fail_once is None:
        return (
            "needs a fail-once hook to make the receiver's work fail once: fail_once=(app_or_module, "
            "'function_name') in Python, --fail-once-url TEMPLATE on the command line"
        )
    return None


def _other_secret(ctx: AuditContext) -> str:
    rng = random.Random(0x5EED)
    while True:
        other = ctx.profile.generate_secret(rng)
        if other != ctx.secret:
            return other


def _forgeries(ctx: AuditContext) -> list[tuple[ProbeRequest, ProbeRequest]]:
    """``(forged copy, genuine delivery)`` pairs, each for a fresh event."""
    pairs: list[tuple[ProbeRequest, ProbeRequest]] = []
    if ctx.shape.kind == "signature":
        payload = ctx.event()
        genuine = ctx.signed("then the genuine delivery", payload)
        forged = ProbeRequest(
            "a copy signed with another secret, first",
            ctx.headers(genuine.body, secret=_other_secret(ctx), message_id=genuine.event_id),
            genuine.body,
            genuine.event_id,
        )
        pairs.append((forged, genuine))
        payload = ctx.event()
        genuine = ctx.signed("then the genuine delivery", payload)
        pairs.append(
            (ctx.edited(genuine, "a copy without a signature, first", drop=ctx.shape.signature), genuine)
        )
    elif ctx.shape.kind == "token":
        name = ctx.shape.token[0]
        payload = ctx.event()
        genuine = ctx.signed("then the genuine delivery", payload)
        pairs.append(
            (
                ctx.edited(
                    genuine, "a copy with a wrong token, first", set_headers={name: _other_secret(ctx)}
                ),
                genuine,
            )
        )
        payload = ctx.event()
        genuine = ctx.signed("then the genuine delivery", payload)
        pairs.append((ctx.edited(genuine, "a copy without the token, first", drop=ctx.shape.token), genuine))
    return pairs


def check_dedupe_poisoning(ctx: AuditContext) -> Outcome:
    """A forged copy of an event first (bad signature or token, the real event id), then the
    genuine delivery: the genuine one must still be applied, once."""
    cases: list[CaseResult] = []
    for forged, genuine in _forgeries(ctx):
        label = f"{forged.label}, {genuine.label}"
        exchanges = (ctx.send(forged), ctx.send(genuine, valid=True))
        status, why = judge(exchanges[1].result, "accept")
        if status == "fail":
            why = f"after a forged copy with the same event id, the genuine delivery got {why}"
            cases.append(CaseResult(label, "fail", why, GENUINE_ONCE, exchanges))
            continue
        try:
            reading = ctx.read_effect(genuine.event_id, at_least=1)
        except ProbeFailed as exc:
            cases.append(CaseResult(label, "fail", str(exc), GENUINE_ONCE, exchanges))
            continue
        if reading.count == 0:
            why = (
                f"the genuine delivery was answered {exchanges[1].status} but never applied after a forged "
                f"copy carrying its event id: the event id is recorded as seen before the request is "
                "verified, so anyone can block an event (verify first, then deduplicate)"
            )
            cases.append(CaseResult(label, "fail", why, GENUINE_ONCE, exchanges, 0))
        elif reading.count > 1:
            why = f"a forged copy and the genuine delivery were applied {reading.count} time(s)"
            progression = reading.progression()
            why += f" ({progression})" if progression else ""
            why += "; see 'effect-before-verify'"
            cases.append(CaseResult(label, "fail", why, GENUINE_ONCE, exchanges, reading.count))
        else:
            cases.append(
                CaseResult(label, "pass", "the genuine delivery was applied once", GENUINE_ONCE, exchanges, 1)
            )
    return summarize(
        cases,
        f"after {len(cases)} forged copies carrying real event ids, each genuine delivery was applied once",
    )


def _retry(ctx: AuditContext, first: ProbeRequest) -> ProbeRequest:
    """The provider's retry of ``first``: re-signed with a fresh timestamp when it has one."""
    if ctx.shape.timestamp:
        return ctx.edited(
            first,
            "the retry",
            set_headers=ctx.headers(first.body, message_id=first.event_id),
        )
    return ProbeRequest("the retry", first.headers, first.body, first.event_id)


def check_retry_after_failure(ctx: AuditContext) -> Outcome:
    """Arm a one-time failure of the receiver's work for one event, deliver (the attempt must
    fail), retry as the provider does, and require the effect applied exactly once."""
    assert ctx.fail_once is not None
    first = ctx.valid("attempt 1, with the receiver's work made to fail once")
    retry = _retry(ctx, first)
    event_id = first.event_id or ""
    label = "attempt 1 (work made to fail), then the retry"
    try:
        # the patch stays active until the effect has settled: an asynchronous receiver does its
        # work (and meets the failure) after it answered
        with ctx.fail_once(event_id) as armed:
            exchanges: tuple[Exchange, ...] = (ctx.send(first),)
            answered = exchanges[0].result
            if answered.outcome == "response" and 200 <= (answered.status or 0) <= 299:
                # acknowledged: the sender will not retry, so a correct receiver applies it (later,
                # when its own job queue retries the failed work): wait for that, within the bound
                reading = ctx.read_effect(event_id, at_least=1)
                retried = False
            else:
                exchanges += (ctx.send(retry, valid=True),)
                retried = True
                status, why = judge(exchanges[1].result, "accept")
                if status == "fail":
                    why = f"the retry after a failed attempt ({answered.describe()}) got {why}"
                    return "fail", why, [CaseResult(label, "fail", why, RETRY_ONCE, exchanges)]
                reading = ctx.read_effect(event_id, at_least=1)
            fired = armed.fired if armed is not None else None
            name = armed.name if armed is not None else ""
    except ProbeFailed as exc:
        return "fail", str(exc), [CaseResult(label, "fail", str(exc), RETRY_ONCE)]
    if not retried:
        return _acknowledged_anyway(answered.status or 0, reading.count, fired, name, exchanges)
    label = f"attempt 1 failed ({answered.describe()}), then the retry"
    if reading.count == 0:
        why = (
            f"the retry was answered {exchanges[1].status} but the event was never applied: the receiver "
            "records the event id as seen before its work succeeds, so a failed attempt loses the event "
            "(record it in the same transaction as the work, or forget it when the work fails)"
        )
        return "fail", why, [CaseResult(label, "fail", why, RETRY_ONCE, exchanges, 0)]
    if reading.count > 1:
        why = f"the failed attempt and its retry were applied {reading.count} time(s)"
        progression = reading.progression()
        why += f" ({progression})" if progression else ""
        return "fail", why, [CaseResult(label, "fail", why, RETRY_ONCE, exchanges, reading.count)]
    passed = f"attempt 1 failed ({answered.describe()}); the retry applied the event once"
    return "pass", passed, [CaseResult(label, "pass", passed, RETRY_ONCE, exchanges, 1)]


def _acknowledged_anyway(
    status: int, count: int, fired: bool | None, name: str, exchanges: tuple[Exchange, ...]
) -> Outcome:
    """Attempt 1 was answered 2xx although its work was made to fail."""
    if count == 1 and fired is False:
        why = (
            f"{name} was never called for this event, so nothing failed (the attempt was answered "
            f"{status} and applied): name the callable that does the receiver's work"
        )
        return "warn", why, [CaseResult("attempt 1", "warn", why, RETRY_ONCE, exchanges, count)]
    if count == 1:
        why = f"the attempt was answered {status} and the event applied once (recovered from the failure)"
        if fired is None:
            why += "; if that is unexpected, check that the fail-once hook really arms a failure"
        return "pass", why, [CaseResult("attempt 1", "pass", why, RETRY_ONCE, exchanges, count)]
    if count == 0:
        why = (
            f"the receiver's work failed but the attempt was answered {status}: the sender will not "
            "retry, so the event is lost (answer 5xx when the work fails, or retry the job durably)"
        )
    else:
        why = f"one attempt, whose work failed once, was applied {count} time(s)"
    return "fail", why, [CaseResult("attempt 1", "fail", why, RETRY_ONCE, exchanges, count)]
