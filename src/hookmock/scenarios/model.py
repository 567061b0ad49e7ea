"""Scenario files: TOML failure drills, validated by ``schemas/scenario.schema.json``.

A scenario names a profile and lists steps.  Each step is something the sender does (``send``,
``duplicate`` = redeliver as the provider does, ``replay_stale``, ``out_of_order``,
``concurrent``, ``advance`` the clock), what the fault proxy does on each of its attempts
(``proxy = ["lost_ack:500", "pass"]``, ``fail_times = 2``) and what to expect.  Every error is
reported with its path in the file (``steps[2].event``).
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..profiles import Profile, get_profile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "Scenario",
    "ScenarioError",
    "Step",
    "load_scenario",
    "parse_scenario",
    "scenario_number_problems",
]

DEFAULT_COPIES = 5
#: The most schema problems looked for, and shown, in one scenario file.
MOST_PROBLEMS = 100
#: The longest ``after`` a step may give (TOML also allows inf and nan, which no clock can move by).
MAX_AFTER_S = 30 * 24 * 3600


class ScenarioError(UsageError):
    """A scenario file is not valid; the message names the file, the path and what to do."""

    def __init__(self, source: str, problems: list[str], *, stopped: bool = False) -> None:
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems[:MOST_PROBLEMS])
        count = f"{len(problems)} problem(s)"
        if len(problems) > MOST_PROBLEMS:
            listed += f"\n  ... ({len(problems) - MOST_PROBLEMS} more not shown)"
        if stopped:
            count += f"; the schema check stopped after {MOST_PROBLEMS}, there may be more"
        super().__init__(f"scenario {source} is not valid ({count}):\n{listed}")


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


#: The proxy actions a step may list, as the error for a bad one shows them.
PROXY_ACTIONS = (
    "pass",
    "fail[:<status>]",
    "lost_ack[:<answer>]",
    "timeout_after_processing",
    "duplicate[:<copies 1-99>]",
    "concurrent[:<copies 1-99>]",
    "tamper",
)


def _lost_ack_answers() -> str:
    from ..receiver.faults import SCRIPT_TOKENS

    return ", ".join(t for t in SCRIPT_TOKENS if "*" not in t and t != "ok" and "status 100" not in t)


def _number_in(arg: str, low: int, high: int) -> bool:
    """``arg`` is a whole number from ``low`` to ``high`` written as the schema's pattern allows it
    (ASCII digits, no sign, no leading zero)."""
    return arg.isascii() and arg.isdigit() and arg == str(int(arg)) and low <= int(arg) <= high


def _proxy_problem(action: Any) -> str | None:
    """Why ``action`` is not a proxy action (in the scenario's terms), or ``None`` when it is one."""
    choices = f"use one of {', '.join(PROXY_ACTIONS)}"
    if not isinstance(action, str):
        return f"{action!r} is not a proxy action; {choices}"
    head, colon, arg = action.partition(":")
    if head in ("pass", "timeout_after_processing", "tamper") and not colon:
        return None
    if head == "fail":
        if not colon or _number_in(arg, 100, 599):
            return None
        return f"{action!r}: fail takes an HTTP status 100-599 (fail:503), or nothing for 500"
    if head in ("duplicate", "concurrent"):
        if not colon or _number_in(arg, 1, 99):
            return None
        return f"{action!r}: {head} takes a number of copies 1-99 ({head}:3), or nothing for 2"
    if head == "lost_ack":
        from ..receiver.faults import as_plan

        if not colon:
            return None
        try:
            if re.fullmatch(r"[a-z0-9.:]+", arg):
                as_plan(arg)
                return None
        except UsageError:
            pass
        return (
            f"{action!r}: {arg!r} is not an answer for the lost acknowledgement; give a status "
            f"(lost_ack:500) or one of {_lost_ack_answers()}"
        )
    return f"{action!r} is not a proxy action; {choices}"


def _non_finite_numbers(value: Any, at: str, why: str) -> list[tuple[str, str]]:
    """Every ``inf``/``-inf``/``nan`` under ``value`` (legal TOML floats), named by its path."""
    found: list[tuple[str, str]] = []
    stack = [(value, at)]
    while stack:  # not recursive: data may nest as deep as tomllib reads
        item, where = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            found.append((where, f"{item!r} is not {why}; give a finite number"))
        elif isinstance(item, dict):
            stack.extend((v, f"{where}.{k}") for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(item))))
    return found


#: What an infinite or NaN number is not, outside a step's ``data`` (there: "a JSON number").
NOT_FINITE = "a finite number"


def _step_numbers(raw: dict[str, Any], where: str) -> list[tuple[str, str]]:
    """The infinite and NaN numbers anywhere in one step (``after`` is explained on its own): an
    expectation such as ``attempt_times = [nan]`` would hold whatever happened."""
    found: list[tuple[str, str]] = []
    for key, value in raw.items():
        if key != "after":
            why = "a JSON number" if key == "data" else NOT_FINITE
            found.extend(_non_finite_numbers(value, f"{where}.{key}", why))
    return found


