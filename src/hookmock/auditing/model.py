"""What an audit records: the requests it sent, what came back, and each check's verdict.

Statuses: ``pass``; ``fail`` (a defect that breaks with the real provider, or that a caller
without the secret can exploit); ``warn`` (robustness beyond the provider's contract, or a breach
of it that only a holder of the secret can trigger); ``see`` (it failed or warned for a root
cause another check already reports: ``see`` names that check); ``skip`` (not observable here,
with the reason).  The rules, check by check, are in ``docs/audit-catalogue.md``.

A check holds the cases it tried, each with its own status; every case keeps its requests so the
report can show them (and render them as ``curl`` commands).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..transport import AttemptResult

__all__ = [
    "STATUSES",
    "CaseResult",
    "CheckResult",
    "Exchange",
    "Expect",
    "ProbeRequest",
    "Status",
    "crashed",
    "judge",
    "worst",
]

Status = Literal["pass", "fail", "warn", "see", "skip"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "warn", "see", "skip")
_RANK = {"pass": 0, "skip": 1, "see": 2, "warn": 3, "fail": 4}

#: What a correct receiver does with a probe: ``accept`` = 2xx; ``reject`` = any 4xx;
#: ``no_5xx`` = 2xx or 4xx (anything but a server error or no answer).
Expect = Literal["accept", "reject", "no_5xx"]


@dataclass(frozen=True)
class ProbeRequest:
    """One request an audit sends.  ``masks`` maps secret-derived values (a truncated or
    case-changed token, …) to the words shown instead of them in every report."""

    label: str
    headers: Mapping[str, str] = field(repr=False)  # the token itself (mod.io): never in a repr
    body: bytes
    event_id: str | None = None
    masks: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Exchange:
    """A request and what the receiver did with it."""

    request: ProbeRequest
    result: AttemptResult

    @property
    def status(self) -> int | None:
        return self.result.status if self.result.outcome == "response" else None


@dataclass(frozen=True)
class CaseResult:
    """One case of a check: what was sent, what came back, and the verdict on it."""

    label: str
    status: Status
    why: str
    expected: str
    exchanges: tuple[Exchange, ...] = ()
    effect: int | None = None
    #: What a correct receiver does with the request (``accept``, ``reject``, ``no_5xx``).
    expect: Expect | None = None
    #: What the request damages (``signature``, ``timestamp``, ``token``, ``body``): the root
    #: cause a crash on it belongs to (see :mod:`.attribution`).
    cause: str | None = None
    #: For a crash: whether a caller without the secret can trigger it (None: not a crash).
    anonymous: bool | None = None
    #: The check that reports this case's root cause (status ``see``), or None.
    see: str | None = None
    #: For a timestamp probe: ``"past"`` or ``"future"`` when its value, read as a number, lies
    #: beyond the provider's tolerance that way (a receiver without that window accepts it for
    #: that reason: see :mod:`.attribution`), else None.
    reads_as: str | None = None


@dataclass
class CheckResult:
    """The verdict of one check of the catalogue."""

    name: str
    defect: int
    title: str
    status: Status
    detail: str
    expected: str
    cases: list[CaseResult] = field(default_factory=list)
    duration_ns: int = 0

    #: The check that reports this check's root cause (status ``see``), or None.
    see: str | None = None

    @property
    def problems(self) -> list[CaseResult]:
        return [c for c in self.cases if c.status in ("fail", "warn")]

    @property
    def attributed(self) -> list[CaseResult]:
        """Cases that went wrong for a root cause another check reports."""
        return [c for c in self.cases if c.status == "see"]


def worst(statuses: list[Status], default: Status = "pass") -> Status:
    """The most serious of ``statuses`` (fail > warn > see > skip > pass)."""
    return max(statuses, key=lambda s: _RANK[s]) if statuses else default


def crashed(result: AttemptResult) -> bool:
    """A server error, or no complete answer at all."""
    if result.outcome != "response" or result.status is None:
        return True
    return 500 <= result.status <= 599


def judge(result: AttemptResult, expect: Expect) -> tuple[Status, str]:
    """Whether one answer is what a correct receiver gives; returns (status, reason)."""
    if result.outcome != "response" or result.status is None:
        what = "did not answer within the deadline" if result.outcome == "timeout" else "did not answer"
        return "fail", f"the receiver {what} ({result.describe()}); the sender treats that as a failure"
    code = result.status
    if 500 <= code <= 599:
        if expect == "accept":
            return "fail", f"HTTP {code}: a server error on a valid delivery (the sender retries it)"
        return "fail", f"HTTP {code}: a server error on bad input (the sender retries it: a retry storm)"
    if 200 <= code <= 299:
        if expect == "reject":
            return "fail", f"HTTP {code}: the receiver accepted a request it must reject"
        return "pass", f"HTTP {code}"
    if 400 <= code <= 499:
        if expect == "accept":
            return "fail", f"HTTP {code}: the receiver rejected a valid delivery (the sender retries it)"
        return "pass", f"HTTP {code}"
    return "fail", f"HTTP {code}: neither a 2xx acknowledgement nor a 4xx rejection"
