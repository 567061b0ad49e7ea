"""The audit's working state: the target, how to reach it, and how to build probe requests.

Every provider fact comes from the profile: headers from :meth:`Profile.delivery_headers`
(tampering edits the headers the profile produced), bodies from the
:class:`~hookmock.factories.EventFactory`, the deadline from :attr:`Profile.deadline_ns`.
Which headers carry the signature, the timestamp or the token is found by asking the profile to
sign two bodies at two times and comparing (see :func:`auth_shape`).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..clock import SECOND, Clock, unix_s
from ..factories import EventFactory
from ..profiles import Profile
from ..transport import AttemptResult, Transport
from ..transport._gate import Gate
from .effect import EffectProbe
from .model import CaseResult, Exchange, Expect, ProbeRequest, Status, judge, worst
from .settle import EffectWatcher, Reading

__all__ = ["AuditContext", "AuthShape", "Outcome", "auth_shape"]

#: What a check returns: its status, a one-line detail and the cases it tried.
Outcome = tuple[Status, str, list[CaseResult]]

Progress = Callable[[str], None]

#: How long concurrent copies wait for one another at their gate before going anyway (a receiver
#: that serialises its requests, e.g. a lock around the whole handler, costs this once per round).
GATE_TIMEOUT_S = 2.0
#: Over a socket, how long the copies wait, all written but their last byte, for the receiver's
#: handlers to read what was written (real time: the receiver's threads must run).
GATE_PAUSE_S = 0.02


@dataclass(frozen=True)
class AuthShape:
    """Which of a profile's authenticity headers do what."""

    signature: tuple[str, ...]  # value depends on the body
    timestamp: tuple[str, ...]  # value is the send time
    token: tuple[str, ...]  # value is the shared secret itself

    @property
    def kind(self) -> str:
        if self.signature:
            return "signature"
        return "token" if self.token else "none"


def auth_shape(profile: Profile) -> AuthShape:
    """Find the signature, timestamp and token headers by signing two bodies at two times."""
    secret = profile.generate_secret(random.Random(0))
    ts = 1_000_000_000
    mid = profile.new_message_id(random.Random(0))  # one message: its id header is none of the three
    one = profile.sign(b'{"a":1}', secret, ts, message_id=mid)
    two = profile.sign(b'{"a":2}', secret, ts, message_id=mid)
    later = profile.sign(b'{"a":1}', secret, ts + 7, message_id=mid)
    signature = tuple(n for n in one if two.get(n) != one[n])
    timestamp = tuple(n for n in one if one[n] == str(ts) and later.get(n) == str(ts + 7))
    token = tuple(n for n in one if one[n] == secret)
    return AuthShape(signature=signature, timestamp=timestamp, token=token)


