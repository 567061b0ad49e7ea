"""Run the audit: every check of the catalogue against one receiver.

>>> report = hookmock.audit(app, profile="moda", secret="whsec_…", probe=store.count)  # doctest: +SKIP
>>> report.ok, report.summary["fail"]  # doctest: +SKIP

The target is a URL (real HTTP, loopback unless allowed), or a WSGI or ASGI application, or
``(app, "/path")`` (in-process, no server).  When the first valid delivery is answered 404 or 405
the audit stops with a :class:`WrongPath` usage error: the receiver is not at that path, and
every rejection check would pass for the wrong reason.  Each probe uses a fresh event, so probes
never interfere.  Timestamps come from the
audit's clock (the real clock by default; pass the receiver's :class:`VirtualClock` in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..clock import SECOND, Clock, RealClock
from ..errors import HookmockError, UsageError
from ..factories import EventFactory
from ..profiles import Profile, get_profile
from ..transport import Transport
from ..transport.apps import as_target, describe_target
from .attribution import attribute
from .catalogue import Check, catalogue_for
from .context import AuditContext
from .curl import Redactor
from .effect import EffectProbe, effect_probe
from .failonce import failure_hook
from .model import CheckResult
from .report import AuditReport
from .settle import EffectWatcher, check_settle

__all__ = ["ProbeUnusable", "TargetUnreachable", "WrongPath", "audit", "run_audit"]

Progress = Callable[[int, int, str], None]

#: How long the audit itself took is wall time, whatever clock the probes are stamped with.
_WALL = RealClock()

#: Where the curl lines of an in-process audit send to: the app's path on a local server.
IN_PROCESS_BASE = "http://127.0.0.1:8000"

#: The least settle period for a URL target (seconds): a receiver on the network may apply an event
#: a moment after it answered even when the baseline saw it applied at once.
SOCKET_SETTLE_FLOOR_S = 0.02

#: Outcomes of the first request that mean the target is not there at all.
_UNREACHABLE = ("refused", "dns_error", "error", "tls_error")


class TargetUnreachable(HookmockError):
    """The audit's first request could not reach the target (refused, DNS, TLS)."""


class WrongPath(UsageError):
    """The first valid delivery was answered 404 or 405: there is no webhook route at that path."""


class ProbeUnusable(UsageError):
    """The effect probe could not be read for the first valid delivery (a redirect, an error
    status, an answer that is not a count): a setup problem, not a finding about the receiver."""


def _select(
    only: Iterable[str] | None, skip: Iterable[str] | None, catalogue: tuple[Check, ...]
) -> list[Check]:
    names = {c.name for c in catalogue}
    wanted = set(only) if only is not None else set(names)
    unwanted = set(skip or ())
    unknown = (wanted | unwanted) - names
    if unknown:
        raise UsageError(
            f"unknown audit check(s) {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(c.name for c in catalogue)}"
        )
    wanted.add("baseline")  # always: it finds an unreachable target and a wrong secret
    unwanted.discard("baseline")
    return [c for c in catalogue if c.name in wanted and c.name not in unwanted]


def _transport_for(target: Any, allow_targets: tuple[str, ...], ca_file: str | None) -> Transport:
    if isinstance(target, str):
        from ..transport.http import HTTPTransport

        transport = HTTPTransport(allow_targets=allow_targets, ca_file=ca_file)
        transport.check_target(target)  # UsageError / TargetNotAllowed before any packet leaves
        return transport
    from ..transport.inprocess import InProcessTransport

    return InProcessTransport()


def _run_check(ctx: AuditContext, check: Check) -> CheckResult:
    started = _WALL.monotonic_ns()
    reason = ctx.profile.audit_skips.get(check.name) or check.applies(ctx)
    if reason is not None:
        return CheckResult(check.name, check.defect, check.title, "skip", reason, check.expected)
    status, detail, cases = check.run(ctx)
    result = CheckResult(check.name, check.defect, check.title, status, detail, check.expected, cases)
    result.duration_ns = _WALL.monotonic_ns() - started
    return result


