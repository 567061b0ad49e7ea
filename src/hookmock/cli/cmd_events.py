"""hookmock events [--profile P] [--example TYPE]"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from ._inputs import profile_help

if TYPE_CHECKING:  # pragma: no cover
    from ..profiles import Profile


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "events",
        help="list a profile's event catalogue, or print an example payload",
        description="List the event types of a profile (events marked inferred are not named by the "
        "provider's documents), or with --example print one realistic payload of a type.",
    )
    p.add_argument("--profile", default="moda", help=profile_help())
    p.add_argument("--example", metavar="TYPE", help="print one example payload of this event type")
    p.add_argument("--seed", type=int, default=None, help="seed for a reproducible example")


def run(args: argparse.Namespace) -> int:
    from ..profiles import get_profile

    profile = get_profile(args.profile)
    if args.example is not None:
        from ..factories import EventFactory

        _check_example(profile, args.example)
        print(
            json.dumps(
                EventFactory(profile, seed=args.seed).event(args.example), indent=2, ensure_ascii=False
            )
        )
        return 0
    for name in profile.event_types:
        spec = profile.event_spec(name)
        mark = " (inferred)" if spec.inferred and "inferred" not in spec.description else ""
        print(f"{name:<24} {spec.description}{mark}")
    return 0


def _check_example(profile: Profile, name: str) -> None:
    """An event of another profile gets a hint to pass that profile."""
    from ..errors import UnknownEventType
    from ..profiles import available_profiles, get_profile

    if name in profile.event_types:
        return
    for other in available_profiles():
        if other != profile.name and name in get_profile(other).event_types:
            raise UnknownEventType(
                f"{name!r} is not a {profile.title} event but a {get_profile(other).title} one: "
                f"add --profile {other}"
            )
