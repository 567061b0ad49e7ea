"""Scripted receivers and synthetic results for fast unit tests of the audit's judgement code.

An :class:`~hookmock.auditing.context.AuditContext` over the in-process transport, a virtual
clock and a seeded factory; receivers whose answers are scripted by what the request is (validly
signed or not), and effect probes answering fixed counts.  A judgement function then runs in
milliseconds instead of the seconds of a whole audit."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

import hookmock
from hookmock.auditing.context import AuditContext
from hookmock.auditing.model import CaseResult, CheckResult, Exchange, ProbeRequest
from hookmock.auditing.settle import EffectWatcher
from hookmock.clock import VirtualClock
from hookmock.factories import EventFactory
from hookmock.profiles import get_profile
from hookmock.profiles.moda import ModaProfile
from hookmock.transport import AttemptResult
from hookmock.transport.inprocess import InProcessTransport

#: What a scripted receiver does: an HTTP status, ``"raise"`` (an exception: no answer) or
#: ``"slow"`` (past the provider's deadline).
Answer = int | str | tuple[int, float]


class UnsignedProfile(ModaProfile):
    """Moda's payloads with no authenticity header at all (nothing can be forged)."""

    name = "unsigned-test"

    def sign(
        self, body: bytes, secret: str, timestamp: int, *, message_id: str | None = None
    ) -> dict[str, str]:
        return {}

    def verify(self, headers: Any, body: bytes, secret: str, *, now: int, tolerance: int = 300) -> int | None:
        return None


def scripted(
    ctx_holder: list[AuditContext], signed: Answer | list[Answer], forged: Answer
) -> Callable[..., Any]:
    """A WSGI receiver answering ``signed`` to a request that verifies with the audit's secret and
    ``forged`` to any other (``ctx_holder[0]`` is the context, set once it exists).  A list of
    answers is answered in turn, the last one repeated.  ``(status, seconds)``: that status after
    that many seconds of the virtual clock."""
    queue = list(signed) if isinstance(signed, list) else [signed]

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        ctx = ctx_holder[0]
        request = Request(environ)
        body = request.get_data(cache=False)
        try:
            hookmock.verify(ctx.profile, request.headers, body, ctx.secret, clock=ctx.clock)
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        except hookmock.VerificationError:
            answer = forged
        if answer == "raise":
            raise RuntimeError("the receiver crashed")
        assert isinstance(ctx.clock, VirtualClock)
        if answer == "slow":
            ctx.clock.advance(ns=ctx.profile.deadline_ns + 1)
            answer = 200
        if isinstance(answer, tuple):
            answer, seconds = answer
            ctx.clock.advance(seconds)
        return Response("answer", status=int(answer))(environ, start_response)

    return app


def context(
    profile: str | hookmock.Profile = "moda",
    *,
    signed: Answer | list[Answer] = 200,
    forged: Answer = 401,
    app: Callable[..., Any] | None = None,
    probe: Callable[[str], int] | None = None,
    fail_once: Callable[[str], Any] | None = None,
    seed: int = 7,
    settle: float = 0,
) -> AuditContext:
    """An audit context over a scripted receiver (or ``app``), on a virtual clock; the effect
    probe's reads wait ``settle`` seconds of that clock for the count to settle."""
    prof = get_profile(profile) if isinstance(profile, str) else profile
    clock = VirtualClock(start=1_700_000_000)
    holder: list[AuditContext] = []
    ctx = AuditContext(
        profile=prof,
        secret=prof.generate_secret(random.Random(f"secret {seed}")),
        target=app if app is not None else scripted(holder, signed, forged),
        transport=InProcessTransport(),
        clock=clock,
        factory=EventFactory(prof, seed=seed, clock=clock),
        probe=probe,
        watcher=None
        if probe is None
        else EffectWatcher(probe, settle=settle, sleep=clock.sleep, monotonic_ns=clock.monotonic_ns),
        fail_once=fail_once,
    )
    holder.append(ctx)
    return ctx


def counting(counts: Iterable[int] | int) -> Callable[[str], int]:
    """An effect probe answering ``counts`` (one value per read, the last one repeated)."""
    answers = [counts] if isinstance(counts, int) else list(counts)

    def probe(event_id: str) -> int:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return probe


# -- synthetic results, for the attribution step ------------------------------------------------
def answered(
    status: int | None,
    *,
    body: bytes = b"{}",
    label: str = "request",
    outcome: str | None = None,
) -> Exchange:
    """An exchange answered ``status`` (None: no answer, outcome ``error`` unless given)."""
    if status is None:
        result = AttemptResult(outcome or "error", 1_000, detail="boom")
    else:
        result = AttemptResult(outcome or "response", 1_000, status=status)
    return Exchange(ProbeRequest(label, {}, body, "evt_1"), result)


def case(
    label: str,
    status: str,
    code: int | None = None,
    *,
    body: bytes = b"{}",
    outcome: str | None = None,
    **fields: Any,
) -> CaseResult:
    exchanges = (
        () if code is None and outcome is None else (answered(code, body=body, label=label, outcome=outcome),)
    )
    return CaseResult(label, status, f"why {label}", "expected", exchanges, **fields)  # type: ignore[arg-type]


def check(name: str, status: str, *cases: CaseResult, detail: str = "detail") -> CheckResult:
    return CheckResult(name, 1, name.title(), status, detail, "expected", list(cases))  # type: ignore[arg-type]
