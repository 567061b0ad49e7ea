"""The one way a request body becomes JSON in the emulator: strict, bounded, and every refusal a
400 in Moda's error body that names the bad value.

Refused, besides text that is not UTF-8 JSON at all:

* ``NaN``, ``Infinity`` and ``-Infinity`` (Python's ``json`` accepts them; JSON does not), and
  numbers too large for a double (``1e400`` would become infinity);
* nesting deeper than :data:`MAX_DEPTH` (hookmock's own bound, *decided*: no Moda request comes
  near it, and every later step that walks the value stays far from Python's recursion limit);
* a lone UTF-16 surrogate (``"\\ud800"``) in any string, key or value: it cannot be encoded as
  UTF-8, so it could be neither stored, hashed, signed nor sent.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import ApiError

__all__ = ["MAX_DEPTH", "decode_object"]

#: How deep arrays and objects may nest in a request body.
MAX_DEPTH = 64

_SURROGATE = re.compile("[\ud800-\udfff]")


class _Refused(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number; send a finite number")


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused(f"the number {text[:40]} is too large; send a number below 1.8e308")
    return value


def _invalid(code: str, message: str, **details: Any) -> ApiError:
    return ApiError("invalid_request", code, message, details=details or None)


def decode_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw`` (a request body that is not blank), or an :class:`ApiError`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(
            "invalid_json",
            f"the request body is not UTF-8 encoded JSON (byte {raw[exc.start : exc.start + 1]!r} "
            f"at offset {exc.start})",
        ) from None
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float)
    except _Refused as exc:
        raise _invalid("invalid_json", f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise _too_deep("$") from None
    except ValueError as exc:
        raise _invalid("invalid_json", f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _invalid("invalid_body", f"the request body must be a JSON object, got {type(value).__name__}")
    _check(value)
    return value


def _too_deep(path: str) -> ApiError:
    return _invalid(
        "invalid_json",
        f"the request body nests arrays and objects more than {MAX_DEPTH} levels deep (at {path}); "
        "flatten it",
        path=path,
    )


def _check(root: dict[str, Any]) -> None:
    """Walk the value without recursion: bounded depth, no lone surrogate anywhere."""
    stack: list[tuple[Any, str, int]] = [(root, "$", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            _no_surrogate(value, f"the value at {path}", path)
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise _too_deep(path)
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{_shown(key)}"
                _no_surrogate(key, f"a key in {path}", child)
                stack.append((item, child, depth + 1))
        else:
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))


def _shown(key: str) -> str:
    """A key as it appears in a path: plain if it is a simple name, else JSON-quoted (ASCII)."""
    return key if key.isidentifier() and key.isascii() else json.dumps(key)


def _no_surrogate(text: str, where: str, path: str) -> None:
    found = _SURROGATE.search(text)
    if found is not None:
        code = f"\\u{ord(found.group()):04x}"
        raise _invalid(
            "invalid_json",
            f"the request body has a lone surrogate {code} in {where}; JSON text must be valid "
            "Unicode: send the character itself, or a surrogate pair",
            path=path,
            character=code,
        )
