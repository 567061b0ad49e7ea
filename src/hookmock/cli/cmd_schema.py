"""hookmock schema [NAME]"""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "schema",
        help="list the JSON Schemas, or print one",
        description="Without NAME, list the schema names; with NAME, print that schema.",
    )
    p.add_argument(
        "name", nargs="?", metavar="NAME", help="the schema to print, e.g. moda-envelope (omit to list them)"
    )


def run(args: argparse.Namespace) -> int:
    from ..validation import load_schema, schema_names

    if args.name is None:
        for name in schema_names():
            doc = load_schema(name)
            print(f"{name:<22} {doc.get('title', '')}")
        return 0
    print(json.dumps(load_schema(args.name), indent=2))
    return 0
