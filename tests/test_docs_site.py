"""The documentation site: its reference pages are generated from the code and name everything the
code has (each checked here against the parsers, the route table and the emulator's source, not
against the generator's own walk), the site builds with ``mkdocs build --strict``, and no page points
outside the repository."""

from __future__ import annotations

import argparse
import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hookmock
from hookmock.cli import EXIT_CODES, build_parser
from hookmock.cli._reference import PAGES, cli_reference, errors_reference, plain_roles, python_api_reference
from hookmock.cli._reference_http import http_reference, operation_anchor
from hookmock.emulator import openapi, routes
from hookmock.emulator.errors import CODES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _sections(markdown: str) -> dict[str, str]:
    """Heading text (without ``#``, backticks and ``{#anchor}``) -> the text up to the next heading."""
    out: dict[str, str] = {}
    heading = ""
    for line in markdown.splitlines():
        if line.startswith("#"):
            heading = re.sub(r"\s*\{#[^}]*\}$", "", line.lstrip("#").strip()).strip("`")
            out[heading] = ""
        elif heading:
            out[heading] += line + "\n"
    return out


# -- the command line -----------------------------------------------------------------------------


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _parsers(sub)
    return found


def missing_from_cli_reference(parser: argparse.ArgumentParser, markdown: str) -> list[str]:
    """What of ``parser``'s commands, options, defaults and help the reference does not show."""
    sections = _sections(markdown)
    missing = []
    for sub in _parsers(parser):
        text = sections.get(sub.prog)
        if text is None:
            missing.append(f"{sub.prog}: no section")
            continue
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            if isinstance(action, argparse._SubParsersAction):
                names = [f"{sub.prog} {name}" for name in action.choices]
            else:
                names = list(action.option_strings) or [str(action.metavar or action.dest)]
            firsts = re.findall(r"^\| `([^`]*)` \|", text, re.M)  # the first cell of each row
            missing += [
                f"{sub.prog}: {name}"
                for name in names
                if not any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", c) for c in firsts)
            ]
            has_default = action.nargs != 0 and action.default not in (None, [], argparse.SUPPRESS)
            if action.option_strings and has_default and f"`{action.default}`" not in text:
                missing.append(f"{sub.prog} {action.option_strings[-1]}: default {action.default!r}")
            help_text = " ".join(str(action.help or "").split())
            words = re.sub(r"[^\w ]", " ", help_text).split()[:4]
            if words and not re.search(r"\W+".join(map(re.escape, words)), text):
                missing.append(f"{sub.prog} {names[0]}: help {help_text[:40]!r}")
    return missing


def test_the_cli_reference_shows_every_command_option_default_and_help() -> None:
    parser = build_parser()
    markdown = cli_reference(parser)
    assert missing_from_cli_reference(parser, markdown) == []
    assert len(_parsers(parser)) > 15  # every command and the scenario verbs


def test_an_option_or_command_missing_from_the_cli_reference_is_reported() -> None:
    old = cli_reference()
    parser = build_parser()
    serve = next(p for p in _parsers(parser) if p.prog == "hookmock serve")
    serve.add_argument("--brand-new", metavar="N", default=7, help="a new option nobody documented")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub.add_parser("newcmd", help="a new command")
    assert sorted(missing_from_cli_reference(parser, old)) == [
        "hookmock newcmd: no section",
        "hookmock serve --brand-new: default 7",
        "hookmock serve --brand-new: help 'a new option nobody documented'",
        "hookmock serve: --brand-new",
        "hookmock: hookmock newcmd",
    ]
    row = next(line for line in old.splitlines() if "`--state-file" in line)
    assert "hookmock serve: --state-file" in missing_from_cli_reference(build_parser(), old.replace(row, ""))


# -- the HTTP API ---------------------------------------------------------------------------------


def _body_fields(schema: dict[str, Any], prefix: str = "") -> list[str]:
    names = []
    for name, sub in schema.get("properties", {}).items():
        names.append(prefix + name)
        names += _body_fields(sub, f"{prefix}{name}.")
    return names


