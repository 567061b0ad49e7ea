"""The emulator's HTTP API reference, generated from its OpenAPI document (:mod:`hookmock.emulator.openapi`).

Every route with its parameters, its request body field by field (nested fields with dotted names),
its responses, and every component schema the responses point at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ._markdown import GENERATED, cell, code

__all__ = ["body_fields", "http_reference", "operation_anchor", "schema_anchor"]

METHODS = ("get", "post", "put", "patch", "delete")
_CONSTRAINTS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "pattern")


def schema_anchor(name: str) -> str:
    """The anchor of a component schema's section: ``Task`` -> ``schema-task``."""
    return "schema-" + name.lower()


def operation_anchor(method: str, path: str) -> str:
    """The anchor of a route's section: ``GET /v1/tasks/{task_id}`` -> ``get-v1-tasks-task_id``."""
    return re.sub(r"[^a-z0-9_]+", "-", f"{method} {path}".lower()).strip("-")


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def type_of(schema: dict[str, Any]) -> str:
    """A schema's type in a few words: ``string (date-time)``, ``one of: a, b``, ``array of Task``."""
    name = _ref_name(schema)
    if name is not None:
        return f"[{name}](#{schema_anchor(name)})"
    if "const" in schema:
        return "always " + code(json.dumps(schema["const"]))
    if "enum" in schema:
        return "one of: " + ", ".join(code(json.dumps(v)) for v in schema["enum"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " or ".join(type_of(s) for s in schema[combinator])
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    words = []
    for k in kinds:
        if k == "array" and isinstance(schema.get("items"), dict):
            words.append("array of " + (type_of(schema["items"]) if schema["items"] else "any"))
        elif k == "string" and "format" in schema:
            words.append(f"string ({schema['format']})")
        else:
            words.append(str(k))
    return " or ".join(words) or "any"


def sentence(text: str) -> str:
    """``text`` as a table cell that ends like a sentence (so more sentences can follow it)."""
    out = cell(text)
    return out + "." if out and out[-1] not in ".!?)" else out


def _about(schema: dict[str, Any]) -> str:
    """A field's description, constraints and default, as the Markdown of one table cell."""
    parts = [sentence(schema["description"])] if "description" in schema else []
    limits = [
        f"{k} {code(schema[k] if k == 'pattern' else json.dumps(schema[k]))}"
        for k in _CONSTRAINTS
        if k in schema
    ]
    if limits:
        parts.append("Constraints: " + ", ".join(limits) + ".")
    if "default" in schema:
        parts.append(f"Default: {code(json.dumps(schema['default']))}.")
    return " ".join(parts)


def _objects_in(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The object schemas nested in ``schema`` (itself, an ``anyOf`` branch, array items) with the
    suffix their fields' names take (``""`` or ``"[]"``)."""
    if "properties" in schema:
        yield "", schema
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        yield from _objects_in(branch)
    items = schema.get("items")
    if isinstance(items, dict) and _ref_name(items) is None:
        for suffix, inner in _objects_in(items):
            yield "[]" + suffix, inner


def body_fields(schema: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str, bool, str]]:
    """``(name, type, required, description)`` of every field of an object schema, nested fields
    named ``outer.inner`` (``outer[].inner`` inside arrays)."""
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        full = prefix + name
        yield full, type_of(sub), name in required, _about(sub)
        for suffix, inner in _objects_in(sub):
            yield from body_fields(inner, f"{full}{suffix}.")


def _fields_table(schema: dict[str, Any]) -> list[str]:
    rows = list(body_fields(schema))
    if not rows:
        return [f"Type: {type_of(schema)}.", ""]
    lines = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, type_, required, about in rows:
        lines.append(f"| {code(name)} | {type_} | {'yes' if required else 'no'} | {about} |")
    return [*lines, ""]


def _parameters(op: dict[str, Any]) -> list[str]:
    params = op.get("parameters", [])
    if not params:
        return []
    lines = ["**Parameters**", "", "| name | in | type | required | description |", "|---|---|---|---|---|"]
    for p in params:
        schema = p.get("schema", {})
        about = " ".join(x for x in (sentence(p.get("description", "")), _about(schema)) if x)
        lines.append(
            f"| {code(p['name'])} | {p['in']} | {type_of(schema)} | "
            f"{'yes' if p.get('required') else 'no'} | {about} |"
        )
    return [*lines, ""]


def _request_body(op: dict[str, Any]) -> list[str]:
    body = op.get("requestBody")
    if body is None:
        return []
    lines = []
    for media, content in body["content"].items():
        need = "required" if body.get("required") else "optional: an empty body takes every default"
        lines += [f"**Request body** (`{media}`, {need})", ""]
        lines += _fields_table(content.get("schema", {}))
    return lines


def _responses(op: dict[str, Any]) -> list[str]:
    lines = ["**Responses**", "", "| status | description | body |", "|---|---|---|"]
    for status, response in op["responses"].items():
        about = response.get("description", "")
        about = "Success" if about == op.get("summary") else about
        bodies = [
            f"{code(media)}: {type_of(c.get('schema', {}))}"
            for media, c in response.get("content", {}).items()
        ]
        lines.append(f"| {status} | {cell(about)} | {'; '.join(bodies)} |")
    lines.append("")
    for status, response in op["responses"].items():
        for media, content in response.get("content", {}).items():
            schema = content.get("schema", {})
            if status.startswith("2") and "properties" in schema:  # inline: no schema section of its own
                lines += [f"**Response body** ({status}, `{media}`)", "", *_fields_table(schema)]
    return lines


def _operation(path: str, method: str, op: dict[str, Any]) -> list[str]:
    lines = [
        f"### `{method.upper()} {path}` {{#{operation_anchor(method, path)}}}",
        "",
        cell(op.get("summary", "")),
        "",
    ]
    if op.get("description"):
        lines += [" ".join(op["description"].split()), ""]
    if op.get("security"):
        lines += ["Needs the API key: `Authorization: Bearer moda_live_…` (the key `serve` prints).", ""]
    return lines + _parameters(op) + _request_body(op) + _responses(op)


def http_reference(document: dict[str, Any] | None = None) -> str:
    """The HTTP API reference of ``document`` (by default the emulator's own OpenAPI document)."""
    if document is None:
        from ..emulator.routes import document as emulator_document

        document = emulator_document()
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                by_tag.setdefault((op.get("tags") or ["Other"])[0], []).append((path, method, op))
    lines = [
        GENERATED,
        "# Emulator HTTP API",
        "",
        " ".join(document["info"].get("description", "").split()),
        "",
        "Generated from the emulator's OpenAPI 3.1 document, which a running emulator serves at "
        "`/_hookmock/openapi.json` and `hookmock openapi` prints (generate a client from it). "
        "Error codes are listed in [Errors and exit codes](errors.md).",
        "",
    ]
    for tag, ops in by_tag.items():
        lines += [f"## {tag}", ""]
        lines += [
            f"- [`{m.upper()} {p}`](#{operation_anchor(m, p)}): {cell(op.get('summary', ''))}"
            for p, m, op in ops
        ]
        lines.append("")
        for path, method, op in ops:
            lines += _operation(path, method, op)
    lines += ["## Schemas", ""]
    for name, schema in document["components"]["schemas"].items():
        lines += [f"### {name} {{#{schema_anchor(name)}}}", ""]
        for key in ("title", "description"):
            if key in schema:
                lines += [cell(schema[key]), ""]
        lines += _fields_table(schema)
        if any(k in schema for k in ("allOf", "if", "oneOf")):
            lines += [
                '??? note "Conditional rules (the full JSON Schema)"',
                "",
                "    ```json",
                *("    " + line for line in json.dumps(schema, indent=2).splitlines()),
                "    ```",
                "",
            ]
    return "\n".join(lines)
