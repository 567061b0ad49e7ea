"""Scenario files: TOML failure drills run against a receiver through hookmock's Sender and the
fault proxy.  ``run_scenario(path, target, secret=, probe=)`` returns a :class:`ScenarioResult`;
``example_paths()`` lists the example files shipped with hookmock."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .model import Scenario, ScenarioError, Step, load_scenario, parse_scenario
from .result import ScenarioResult, StepResult
from .runner import run_scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "Step",
    "StepResult",
    "example_paths",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
]


def example_paths() -> list[Path]:
    """The example scenario files shipped with hookmock, sorted by name."""
    root = resources.files(__name__) / "examples"
    return sorted(Path(str(entry)) for entry in root.iterdir() if entry.name.endswith(".toml"))
