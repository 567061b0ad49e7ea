"""The documentation's reference pages, generated from the code so they cannot drift from it.

``docs/_hooks/reference.py`` (an MkDocs hook) adds each page of :data:`PAGES` to the site at build
time; no reference page is written by hand.  The pages:

* ``reference/cli.md``: every command, subcommand and option of :func:`hookmock.cli.build_parser`;
* ``reference/http-api.md``: the emulator's OpenAPI document (:mod:`._reference_http`);
* ``reference/errors.md``: every error code of the emulator (:data:`hookmock.emulator.errors.CODES`)
  and the command's exit statuses (:data:`hookmock.cli.EXIT_CODES`);
* ``reference/python-api.md``: mkdocstrings directives for the public API (``hookmock._EXPORTS`` and
  the public modules).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterator

from ._markdown import GENERATED, cell, code
from ._reference_http import http_reference

__all__ = [
    "PAGES",
    "PUBLIC_MODULES",
    "cli_reference",
    "errors_reference",
    "plain_roles",
    "python_api_reference",
    "walk_parsers",
]


#: Modules users import from directly besides ``hookmock`` itself (documented whole, by ``__all__``).
PUBLIC_MODULES = ("hookmock.strategies", "hookmock.pytest_plugin", "hookmock.locust")


# -- the command line -----------------------------------------------------------------------------


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[argparse.ArgumentParser, str]]:
    """``(subparser, its one-line help)`` of each subcommand of ``parser``, in the parser's order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield sub, helps.get(name, "")


def walk_parsers(
    parser: argparse.ArgumentParser, depth: int = 0, summary: str = ""
) -> Iterator[tuple[argparse.ArgumentParser, int, str]]:
    """``(parser, depth, one-line help)`` of ``parser`` and every subcommand below it, depth first."""
    yield parser, depth, summary
    for sub, help_text in _subparsers(parser):
        yield from walk_parsers(sub, depth + 1, help_text)


