"""Case-insensitive header access over whatever a caller holds.

Accepts a mapping (``dict``, werkzeug ``Headers``/``EnvironHeaders``, ``http.client`` message),
or a sequence of ``(name, value)`` pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

HeadersLike = Mapping[str, Any] | Iterable[tuple[str, str]]

__all__ = ["HeadersLike", "get_header", "header_items"]


def header_items(headers: HeadersLike) -> list[tuple[str, str]]:
    if hasattr(headers, "items"):
        items = headers.items()
        return [(str(k), str(v)) for k, v in items]
    return [(str(k), str(v)) for k, v in headers]


def get_header(headers: HeadersLike, name: str) -> str | None:
    """The first value of header ``name`` (any case), or ``None``."""
    # a plain dict (the usual case) is tested first: isinstance against the Mapping ABC is slower
    if type(headers) is dict or (isinstance(headers, Mapping) and not hasattr(headers, "getlist")):
        value = headers.get(name)
        if value is not None:
            return str(value)
    wanted = name.lower()
    if type(headers) is tuple or type(headers) is list:  # pairs (a receiver's record): no copy made
        for key, value in headers:
            if str(key).lower() == wanted:
                return str(value)
        return None
    for key, value in header_items(headers):
        if key.lower() == wanted:
            return value
    return None