def audit(
    target: Any,
    *,
    profile: str | Profile = "moda",
    secret: str,
    probe: EffectProbe | str | None = None,
    clock: Clock | None = None,
    transport: Transport | None = None,
    allow_targets: Iterable[str] = (),
    ca_file: str | None = None,
    only: Iterable[str] | None = None,
    skip: Iterable[str] | None = None,
    concurrency: int = 6,
    warn_after_s: float = 1.0,
    progress: Progress | None = None,
    seed: int | None = None,
    settle: float | None = None,
    fail_once: Any = None,
) -> AuditReport:
    """Attack the receiver at ``target`` with every probe of the catalogue; return the report.

    ``target``: a URL, or a WSGI or ASGI application, or ``(app, "/path")`` (delivered
    in-process).  ``secret``: the signing
    secret or webhook token the receiver is configured with.  ``probe``: the effect probe, a
    callable ``probe(event_id) -> int`` or a URL template with ``{event_id}``; checks that need it
    are skipped without one.  ``only`` / ``skip``: check names to run or leave out.
    ``progress(done, total, name)`` is called before each check.  ``seed`` makes the events
    reproducible (the same ids and field values on every run; without it they are random).
    ``settle``: seconds the effect count must stay unchanged before it is read (receivers that
    apply events asynchronously); ``None`` learns it from the baseline delivery, ``0`` reads at
    once.  ``fail_once``: how to make the receiver's work fail once for an event, for the
    ``retry-after-failure`` check: ``(app_or_module, "function_name")`` in-process, a URL template
    with ``{event_id}`` (POSTed to arm), or a callable ``arm(event_id)``.  Raises
    :class:`TargetUnreachable` when the first request cannot reach a URL target, and
    :class:`WrongPath` when it is answered 404 or 405 (no webhook route at that path).
    """
    prof = get_profile(profile)
    if not isinstance(secret, str) or not secret:
        raise UsageError(f"secret={secret!r}: give the {prof.secret_name} the receiver is configured with")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise UsageError(f"seed={seed!r}: give an integer (or None for random events)")
    if concurrency < 2:
        raise UsageError(f"concurrency={concurrency}: use at least 2 concurrent copies")
    if warn_after_s <= 0:
        raise UsageError(f"warn_after_s={warn_after_s}: use a positive number of seconds")
    allow = tuple(allow_targets)
    settle_s = check_settle(settle)
    clk: Clock = clock or RealClock()
    checks = _select(only, skip, catalogue_for(prof))
    resolved = as_target(target)  # UsageError for anything that names no target
    tx = transport or _transport_for(resolved, allow, ca_file)
    probe_fn = effect_probe(probe, allow_targets=allow, ca_file=ca_file)
    watcher = None
    if probe_fn is not None:
        # over the network a receiver may apply an event a moment after it answered
        floor = SOCKET_SETTLE_FLOOR_S if isinstance(resolved, str) else 0.0
        watcher = EffectWatcher(probe_fn, settle=settle_s, floor_s=floor)
    ctx = AuditContext(
        profile=prof,
        secret=secret,
        target=target if transport is not None else resolved,
        transport=tx,
        clock=clk,
        factory=EventFactory(prof, seed=seed, clock=clk),
        probe=probe_fn,
        concurrency=concurrency,
        warn_after_ns=int(warn_after_s * SECOND),
        watcher=watcher,
        fail_once=failure_hook(fail_once, allow_targets=allow, ca_file=ca_file),
    )
    started = _WALL.monotonic_ns()
    results: list[CheckResult] = []
    abort: str | None = None
    for index, check in enumerate(checks):
        if progress is not None:
            progress(index, len(checks), check.name)
        if abort is not None and check.name != "deadline":
            results.append(CheckResult(check.name, check.defect, check.title, "skip", abort, check.expected))
            continue
        result = _run_check(ctx, check)
        results.append(result)
        if check.name == "baseline":
            abort = _baseline_verdict(result, resolved)
    if progress is not None:
        progress(len(checks), len(checks), "done")
    attribute(results)
    redactor = Redactor(prof, secret)
    return AuditReport(
        target=describe_target(resolved),
        profile=prof.name,
        checks=results,
        duration_ns=_WALL.monotonic_ns() - started,
        # an in-process app has no URL: its curl lines show the app's path on a local server's address
        url=resolved if isinstance(resolved, str) else f"{IN_PROCESS_BASE}{resolved.path}",
        redactor=redactor,
        requests=ctx.requests_sent,
    )


def _baseline_verdict(result: CheckResult, target: Any) -> str | None:
    """Raise for an unreachable URL, a wrong path or an unusable probe; the reason to skip the rest
    when the receiver timed out or refused a valid delivery."""
    exchanges = [e for c in result.cases for e in c.exchanges]
    if not exchanges:
        return None
    outcome = exchanges[0].result
    if isinstance(target, str) and outcome.outcome in _UNREACHABLE:
        raise TargetUnreachable(f"cannot reach {target}: {outcome.describe()}")
    if outcome.outcome == "response" and outcome.status in (404, 405):
        where = describe_target(target)
        how = (
            "give the URL of the webhook route, e.g. http://127.0.0.1:8000/webhooks/moda"
            if isinstance(target, str)
            else "give the app with its webhook path, e.g. (app, '/webhooks/moda')"
        )
        raise WrongPath(
            f"the audit stopped: a valid delivery to {where} was answered HTTP {outcome.status} "
            f"({'no such route' if outcome.status == 404 else 'method not allowed'}), so the path is "
            f"probably wrong; {how}.  Every rejection check would otherwise pass for the wrong reason."
        )
    unusable = next((c for c in result.cases if c.cause == "probe"), None)
    if unusable is not None:
        raise ProbeUnusable(
            f"the audit stopped: the effect probe could not be read for a valid delivery ({unusable.why}); "
            "fix the probe (--probe-url / probe=) first: every effect check would otherwise fail for it"
        )
    if outcome.outcome == "timeout":
        return (
            "not run: the receiver did not answer a valid delivery within the deadline, so every probe "
            "would wait that long; fix the 'deadline' failure first"
        )
    if outcome.outcome == "response" and outcome.status is not None and not 200 <= outcome.status <= 299:
        # A receiver that refuses valid deliveries (a wrong secret, most often) refuses the forged
        # and stale ones too: the rejection checks would pass for the wrong reason.
        return (
            f"not run: a valid delivery was refused (HTTP {outcome.status}), so no check can tell a "
            "correct rejection from that refusal; fix 'baseline' first (is the secret right?)"
        )
    return None


#: The same function under the name the sub-package documents.
run_audit = audit
