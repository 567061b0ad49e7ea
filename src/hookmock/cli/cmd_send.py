"""hookmock send URL --profile moda|modio --event TYPE --secret S [--data FILE] [--db PATH] ..."""

from __future__ import annotations

import argparse

from ._common import read_bytes
from ._delivery_output import add_outbound_options, secret_from
from ._inputs import add_input_limit_option, input_limit, number

#: The longest --deadline and --retry-delays wait accepted: 30 days.
MAX_WAIT_S = 30 * 24 * 3600.0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "send",
        help="deliver one event to a URL with the provider's full behaviour, in real time",
        description="Deliver one event with the profile's deadline, retries and signature, printing each "
        "attempt as it happens. Exit 0 delivered, 1 failed, 2 usage error.",
    )
    p.add_argument("url", metavar="URL", help="the receiver's webhook URL (loopback unless --allow-target)")
    p.add_argument("--profile", default="moda", help="moda or modio (default: moda)")
    p.add_argument("--event", metavar="TYPE", help="event type (default: the type in --data, else random)")
    p.add_argument("--data", metavar="FILE", help="payload JSON file, sent byte for byte ('-' for stdin)")
    p.add_argument("--db", metavar="PATH", help="SQLite delivery log file (default: in memory)")
    p.add_argument("--api-key-id", metavar="ID", help="api_key_id recorded on the delivery row")
    p.add_argument(
        "--deadline",
        metavar="SECONDS",
        type=number("--deadline", 0.001, MAX_WAIT_S),
        help="NOT FAITHFUL: replace the profile's response deadline (for experiments only)",
    )
    p.add_argument(
        "--retry-delays",
        metavar="S,S,...",
        type=_delays,
        help="NOT FAITHFUL: replace the profile's retry waits, comma-separated seconds, one per automatic "
        "retry ('' for none; experiments only)",
    )
    add_outbound_options(p)
    add_input_limit_option(p)


def _delays(text: str) -> tuple[float, ...]:
    one = number("--retry-delays", 0, MAX_WAIT_S)
    try:
        return tuple(one(part) for part in text.split(",") if part.strip()) if text.strip() else ()
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(
            f"{text[:60]!r} must be comma-separated seconds, e.g. 0.1,0.5,1 ({exc})"
        ) from None


def run(args: argparse.Namespace) -> int:
    from ..clock import RealClock
    from ..profiles import get_profile
    from ..sender import Sender
    from ..validation import parse_json
    from ._delivery_output import Printer

    profile = get_profile(args.profile)
    secret = secret_from(args, profile.secret_name)
    body = None
    if args.data is not None:
        body = read_bytes(args.data, what="--data", limit=input_limit(args))
        parse_json(body, what=f"--data {args.data!r}")
    elif args.event is not None:
        profile.event_spec(args.event)  # unknown names fail before anything is sent
    clock = RealClock()
    printer = Printer(clock, as_json=args.json)
    sender = Sender(
        profile,
        secret,
        clock=clock,
        log=args.db,
        allow_targets=args.allow_target,
        ca_file=args.ca_file,
        api_key_id=args.api_key_id,
        deadline_s=args.deadline,
        retry_delays_s=args.retry_delays,
        recover=False,
        on_attempt=printer.on_attempt,
        on_wait=printer.on_wait,
    )
    with sender:
        pending = sender.accept(args.url, args.event, body=body)
        printer.start(sender, pending)
        try:
            return printer.summary(sender.run(pending))
        except KeyboardInterrupt:
            _interrupted(pending.id, args.db)
            raise


def _interrupted(delivery_id: str, db: str | None) -> None:
    """Ctrl-C: the delivery stays pending in the log; say how to deliver it again."""
    import sys

    if db is None:
        hint = "the log was in memory, so it is gone; pass --db PATH to keep deliveries you may resume"
    else:
        hint = f"it stays pending in {db}; deliver it again with: hookmock redeliver {delivery_id} --db {db}"
    print(f"\ninterrupted: delivery {delivery_id} did not finish; {hint}", file=sys.stderr, flush=True)
