"""Helpers shared by subcommands: reading input files, printing JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

from ..errors import UsageError

__all__ = ["print_json", "read_bytes", "read_json"]


def read_bytes(path: str) -> bytes:
    """The bytes of ``path`` (``-`` for standard input); a clear error when unreadable."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise UsageError(f"file {path!r} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{path!r} is a directory; give a JSON file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path!r}: {exc.strerror or exc}") from None


def read_json(path: str) -> Any:
    raw = read_bytes(path)
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path!r} is not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path!r} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def print_json(obj: Any, *, indent: int | None = None) -> None:
    sys.stdout.write(json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")
    sys.stdout.flush()
