"""hookmock sign FILE --profile P --secret S [--timestamp T]"""

from __future__ import annotations

import argparse
import json

from ._common import add_secret_option, read_bytes, secret_from


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sign",
        help="print the headers a provider would send with a body file",
        description="Sign the exact bytes of FILE and print the headers as JSON.",
    )
    p.add_argument(
        "file", metavar="FILE", help="body file ('-' for standard input); its bytes are signed as is"
    )
    p.add_argument("--profile", default="moda", help="moda or modio (default: moda)")
    add_secret_option(p)
    p.add_argument("--timestamp", type=int, default=None, help="unix seconds (default: now)")


def run(args: argparse.Namespace) -> int:
    from ..profiles import get_profile
    from ..signing import sign

    profile = get_profile(args.profile)
    secret = secret_from(args, profile.secret_name)
    if args.timestamp is not None and args.timestamp < 0:
        from ..errors import UsageError

        raise UsageError(f"--timestamp {args.timestamp} is before 1970; give unix seconds (0 or more)")
    body = read_bytes(args.file)
    print(json.dumps(sign(profile, body, secret, timestamp=args.timestamp), indent=2))
    return 0
