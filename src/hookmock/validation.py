"""JSON Schema validation against the schemas shipped in ``hookmock.schemas``.

The schemas are found with :mod:`importlib.resources`, so they work from an installed wheel.
``jsonschema`` is imported on first use, not when hookmock is imported.

Identifiers: every schema's ``$id`` is its own file name (``moda-envelope.schema.json``) and it refers
to another by file name (``"$ref": "moda-task.schema.json"``). A relative ``$id`` resolves against
where the document was read from, so no identifier names a network host and no validator tries to
fetch one: written to a folder (:func:`write_schemas`), the references resolve from that folder;
bundled (:func:`bundle_schema`), they are JSON pointers into the one document.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import SchemaValidationError, UsageError, Violation

__all__ = [
    "JSONInputError",
    "bundle_schema",
    "guess_schema",
    "load_schema",
    "parse_json",
    "schema_names",
    "validate",
    "violations",
    "write_schemas",
]


class JSONInputError(UsageError):
    """Text that is not a JSON document hookmock can read; the message names ``what`` and why."""


class _NotJSONNumber(Exception):
    pass


def _no_constant(name: str) -> Any:
    raise _NotJSONNumber(name)  # NaN, Infinity, -Infinity: Python's json reads them, JSON has none


#: ``json.loads(text, parse_constant=_no_constant)`` without a new decoder per call (a receiver
#: reads every request body with it)
_DECODE = json.JSONDecoder(parse_constant=_no_constant).decode


def parse_json(raw: bytes | str, *, what: str) -> Any:
    """``json.loads`` for input from outside (files, request bodies): every way it can fail, including
    nesting too deep for Python's recursion limit and integers over Python's digit limit, becomes a
    :class:`JSONInputError` whose message starts with ``what`` (e.g. ``"'payload.json'"``)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
        if text.startswith("\ufeff"):
            raise JSONInputError(f"{what} starts with a byte order mark (BOM); save it as UTF-8 without one")
        return _DECODE(text)
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


def _name_of(reference: str) -> str:
    """``moda-task.schema.json`` -> ``moda-task``: the schema a relative ``$ref`` points at."""
    if (
        not reference.endswith(_SUFFIX)
        or "/" in reference
        or reference[: -len(_SUFFIX)] not in _schema_files()
    ):
        raise UsageError(f"schema reference {reference!r} names no schema hookmock ships")
    return reference[: -len(_SUFFIX)]


def _rewrite_refs(node: Any, local: str, embedded: set[str], root: str) -> Any:
    """A copy of ``node`` whose ``$ref``s point inside one document: ``other.schema.json#/x`` becomes
    ``#/$defs/other/x``, and a schema's own ``#/x`` becomes ``#/$defs/<local>/x`` (``#/x`` for the root).
    Names of referenced schemas are added to ``embedded``."""
    if isinstance(node, list):
        return [_rewrite_refs(item, local, embedded, root) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            target, _, fragment = value.partition("#")
            name = _name_of(target) if target else local
            if name != root:
                embedded.add(name)
            out[key] = ("#" if name == root else f"#/$defs/{name}") + fragment
        else:
            out[key] = _rewrite_refs(value, local, embedded, root)
    return out


def bundle_schema(name: str) -> dict[str, Any]:
    """The schema called ``name`` as one self-contained draft 2020-12 document: every schema it
    references (directly or not) is embedded under ``$defs`` by name, and every ``$ref`` is a JSON
    pointer into the document, so a validator in any language needs no other file and fetches nothing."""
    doc = load_schema(name)
    pending: set[str] = set()
    bundled: dict[str, Any] = _rewrite_refs(doc, name, pending, name)
    defs: dict[str, Any] = dict(bundled.get("$defs", {}))
    done: set[str] = set()
    while pending - done:
        other = sorted(pending - done)[0]
        done.add(other)
        if other in defs:
            raise UsageError(f"cannot bundle {name!r}: its $defs already hold an entry called {other!r}")
        embedded = _rewrite_refs(load_schema(other), other, pending, name)
        embedded.pop("$schema", None)
        embedded.pop("$id", None)
        defs[other] = embedded
    if defs:
        bundled["$defs"] = defs
    return bundled


def write_schemas(folder: str | os.PathLike[str], *, bundle: bool = False) -> list[Path]:
    """Write every schema to ``folder`` as ``<name>.schema.json`` (created if missing) and return the
    paths. Their ``$id``s and ``$ref``s are relative file names, so references resolve from the folder;
    with ``bundle``, each file is self-contained instead (see :func:`bundle_schema`)."""
    where = Path(folder)
    if where.exists() and not where.is_dir():
        raise UsageError(f"{str(where)!r} is a file, not a folder; give a folder to write the schemas into")
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the folder {str(where)!r}: {exc.strerror}") from None
    written = []
    for name in schema_names():
        doc = bundle_schema(name) if bundle else load_schema(name)
        path = where / f"{name}{_SUFFIX}"
        try:
            path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {str(path)!r}: {exc.strerror}") from None
        written.append(path)
    return written


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


def _claimed_by_a_profile(payload: Mapping[str, Any]) -> str | None:
    """The event schema of the first profile (in name order) that ``payload`` is valid under."""
    from .profiles import available_profiles, get_profile

    known = _schema_files()
    for name in available_profiles():
        try:
            schema = get_profile(name).schema_for(payload)
        except Exception:  # a profile that cannot read this payload does not claim it
            continue
        if schema in known and not violations(payload, schema, most=1):
            return schema
    return None


def guess_schema(payload: Any) -> str:
    """The schema a payload most likely claims to follow: the event schema of a profile it is
    valid under, else judged by its keys."""
    if isinstance(payload, Mapping):
        claimed = _claimed_by_a_profile(payload)
        if claimed is not None:
            return claimed
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
