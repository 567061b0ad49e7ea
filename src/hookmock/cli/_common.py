"""Helpers shared by subcommands: the options several commands take (``--secret``,
``--allow-target``, ``--ca-file``), reading input files, printing JSON."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from typing import Any

from .._util.secret_text import check_secret_text
from ..errors import UsageError
from ._inputs import DEFAULT_MAX_INPUT_BYTES, read_input

__all__ = [
    "SECRET_ENV",
    "add_secret_option",
    "add_target_options",
    "check_output_file",
    "check_secret_text",
    "print_json",
    "read_bytes",
    "read_json",
    "secret_from",
]

#: Environment variable read when ``--secret`` is not given (keeps the secret out of ``ps``).
SECRET_ENV = "HOOKMOCK_SECRET"


def add_secret_option(
    p: argparse.ArgumentParser, *, what: str = "", long_name: str | None = None, help: str | None = None
) -> None:
    """``--secret S``, defaulting to ``$HOOKMOCK_SECRET``; read it with :func:`secret_from`.
    ``long_name`` (``--signing-secret``): the option's main name, ``--secret`` its alias."""
    names = [long_name, "--secret"] if long_name else ["--secret"]
    p.add_argument(
        *names,
        metavar="S",
        help=help
        or f"{what or 'the signing secret (Moda) or webhook token (mod.io)'}; default: ${SECRET_ENV}",
    )


def secret_from(args: argparse.Namespace, secret_name: str) -> str:
    """The ``--secret`` value, else ``$HOOKMOCK_SECRET``; a usage error naming both when neither is set."""
    secret = args.secret if args.secret is not None else os.environ.get(SECRET_ENV)
    if not secret:
        raise UsageError(f"no {secret_name} given; pass --secret S or set {SECRET_ENV}")
    check_secret_text(
        str(secret), f"the {secret_name} in {'--secret' if args.secret is not None else SECRET_ENV}"
    )
    return str(secret)


def add_target_options(
    p: argparse.ArgumentParser, *, ca_file: bool = True, allow_what: str = "host or network"
) -> None:
    """``--allow-target HOST|CIDR`` (repeatable) and, unless ``ca_file=False``, ``--ca-file PATH``."""
    p.add_argument(
        "--allow-target",
        metavar="HOST|CIDR",
        action="append",
        default=[],
        help=f"also allow this non-loopback {allow_what} (repeatable); only loopback by default",
    )
    if ca_file:
        p.add_argument(
            "--ca-file",
            metavar="PATH",
            type=_pem_file,
            help="PEM file of CA certificates to trust for https targets",
        )


def _pem_file(path: str) -> str:
    """``--ca-file``: an existing regular file of reasonable size (OpenSSL reads it whole, and would
    wait for good on a FIFO)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise argparse.ArgumentTypeError(
            f"{path!r}: {exc.strerror or exc}; give a PEM file of CA certificates"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise argparse.ArgumentTypeError(f"{path!r} is a directory; give a PEM file of CA certificates")
    if not stat.S_ISREG(info.st_mode):
        raise argparse.ArgumentTypeError(
            f"{path!r} is not a regular file (a FIFO or a device?); give a PEM file"
        )
    if info.st_size > DEFAULT_MAX_INPUT_BYTES:
        raise argparse.ArgumentTypeError(
            f"{path!r} is larger than {DEFAULT_MAX_INPUT_BYTES} bytes; a PEM file of CA certificates is "
            "far smaller"
        )
    return path


def check_output_file(option: str, path: str) -> None:
    """Fail before any work when ``path`` (an output file) cannot be written: it is a directory,
    its folder does not exist or cannot be written to."""
    if os.path.isdir(path):
        raise UsageError(f"{option} {path!r} is a directory; give a file path inside it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(
            f"{option} {path!r}: its folder {folder!r} does not exist; create it or pick another path"
        )
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {path!r} is not writable; pick another path")
    if stat.S_ISFIFO(os.stat(path).st_mode if os.path.exists(path) else 0):
        try:  # opening a FIFO to write waits for a reader; without O_NONBLOCK it would wait for good
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            raise UsageError(
                f"{option} {path!r} is a FIFO nobody is reading from; start the reader first or give a file"
            ) from None


def read_bytes(path: str, *, what: str = "file", limit: int = DEFAULT_MAX_INPUT_BYTES) -> bytes:
    """The bytes of ``path`` (``-`` for standard input), bounded; a clear error when unreadable."""
    return read_input(path, what=what, limit=limit)


def read_json(path: str, *, what: str = "file", limit: int = DEFAULT_MAX_INPUT_BYTES) -> Any:
    """The JSON document in ``path``; a usage error naming ``path`` for anything that is not one
    (too large, not UTF-8, not JSON, nested too deeply, an integer with too many digits)."""
    from ..validation import parse_json

    return parse_json(read_input(path, what=what, limit=limit), what=f"{what} {path!r}")


def print_json(obj: Any, *, indent: int | None = None) -> None:
    sys.stdout.write(json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")
    sys.stdout.flush()
