"""Opaque list cursors: a position, signed so that a tampered cursor is told apart (400)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from .errors import bad_cursor

__all__ = ["CursorCodec"]


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def encode(self, kind: str, position: Any) -> str:
        raw = json.dumps({"k": kind, "p": position}, separators=(",", ":")).encode()
        mac = hmac.new(self._key, raw, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(mac + raw).decode().rstrip("=")

    def decode(self, kind: str, cursor: str) -> Any:
        bad = bad_cursor()
        if not cursor or len(cursor) > 2048:
            raise bad
        try:
            blob = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise bad from None
        mac, raw = blob[:12], blob[12:]
        if not hmac.compare_digest(mac, hmac.new(self._key, raw, hashlib.sha256).digest()[:12]):
            raise bad
        try:
            value = json.loads(raw)
        except ValueError:
            raise bad from None
        if not isinstance(value, dict) or value.get("k") != kind:
            raise bad
        return value.get("p")