@dataclass
class AuditContext:
    """Everything a check needs.  Checks build requests here and send them with :meth:`send`."""

    profile: Profile
    secret: str = field(repr=False)  # never in a repr (reports, tracebacks)
    target: Any
    transport: Transport
    clock: Clock
    factory: EventFactory
    probe: EffectProbe | None = None
    concurrency: int = 6
    #: A valid delivery answered later than this is a warning ("return 200 quickly").
    warn_after_ns: int = SECOND
    shape: AuthShape = field(init=False)
    #: Durations of every valid delivery sent (for the deadline check).
    valid_durations: list[tuple[str, AttemptResult]] = field(default_factory=list)
    #: How many requests the audit sent (the report's footer).
    requests_sent: int = 0
    #: Settled reads of the probe (asynchronous receivers); built from ``probe`` when not given.
    watcher: EffectWatcher | None = None
    #: ``arm(event_id)``: make the receiver's work fail once for that event (the fail-once hook).
    fail_once: Callable[[str], Any] | None = None
    #: What 'idempotency' found (identical redeliveries applied once: True, more: False; not run:
    #: None), so that checks with the same root cause point at it instead of failing again.
    dedupes_identical: bool | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _accepted: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    #: Message ids given to payloads that carry none (a provider whose id travels in a header).
    _message_ids: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.shape = auth_shape(self.profile)
        if self.watcher is None and self.probe is not None:
            self.watcher = EffectWatcher(self.probe)

    # -- time and payloads ---------------------------------------------------------------
    def now(self) -> int:
        return unix_s(self.clock)  # whole seconds: what a timestamp header carries

    def event(self, event_type: str | None = None, /, **overrides: Any) -> dict[str, Any]:
        """A fresh event (fresh id) so that probes never interfere with each other."""
        if event_type is None:
            event_type = self.profile.event_types[0]
        return self.factory.event(event_type, **overrides)

    @property
    def rng(self) -> random.Random:
        return self.factory.rng

    def event_id(self, payload: dict[str, Any]) -> str | None:
        """The id ``payload`` is sent under: its own event id, or (for a provider that sends the
        message id in a header) one message id per payload, the same every time it is asked."""
        own = self.profile.event_id(payload)
        if own is not None or not isinstance(payload, dict):
            return own
        key = json.dumps(payload, sort_keys=True, default=str)
        with self._lock:
            if key not in self._message_ids:
                self._message_ids[key] = self.profile.new_message_id(self.factory.rng)
            return self._message_ids[key]

    # -- requests ------------------------------------------------------------------------
    def headers(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        message_id: str | None = None,
    ) -> dict[str, str]:
        """Every header of a delivery of ``body``, signed at ``timestamp`` (default: now), as the
        message ``message_id`` (:meth:`event_id` of its payload; a new one when None)."""
        ts = self.now() if timestamp is None else timestamp
        return self.profile.delivery_headers(
            body, self.secret if secret is None else secret, ts, message_id=message_id
        )

    def signed(
        self,
        label: str,
        payload: dict[str, Any],
        *,
        body: bytes | None = None,
        timestamp: int | None = None,
    ) -> ProbeRequest:
        """A valid delivery of ``payload`` (or of ``body``, its exact bytes)."""
        raw = self.profile.serialize(payload) if body is None else body
        event_id = self.event_id(payload)
        return ProbeRequest(label, self.headers(raw, timestamp=timestamp, message_id=event_id), raw, event_id)

    def valid(self, label: str, event_type: str | None = None, /, **overrides: Any) -> ProbeRequest:
        return self.signed(label, self.event(event_type, **overrides))

    def edited(
        self,
        request: ProbeRequest,
        label: str,
        *,
        drop: Sequence[str] = (),
        set_headers: dict[str, str] | None = None,
        body: bytes | None = None,
        masks: tuple[tuple[str, str], ...] = (),
    ) -> ProbeRequest:
        """``request`` with headers removed or replaced, or another body (signature unchanged)."""
        dropped = {d.lower() for d in drop}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in dropped}
        for name, value in (set_headers or {}).items():
            existing = [k for k in headers if k.lower() == name.lower()]
            for k in existing:
                del headers[k]
            headers[name] = value
        return ProbeRequest(
            label,
            headers,
            request.body if body is None else body,
            request.event_id,
            request.masks + masks,
        )

    # -- sending -------------------------------------------------------------------------
    def send(self, request: ProbeRequest, *, valid: bool = False, gate: Gate | None = None) -> Exchange:
        extra = {} if gate is None else {"gate": gate}
        result = self.transport.send(
            self.target,
            dict(request.headers),
            request.body,
            deadline_ns=self.profile.deadline_ns,
            clock=self.clock,
            **extra,
        )
        accepted = result.outcome == "response" and result.status is not None and 200 <= result.status <= 299
        with self._lock:
            self.requests_sent += 1
            if valid:
                self.valid_durations.append((request.label, result))
            if accepted and request.event_id is not None:
                self._accepted[request.event_id] += 1
        return Exchange(request, result)

    def send_concurrently(self, requests: Sequence[ProbeRequest]) -> tuple[list[Exchange], bool]:
        """Send every request at once, one thread each; and whether they were held together.

        With a transport that supports it (every built-in one), each copy is held at the last
        moment before the receiver can act on it (its last byte unsent, or its handler reading the
        body) until every copy is there, then all go together (:class:`~hookmock.transport._gate.Gate`).
        Over a socket the copies then wait :data:`GATE_PAUSE_S` more, for the receiver's handlers
        to read what was written.  Otherwise the threads are only started together.
        """
        gate = None
        if getattr(self.transport, "supports_gate", False):
            pause = GATE_PAUSE_S if isinstance(self.target, str) else 0.0
            gate = Gate(len(requests), timeout_s=GATE_TIMEOUT_S, pause_s=pause)
        barrier = threading.Barrier(len(requests))
        out: list[Exchange | None] = [None] * len(requests)
        errors: list[BaseException] = []

        def worker(i: int) -> None:
            try:
                barrier.wait(timeout=10)
                out[i] = self.send(requests[i], gate=gate)
            except BaseException as exc:  # re-raised in the calling thread
                errors.append(exc)
                if gate is not None:
                    gate.abandon()

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(requests))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        # Not timed for the deadline check: a held copy's time includes its wait for the other
        # copies (the audit's doing, not the receiver's).
        return [e for e in out if e is not None], gate is not None and gate.together

    def case(self, request: ProbeRequest, expect: Expect, expected: str) -> CaseResult:
        """Send one request and judge the answer."""
        exchange = self.send(request, valid=expect == "accept")
        status, why = judge(exchange.result, expect)
        return CaseResult(request.label, status, why, expected, (exchange,), expect=expect)

    def effect(self, event_id: str | None) -> int:
        """How many times the receiver applied ``event_id``, once the count has settled."""
        return self.read_effect(event_id).count

    def read_effect(self, event_id: str | None, *, at_least: int | None = None) -> Reading:
        """The settled reading of ``event_id``'s count.  An event that was answered with a 2xx
        is waited for until it is applied at least once (``at_least`` overrides that)."""
        assert self.watcher is not None and event_id is not None
        with self._lock:
            accepted = self._accepted[event_id]
        if at_least is None:
            at_least = 1 if accepted else 0
        # one accepted delivery can only be applied once: no need to wait for more
        return self.watcher.read(event_id, at_least=at_least, quick=accepted == 1)


def summarize(cases: list[CaseResult], passed: str) -> Outcome:
    """The check's status from its cases, and a detail naming the cases that went wrong."""
    status = worst([c.status for c in cases])
    bad = [c for c in cases if c.status in ("fail", "warn")]
    if not bad:
        return status, passed, cases
    shown = "; ".join(f"{c.label}: {c.why}" for c in bad[:4])
    more = f" (+{len(bad) - 4} more)" if len(bad) > 4 else ""
    return status, f"{len(bad)} of {len(cases)} case(s): {shown}{more}", cases
