"""hookmock redeliver ID --db PATH [--secret S] [--allow-target HOST|CIDR] [--ca-file PATH] [--json]"""

from __future__ import annotations

import argparse

from ._delivery_output import add_outbound_options, secret_from


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "redeliver",
        help="redeliver a logged delivery the way its provider does",
        description="Moda: a new delivery (replayed_from_id set) with the original body, re-signed now, on "
        "the full retry schedule. mod.io: Retry re-sends the same payload on the same history entry. "
        "Exit 0 delivered, 1 failed, 2 usage error.",
    )
    p.add_argument("id", metavar="ID", help="the delivery id (whd_…) from 'hookmock deliveries'")
    p.add_argument("--db", metavar="PATH", required=True, help="the SQLite delivery log file")
    add_outbound_options(p)


def run(args: argparse.Namespace) -> int:
    from ..clock import RealClock
    from ..delivery.log import DeliveryLog
    from ..profiles import get_profile
    from ..sender import Sender
    from ._delivery_output import Printer

    log = DeliveryLog(args.db, create=False)
    try:
        original = log.get(args.id)
        profile = get_profile(original.profile)
        secret = secret_from(args, profile.secret_name)
        clock = RealClock()
        printer = Printer(clock, as_json=args.json)
        sender = Sender(
            profile,
            secret,
            clock=clock,
            log=log,
            allow_targets=args.allow_target,
            ca_file=args.ca_file,
            recover=False,
            on_attempt=printer.on_attempt,
            on_wait=printer.on_wait,
        )
        if not args.json:
            print(f"redelivering {original.id} ({original.event_type}, {original.status})", flush=True)
        delivery = sender.redeliver(args.id)
        return printer.summary(delivery)
    finally:
        log.close()
