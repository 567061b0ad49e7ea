"""Scenario files: TOML failure drills, validated by ``schemas/scenario.schema.json``.

A scenario names a profile and lists steps.  Each step is something the sender does (``send``,
``duplicate`` = redeliver as the provider does, ``replay_stale``, ``out_of_order``,
``concurrent``, ``advance`` the clock), what the fault proxy does on each of its attempts
(``proxy = ["lost_ack:500", "pass"]``, ``fail_times = 2``) and what to expect.  Every error is
reported with its path in the file (``steps[2].event``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..profiles import get_profile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Scenario", "ScenarioError", "Step", "load_scenario", "parse_scenario"]

DEFAULT_COPIES = 5


class ScenarioError(UsageError):
    """A scenario file is not valid; the message names the file, the path and what to do."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"scenario {source} is not valid ({len(problems)} problem(s)):\n{listed}")


@dataclass(frozen=True)
class Step:
    index: int
    action: str
    name: str
    id: str | None = None
    of: str | None = None
    event: str | None = None
    events: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    proxy: tuple[str, ...] = ()
    copies: int = DEFAULT_COPIES
    after: float | None = None
    expect: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"steps[{self.index}]"


@dataclass(frozen=True)
class Scenario:
    name: str
    profile: str
    steps: tuple[Step, ...]
    description: str = ""
    source: str = "<string>"


def _path(json_path: str) -> str:
    return json_path[2:] if json_path.startswith("$.") else json_path.lstrip("$") or "(top level)"


def _check_proxy_action(action: str) -> None:
    from ..receiver.faults import as_plan

    head, _, rest = action.partition(":")
    if head == "lost_ack" and rest:
        as_plan(rest)


def _step(index: int, raw: dict[str, Any], profile: str, ids: set[str], problems: list[str]) -> Step:
    where = f"steps[{index}]"
    prof = get_profile(profile)
    action = raw["action"]
    for key, names in (("event", [raw.get("event")]), ("events", list(raw.get("events", [])))):
        for i, name in enumerate(names):
            if name is None:
                continue
            if name not in prof.event_types:
                at = f"{where}.{key}" + (f"[{i}]" if key == "events" else "")
                problems.append(
                    f"{at}: {name!r} is not a {prof.title} event; choose one of {', '.join(prof.event_types)}"
                )
    if raw.get("of") is not None and raw["of"] not in ids:
        known = ", ".join(sorted(ids)) or "none yet"
        problems.append(f"{where}.of: no earlier step has id {raw['of']!r} (ids so far: {known})")
    if raw.get("id") is not None:
        if raw["id"] in ids:
            problems.append(f"{where}.id: id {raw['id']!r} is used twice; give each step its own id")
        ids.add(raw["id"])
    proxy = list(raw.get("proxy", []))
    if raw.get("fail_times"):
        proxy = ["fail"] * int(raw["fail_times"]) + proxy
    for i, item in enumerate(proxy):
        try:
            _check_proxy_action(item)
        except UsageError as exc:
            problems.append(f"{where}.proxy[{i}]: {exc}")
    return Step(
        index=index,
        action=action,
        name=str(raw.get("name") or f"{action} {raw.get('event') or raw.get('of') or ''}".strip()),
        id=raw.get("id"),
        of=raw.get("of"),
        event=raw.get("event"),
        events=tuple(raw.get("events", ())),
        data=dict(raw.get("data", {})),
        proxy=tuple(proxy),
        copies=int(raw.get("copies", DEFAULT_COPIES)),
        after=float(raw["after"]) if raw.get("after") is not None else None,
        expect=dict(raw.get("expect", {})),
    )


def parse_scenario(text: str, *, source: str = "<string>", profile: str | None = None) -> Scenario:
    """Parse and validate scenario TOML text; ``profile`` overrides the file's profile."""
    from ..validation import violations

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, [f"not valid TOML: {exc}"]) from None
    found = violations(doc, "scenario")
    if found:
        raise ScenarioError(source, [f"{_path(v.path)}: {v.message}" for v in found])
    meta = doc["scenario"]
    name = profile or meta.get("profile") or "moda"
    try:
        get_profile(name)
    except UsageError as exc:
        raise ScenarioError(source, [f"scenario.profile: {exc}"]) from None
    problems: list[str] = []
    ids: set[str] = set()
    steps = tuple(_step(i, raw, name, ids, problems) for i, raw in enumerate(doc["steps"]))
    if problems:
        raise ScenarioError(source, problems)
    return Scenario(meta["name"], name, steps, meta.get("description", ""), source)


def load_scenario(path: str | Path, *, profile: str | None = None) -> Scenario:
    """Read and validate a scenario file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"scenario file {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read scenario file {str(p)!r}: {exc}") from None
    return parse_scenario(text, source=str(p), profile=profile)