def missing_from_http_reference(markdown: str) -> list[str]:
    """Routes, parameters, request-body fields and statuses of the route table and its
    :data:`openapi.OPERATIONS` entries that the reference does not show."""
    sections = _sections(markdown)
    missing = []
    for rule, methods, endpoint, _handler in routes.all_routes():
        op = openapi.OPERATIONS[endpoint]
        for method in methods:
            title = f"{method} {openapi.openapi_path(rule)}"
            text = sections.get(title)
            if text is None:
                missing.append(f"{title}: no section")
                continue
            if f"(#{operation_anchor(method, openapi.openapi_path(rule))})" not in markdown:
                missing.append(f"{title}: not in the index")
            names = re.findall(r"<(?:\w+:)?(\w+)>", rule) + [q["name"] for q in op.query]
            names += _body_fields(op.body or {})
            missing += [f"{title}: {n}" for n in names if f"| `{n}` |" not in text]
            if op.body is not None and "**Request body**" not in text:
                missing.append(f"{title}: request body")
            for name in (op.body or {}).get("required", []):
                if f"| `{name}` | " not in text or not re.search(rf"\| `{name}` \|[^\n]*\| yes \|", text):
                    missing.append(f"{title}: {name} not marked required")
            for status in (op.ok, *op.errors):
                if f"\n| {status} |" not in text:
                    missing.append(f"{title}: status {status}")
    return missing


def test_the_http_reference_shows_every_route_parameter_body_field_and_status() -> None:
    markdown = http_reference()
    assert missing_from_http_reference(markdown) == []
    drills = _sections(markdown)["POST /_hookmock/drills"]
    for field in ("mode", "delivery_id", "delivery_ids", "copies"):  # the fields users met only in a 400
        assert f"| `{field}` |" in drills
    webhook = _sections(markdown)["PUT /_hookmock/modio/games/{game_id}/webhook"]
    assert "| `url` |" in webhook and "| `token` |" in webhook


def test_a_route_or_body_field_missing_from_the_http_reference_is_reported() -> None:
    markdown = http_reference()
    section = _sections(markdown)["POST /_hookmock/drills"]
    row = next(line for line in section.splitlines() if line.startswith("| `delivery_id` |"))
    assert missing_from_http_reference(markdown.replace(row, "")) == ["POST /_hookmock/drills: delivery_id"]
    heading = next(line for line in markdown.splitlines() if line.startswith("### `GET /_hookmock/clock`"))
    assert "GET /_hookmock/clock: no section" in missing_from_http_reference(markdown.replace(heading, ""))


def test_the_http_reference_follows_the_document_it_is_given() -> None:
    """A route added to the document appears in the page (the page is the document, not a copy)."""
    document = routes.document()
    extra = {
        **document,
        "paths": {
            **document["paths"],
            "/_hookmock/new": {
                "post": {
                    "summary": "A new route",
                    "tags": ["Control"],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["knob"],
                                    "properties": {"knob": {"type": "integer", "description": "Turn it"}},
                                }
                            }
                        },
                    },
                    "responses": {"200": {"description": "done"}},
                }
            },
        },
    }
    section = _sections(http_reference(extra))["POST /_hookmock/new"]
    assert "| `knob` | integer | yes | Turn it. |" in section


# -- errors and exit codes ------------------------------------------------------------------------


def _codes_in_source() -> set[tuple[str, str]]:
    """``(type, code)`` of every error the emulator's source raises with literal strings, every code
    its HTTP server answers with, and the magic values' errors."""
    found: set[tuple[str, str]] = set()
    for path in (ROOT / "src" / "hookmock" / "emulator").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
            if name == "ApiError" and len(args) >= 2 and args[0] and args[1]:
                found.add((args[0], args[1]))
            elif name in ("invalid", "_invalid") and args and args[0]:
                found.add(("invalid_request", args[0]))
            elif name == "_ending" and len(args) >= 3 and args[2]:
                found.add(("conflict", args[2]))
    from hookmock._util.framing import ERROR_CODES
    from hookmock.emulator.tasks import ERROR_MAGIC

    found |= {("rate_limited" if s == 503 else "invalid_request", c) for s, c in ERROR_CODES.items()}
    found |= {(t, t if t != "rate_limited" else "rate_limited") for t, _message in ERROR_MAGIC.values()}
    return found


