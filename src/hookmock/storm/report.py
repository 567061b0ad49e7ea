"""The storm's report: rate, latency, statuses, the deadline, exactly-once, replays; its verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from ..clock import SECOND
from .runner import StormRun
from .verify import Applied

__all__ = ["StormFailed", "StormReport"]

_SAMPLE = 5


class StormFailed(AssertionError):
    """A storm found a lost or doubly-applied event, an accepted replay, or a threshold exceeded."""


@dataclass
class StormReport:
    """What a storm found (see :func:`hookmock.storm.storm`).  ``ok`` is the verdict; ``failures``
    says why not, one sentence each."""

    profile: str
    target: str
    deadline_s: float
    faithful: bool
    requests: int
    events: int
    seconds: float
    #: p50/p95/p99/max of the answered requests: exact up to 4,096 answers, then from a histogram
    #: (each percentile at most 0.8 % above the true one; max always exact).
    latency_ms: dict[str, float | None]
    statuses: dict[str, int]
    over_deadline: int
    errors: int
    stale: dict[str, int]
    applied: dict[str, int] | None
    lost_ids: list[str] = field(default_factory=list)
    doubled_ids: list[str] = field(default_factory=list)
    settle_ms: float | None = None
    failures: list[str] = field(default_factory=list)
    checks: dict[str, str | None] = field(default_factory=dict)
    #: With ``--workers``: requests each Locust worker reported sending, by worker id.
    workers: dict[str, int] | None = None
    #: With ``--workers``: the requests Locust's master counted (its statistics, for comparison).
    locust_requests: int | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def rate(self) -> float:
        """Requests per second achieved."""
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @classmethod
    def build(
        cls,
        run: StormRun,
        *,
        profile: str,
        target: str,
        deadline_ns: int,
        faithful: bool,
        applied: Applied | None,
        max_p99_ms: float | None = None,
        max_errors: int | None = None,
    ) -> StormReport:
        tally = run.tally
        report = cls(
            profile=profile,
            target=target,
            deadline_s=deadline_ns / SECOND,
            faithful=faithful,
            requests=tally.requests,
            events=tally.events,
            seconds=max(0, run.ended_ns - run.started_ns) / SECOND,
            latency_ms=tally.latency.summary_ms(),
            statuses=dict(sorted(tally.statuses.items())),
            over_deadline=tally.over_deadline,
            errors=tally.errors,
            stale={
                "sent": tally.stale_sent,
                "rejected": tally.stale_sent - tally.stale_accepted,
                "accepted": tally.stale_accepted,
            },
            applied=None,
        )
        report._add_applied(applied)
        report._judge(applied, max_p99_ms, max_errors)
        return report

    @classmethod
    def from_locust(
        cls,
        summary: dict[str, Any],
        *,
        profile: str,
        target: str,
        deadline_ns: int,
        applied: Applied | None,
        max_p99_ms: float | None = None,
        max_errors: int | None = None,
    ) -> StormReport:
        """The report of a Locust run: the master's totals and every worker's report."""
        workers = summary["workers"]
        stale = sum(w["stale"] for w in workers.values())
        stale_accepted = sum(w["stale_accepted"] for w in workers.values())
        events: set[str] = set()
        for w in workers.values():
            events.update(w["events"])
        report = cls(
            profile=profile,
            target=target,
            deadline_s=deadline_ns / SECOND,
            faithful=True,
            # the workers' own counts: the master's statistics can miss a last report under load
            requests=sum(w["requests"] for w in workers.values()),
            events=len(events),
            seconds=summary["seconds"],
            latency_ms=dict(summary["latency_ms"]),
            # Locust's own view: successes (2xx, or a rejected replay) and each failure message
            statuses={"success": summary["requests"] - summary["failures"], **summary["errors"]},
            over_deadline=sum(n for e, n in summary["errors"].items() if "timed out" in e.lower()),
            errors=max(0, summary["failures"] - stale_accepted),  # an accepted replay is Locust's failure
            stale={"sent": stale, "rejected": stale - stale_accepted, "accepted": stale_accepted},
            applied=None,
            workers={name: w["requests"] for name, w in sorted(workers.items())},
            locust_requests=summary["requests"],
        )
        report._add_applied(applied)
        report._judge(applied, max_p99_ms, max_errors)
        return report

    def _add_applied(self, applied: Applied | None) -> None:
        if applied is not None:
            self.applied = {
                "0": len(applied.lost),
                "1": len(applied.once),
                ">1": len(applied.many),
                "never_accepted": applied.never_accepted,
            }
            self.lost_ids = applied.lost[:_SAMPLE]
            self.doubled_ids = applied.many[:_SAMPLE]
            self.settle_ms = applied.settle_ms

    def _judge(self, applied: Applied | None, max_p99_ms: float | None, max_errors: int | None) -> None:
        checks: dict[str, str | None] = {}
        if applied is not None:
            problems = []
            if applied.lost:
                problems.append(
                    f"{len(applied.lost)} accepted event(s) never applied (e.g. {applied.lost[0]})"
                )
            if applied.many:
                problems.append(
                    f"{len(applied.many)} event(s) applied more than once (e.g. {applied.many[0]})"
                )
            checks["exactly-once"] = "; ".join(problems) or None
        if self.stale["sent"]:
            accepted = self.stale["accepted"]
            checks["stale-replays"] = (
                f"{accepted} of {self.stale['sent']} stale replay(s) (timestamp 1 h old) were accepted"
                if accepted
                else None
            )
        p99 = self.latency_ms["p99"]
        if max_p99_ms is not None:
            checks["max-p99"] = (
                f"p99 latency {p99:.1f} ms is over --max-p99 {max_p99_ms:g} ms"
                if p99 is not None and p99 > max_p99_ms
                else None
            )
        if max_errors is not None:
            checks["max-errors"] = (
                f"{self.errors} delivery(ies) failed (non-2xx or no answer), over --max-errors {max_errors}"
                if self.errors > max_errors
                else None
            )
        self.checks = checks
        self.failures = [message for message in checks.values() if message]

    # -- output ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "failures": self.failures,
            "profile": self.profile,
            "target": self.target,
            "faithful": self.faithful,
            "deadline_s": self.deadline_s,
            "requests": self.requests,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "rate": round(self.rate, 1),
            "latency_ms": {k: None if v is None else round(v, 2) for k, v in self.latency_ms.items()},
            "statuses": self.statuses,
            "over_deadline": self.over_deadline,
            "errors": self.errors,
            "stale": self.stale,
            "applied": self.applied,
            "lost_ids": self.lost_ids,
            "doubled_ids": self.doubled_ids,
            "settle_ms": self.settle_ms,
            "workers": self.workers,
            "locust_requests": self.locust_requests,
        }

    def text(self) -> str:
        lat = self.latency_ms
        fmt = "  ".join(f"{k} {'-' if v is None else f'{v:.1f}'}" for k, v in lat.items())
        deadline = f"{self.deadline_s:g} s" + ("" if self.faithful else " (NOT FAITHFUL: --deadline)")
        lines = [
            f"storm: {self.requests} requests, {self.events} events to {self.target} ({self.profile}) "
            f"in {self.seconds:.2f} s: {self.rate:.0f} requests/s",
            f"  latency ms: {fmt}",
            "  statuses: " + (", ".join(f"{k}: {v}" for k, v in self.statuses.items()) or "none"),
            f"  over the deadline ({deadline}): {self.over_deadline}",
            f"  failed deliveries (non-2xx or no answer): {self.errors}",
        ]
        if self.stale["sent"]:
            lines.append(
                f"  stale replays: {self.stale['sent']} sent, {self.stale['rejected']} rejected, "
                f"{self.stale['accepted']} accepted"
            )
        if self.applied is not None:
            a = self.applied
            lines.append(
                f"  applied: 0 times {a['0']}, once {a['1']}, more than once {a['>1']}"
                f" (never accepted: {a['never_accepted']}; settle {self.settle_ms or 0:.0f} ms)"
            )
        else:
            lines.append("  applied: not checked (give --probe-url to verify exactly-once)")
        lines.append("PASS" if self.ok else "FAIL: " + "; ".join(self.failures))
        return "\n".join(lines)

    def junit(self) -> str:
        """A JUnit XML document: one test case per check."""
        suite = ET.Element(
            "testsuite",
            name="hookmock storm",
            tests=str(len(self.checks)),
            failures=str(len(self.failures)),
            time=f"{self.seconds:.3f}",
        )
        for name, message in self.checks.items():
            case = ET.SubElement(suite, "testcase", classname="hookmock.storm", name=name)
            if message:
                ET.SubElement(case, "failure", message=message).text = message
        ET.SubElement(suite, "system-out").text = self.text()
        return ET.tostring(suite, encoding="unicode", xml_declaration=True)

    def assert_ok(self) -> None:
        """Raise :class:`StormFailed` with the report unless every check passed."""
        if not self.ok:
            raise StormFailed("storm failed: " + "; ".join(self.failures) + "\n" + self.text())

    def assert_exactly_once(self) -> None:
        """Like :meth:`assert_ok`, and also fail when no effect probe was read (nothing verified)."""
        if self.applied is None:
            raise StormFailed("exactly-once was not verified: run the storm with probe= (or --probe-url)")
        self.assert_ok()
