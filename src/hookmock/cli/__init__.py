"""The ``hookmock`` command.

Each subcommand is a module ``cmd_<name>.py`` in this package with ``add_parser(subparsers)``
and ``run(args) -> int``; they are found by name, so adding one touches nothing else.  Heavy
imports happen inside ``run``.  ``main(argv)`` returns the exit code and is what tests call.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from .._version import __version__
from ..errors import HookmockError, UsageError

__all__ = ["EXIT_CODES", "main", "run"]

#: What the exit status of every ``hookmock`` command means (the error reference lists these; a
#: command's help says when it gives 1 a more precise meaning).
EXIT_CODES: dict[int, str] = {
    0: "success: the command did what was asked (an audit or a scenario passed)",
    1: "failure: a check, audit, scenario or wait failed, or hookmock could not do the work "
    "(the message says why); also when the output cannot be written",
    2: "usage error: a bad option, value, file or URL; the message names it and says what to do "
    "(also a --db file another process holds locked: \"database 'x.db' is locked\", whether the "
    "command was reading or writing it)",
    130: "interrupted (Ctrl-C)",
}

_ORDER = [
    "demo",
    "serve",
    "wait",
    "send",
    "deliveries",
    "redeliver",
    "listen",
    "audit",
    "scenario",
    "validate",
    "schema",
    "openapi",
    "events",
    "sign",
    "verify",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _commands() -> list[str]:
    found = [m.name[4:] for m in pkgutil.iter_modules(__path__) if m.name.startswith("cmd_")]
    return sorted(found, key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only`` (a command's name), just that subcommand's parser, so a
    command's start-up does not import every other command's module."""
    parser = _Parser(
        prog="hookmock",
        description="A testing harness for Moda, mod.io, Standard Webhooks and GitHub webhooks: send "
        "faithful deliveries, run a fake receiver, audit your receiver, run the emulator.",
    )
    parser.add_argument("--version", action="version", version=f"hookmock {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in [only] if only else _commands():
        module = importlib.import_module(f"{__name__}.cmd_{name}")
        module.add_parser(sub)
    return parser


def _command_named(words: list[str]) -> str | None:
    """The command ``words`` run, when it is a known one: the first word, as the top-level options
    (``--help``, ``--version``) take no value.  Anything else (no command, a typo, an option first)
    gets the whole parser, so help and errors list every command."""
    if words and words[0] in _commands():
        return words[0]
    return None


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


def _blamed(
    parser: argparse.ArgumentParser, args: argparse.Namespace, words: list[str], extra: list[str]
) -> argparse.ArgumentParser:
    """The parser whose usage to show for unrecognised ``extra`` words: the top-level one when the
    first of them comes before the command's name (``hookmock --verbose demo``), else the command's."""
    command = getattr(args, "command", None)
    if command in words and extra[0] in words and words.index(extra[0]) < words.index(command):
        return parser
    return _innermost(parser, args)


def _escape_unencodable_output() -> None:
    """Text the terminal's encoding cannot show (a lone surrogate or an ``é`` a client or a file
    sent, under ``PYTHONIOENCODING=ascii``) is printed as ``\\xe9`` instead of ending the command."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")


def _output_failed(command: str, exc: OSError) -> int:
    """Standard output cannot be written (``> /dev/full``, a closed pipe): one line, exit 1, and no
    second error when Python flushes it at exit."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    if isinstance(exc, BrokenPipeError):
        return 0  # the reader went away (| head): not an error
    with contextlib.suppress(OSError):
        print(f"hookmock {command}: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    _escape_unencodable_output()
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_named(words))
    try:
        args, extra = parser.parse_known_args(words)
        if extra:  # reported by the parser of the command they were given to, so its usage is shown
            _blamed(parser, args, words, extra).error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    module = importlib.import_module(f"{__name__}.cmd_{args.command}")
    name = _innermost(parser, args).prog  # the full command: "hookmock scenario validate"
    try:
        return int(module.run(args))
    except UsageError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    except HookmockError as exc:
        from ..transport.targets import ResolutionFailed

        if isinstance(exc, ResolutionFailed):  # a URL naming no host: a usage error, as off-loopback is
            print(f"{name}: error: {exc}", file=sys.stderr)
            return 2
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if not _is_output_error(exc):
            raise
        return _output_failed(args.command, exc)
    except Exception as exc:
        locked = _locked_db(args, exc)
        if locked is None:
            raise
        print(f"{name}: error: {locked}", file=sys.stderr)
        return 2


def _locked_db(args: argparse.Namespace, exc: Exception) -> Exception | None:
    """SQLite's own "database is locked", met by a command reading its ``--db`` file after opening
    it (another process took the lock meanwhile, the file out of WAL mode): the same error, naming
    the file, as a write that met the lock (:class:`~hookmock._util.sqlite.DatabaseLocked`)."""
    db = getattr(args, "db", None)
    if not isinstance(db, str) or type(exc).__module__ != "sqlite3":
        return None
    from .._util.sqlite import DatabaseLocked, is_locked

    return DatabaseLocked(db) if is_locked(exc) else None


def _is_output_error(exc: OSError) -> bool:
    """An error writing standard output, rather than one from the command's own work."""
    if isinstance(exc, BrokenPipeError):
        return True
    try:
        sys.stdout.flush()
    except OSError:
        return True
    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) and not exc.filename


def run() -> None:
    """The console script: ``main()`` with a Ctrl-C at any moment (even while the command's modules
    are still loading) ending as "interrupted", exit 130, never a traceback."""
    try:
        code = main()
    except KeyboardInterrupt:
        with contextlib.suppress(OSError):
            print("interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
