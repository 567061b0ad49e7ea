"""hookmock sign FILE --profile P --secret S [--timestamp T]"""

from __future__ import annotations

import argparse
import json

from ._common import read_bytes


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sign",
        help="print the headers a provider would send with a body file",
        description="Sign the exact bytes of FILE and print the headers as JSON.",
    )
    p.add_argument(
        "file", metavar="FILE", help="body file ('-' for standard input); its bytes are signed as is"
    )
    p.add_argument("--profile", default="moda")
    p.add_argument("--secret", required=True, help="signing secret (Moda) or webhook token (mod.io)")
    p.add_argument("--timestamp", type=int, default=None, help="unix seconds (default: now)")


def run(args: argparse.Namespace) -> int:
    from .._api import sign

    if not args.secret:
        from ..errors import UsageError

        raise UsageError("--secret is empty; give the signing secret (Moda) or webhook token (mod.io)")
    body = read_bytes(args.file)
    print(json.dumps(sign(args.profile, body, args.secret, timestamp=args.timestamp), indent=2))
    return 0
