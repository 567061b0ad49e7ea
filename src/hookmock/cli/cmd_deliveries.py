"""hookmock deliveries --db PATH [--event-type T] [--status S] [--json] ..."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "deliveries",
        help="list the delivery log, newest first",
        description="List deliveries from a SQLite delivery log, newest first, one page at a time. "
        "Rows are Moda's GET /v1/webhook_deliveries rows or mod.io history entries.",
    )
    p.add_argument("--db", metavar="PATH", required=True, help="the SQLite delivery log file")
    p.add_argument("--event-type", metavar="T", help="only deliveries of this event type")
    p.add_argument("--status", metavar="S", help="pending, succeeded or failed")
    p.add_argument("--api-key-id", metavar="ID", help="only deliveries recorded with this api_key_id")
    p.add_argument("--profile", metavar="P", help="only deliveries of this profile")
    p.add_argument("--from", dest="created_from", metavar="TIME", help="created at or after (ISO 8601)")
    p.add_argument("--to", dest="created_to", metavar="TIME", help="created at or before (ISO 8601)")
    p.add_argument("--limit", type=int, default=None, help="rows per page, 1-200 (default 50)")
    p.add_argument("--cursor", metavar="C", help="the next_cursor printed with the previous page")
    p.add_argument("--show", metavar="ID", help="print one delivery with every attempt")
    p.add_argument("--json", action="store_true", help='print {"data": [...], "next_cursor": ...}')


def run(args: argparse.Namespace) -> int:
    from ..delivery.log import DeliveryLog
    from ..delivery.result import Delivery
    from ..profiles import get_profile
    from ._common import print_json

    if args.profile is not None:
        get_profile(args.profile)  # an unknown name is an error, not "no deliveries match"
    with DeliveryLog(args.db, create=False) as log:
        if args.show:
            delivery = Delivery.from_record(log.get(args.show), log.attempts(args.show))
            if args.json:
                print_json({**delivery.row(), "attempt_log": [a.to_dict() for a in delivery.attempts]})
            else:
                print(delivery.timeline())
            return 0
        page = log.list(
            event_type=args.event_type,
            status=args.status,
            api_key_id=args.api_key_id,
            profile=args.profile,
            created_from=args.created_from,
            created_to=args.created_to,
            limit=args.limit,
            cursor=args.cursor,
        )
        if not page.records and args.event_type is not None and not args.cursor:
            _check_event_type(args.event_type, args.profile)
        if args.json:
            rows = [{**r.view(), "profile": r.profile} for r in page.records]
            print_json({"data": rows, "next_cursor": page.next_cursor})
            return 0
        if not page.records:
            print("no deliveries match")
            return 0
        print(
            f"{'id':<30} {'created_at':<25} {'event_type':<20} {'status':<9} {'att':>3} {'code':>4}  target"
        )
        for r in page.records:
            row = r.moda_row()
            code = "-" if r.response_status_code is None else str(r.response_status_code)
            print(
                f"{r.id:<30} {row['created_at']:<25} {r.event_type:<20} {r.status:<9} {r.attempts:>3} "
                f"{code:>4}  {r.target_url}"
            )
        if page.next_cursor:
            print(f"more: --cursor {page.next_cursor}")
        return 0


def _check_event_type(name: str, profile: str | None) -> None:
    """Nothing matched ``--event-type NAME``: a usage error when no profile has such an event (a
    type the log holds, e.g. one registered by a program, always matches)."""
    from ..errors import UsageError
    from ..profiles import available_profiles, get_profile

    profiles = (
        [get_profile(profile)] if profile is not None else [get_profile(p) for p in available_profiles()]
    )
    if any(name in p.event_types for p in profiles):
        return
    known = "; ".join(f"{p.title}: {', '.join(p.event_types)}" for p in profiles)
    raise UsageError(f"--event-type {name!r} is not an event type ({known})")
