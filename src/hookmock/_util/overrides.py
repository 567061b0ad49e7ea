"""Keyword overrides for generated payloads.

``field=value`` replaces a top-level field; ``a__b__c=value`` replaces a nested one (creating
objects on the way); a value of :data:`ABSENT` removes the field.  A dict value replaces the
whole object at that place (it is not merged).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ABSENT", "apply_overrides", "lookup_override"]


class _Absent:
    def __repr__(self) -> str:
        return "hookmock.ABSENT"


#: Use as an override value to remove a field from a generated payload.
ABSENT: Any = _Absent()


def lookup_override(overrides: Mapping[str, Any], *path: str) -> Any:
    """The value ``overrides`` sets at ``path`` (through ``a__b`` or a nested dict), or None."""
    key = "__".join(path)
    if key in overrides:
        return overrides[key]
    node: Any = overrides
    for i, part in enumerate(path):
        flat = "__".join(path[: i + 1])
        if i and flat in overrides:
            node = overrides[flat]
            continue
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def apply_overrides(doc: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        parts = key.split("__")
        node: Any = doc
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        if value is ABSENT:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return doc
