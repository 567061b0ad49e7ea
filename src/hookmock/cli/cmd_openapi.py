"""hookmock openapi [--out FILE]"""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "openapi",
        help="print or write the emulator's OpenAPI 3.1 document",
        description="Print the OpenAPI 3.1 document of every emulator route (the one `hookmock serve` serves "
        "at /_hookmock/openapi.json), or write it to FILE, e.g. to generate a client in any language. "
        "No emulator needs to run.",
    )
    p.add_argument("--out", metavar="FILE", help="write the document to FILE instead of printing it")


def document_text() -> str:
    """The OpenAPI document as printed by ``hookmock openapi`` and ``hookmock serve --print-openapi``."""
    from ..emulator.routes import document

    return json.dumps(document(), indent=2) + "\n"


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError

    text = document_text()
    if args.out is None:
        print(text, end="")
        return 0
    try:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write the OpenAPI document to {args.out!r}: {exc.strerror}") from None
    print(args.out)
    return 0
