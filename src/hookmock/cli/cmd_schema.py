"""hookmock schema [NAME] [--bundle] [--out DIR]"""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "schema",
        help="list the JSON Schemas, print one, or write them all to a folder",
        description="Without NAME, list the schema names; with NAME, print that schema. Each schema's $id "
        "is its file name and references are relative file names, so nothing is fetched from a network: "
        "--out DIR writes every schema file so the references resolve from DIR, and --bundle makes each "
        "document self-contained (referenced schemas embedded under $defs).",
    )
    p.add_argument(
        "name", nargs="?", metavar="NAME", help="the schema to print, e.g. moda-envelope (omit to list them)"
    )
    p.add_argument(
        "--bundle",
        action="store_true",
        help="one self-contained draft 2020-12 document: every referenced schema embedded under $defs",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="write every schema to DIR as NAME.schema.json (with --bundle, each one self-contained)",
    )


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..validation import bundle_schema, load_schema, schema_names, write_schemas

    if args.out is not None:
        if args.name is not None:
            raise UsageError(
                f"--out writes every schema; drop the name {args.name!r}, or drop --out to print it"
            )
        for path in write_schemas(args.out, bundle=args.bundle):
            print(path)
        return 0
    if args.name is None:
        if args.bundle:
            raise UsageError("--bundle needs a schema NAME (or --out DIR to write every schema bundled)")
        for name in schema_names():
            doc = load_schema(name)
            print(f"{name:<22} {doc.get('title', '')}")
        return 0
    doc = bundle_schema(args.name) if args.bundle else load_schema(args.name)
    print(json.dumps(doc, indent=2))
    return 0
