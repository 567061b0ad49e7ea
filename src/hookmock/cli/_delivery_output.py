"""Printing deliveries and attempts for ``send``, ``redeliver`` and ``deliveries``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ..clock import MS, SECOND, Clock, format_iso
from ._common import SECRET_ENV, add_secret_option, add_target_options, print_json, secret_from

if TYPE_CHECKING:  # pragma: no cover
    from ..delivery.engine import AttemptEvent
    from ..delivery.result import Delivery
    from ..sender import Sender

__all__ = ["SECRET_ENV", "Printer", "add_outbound_options", "secret_from"]


def add_outbound_options(p: argparse.ArgumentParser) -> None:
    add_secret_option(p)
    add_target_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per attempt, then a summary object")


def _seconds(ns: int) -> str:
    return f"{ns / SECOND:g} s"


class Printer:
    """Prints each attempt as it completes, and a countdown to the next one on a terminal."""

    def __init__(self, clock: Clock, *, as_json: bool) -> None:
        self.clock = clock
        self.as_json = as_json
        self.tty = sys.stdout.isatty() and not as_json
        #: Rules overridden away from the provider's (set by :meth:`start`).
        self.not_faithful: dict[str, Any] = {}

    def on_attempt(self, event: AttemptEvent) -> None:
        a = event.attempt
        due = event.next_due_ns
        if self.as_json:
            print_json(
                {
                    "type": "attempt",
                    "delivery_id": event.delivery_id,
                    "attempt": a.number,
                    "started_at": format_iso(a.started_ns),
                    "started_ns": a.started_ns,
                    "duration_ms": None if a.duration_ns is None else a.duration_ns // MS,
                    "outcome": a.outcome,
                    "status_code": a.status,
                    "detail": a.detail,
                    "next_attempt_at": None if due is None else format_iso(due),
                }
            )
            return
        duration = "-" if a.duration_ns is None else f"{a.duration_ns / MS:.0f} ms"
        line = f"attempt {a.number}  {format_iso(a.started_ns)}  {a.describe():<28} {duration:>9}"
        if due is not None:
            line += f"  -> next attempt in {_seconds(max(0, due - (a.ended_ns or a.started_ns)))}"
        else:
            line += f"  -> {event.state.status}"
        print(line, flush=True)

    def on_wait(self, delivery_id: str, until_ns: int) -> None:
        if not self.tty:
            return
        while True:
            remaining = until_ns - self.clock.now_ns()
            if remaining <= 0:
                break
            sys.stdout.write(f"\r  next attempt in {remaining / SECOND:4.0f} s ")
            sys.stdout.flush()
            self.clock.sleep_ns(min(remaining, SECOND))
        sys.stdout.write("\r" + " " * 32 + "\r")
        sys.stdout.flush()

    def start(self, sender: Sender, delivery: Delivery, verb: str = "delivering") -> None:
        self.not_faithful = not_faithful(sender)
        if self.as_json:
            return
        rules, profile = sender.rules, sender.profile
        deadline = _seconds(rules.deadline_ns)
        if "deadline_s" in self.not_faithful:
            deadline += f" (NOT FAITHFUL: {profile.title}'s is {_seconds(profile.deadline_ns)})"
        schedule = _schedule(rules.retry_delays_ns)
        if "retry_delays_s" in self.not_faithful:
            schedule += f" (NOT FAITHFUL: {profile.title}'s: {_schedule(profile.retry_delays_ns)})"
        print(
            f"{verb} {delivery.event_type} {delivery.event_id or ''} to {delivery.target} as {delivery.id}\n"
            f"  {profile.title}: deadline {deadline}, automatic retries after: {schedule}",
            flush=True,
        )

    def summary(self, delivery: Delivery) -> int:
        if self.as_json:
            print_json(
                {
                    "type": "summary",
                    **summary_dict(delivery),
                    "faithful": not self.not_faithful,
                    "not_faithful": self.not_faithful,
                }
            )
        else:
            options = ", ".join("--" + k.removesuffix("_s").replace("_", "-") for k in self.not_faithful)
            marker = f" (NOT FAITHFUL: {options} overridden)"
            print(
                f"{delivery.status}: {delivery.id} after {len(delivery.attempts)} attempt(s)"
                + (marker if self.not_faithful else "")
            )
        return 0 if delivery.succeeded else 1


def log_sender(
    args: argparse.Namespace, log: Any, profile_name: str, **options: Any
) -> tuple[Sender, Printer]:
    """A Sender on an existing log (``send --resume``, ``redeliver``), printing as ``send`` does:
    the profile's secret from ``--secret`` / the environment, the outbound options, no recovery."""
    from ..clock import RealClock
    from ..profiles import get_profile
    from ..sender import Sender

    profile = get_profile(profile_name)
    clock = RealClock()
    printer = Printer(clock, as_json=args.json)
    sender = Sender(
        profile,
        secret_from(args, profile.secret_name),
        clock=clock,
        log=log,
        allow_targets=args.allow_target,
        ca_file=args.ca_file,
        recover=False,
        on_attempt=printer.on_attempt,
        on_wait=printer.on_wait,
        **options,
    )
    return sender, printer


def _schedule(delays_ns: tuple[int, ...]) -> str:
    return ", ".join(_seconds(d) for d in delays_ns) or "none"


def not_faithful(sender: Sender) -> dict[str, Any]:
    """The sender's rules that differ from its profile's, by option name, with the values used."""
    rules, profile = sender.rules, sender.profile
    found: dict[str, Any] = {}
    if rules.deadline_ns != profile.deadline_ns:
        found["deadline_s"] = rules.deadline_ns / SECOND
    if tuple(rules.retry_delays_ns) != tuple(profile.retry_delays_ns):
        found["retry_delays_s"] = [d / SECOND for d in rules.retry_delays_ns]
    return found


def summary_dict(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "profile": delivery.profile,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "target_url": delivery.target,
        "status": delivery.status,
        "attempts": len(delivery.attempts),
        "replayed_from_id": delivery.replayed_from_id,
    }
