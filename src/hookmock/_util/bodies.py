"""Hostile-but-legal JSON bodies (receiver defect #1).

Each variant is valid JSON that a receiver must verify over the *raw bytes*: a receiver that
parses and re-serializes the body before computing the signature gets a different string and
wrongly rejects it.  Variants that add a value do so inside the profile's free-form object
(Moda's ``data.input``, mod.io's ``event_body``), so every variant stays schema-valid.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["VARIANT_NAMES", "hostile_variants"]

_PLACEHOLDER = "@@hookmock-raw-value@@"

#: name -> raw JSON text placed in the free-form object under the key ``hookmock_probe``.
_RAW_VALUES: dict[str, str] = {
    "uppercase_unicode_escape": '"\\u001B[0m reset"',
    "decimal_trailing_zero": "1.10",
    "exponent": "1e2",
    "negative_zero": "-0.0",
    "key_order": '{"b":1,"a":2}',
    "big_int": "123456789012345678901234567890",
    "non_ascii": '"héllo wörld ñ 日本語 Ελληνικά"',
    "emoji": '"🚀 launch 👩\u200d💻 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"',
    "line_separators": '"a\u2028b\u2029c"',
    "escaped_non_ascii": '"\\u00e9t\\u00e9 \\ud83d\\ude80"',
}

VARIANT_NAMES: tuple[str, ...] = ("escaped_slash", "pretty_trailing_newline", *_RAW_VALUES)


def _compact(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _with_slot(payload: Mapping[str, Any], slot: Sequence[str]) -> dict[str, Any]:
    doc = copy.deepcopy(dict(payload))
    node: Any = doc
    for key in slot:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node["hookmock_probe"] = _PLACEHOLDER
    return doc


def hostile_variants(payload: Mapping[str, Any], slot: Sequence[str] = ()) -> dict[str, bytes]:
    """Every variant of ``payload`` as UTF-8 bytes, keyed by variant name."""
    compact = _compact(payload)
    out: dict[str, bytes] = {}
    out["escaped_slash"] = (
        compact.replace("/", "\\/") if "/" in compact else compact.replace("_", "\\u005f")
    ).encode()
    out["pretty_trailing_newline"] = (json.dumps(payload, ensure_ascii=False, indent=2) + "\n").encode()
    template = _compact(_with_slot(payload, slot))
    for name, raw in _RAW_VALUES.items():
        out[name] = template.replace(json.dumps(_PLACEHOLDER), raw, 1).encode("utf-8")
    return out
