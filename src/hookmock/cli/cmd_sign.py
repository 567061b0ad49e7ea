"""hookmock sign FILE --profile P --secret S [--timestamp T]"""

from __future__ import annotations

import argparse
import json

from ._common import add_secret_option, read_bytes, secret_from
from ._inputs import add_input_limit_option, input_limit, number

#: The last second of year 9999: the largest timestamp a date can show.
MAX_TIMESTAMP = 253402300799


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
    p.add_argument(
        "--timestamp",
        type=number("--timestamp", 0, MAX_TIMESTAMP, integer=True),
        default=None,
        help="unix seconds (default: now)",
    )
    p.add_argument(
        "--event",
        metavar="TYPE",
        default=None,
        help="the event's name, for a provider that sends it in a header (default: told from the body)",
    )
    add_input_limit_option(p)


def run(args: argparse.Namespace) -> int:
    from ..profiles import get_profile
    from ..signing import sign

    profile = get_profile(args.profile)
    secret = secret_from(args, profile.secret_name)
    body = read_bytes(args.file, limit=input_limit(args))
    if args.event is not None:
        profile.event_spec(args.event)  # an unknown name is a usage error naming the catalogue
    headers = sign(profile, body, secret, timestamp=args.timestamp, event_type=args.event)
    print(json.dumps(headers, indent=2))
    return 0
