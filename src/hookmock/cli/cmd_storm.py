"""hookmock storm URL --profile NAME --secret S (--count N | --duration S) [--rate N | --users N] ..."""

from __future__ import annotations

import argparse
import sys

from ._common import add_secret_option, add_target_options, check_output_file, print_json, secret_from
from ._inputs import number, profile_help


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "storm",
        help="load a receiver with many faithful deliveries and check every event was applied once",
        description="Send a storm of signed deliveries (with retried, concurrent and stale copies) and "
        "report the rate, latency, statuses, deliveries over the deadline and, with --probe-url, how many "
        "times each event was applied. Exit 0 pass, 1 a lost or doubly-applied event, an accepted replay "
        "or a threshold exceeded, 2 usage error.",
    )
    p.add_argument("url", metavar="URL", help="the receiver's webhook URL (loopback unless --allow-target)")
    p.add_argument("--profile", default="moda", help=profile_help())
    add_secret_option(p)
    p.add_argument("--rate", type=number("--rate", 0, 100_000, low_open=True), help="events per second")
    p.add_argument(
        "--users", type=number("--users", 1, 1024, integer=True), help="concurrent senders (default 16)"
    )
    p.add_argument("--count", type=number("--count", 0, 1_000_000, integer=True), help="events to send")
    p.add_argument(
        "--duration", metavar="SECONDS", type=number("--duration", 0, 3600, low_open=True), help="how long"
    )
    p.add_argument("--mix", metavar="TYPE=SHARE,...", help="share of each event type (default: all alike)")
    share = "share of events (0 to 1) "
    p.add_argument(
        "--duplicates",
        type=number("--duplicates", 0, 1),
        default=0.0,
        metavar="P",
        help=share + "delivered again with a fresh signature, as a retry",
    )
    p.add_argument(
        "--concurrent-duplicates",
        type=number("--concurrent-duplicates", 0, 1),
        default=0.0,
        metavar="P",
        help=share + "sent twice at the same moment",
    )
    p.add_argument(
        "--stale",
        type=number("--stale", 0, 1),
        default=0.0,
        metavar="P",
        help=share + "replayed with their 1 h old timestamp: must be rejected",
    )
    p.add_argument(
        "--burst",
        type=number("--burst", 0, 1_000_000, integer=True),
        default=0,
        metavar="N",
        help="N events queued during a simulated outage, released at once first",
    )
    p.add_argument(
        "--probe-url",
        metavar="TEMPLATE",
        help="effect probe, e.g. http://127.0.0.1:8000/effects/{event_id}: verify exactly-once",
    )
    p.add_argument(
        "--settle",
        metavar="SECONDS",
        type=number("--settle", 0, 60),
        help="wait for effects this long without change (default: learned, as the audit)",
    )
    p.add_argument(
        "--max-p99",
        metavar="MS",
        type=number("--max-p99", 0, 3_600_000),
        help="fail when the p99 latency is over MS milliseconds",
    )
    p.add_argument(
        "--max-errors",
        metavar="N",
        type=number("--max-errors", 0, 10**9, integer=True),
        help="fail when more than N deliveries get no 2xx",
    )
    p.add_argument(
        "--deadline",
        metavar="SECONDS",
        type=number("--deadline", 0.001, 3600),
        help="NOT FAITHFUL: replace the profile's response deadline (experiments only)",
    )
    p.add_argument("--seed", type=number("--seed", 0, 2**63, integer=True), help="reproducible payloads")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--junit", metavar="FILE", help="also write the checks as JUnit XML")
    p.add_argument(
        "--workers",
        type=number("--workers", 1, 256, integer=True),
        metavar="N",
        help="run Locust distributed locally: a master and N worker processes (hookmock[storm])",
    )
    p.add_argument("--master-bind", metavar="HOST:PORT", help="with --workers: where the master listens")
    p.add_argument("--master-host", metavar="HOST:PORT", help="join the Locust master there as workers")
    add_target_options(p)


def _progress(run: object) -> None:
    events, requests, ok = (getattr(run, name, 0) for name in ("events", "requests", "accepted"))
    sys.stderr.write(f"\r  {events} events, {requests} requests, {ok} accepted ")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..profiles import get_profile

    profile = get_profile(args.profile)
    secret = secret_from(args, profile.secret_name)
    if args.junit:
        check_output_file("--junit", args.junit)
    if args.workers is not None or args.master_host is not None:
        from ._storm_locust import run_distributed

        return run_distributed(args, profile, secret)
    if args.master_bind is not None:
        raise UsageError("--master-bind only applies with --workers N (a local Locust master)")
    from ..storm import storm

    tty = sys.stderr.isatty() and not args.json
    report = storm(
        args.url,
        profile=profile.name,
        secret=secret,
        count=args.count,
        duration=args.duration,
        rate=args.rate,
        users=args.users,
        mix=args.mix,
        duplicates=args.duplicates,
        concurrent_duplicates=args.concurrent_duplicates,
        stale=args.stale,
        burst=args.burst,
        probe=args.probe_url,
        settle=args.settle,
        max_p99_ms=args.max_p99,
        max_errors=args.max_errors,
        deadline_s=args.deadline,
        seed=args.seed,
        allow_targets=tuple(args.allow_target),
        ca_file=args.ca_file,
        on_progress=_progress if tty else None,
    )
    if tty:
        sys.stderr.write("\r" + " " * 60 + "\r")
    if args.junit:
        with open(args.junit, "w", encoding="utf-8") as fh:
            fh.write(report.junit())
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.text())
    return 0 if report.ok else 1
