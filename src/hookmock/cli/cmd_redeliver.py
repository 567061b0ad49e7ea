"""hookmock redeliver ID --db PATH [--secret S] [--allow-target HOST|CIDR] [--ca-file PATH] [--json]"""

from __future__ import annotations

import argparse

from ._delivery_output import add_outbound_options


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
    from ..delivery.log import DeliveryLog
    from ._delivery_output import log_sender

    log = DeliveryLog(args.db, create=False)
    try:
        original = log.get(args.id)
        sender, printer = log_sender(args, log, original.profile)
        if not args.json:
            print(f"redelivering {original.id} ({original.event_type}, {original.status})", flush=True)
        delivery = sender.redeliver(args.id)
        return printer.summary(delivery)
    finally:
        log.close()
