"""hookmock events [--profile P] [--example TYPE]"""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("events", help="list a profile's event catalogue, or print an example payload")
    p.add_argument("--profile", default="moda", help="moda or modio (default: moda)")
    p.add_argument("--example", metavar="TYPE", help="print one example payload of this event type")
    p.add_argument("--seed", type=int, default=None, help="seed for a reproducible example")


def run(args: argparse.Namespace) -> int:
    from ..profiles import get_profile

    profile = get_profile(args.profile)
    if args.example:
        from ..factories import EventFactory

        print(
            json.dumps(
                EventFactory(profile, seed=args.seed).event(args.example), indent=2, ensure_ascii=False
            )
        )
        return 0
    for name in profile.event_types:
        spec = profile.event_spec(name)
        mark = " (inferred)" if spec.inferred else ""
        print(f"{name:<24} {spec.description}{mark}")
    return 0
