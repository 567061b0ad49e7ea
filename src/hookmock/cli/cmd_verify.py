"""hookmock verify FILE --profile P --secret S (-H 'Name: value' ... | --headers JSON) [--now T]"""

from __future__ import annotations

import argparse
import json

from ..errors import UsageError
from ._common import add_secret_option, read_bytes, read_json, secret_from
from ._inputs import add_input_limit_option, input_limit, number, profile_help
from .cmd_sign import MAX_TIMESTAMP


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "verify",
        help="check a received request's signature and timestamp the way a receiver should",
        description="Check that the headers authenticate the exact bytes of FILE for the profile: "
        "the signature (or token) and, where the provider sends one, the timestamp's freshness. "
        "Prints 'valid' and exits 0, or prints why not and exits 1. The headers come from -H options "
        "or from a JSON object file, such as the output of 'hookmock sign'.",
    )
    p.add_argument(
        "file", metavar="FILE", help="body file ('-' for standard input); its bytes are checked as is"
    )
    p.add_argument("--profile", default="moda", help=profile_help())
    add_secret_option(p)
    p.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a received header (repeat for each)",
    )
    p.add_argument(
        "--headers",
        metavar="JSON",
        help="a file holding a JSON object of received headers (the output of 'hookmock sign')",
    )
    p.add_argument(
        "--now",
        type=number("--now", 0, MAX_TIMESTAMP, integer=True),
        default=None,
        help="unix seconds to judge freshness at (default: now)",
    )
    p.add_argument(
        "--tolerance",
        type=number("--tolerance", 0, 10**9, integer=True),
        default=None,
        help="seconds a timestamp may be off either way (default: the profile's, 300)",
    )
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    add_input_limit_option(p)


def _headers(args: argparse.Namespace) -> dict[str, str]:
    headers: dict[str, str] = {}
    if args.headers is not None:
        loaded = read_json(args.headers, what="--headers file", limit=input_limit(args))
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise UsageError(f"--headers {args.headers}: give a JSON object of header names to string values")
        headers.update(loaded)
    for line in args.header:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"-H {line!r}: give a header as 'Name: value'")
        headers[name.strip()] = value.strip()
    if not headers:
        raise UsageError(
            "no headers given; pass -H 'Name: value' for each received header, or --headers FILE"
        )
    return headers


def run(args: argparse.Namespace) -> int:
    from ..profiles import DEFAULT_TOLERANCE_S, get_profile
    from ..signing import check

    profile = get_profile(args.profile)
    secret = secret_from(args, profile.secret_name)
    headers = _headers(args)
    body = read_bytes(args.file, limit=input_limit(args))
    tolerance = DEFAULT_TOLERANCE_S if args.tolerance is None else args.tolerance
    verdict = check(profile, headers, body, secret, now=args.now, tolerance=tolerance)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": verdict.ok,
                    "authentic": verdict.authentic,
                    "fresh": verdict.fresh,
                    "reason": verdict.reason,
                    "message": None if verdict.error is None else str(verdict.error),
                    "timestamp": verdict.timestamp,
                }
            )
        )
    else:
        print(verdict.describe())
    return 0 if verdict.ok else 1
