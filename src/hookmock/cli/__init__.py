"""The ``hookmock`` command.

Each subcommand is a module ``cmd_<name>.py`` in this package with ``add_parser(subparsers)``
and ``run(args) -> int``; they are found by name, so adding one touches nothing else.  Heavy
imports happen inside ``run``.  ``main(argv)`` returns the exit code and is what tests call.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from .._version import __version__
from ..errors import HookmockError, UsageError

__all__ = ["main", "run"]

_ORDER = [
    "demo",
    "serve",
    "send",
    "deliveries",
    "redeliver",
    "listen",
    "audit",
    "scenario",
    "validate",
    "schema",
    "events",
    "sign",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _commands() -> list[str]:
    found = [m.name[4:] for m in pkgutil.iter_modules(__path__) if m.name.startswith("cmd_")]
    return sorted(found, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hookmock",
        description="A testing harness for Moda and mod.io webhooks: send faithful deliveries, run a fake "
        "receiver, audit your receiver, run the emulator.",
    )
    parser.add_argument("--version", action="version", version=f"hookmock {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _commands():
        module = importlib.import_module(f"{__name__}.cmd_{name}")
        module.add_parser(sub)
    return parser


def _innermost(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the command that was given: ``hookmock scenario run`` -> run's parser."""
    while True:
        chosen = None
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(args, action.dest, None) or "")
        if chosen is None:
            return parser
        parser = chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # reported by the subcommand's parser, so its usage is the one shown
            _innermost(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    module = importlib.import_module(f"{__name__}.cmd_{args.command}")
    try:
        return int(module.run(args))
    except UsageError as exc:
        print(f"hookmock {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except HookmockError as exc:
        print(f"hookmock {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    sys.exit(main())