def test_every_error_code_of_the_emulator_is_registered_and_in_the_reference() -> None:
    registered = {(e.type, e.code) for e in CODES}
    in_source = _codes_in_source()
    assert sorted(in_source - registered) == [], "add these to hookmock.emulator.errors.CODES"
    assert sorted(registered - in_source) == [], "CODES lists codes the emulator never answers with"
    assert len(registered) == len(CODES)
    page = errors_reference()
    sections = _sections(page)
    for err in CODES:
        text = next(v for k, v in sections.items() if k.startswith(f"{err.type}` ("))
        assert f"| `{err.code}` | {err.status} |" in text, err
    for status in EXIT_CODES:
        assert f"\n| {status} | " in page
    assert "## Emulator errors" in page  # the anchor the error bodies' doc_url names


def test_the_exit_codes_the_reference_lists_are_the_ones_the_command_returns() -> None:
    from hookmock.cli import main

    assert main([]) == 2 and main(["validate", "/nonexistent/file.json"]) == 2
    assert main(["--version"]) == 0
    source = (ROOT / "src" / "hookmock" / "cli" / "__init__.py").read_text(encoding="utf-8")
    returned = {int(n) for n in re.findall(r"^\s+return (\d+)\b", source, re.M)}
    assert returned <= set(EXIT_CODES)


# -- the Python API -------------------------------------------------------------------------------


def test_sphinx_roles_in_docstrings_are_shown_as_plain_code() -> None:
    html = "the :class:<code>~hookmock.emulator.app.EmulatorApp</code> and :func:<code>fail_once</code>"
    assert plain_roles(html) == "the <code>EmulatorApp</code> and <code>fail_once</code>"


def test_the_python_api_page_documents_every_public_name() -> None:
    page = python_api_reference()
    for name, module in hookmock._EXPORTS.items():
        assert f"::: hookmock{module}.{name}\n" in page, name
    for module in ("hookmock.strategies", "hookmock.pytest_plugin", "hookmock.locust"):
        assert f"::: {module}\n" in page


# -- no page points outside the repository ---------------------------------------------------------


def _pages() -> dict[str, str]:
    """Every page of the site: the files under docs/ and the generated ones."""
    found = {str(p.relative_to(DOCS)): p.read_text(encoding="utf-8") for p in DOCS.rglob("*.md")}
    return {**found, **{path: write() for path, write in PAGES.items()}}


def test_no_page_points_outside_the_repository() -> None:
    offenders = []
    for name, text in _pages().items():
        for target in re.findall(r"\]\(([^)\s]+)", text) + re.findall(r'(?:href|src)="([^"]+)"', text):
            if re.match(r"(https?|mailto):", target) or target.startswith("#"):
                continue
            path = target.split("#")[0]
            resolved = (DOCS / name).parent.joinpath(path).resolve()
            if target.startswith(("/", "file:", "~")) or not resolved.is_relative_to(ROOT):
                offenders.append(f"docs/{name}: {target}")
            elif not resolved.exists() and resolved.relative_to(DOCS).as_posix() not in PAGES:
                offenders.append(f"docs/{name}: {target} (no such file)")
        for number, line in enumerate(text.splitlines(), 1):
            if re.search(r"(?<![\w-])shared/|/work/", line):
                offenders.append(f"docs/{name}:{number}: {line.strip()}")
    assert offenders == []


def test_no_reference_page_is_written_by_hand() -> None:
    assert [p for p in PAGES if (DOCS / p).exists()] == []


# -- the site builds ------------------------------------------------------------------------------

needs_mkdocs = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None,
    reason="the docs extra is not installed (pip install '.[docs]'); .ci/run installs it",
)


@needs_mkdocs
def test_the_site_builds_with_no_warning(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING" not in result.stderr, result.stderr[-3000:]
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "hookmock scenario run" in cli and "--state-file" in cli
    api = (site / "reference" / "http-api" / "index.html").read_text(encoding="utf-8")
    assert "/_hookmock/drills" in api and "<code>delivery_id</code>" in api
    python_api = (site / "reference" / "python-api" / "index.html").read_text(encoding="utf-8")
    for name, module in hookmock._EXPORTS.items():
        assert f'id="hookmock{module}.{name}"' in python_api, name
    assert ":class:" not in python_api and ":func:" not in python_api
    for page in ("audit-catalogue", "providers"):
        assert (site / page / "index.html").is_file()