def scenario_number_problems(scenario: Scenario) -> list[str]:
    """The infinite and NaN numbers of a :class:`Scenario` built in Python rather than read from a
    file (a file's are refused when it is read), each as ``path: problem``."""
    found: list[tuple[str, str]] = []
    for step in scenario.steps:
        fields = {"data": step.data, "copies": step.copies, "expect": step.expect}
        found.extend(_step_numbers(fields, step.path))
        after = step.after
        if isinstance(after, float) and not math.isfinite(after):
            found.append(
                (f"{step.path}.after", f"{after!r} is not a number of seconds; give a finite number")
            )
    return [f"{path}: {message}" for path, message in found]


def _step_problems(
    index: int, raw: dict[str, Any], prof: Profile | None, ids: set[str]
) -> list[tuple[str, str]]:
    """The semantic problems of one step (what the schema cannot say), each with its path."""
    where = f"steps[{index}]"
    problems: list[tuple[str, str]] = []
    if prof is not None:
        events = raw.get("events")
        for key, names in (
            ("event", [raw.get("event")]),
            ("events", list(events) if isinstance(events, list) else []),
        ):
            for i, name in enumerate(names):
                if not isinstance(name, str) or name in prof.event_types:
                    continue
                at = f"{where}.{key}" + (f"[{i}]" if key == "events" else "")
                problems.append(
                    (at, f"{name!r} is not a {prof.title} event; choose one of {', '.join(prof.event_types)}")
                )
    of, step_id = raw.get("of"), raw.get("id")
    if isinstance(of, str) and of not in ids:
        known = ", ".join(sorted(ids)) or "none yet"
        problems.append((f"{where}.of", f"no earlier step has id {of!r} (ids so far: {known})"))
    if isinstance(step_id, str):
        if step_id in ids:
            problems.append((f"{where}.id", f"id {step_id!r} is used twice; give each step its own id"))
        ids.add(step_id)
    after = raw.get("after")
    problems.extend(_step_numbers(raw, where))
    seconds = after if isinstance(after, (int, float)) and not isinstance(after, bool) else 0
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_AFTER_S):
        problems.append(
            (f"{where}.after", f"{after!r} is not a number of seconds from 0 to {MAX_AFTER_S} (30 days)")
        )
    proxy = raw.get("proxy")
    for i, item in enumerate(proxy if isinstance(proxy, list) else []):
        problem = _proxy_problem(item)
        if problem is not None:
            problems.append((f"{where}.proxy[{i}]", problem))
    return problems


def _step(index: int, raw: dict[str, Any]) -> Step:
    action = raw["action"]
    proxy = list(raw.get("proxy", []))
    if raw.get("fail_times"):
        proxy = ["fail"] * int(raw["fail_times"]) + proxy
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


_STEP_INDEX = re.compile(r"^steps\[(\d+)\]")


def _order(path: str) -> int:
    match = _STEP_INDEX.match(path)
    return int(match.group(1)) if match else -1


def parse_scenario(text: str, *, source: str = "<string>", profile: str | None = None) -> Scenario:
    """Parse and validate scenario TOML text; ``profile`` overrides the file's profile.

    Every problem is reported at once (the schema's and the semantic ones: unknown event types,
    ``of`` naming no earlier step, bad proxy actions), each with its path, in file order."""
    from ..validation import violations

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, [f"not valid TOML: {exc}"]) from None
    except ValueError as exc:  # an integer of thousands of digits (Python's int() limit)
        if "digits" not in str(exc):
            raise ScenarioError(source, [f"not readable TOML: {exc}"]) from None
        most = getattr(sys, "get_int_max_str_digits", int)()
        raise ScenarioError(
            source, [f"not readable TOML: an integer with more than {most} digits; write it as a string"]
        ) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ScenarioError(
            source, ["not readable TOML: arrays or inline tables nested too deeply; flatten them"]
        ) from None
    meta: dict[str, Any] = doc["scenario"] if isinstance(doc.get("scenario"), dict) else {}
    name = profile or meta.get("profile") or "moda"
    problems: list[tuple[str, str]] = []
    prof: Profile | None = None
    try:
        prof = get_profile(name)
    except UsageError as exc:
        problems.append(("scenario.profile", str(exc)))
    ids: set[str] = set()
    raw_steps: list[Any] = doc["steps"] if isinstance(doc.get("steps"), list) else []
    for key, value in doc.items():  # infinite and NaN numbers outside the steps' own fields
        if key != "steps" or not isinstance(value, list):
            said = {path for path, _ in problems}  # a profile of nan is already "not a profile name"
            problems.extend(p for p in _non_finite_numbers(value, key, NOT_FINITE) if p[0] not in said)
    for i, raw in enumerate(raw_steps):
        if isinstance(raw, dict):
            problems.extend(_step_problems(i, raw, prof, ids))
        else:
            problems.extend(_non_finite_numbers(raw, f"steps[{i}]", NOT_FINITE))
    explained = {path for path, _ in problems}
    found = violations(doc, "scenario", most=MOST_PROBLEMS)
    for v in found:
        path = _path(v.path)
        if path not in explained:  # a proxy action or profile already explained in hookmock's words
            problems.append((path, v.message))
    if problems:
        problems.sort(key=lambda p: _order(p[0]))  # stable: schema order within a step is kept
        stopped = len(found) >= MOST_PROBLEMS
        raise ScenarioError(source, [f"{path}: {message}" for path, message in problems], stopped=stopped)
    assert prof is not None
    steps = tuple(_step(i, raw) for i, raw in enumerate(doc["steps"]))
    return Scenario(meta["name"], prof.name, steps, meta.get("description", ""), source)


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
