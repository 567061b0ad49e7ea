"""hookmock send URL --profile NAME --event TYPE --secret S [--data FILE] [--db PATH] ...

``hookmock send --resume ID --db PATH`` finishes a delivery an interrupted ``send`` left pending in
the log: the same row, the attempt that was cut off marked ``interrupted``, the schedule continued.
"""

from __future__ import annotations

import argparse
import shlex
from typing import TYPE_CHECKING

from ..errors import UsageError
from ._common import SECRET_ENV, read_bytes
from ._delivery_output import add_outbound_options, secret_from
from ._inputs import add_input_limit_option, input_limit, number, profile_help

if TYPE_CHECKING:  # pragma: no cover
    from ..sender import Sender

#: The longest --deadline and --retry-delays wait accepted: 30 days.
MAX_WAIT_S = 30 * 24 * 3600.0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "send",
        help="deliver one event to a URL with the provider's full behaviour, in real time",
        description="Deliver one event with the profile's deadline, retries and signature, printing each "
        "attempt as it happens. Ctrl-C leaves the delivery pending in --db; 'hookmock send --resume ID "
        "--db PATH' finishes it on the same row. Exit 0 delivered, 1 failed, 2 usage error, 130 interrupted.",
    )
    p.add_argument(
        "url",
        metavar="URL",
        nargs="?",
        help="the receiver's webhook URL (loopback unless --allow-target); not with --resume",
    )
    p.add_argument(
        "--resume",
        metavar="ID",
        help="finish the pending delivery ID (whd_…) an interrupted send left in --db, on the same row "
        "(its URL, profile and body come from the log)",
    )
    p.add_argument("--profile", default="moda", help=profile_help())
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

    if args.resume is not None:
        return _resume(args)
    if args.url is None:
        raise UsageError(
            "the receiver's URL is required (or --resume ID --db PATH to finish an interrupted send)"
        )
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
            return _interrupted(sender, pending.id, args)


def _resume(args: argparse.Namespace) -> int:
    from ..delivery.log import DeliveryLog
    from ._delivery_output import log_sender

    if args.db is None:
        raise UsageError("--resume needs --db PATH: the delivery log the interrupted send wrote")
    given = [
        o for o, v in (("URL", args.url), ("--event", args.event), ("--data", args.data)) if v is not None
    ]
    if given:
        raise UsageError(
            f"--resume takes the delivery from the log; drop {', '.join(given)} "
            "(or drop --resume to send anew)"
        )
    log = DeliveryLog(args.db, create=False)
    try:
        record = log.get(args.resume)
        if record.status != "pending":
            raise UsageError(
                f"delivery {record.id} is already {record.status}; nothing to resume "
                f"(send it again with: hookmock redeliver {record.id} --db {shlex.quote(args.db)})"
            )
        sender, printer = log_sender(
            args, log, record.profile, deadline_s=args.deadline, retry_delays_s=args.retry_delays
        )
        sender.routes.resolve(record.target_url)  # an off-limits target fails before anything is sent
        # an attempt a dead process left in flight is closed as interrupted and its delivery is due
        # now; refused while another live process sends from this file
        log.recover(sender.clock.now_ns(), profile=sender.profile.name, alone=True)
        delivery = sender.get(record.id)
        printer.start(sender, delivery, verb="resuming")
        try:
            return printer.summary(sender.run(delivery))
        except KeyboardInterrupt:
            return _interrupted(sender, delivery.id, args)
    finally:
        log.close()


def _interrupted(sender: Sender, delivery_id: str, args: argparse.Namespace) -> int:
    """Ctrl-C: an attempt cut off is closed as ``interrupted`` and the delivery stays pending in the
    log; print, once, the command that finishes it (exit 130)."""
    import contextlib
    import sys

    if args.db is None:
        hint = "the log was in memory, so it is gone; pass --db PATH to keep deliveries you may resume"
    else:
        with contextlib.suppress(Exception):  # another live sender on the file: it stays in flight
            sender.log.recover(sender.clock.now_ns(), profile=sender.profile.name)
        command = f"hookmock send --resume {delivery_id} --db {shlex.quote(args.db)}"
        if args.allow_target:
            command += "".join(f" --allow-target {shlex.quote(t)}" for t in args.allow_target)
        if args.ca_file:
            command += f" --ca-file {shlex.quote(args.ca_file)}"
        if args.deadline is not None:  # the same NOT FAITHFUL rules as this run
            command += f" --deadline {args.deadline:g}"
        if args.retry_delays is not None:
            command += f" --retry-delays {shlex.quote(','.join(f'{d:g}' for d in args.retry_delays))}"
        if args.secret is not None:  # never printed: the same secret again, by flag or environment
            hint = (
                f"it stays pending in {args.db}; finish it with: {command} --secret S "
                f"(S: the {sender.profile.secret_name} you gave; or set {SECRET_ENV} and leave --secret out)"
            )
        else:
            hint = f"it stays pending in {args.db}; finish it with: {command}"
    print(f"\ninterrupted: delivery {delivery_id} did not finish; {hint}", file=sys.stderr, flush=True)
    return 130