def documented_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments and options of ``parser`` a user can give (not ``--help``, not subcommands)."""
    return [
        a
        for a in parser._actions
        if a.help != argparse.SUPPRESS
        and not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)
    ]


def _default(action: argparse.Action) -> str:
    if action.option_strings and action.nargs == 0:
        return ""  # a flag: its default is "not given"
    if action.default in (None, argparse.SUPPRESS) or action.default == []:
        return ""
    return code(action.default)


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    formatter = parser._get_formatter()
    text = formatter._expand_help(action) if action.help else ""
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        text += " Choices: " + ", ".join(str(c) for c in action.choices) + "."
    return cell(text)


def _invocation(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    return code(parser._get_formatter()._format_action_invocation(action))


def _command_section(parser: argparse.ArgumentParser, depth: int, summary: str) -> list[str]:
    lines = [f"{'#' * min(depth + 2, 6)} `{parser.prog}`", ""]
    if summary:
        lines += [cell(summary), ""]
    formatter = argparse.HelpFormatter(parser.prog, width=100)  # not the terminal's: the same on every build
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, prefix="")
    lines += ["```text", formatter.format_help().strip("\n"), "```", ""]
    if parser.description:
        lines += [" ".join(parser.description.split()), ""]
    subs = list(_subparsers(parser))
    if subs:
        lines += ["| command | what it does |", "|---|---|"]
        lines += [f"| {code(sub.prog)} | {cell(help_text)} |" for sub, help_text in subs]
        lines.append("")
    actions = documented_actions(parser)
    if actions:
        lines += ["| argument or option | default | description |", "|---|---|---|"]
        lines += [f"| {_invocation(parser, a)} | {_default(a)} | {_help(parser, a)} |" for a in actions]
        lines.append("")
    if parser.epilog:
        lines += [" ".join(parser.epilog.split()), ""]
    return lines


def cli_reference(parser: argparse.ArgumentParser | None = None) -> str:
    """The command-line reference: a section per command and subcommand, a row per option."""
    from . import build_parser

    parser = parser or build_parser()
    lines = [
        GENERATED,
        "# Command line",
        "",
        "Every command, subcommand and option of `hookmock`, generated from its argument parsers "
        "(the same text as `hookmock COMMAND --help`). Exit statuses are in "
        "[Errors and exit codes](errors.md#exit-codes).",
        "",
    ]
    for sub, depth, summary in walk_parsers(parser):
        lines += _command_section(sub, depth, summary)
    return "\n".join(lines)


# -- errors and exit codes ------------------------------------------------------------------------


def _exit_notes(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str]]:
    """``(command, text)`` of each command whose help or description says what its exit status means."""
    for sub, _depth, summary in walk_parsers(parser):
        for text in (summary, sub.description or ""):
            for match in re.finditer(r"\(([^()]*\bexit[^()]*)\)", text):
                yield sub.prog, match.group(1)


def errors_reference() -> str:
    """Every error code of the emulator, by type, and the exit statuses of the command."""
    from ..emulator.errors import CODES, ERROR_STATUS
    from . import EXIT_CODES, build_parser

    lines = [
        GENERATED,
        "# Errors and exit codes",
        "",
        "## Emulator errors",
        "",
        "Every error the emulator answers, on every route (the control API and unknown routes "
        "included), has Moda's error body: "
        '`{"error": {"type", "code", "message", "doc_url", "request_id", "details", '
        '"retry_after_ms", "causes"}}`. `message` names the bad value and says what to do; '
        "`details.parameter` names the parameter at fault where there is one; `multiple_problems` "
        "lists each problem in `causes`.",
        "",
        "One section per `type`; a code is answered with the status shown.",
        "",
    ]
    for type_, default in ERROR_STATUS.items():
        codes = sorted((e for e in CODES if e.type == type_), key=lambda e: (e.status, e.code))
        lines += [f"### `{type_}` ({default})", "", "| code | status | meaning |", "|---|---|---|"]
        lines += [f"| `{e.code}` | {e.status} | {cell(e.meaning)} |" for e in codes]
        lines.append("")
    lines += ["## Exit codes", "", "| status | meaning |", "|---|---|"]
    lines += [f"| {status} | {cell(meaning)} |" for status, meaning in EXIT_CODES.items()]
    notes = list(_exit_notes(build_parser()))
    if notes:
        lines += ["", "Commands that say more about their exit status:", ""]
        lines += [f"- `{prog}`: {cell(text)}" for prog, text in notes]
    return "\n".join(lines) + "\n"


# -- the Python API -------------------------------------------------------------------------------


#: The section title of each area of the public API (the package that defines the names).
_AREAS = {
    "auditing": "Auditing a receiver",
    "clock": "Clocks",
    "delivery": "Deliveries and the delivery log",
    "emulator": "The emulator",
    "errors": "Errors",
    "factories": "Event factories",
    "profiles": "Provider profiles",
    "receiver": "Fake receiver, fault proxy and assertions",
    "scenarios": "Scenarios",
    "sender": "Sender",
    "signing": "Signing",
    "storm": "Storms",
    "transport": "Transports and targets",
    "validation": "Schema validation",
    "_util": "Helpers",
}


def python_api_reference() -> str:
    """mkdocstrings directives for every name of ``hookmock.__all__`` (by the module that defines
    it) and for each module of :data:`PUBLIC_MODULES`."""
    import hookmock

    by_area: dict[str, list[str]] = {}
    for name, module in hookmock._EXPORTS.items():
        by_area.setdefault(module.split(".")[1], []).append(f"hookmock{module}.{name}")
    lines = [
        GENERATED,
        "# Python API",
        "",
        "Everything `from hookmock import …` offers (each name below is importable from `hookmock` "
        "itself), generated from the docstrings and grouped by area; then the modules used directly: "
        + ", ".join(f"`{m}`" for m in PUBLIC_MODULES)
        + ".",
        "",
    ]
    for area in sorted(by_area, key=lambda a: (a.startswith("_"), a)):
        lines += [f"## {_AREAS.get(area, area.capitalize())}", ""]
        for path in sorted(by_area[area], key=lambda p: p.rsplit(".", 1)[1].lower()):
            lines += [f"::: {path}", "    options:", "      heading_level: 3", ""]
    for module in PUBLIC_MODULES:
        lines += [f"## `{module}`", "", f"::: {module}", "    options:", "      show_root_heading: false", ""]
    return "\n".join(lines)


_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj):<code>(~?)([^<]*)</code>")


def plain_roles(html: str) -> str:
    """The docstrings' Sphinx roles (``:class:`~a.B```, rendered as ``:class:<code>~a.B</code>``) as
    plain code: ``<code>B</code>`` (``~`` keeps the last name, as Sphinx does)."""
    return _ROLE.sub(lambda m: f"<code>{m[2].rsplit('.', 1)[-1] if m[1] else m[2]}</code>", html)


#: Each generated page (its path under ``docs/``) and the function that writes it.
PAGES: dict[str, Callable[[], str]] = {
    "reference/cli.md": cli_reference,
    "reference/http-api.md": http_reference,
    "reference/errors.md": errors_reference,
    "reference/python-api.md": python_api_reference,
}
