"""Opaque pagination cursors for the delivery log.

A cursor names the last row of a page (its ``created_ns`` and sequence number) and the filters
of the query it came from, authenticated with a key that lives in the log file.  A cursor that
was edited, truncated, comes from another log, or is reused with other filters is refused with a
:class:`~hookmock.errors.UsageError` that says so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from ..errors import UsageError

__all__ = ["InvalidCursor", "decode_cursor", "encode_cursor", "filters_digest"]


class InvalidCursor(UsageError):
    """A cursor this log did not hand out (or handed out for other filters)."""


_VERSION = 1
_TAG_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def filters_digest(filters: Mapping[str, Any]) -> str:
    canonical = json.dumps({k: v for k, v in sorted(filters.items()) if v is not None}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def encode_cursor(key: bytes, created_ns: int, seq: int, filters: Mapping[str, Any]) -> str:
    payload = json.dumps([_VERSION, created_ns, seq, filters_digest(filters)], separators=(",", ":")).encode()
    tag = hmac.new(key, payload, hashlib.sha256).digest()[:_TAG_BYTES]
    return f"{_b64(payload)}.{_b64(tag)}"


def decode_cursor(key: bytes, cursor: str, filters: Mapping[str, Any]) -> tuple[int, int]:
    """``(created_ns, seq)`` of the row the cursor points after; UsageError if it is not valid."""
    shown = cursor if len(cursor) <= 40 else cursor[:40] + "…"
    bad = InvalidCursor(
        f"cursor {shown!r} is not a valid cursor of this delivery log (edited, truncated or from "
        "another log); pass the next_cursor of the previous page unchanged, or omit it to start over"
    )
    if not isinstance(cursor, str) or cursor.count(".") != 1:
        raise bad
    body, _, tag_text = cursor.partition(".")
    try:
        payload = _unb64(body)
        tag = _unb64(tag_text)
    except (binascii.Error, ValueError):
        raise bad from None
    expected = hmac.new(key, payload, hashlib.sha256).digest()[:_TAG_BYTES]
    if not hmac.compare_digest(expected, tag):
        raise bad
    try:
        version, created_ns, seq, digest = json.loads(payload)
    except (ValueError, TypeError):
        raise bad from None
    if version != _VERSION or not isinstance(created_ns, int) or not isinstance(seq, int):
        raise bad
    if digest != filters_digest(filters):
        raise UsageError(
            f"cursor {shown!r} belongs to a query with other filters; repeat the filters of the query "
            "that returned it, or omit the cursor to start over"
        )
    return created_ns, seq
