"""Reading what a user hands the CLI, with bounds: input files and numbers.

* :func:`read_input` is the one way a command reads a file: at most ``--max-input-bytes`` (16 MiB by
  default), a directory or an unreadable file named in the error, and a FIFO, a device or a socket
  read without ever blocking for good (``<(cmd)`` works; a FIFO nobody writes to ends with an error
  after :data:`IDLE_TIMEOUT_S`; ``/dev/zero`` stops at the limit).
* :func:`number` makes argparse types for numeric options with a range, refusing ``nan``/``inf`` and
  values so large that they overflow later (``--deadline 1e308``).
"""

from __future__ import annotations

import argparse
import math
import os
import select
import stat
import sys
from collections.abc import Callable

from ..errors import UsageError

__all__ = [
    "DEFAULT_MAX_INPUT_BYTES",
    "IDLE_TIMEOUT_S",
    "add_input_limit_option",
    "input_limit",
    "number",
    "profile_help",
    "read_input",
]

#: The most bytes a command reads from one input file unless ``--max-input-bytes`` says otherwise.
DEFAULT_MAX_INPUT_BYTES = 16 * 1024 * 1024
#: The highest ``--max-input-bytes``.
MAX_INPUT_CEILING = 1024 * 1024 * 1024
#: How long a FIFO, device or socket may stay silent before reading it is given up.
IDLE_TIMEOUT_S = 10.0
_PIECE = 1024 * 1024


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def add_input_limit_option(p: argparse.ArgumentParser) -> None:
    """``--max-input-bytes N``: the limit :func:`read_input` applies (read it with :func:`input_limit`)."""
    p.add_argument(
        "--max-input-bytes",
        metavar="N",
        type=number("--max-input-bytes", 1, MAX_INPUT_CEILING, integer=True),
        default=None,
        help=f"read at most N bytes of an input file (default {DEFAULT_MAX_INPUT_BYTES}, "
        f"{_size(DEFAULT_MAX_INPUT_BYTES)})",
    )


def input_limit(args: argparse.Namespace) -> int:
    value = getattr(args, "max_input_bytes", None)
    return DEFAULT_MAX_INPUT_BYTES if value is None else int(value)


def _too_big(label: str, limit: int) -> UsageError:
    return UsageError(
        f"{label} is larger than {limit} bytes ({_size(limit)}); pass --max-input-bytes N to read more"
    )


def read_input(path: str, *, what: str = "file", limit: int = DEFAULT_MAX_INPUT_BYTES) -> bytes:
    """The bytes of ``path`` (``-``: standard input), at most ``limit``; a :class:`UsageError` naming
    ``path`` when it cannot be read, is a directory, is too large or stays silent too long."""
    label = f"{what} {path!r}"
    if path == "-":
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise _too_big("standard input", limit)
        return data
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UsageError(f"{label} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{label} is a directory; give a file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {label}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{label} is a directory; give a file")
        if stat.S_ISREG(mode):
            if os.fstat(fd).st_size > limit:
                raise _too_big(label, limit)
            os.set_blocking(fd, True)
            data = _read_blocking(fd, limit + 1)
        else:  # a FIFO, a device, a socket: never wait for good
            data = _read_polled(fd, limit + 1, label)
    except OSError as exc:
        raise UsageError(f"cannot read {label}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise _too_big(label, limit)
    return data


def _read_blocking(fd: int, most: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < most:
        piece = os.read(fd, min(_PIECE, most - got))
        if not piece:
            break
        parts.append(piece)
        got += len(piece)
    return b"".join(parts)


def _read_polled(fd: int, most: int, label: str) -> bytes:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    parts: list[bytes] = []
    got = 0
    while got < most:
        if not poller.poll(IDLE_TIMEOUT_S * 1000):
            raise UsageError(
                f"{label}: nothing to read for {IDLE_TIMEOUT_S:g} s (is it a FIFO nobody writes to?); "
                "give a regular file, or '-' to read standard input"
            )
        try:
            piece = os.read(fd, min(_PIECE, most - got))
        except BlockingIOError:
            continue
        if not piece:
            break
        parts.append(piece)
        got += len(piece)
    return b"".join(parts)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def number(
    option: str, low: float, high: float, *, integer: bool = False, low_open: bool = False
) -> Callable[[str], float]:
    """An argparse ``type`` for ``option``: a finite number in ``[low, high]`` (``(low, high]`` with
    ``low_open``), an ``int`` with ``integer``; the error names the value and the range."""
    kind = "a whole number" if integer else "a number"
    shown = f"more than {_num(low)}" if low_open else _num(low)
    want = f"{kind} from {shown} to {_num(high)}"

    def parse(text: str) -> float:
        shown_text = repr(text if len(text) <= 40 else text[:40] + "...")
        try:
            value: float = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{shown_text} is not {kind}; give {want}") from None
        if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
            raise argparse.ArgumentTypeError(f"{shown_text} is out of range; give {want}")
        return value

    parse.__name__ = "integer" if integer else "number"
    return parse


def profile_help(what: str = "provider profile", default: str | None = "moda") -> str:
    """Help text for a ``--profile`` option naming every built-in profile (read from the profiles
    package, so a new profile module shows up here without a line outside ``profiles/``)."""
    from ..profiles import builtin_profiles

    names = ", ".join(builtin_profiles())
    tail = f" (default: {default})" if default else ""
    return f"{what}: {names}, or one installed through the hookmock.profiles entry point{tail}"
