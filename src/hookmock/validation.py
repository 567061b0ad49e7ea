"""JSON Schema validation against the schemas shipped in ``hookmock.schemas``.

The schemas are found with :mod:`importlib.resources`, so they work from an installed wheel.
``jsonschema`` is imported on first use, not when hookmock is imported.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from .errors import SchemaValidationError, UsageError, Violation

__all__ = [
    "JSONInputError",
    "guess_schema",
    "load_schema",
    "parse_json",
    "schema_names",
    "validate",
    "violations",
]


class JSONInputError(UsageError):
    """Text that is not a JSON document hookmock can read; the message names ``what`` and why."""


class _NotJSONNumber(Exception):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJSONNumber(name)  # NaN, Infinity, -Infinity: Python's json reads them, JSON has none


def parse_json(raw: bytes | str, *, what: str) -> Any:
    """``json.loads`` for input from outside (files, request bodies): every way it can fail, including
    nesting too deep for Python's recursion limit and integers over Python's digit limit, becomes a
    :class:`JSONInputError` whose message starts with ``what`` (e.g. ``"'payload.json'"``)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
        if text.startswith("\ufeff"):
            raise JSONInputError(f"{what} starts with a byte order mark (BOM); save it as UTF-8 without one")
        return json.loads(text, parse_constant=_no_constant)
    except _NotJSONNumber as exc:
        raise JSONInputError(f"{what} is not valid JSON: {exc} is not a JSON number (RFC 8259)") from None
    except UnicodeDecodeError as exc:
        raise JSONInputError(f"{what} is not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise JSONInputError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise JSONInputError(
            f"{what} nests arrays/objects too deeply to read (Python's limit is about "
            f"{sys.getrecursionlimit()} levels); flatten it"
        ) from None
    except ValueError as exc:  # int("9" * 5000): Python refuses integers with too many digits
        if "digits" not in str(exc):
            raise JSONInputError(f"{what} is not valid JSON: {exc}") from None
        most = getattr(sys, "get_int_max_str_digits", int)()
        raise JSONInputError(
            f"{what} holds an integer with more than {most} digits, more than Python reads; "
            "write such a number as a string"
        ) from None


_SUFFIX = ".schema.json"


@lru_cache(maxsize=1)
def _schema_files() -> dict[str, str]:
    root = resources.files("hookmock.schemas")
    return {
        entry.name[: -len(_SUFFIX)]: entry.read_text(encoding="utf-8")
        for entry in root.iterdir()
        if entry.name.endswith(_SUFFIX)
    }


def schema_names() -> list[str]:
    """Every schema hookmock ships, by name (``moda-envelope``, ``modio-event``, …)."""
    return sorted(_schema_files())


def load_schema(name: str) -> dict[str, Any]:
    """The schema called ``name`` as a dict."""
    files = _schema_files()
    if name not in files:
        raise UsageError(f"unknown schema {name!r}; choose one of: {', '.join(sorted(files))}")
    loaded: dict[str, Any] = json.loads(files[name])
    return loaded


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    resources_ = []
    for other in _schema_files():
        doc = load_schema(other)
        resources_.append((doc["$id"], Resource.from_contents(doc)))
    registry: Registry[Any] = Registry().with_resources(resources_)
    return Draft202012Validator(load_schema(name), registry=registry)


def guess_schema(payload: Any) -> str:
    """The schema a payload most likely claims to follow, judged by its keys."""
    if isinstance(payload, Mapping):
        if "event" in payload and "event_name" not in payload:
            return "modio-ping"
        if "event_name" in payload:
            return "modio-event"
        if "type" in payload and "data" in payload:
            return "moda-envelope"
        if "steps" in payload and "scenario" in _schema_files():
            return "scenario"
        if "target_url" in payload:
            return "moda-delivery"
        if "http_status" in payload or "duration_ms" in payload:
            return "modio-history-entry"
        if "kind" in payload and "status" in payload:
            return "moda-task"
        if set(payload) == {"error"}:
            return "moda-error"
    raise UsageError(
        f"cannot tell which schema this payload follows; name one with --schema ({', '.join(schema_names())})"
    )


def _path(error: Any) -> str:
    path = getattr(error, "json_path", None)
    if path:
        return str(path)
    parts = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return "$" + parts


def violations(payload: Any, schema_name: str | None = None, *, most: int | None = None) -> list[Violation]:
    """Every violation of ``payload`` against the schema (guessed when not named); with ``most``,
    checking stops once that many are found (a large document with an error in each of its million
    items would otherwise take minutes and gigabytes)."""
    name = schema_name or guess_schema(payload)
    if name not in _schema_files():
        load_schema(name)  # raises the clear error for an unknown name
    found = []
    for error in _validator(name).iter_errors(payload):
        leaves = _leaves(error)
        for leaf in leaves:
            found.append(Violation(_path(leaf), leaf.message))
        if most is not None and len(found) >= most:
            del found[most:]
            break
    unique = {(v.path, v.message): v for v in found}
    return sorted(unique.values(), key=lambda v: (v.path, v.message))


def _leaves(error: Any) -> list[Any]:
    # anyOf/oneOf report one summary error; when every branch failed on one branch that matches
    # the instance's type, the branch's own errors say more.
    if error.validator in ("anyOf", "oneOf") and error.context:
        typed = [e for e in error.context if e.validator != "type"]
        if typed:
            return [leaf for e in typed for leaf in _leaves(e)]
    return [error]


def validate(payload: Any, schema_name: str | None = None) -> None:
    """Raise :class:`SchemaValidationError` listing every violation, or return None."""
    name = schema_name or guess_schema(payload)
    found = violations(payload, name)
    if found:
        raise SchemaValidationError(name, found)
