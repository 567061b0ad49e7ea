"""hookmock validate FILE [--schema NAME]"""

from __future__ import annotations

import argparse
import sys

from ._common import read_json
from ._inputs import add_input_limit_option, input_limit

#: Checking stops after this many violations (the rest of a huge document is not looked at).
MOST_SHOWN = 100


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "validate",
        help="check a payload file against hookmock's JSON Schemas",
        description="Validate a JSON payload. Exit 0 valid, 1 invalid (including a payload that matches no "
        "known schema: name one with --schema), 2 unreadable input or unknown --schema.",
    )
    p.add_argument("file", metavar="FILE", help="JSON file to check ('-' for standard input)")
    p.add_argument("--schema", metavar="NAME", help="schema name (default: guessed from the payload)")
    add_input_limit_option(p)


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..validation import guess_schema, load_schema, violations

    payload = read_json(args.file, limit=input_limit(args))
    if args.schema is not None:
        name = args.schema
    else:
        try:
            name = guess_schema(payload)
        except UsageError as exc:  # readable JSON that is none of the known documents: invalid, not unusable
            print(f"{args.file}: invalid: matches no known payload; {exc}")
            return 1
    load_schema(name)
    found = violations(payload, name, most=MOST_SHOWN)
    if not found:
        print(f"{args.file}: valid {name}")
        return 0
    count = f"the first {MOST_SHOWN} violations" if len(found) >= MOST_SHOWN else f"{len(found)} violation(s)"
    print(f"{args.file}: invalid {name} ({count})", file=sys.stdout)
    for v in found:
        print(f"  {v.path}: {v.message}")
    return 1
