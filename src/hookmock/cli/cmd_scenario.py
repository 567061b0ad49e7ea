"""hookmock scenario run FILE URL | scenario list | scenario validate FILE"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ._common import add_secret_option, add_target_options, check_output_file, secret_from
from ._inputs import add_input_limit_option, input_limit, profile_help, read_input


def _settle(text: str) -> float:
    from ..auditing.settle import settle_arg  # loaded only when the option is given

    return settle_arg(text)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "scenario",
        help="run TOML failure drills (lost acknowledgements, duplicates, stale replays) against a receiver",
        description="Scenario files describe failure drills step by step: what the sender does, what the "
        "fault proxy does on each attempt and what to expect. FILE may also be the name of a shipped "
        "example (see 'hookmock scenario list').",
    )
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    run = verbs.add_parser(
        "run", help="run a scenario against a receiver URL (exit 0 passed, 1 failed, 2 usage)"
    )
    run.add_argument("file", metavar="FILE", help="scenario TOML file, or the name of a shipped example")
    run.add_argument(
        "target", nargs="?", metavar="URL", help="the receiver's webhook URL (as for 'hookmock audit URL')"
    )
    run.add_argument(
        "--target", dest="target_option", metavar="URL", help="the same as URL (kept for scripts)"
    )
    add_secret_option(run, what="the signing secret / webhook token the receiver is configured with")
    run.add_argument("--profile", help=profile_help("override the scenario's profile", default=None))
    run.add_argument(
        "--probe-url",
        metavar="TEMPLATE",
        help="URL with {event_id} answering how many times the receiver applied that event; "
        "without it effect expectations are not checked (and say so)",
    )
    run.add_argument(
        "--settle",
        metavar="SECONDS",
        type=_settle,
        help="how long the effect count must stay unchanged before it is read, for receivers that "
        "apply events asynchronously (default: learned from the receiver's lag; 0: read at once)",
    )
    run.add_argument("--junit", metavar="FILE", help="also write the result as JUnit XML to FILE")
    run.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    add_target_options(run)
    verbs.add_parser("list", help="list the example scenarios shipped with hookmock")
    validate = verbs.add_parser(
        "validate", help="check a scenario file against the schema (exit 0 valid, 2 not)"
    )
    validate.add_argument("file", metavar="FILE", help="scenario TOML file, or the name of a shipped example")
    for verb in (run, validate):
        add_input_limit_option(verb)


def _target(args: argparse.Namespace) -> str:
    """The receiver's URL: the positional URL or ``--target`` (one of them, or both the same)."""
    from ..errors import UsageError

    given = [t for t in (args.target, args.target_option) if t is not None]
    if not given:
        raise UsageError("the receiver's URL is required: hookmock scenario run FILE URL")
    if len(set(given)) > 1:
        raise UsageError(
            f"two different targets: URL {given[0]!r} and --target {given[1]!r}; give one of them"
        )
    return given[0]


def _resolve(name: str) -> Path:
    from ..errors import UsageError
    from ..scenarios import example_paths

    if not name.strip():
        raise UsageError("FILE is empty; give a scenario file, or the name of a shipped example")
    path = Path(name)
    if path.exists():
        return path
    for example in example_paths():
        if name in (example.name, example.stem):
            return example
    names = ", ".join(p.stem for p in example_paths())
    raise UsageError(f"scenario file {name!r} does not exist and is not a shipped example ({names})")


def _load(args: argparse.Namespace, profile: str | None = None) -> Any:
    """The scenario named by ``args.file``, read with the CLI's input bounds."""
    from ..errors import UsageError
    from ..scenarios import parse_scenario

    path = str(_resolve(args.file))
    raw = read_input(path, what="scenario file", limit=input_limit(args))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"scenario file {path!r} is not UTF-8 text: {exc}") from None
    return parse_scenario(text, source=path, profile=profile)


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..scenarios import example_paths, load_scenario, run_scenario

    if args.verb == "list":
        for path in example_paths():
            scenario = load_scenario(path)
            print(f"{path.stem:<36} {scenario.profile:<6} {scenario.name}")
        return 0
    if args.verb == "validate":
        scenario = _load(args)
        print(f"{scenario.source}: valid ({scenario.profile}, {len(scenario.steps)} step(s))")
        return 0
    if args.verb != "run":
        raise UsageError("give a verb: hookmock scenario run FILE URL | list | validate FILE")
    target = _target(args)
    scenario = _load(args, profile=args.profile)
    from ..profiles import get_profile

    secret = secret_from(args, get_profile(scenario.profile).secret_name)
    if args.junit:
        check_output_file("--junit", args.junit)
    from ..auditing import TargetUnreachable

    try:
        result = run_scenario(
            scenario,
            target,
            secret=secret,
            probe=args.probe_url,
            settle=args.settle,
            allow_targets=tuple(args.allow_target),
            ca_file=args.ca_file,
        )
    except TargetUnreachable as exc:
        raise UsageError(str(exc)) from None
    if args.junit:
        with open(args.junit, "w", encoding="utf-8") as fh:
            fh.write(result.junit_xml())
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(result.text())
    sys.stdout.flush()
    return 0 if result.ok else 1
