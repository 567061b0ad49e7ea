"""What a scenario run found: one result per step, as text, JSON-able dicts and JUnit XML."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ScenarioResult", "StepResult"]


@dataclass
class StepResult:
    index: int
    name: str
    action: str
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timeline: str = ""

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def status(self) -> str:
        return "pass" if self.ok else "fail"


@dataclass
class ScenarioResult:
    name: str
    profile: str
    source: str
    steps: list[StepResult]
    duration_ns: int = 0

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    @property
    def failed(self) -> list[StepResult]:
        return [s for s in self.steps if not s.ok]

    def raise_for_failures(self) -> None:
        """Raise ``AssertionError`` with the report text when a step failed (for fixtures)."""
        if not self.ok:
            raise AssertionError(self.text())

    def text(self) -> str:
        lines = [f"scenario {self.name!r} ({self.profile}) from {self.source}"]
        for step in self.steps:
            lines.append(f"{step.status:<4}  step {step.index + 1}: {step.name}")
            lines.extend(f"        - {f}" for f in step.failures)
            lines.extend(f"        note: {n}" for n in step.notes)
            if step.failures and step.timeline:
                lines.extend("        | " + line for line in step.timeline.splitlines())
        passed = sum(1 for s in self.steps if s.ok)
        lines.append(f"{passed} of {len(self.steps)} step(s) passed")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "profile": self.profile,
            "source": self.source,
            "ok": self.ok,
            "steps": [
                {
                    "name": s.name,
                    "action": s.action,
                    "status": s.status,
                    "failures": s.failures,
                    "notes": s.notes,
                }
                for s in self.steps
            ],
        }

    def junit_xml(self) -> str:
        import xml.etree.ElementTree as ET

        suite = ET.Element(
            "testsuite",
            {
                "name": f"hookmock scenario {self.name}",
                "tests": str(len(self.steps)),
                "failures": str(len(self.failed)),
                "errors": "0",
                "skipped": "0",
                "time": f"{self.duration_ns / 1e9:.3f}",
            },
        )
        for step in self.steps:
            case = ET.SubElement(
                suite,
                "testcase",
                {"classname": f"hookmock.scenario.{self.profile}", "name": f"{step.index + 1}: {step.name}"},
            )
            if step.failures:
                failure = ET.SubElement(case, "failure", {"message": "; ".join(step.failures)})
                failure.text = step.timeline
            if step.notes:
                ET.SubElement(case, "system-out").text = "\n".join(step.notes)
        suites = ET.Element("testsuites")
        suites.append(suite)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True)
