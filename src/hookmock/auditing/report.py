"""The audit report: text for people, one JSON document for tools, JUnit XML for CI.

The text report fits a CI log: one line per check, and for each failing check its first failing
case, abbreviated (what was sent, what came back, what a correct receiver does, a ``curl``
command).  Bodies and header sets longer than :data:`INLINE_BYTES` are written to files (named in
the report; the ``curl`` command reads them with ``@FILE``).  ``verbose=True`` shows every case of
every check; the JSON document always keeps every case in full, each with its own status.  No
output of the report ever contains the secret or a value derived from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..clock import MS, SECOND
from .curl import Redactor, header_lines, render_curl
from .model import STATUSES, CaseResult, CheckResult, Exchange

__all__ = ["INLINE_BYTES", "AuditReport"]

_BODY_PREVIEW = 160
#: Bodies (and header sets) longer than this go to a file in the text report.
INLINE_BYTES = 400
#: How much of a check's detail, a case's reason or a header value the default text shows.
_DETAIL_CHARS = 240
_HEADER_CHARS = 80


def _preview(data: bytes, limit: int = _BODY_PREVIEW, *, size: int | None = None) -> str:
    text = data.decode("utf-8", "replace")
    shown = text if len(text) <= limit else text[:limit] + "…"
    return json.dumps(shown, ensure_ascii=False) + f" ({len(data) if size is None else size} bytes)"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class AuditReport:
    """What an audit found.  ``ok`` is True when no check failed (warnings and skips allowed)."""

    target: str
    profile: str
    checks: list[CheckResult]
    duration_ns: int
    url: str | None = None
    redactor: Redactor | None = field(default=None, repr=False)
    #: How many requests the audit sent (None: count the ones the cases kept).
    requests: int | None = None
    #: Where the text report writes long bodies and header sets (None: a new temporary
    #: directory, made the first time one is needed).
    files_dir: str | None = None
    #: The target was an app audited in-process: ``url`` is where its curl lines expect it to be
    #: served (nothing listens there until you serve the app yourself).
    in_process: bool = False

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
        kept = sum(len(e) for e in (self._exchanges(c) for c in self.checks))
        counts["requests"] = self.requests if self.requests is not None else kept
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

    def _sent(self, exchange: Exchange, *, short: bool = False) -> str:
        items = exchange.request.headers.items()
        if short:
            headers = ", ".join(f"{k}: {_cut(v, _HEADER_CHARS)}" for k, v in items)
            return f"POST {{{headers}}} body {_preview(exchange.request.body, 80)}"
        headers = ", ".join(f"{k}: {v}" for k, v in items)
        return f"POST {{{headers}}} body {_preview(exchange.request.body)}"

    # -- files for long bodies and headers ------------------------------------------------
    def _file(self, data: bytes, kind: str) -> str:
        """Write ``data`` to a file named after its hash (written once); return its path."""
        if self.files_dir is None:
            self.files_dir = tempfile.mkdtemp(prefix="hookmock-audit-")
        os.makedirs(self.files_dir, exist_ok=True)
        name = f"{kind}-{hashlib.sha256(data).hexdigest()[:12]}.{'txt' if kind == 'headers' else 'bin'}"
        path = os.path.join(self.files_dir, name)
        if not os.path.exists(path):
            with open(path, "wb") as fh:
                fh.write(data)
        return path

    def _secretless(self, data: bytes) -> bytes:
        secret = self.redactor.secret.encode() if self.redactor is not None and self.redactor.secret else b""
        return data.replace(secret, b"<redacted>") if secret else data

    def curl_with_files(self, exchange: Exchange) -> str:
        """The ``curl`` command, with a long body and long headers read from files."""
        request = exchange.request
        body_file = headers_file = None
        if len(request.body) > INLINE_BYTES:
            body_file = self._file(self._secretless(request.body), "body")
        lines = header_lines(request)
        if sum(len(line) for line in lines) > INLINE_BYTES:
            text = "\n".join(self._redact(line) for line in lines) + "\n"
            masked = self.redactor(text, request.masks) if self.redactor is not None else text
            headers_file = self._file(masked.encode("latin-1", "replace"), "headers")
        redact = self.redactor or (lambda text, extra=(): text)
        return render_curl(request, self.url, redact, body_file=body_file, headers_file=headers_file)  # type: ignore[arg-type]

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

    def case_details(self, case: CaseResult, *, with_curl: bool = True, short: bool = False) -> list[str]:
        """What was sent and received for ``case``; ``short``: abbreviated, for the default text."""
        why = _cut(case.why, _DETAIL_CHARS) if short else case.why
        lines = [f"    - {case.status} {case.label}: {why}"]
        for exchange in case.exchanges[: 1 if short else 3]:
            if not (short and with_curl):  # the curl command shows what was sent
                lines.append(f"      sent:     {self._sent(exchange, short=short)}")
            lines.append(f"      received: {self._received(exchange, case)}")
        lines.append(f"      correct:  {case.expected}")
        if case.exchanges and with_curl:
            curl = self.curl_with_files(case.exchanges[0]) if short else self.curl(case.exchanges[0])
            lines.append(f"      curl:     {curl}")
        return [self._redact(line, case) for line in lines]

    # -- text ------------------------------------------------------------------------------
    def lines(self, *, verbose: bool = False) -> list[str]:
        """One line per check, in the order of their numbers (the baseline first; checks run in
        another order); then, for each failing check, its first failing case abbreviated.
        ``verbose``: every case of every check, in full."""
        out = [f"hookmock audit of {self.target} (profile {self.profile})"]
        width = max(len(c.name) for c in self.checks) if self.checks else 10
        for check in sorted(self.checks, key=lambda c: c.defect or 0):
            label = f"#{check.defect:<2}" if check.defect else "   "
            detail = check.detail if verbose else _cut(check.detail, _DETAIL_CHARS)
            out.append(self._redact(f"{check.status:<4}  {label} {check.name:<{width}}  {detail}"))
            if verbose:
                for case in check.cases:
                    out.extend(self.case_details(case))
            elif check.status == "fail":
                first = next((c for c in check.cases if c.status == "fail"), None)
                if first is not None:
                    out.extend(self.case_details(first, short=True))
        s = self.summary
        requests = f"{s['requests']} request{'' if s['requests'] == 1 else 's'}"
        out.append(
            f"{s['pass']} passed, {s['fail']} failed, {s['warn']} warnings, {s['see']} attributed to "
            f"another check, {s['skip']} skipped ({requests} in {s['duration_s']:.2f} s)"
        )
        if self.files_dir is not None and not verbose:
            out.append(f"long bodies and headers are in {self.files_dir}")
        if self.in_process and self.failed and self.url:
            base = self.url.split("/", 3)
            out.append(
                f"the app was audited in-process: to replay a curl line, serve it at {'/'.join(base[:3])} "
                "first (e.g. flask run --port 8000, uvicorn module:app --port 8000)"
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
            if check.see is not None:
                item["see"] = check.see
            cases = [self._case_dict(case) for case in check.cases]
            item["cases"] = cases
            item["problems"] = [c for c in cases if c["status"] in ("fail", "warn")]
            checks.append(item)
        return {"target": self.target, "profile": self.profile, "checks": checks, "summary": self.summary}

    def _case_dict(self, case: CaseResult) -> dict[str, Any]:
        first = case.exchanges[0] if case.exchanges else None
        item: dict[str, Any] = {
            "case": case.label,
            "status": case.status,
            "why": self._redact(case.why, case),
            "expected": case.expected,
            "sent": self._redact(self._sent(first), case) if first else None,
            "received": self._received(first, case) if first else None,
            "effect": case.effect,
            "curl": self.curl(first) if first else None,
        }
        if case.anonymous is not None:
            item["anonymous"] = case.anonymous
        if case.see is not None:
            item["see"] = case.see
        if len(case.exchanges) > 1:
            item["also_sent"] = [
                {
                    "sent": self._redact(self._sent(e), case),
                    "received": self._received(e, case),
                    "curl": self.curl(e),
                }
                for e in case.exchanges[1:]
            ]
        return item

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
            elif check.status in ("skip", "see"):
                ET.SubElement(case_el, "skipped", {"message": detail})
            elif check.status == "warn":
                ET.SubElement(case_el, "system-out").text = f"warning: {detail}\n{body}"
        suites = ET.Element("testsuites")
        suites.append(suite)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True)
