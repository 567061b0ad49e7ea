"""The audit report: text for people, one JSON document for tools, JUnit XML for CI.

Every failure says what was sent, what came back, what a correct receiver does, and gives the
request as a ``curl`` command with the secret redacted.  No output of the report ever contains
the secret or a value derived from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..clock import MS, SECOND
from .curl import Redactor, render_curl
from .model import STATUSES, CaseResult, CheckResult, Exchange

__all__ = ["AuditReport"]

_BODY_PREVIEW = 160


def _preview(data: bytes, limit: int = _BODY_PREVIEW, *, size: int | None = None) -> str:
    text = data.decode("utf-8", "replace")
    shown = text if len(text) <= limit else text[:limit] + "…"
    return json.dumps(shown, ensure_ascii=False) + f" ({len(data) if size is None else size} bytes)"


@dataclass
class AuditReport:
    """What an audit found.  ``ok`` is True when no check failed (warnings and skips allowed)."""

    target: str
    profile: str
    checks: list[CheckResult]
    duration_ns: int
    url: str | None = None
    redactor: Redactor | None = field(default=None, repr=False)

    # -- queries ---------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]

    def __getitem__(self, name: str) -> CheckResult:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check named {name!r}; checks: {', '.join(c.name for c in self.checks)}")

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.checks)

    def status(self, name: str) -> str:
        return self[name].status

    @property
    def summary(self) -> dict[str, Any]:
        counts: dict[str, Any] = {s: sum(1 for c in self.checks if c.status == s) for s in STATUSES}
        counts["total"] = len(self.checks)
        counts["requests"] = sum(len(e) for e in (self._exchanges(c) for c in self.checks))
        counts["duration_s"] = round(self.duration_ns / SECOND, 3)
        counts["ok"] = self.ok
        return counts

    def raise_for_failures(self) -> None:
        """Raise ``AssertionError`` with the report text when a check failed (for fixtures)."""
        if not self.ok:
            raise AssertionError(self.text())

    # -- rendering helpers ------------------------------------------------------------------
    def _redact(self, text: str, case: CaseResult | None = None) -> str:
        if self.redactor is None:
            return text
        masks = [m for e in (case.exchanges if case else ()) for m in e.request.masks]
        return self.redactor(text, masks)

    @staticmethod
    def _exchanges(check: CheckResult) -> list[Exchange]:
        seen: list[Exchange] = []
        for case in check.cases:
            for exchange in case.exchanges:
                if not any(exchange is s for s in seen):
                    seen.append(exchange)
        return seen

    def _sent(self, exchange: Exchange) -> str:
        headers = ", ".join(f"{k}: {v}" for k, v in exchange.request.headers.items())
        return f"POST {{{headers}}} body {_preview(exchange.request.body)}"

    def _received(self, exchange: Exchange, case: CaseResult | None = None) -> str:
        """What came back: redacted whole before the body is cut to a preview (a secret the
        receiver echoed is never cut into a piece that no longer looks like it)."""
        result = exchange.result
        text = self._redact(result.describe(), case)
        if result.outcome == "response" and result.excerpt:
            body = self._redact(result.excerpt.decode("utf-8", "replace"), case)
            text += f", body {_preview(body.encode(), 120, size=len(result.excerpt))}"
        return text + f", after {result.duration_ns / MS:.1f} ms"

    def curl(self, exchange: Exchange) -> str:
        redact = self.redactor or (lambda text, extra=(): text)
        return render_curl(exchange.request, self.url, redact)  # type: ignore[arg-type]

    def case_details(self, case: CaseResult, *, with_curl: bool = True) -> list[str]:
        lines = [f"    - {case.label}: {case.why}"]
        for exchange in case.exchanges[:3]:
            lines.append(f"      sent:     {self._sent(exchange)}")
            lines.append(f"      received: {self._received(exchange, case)}")
        lines.append(f"      correct:  {case.expected}")
        if case.exchanges and with_curl:
            lines.append(f"      curl:     {self.curl(case.exchanges[0])}")
        return [self._redact(line, case) for line in lines]

    # -- text ------------------------------------------------------------------------------
    def lines(self, *, verbose: bool = False) -> list[str]:
        out = [f"hookmock audit of {self.target} (profile {self.profile})"]
        width = max(len(c.name) for c in self.checks) if self.checks else 10
        for check in self.checks:
            label = f"#{check.defect:<2}" if check.defect else "   "
            out.append(self._redact(f"{check.status:<4}  {label} {check.name:<{width}}  {check.detail}"))
            if check.status in ("fail", "warn") or verbose:
                shown = check.problems if not verbose else check.cases
                for i, case in enumerate(shown):
                    # One curl command per check is enough to reproduce it; --verbose shows all.
                    out.extend(self.case_details(case, with_curl=verbose or i == 0))
        s = self.summary
        out.append(
            f"{s['pass']} passed, {s['fail']} failed, {s['warn']} warnings, {s['skip']} skipped "
            f"({s['requests']} requests in {s['duration_s']:.2f} s)"
        )
        return out

    def text(self, *, verbose: bool = False) -> str:
        return "\n".join(self.lines(verbose=verbose))

    def __str__(self) -> str:
        return self.text()

    # -- JSON ------------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        checks = []
        for check in self.checks:
            item: dict[str, Any] = {
                "name": check.name,
                "status": check.status,
                "detail": self._redact(check.detail),
                "defect": check.defect,
                "title": check.title,
                "expected": check.expected,
                "duration_ms": round(check.duration_ns / MS, 3),
            }
            problems = []
            for case in check.problems:
                first = case.exchanges[0] if case.exchanges else None
                problems.append(
                    {
                        "case": case.label,
                        "status": case.status,
                        "why": self._redact(case.why, case),
                        "expected": case.expected,
                        "sent": self._redact(self._sent(first), case) if first else None,
                        "received": self._received(first, case) if first else None,
                        "effect": case.effect,
                        "curl": self.curl(first) if first else None,
                    }
                )
            item["cases"] = len(check.cases)
            item["problems"] = problems
            checks.append(item)
        return {"target": self.target, "profile": self.profile, "checks": checks, "summary": self.summary}

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent, ensure_ascii=False)

    # -- JUnit XML -------------------------------------------------------------------------
    def junit_xml(self) -> str:
        import xml.etree.ElementTree as ET

        s = self.summary
        suite = ET.Element(
            "testsuite",
            {
                "name": f"hookmock audit ({self.profile})",
                "tests": str(s["total"]),
                "failures": str(s["fail"]),
                "errors": "0",
                "skipped": str(s["skip"]),
                "time": f"{self.duration_ns / SECOND:.3f}",
            },
        )
        for check in self.checks:
            case_el = ET.SubElement(
                suite,
                "testcase",
                {
                    "classname": f"hookmock.audit.{self.profile}",
                    "name": check.name,
                    "time": f"{check.duration_ns / SECOND:.3f}",
                },
            )
            detail = self._redact(check.detail)
            body = "\n".join(line for case in check.problems for line in self.case_details(case))
            if check.status == "fail":
                ET.SubElement(case_el, "failure", {"message": detail, "type": "ReceiverDefect"}).text = body
            elif check.status == "skip":
                ET.SubElement(case_el, "skipped", {"message": detail})
            elif check.status == "warn":
                ET.SubElement(case_el, "system-out").text = f"warning: {detail}\n{body}"
        suites = ET.Element("testsuites")
        suites.append(suite)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True)
