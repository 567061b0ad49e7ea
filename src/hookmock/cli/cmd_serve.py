"""hookmock serve: the standalone emulator (Moda's API, deliveries, mod.io history, control API)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Any

from ._common import add_target_options, check_secret_text


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run the emulator: Moda's API, its deliveries API, mod.io history and a control API",
        description="Run the emulator in the foreground until interrupted. It prints its base URL, an API "
        "key "
        "and its signing secret. Binding to a non-loopback address needs an admin token in the "
        "HOOKMOCK_ADMIN_TOKEN environment variable.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument(
        "--db",
        default=None,
        metavar="PATH",
        help="SQLite file for tasks and deliveries (kept across restarts)",
    )
    p.add_argument(
        "--clock",
        choices=("real", "virtual"),
        default="real",
        help="virtual: time moves only via the control API",
    )
    p.add_argument(
        "--state-file",
        default=None,
        metavar="PATH",
        help="write base_url, api_key, signing_secret as JSON here",
    )
    p.add_argument("--api-key", default=None, help="use this API key instead of a generated one")
    p.add_argument(
        "--signing-secret", default=None, help="use this signing secret instead of a generated one"
    )
    p.add_argument(
        "--allow-http-callbacks", action="store_true", help="accept http:// callback URLs (Moda: HTTPS only)"
    )
    p.add_argument(
        "--modio-event",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept this mod.io event name (one your Rules Engine rule sends); repeatable",
    )
    p.add_argument(
        "--rate-limit",
        default=None,
        metavar="N/s",
        help="answer /v1 requests beyond N per second with 429 rate_limited (default: no limit)",
    )
    add_target_options(p, allow_what="webhook host or network")
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept this name in the Host header (DNS-rebinding guard); repeatable",
    )


def run(args: argparse.Namespace) -> int:
    from ..clock import MS, RealClock

    wall = RealClock()
    t0 = wall.monotonic_ns()
    from ..emulator import Emulator, EmulatorConfig
    from ..emulator.config import ADMIN_TOKEN_ENV
    from ..emulator.ratelimit import parse_rate
    from ..errors import UsageError

    for option, value in (("--api-key", args.api_key), ("--signing-secret", args.signing_secret)):
        if value is not None:
            check_secret_text(value, option)
    if args.ca_file and not os.path.isfile(args.ca_file):
        raise UsageError(f"--ca-file {args.ca_file!r} does not exist; give a PEM file of the CA to trust")
    config = EmulatorConfig(
        host=args.host,
        port=args.port,
        db_path=args.db,
        clock=args.clock,
        state_file=args.state_file,
        api_key=args.api_key,
        signing_secret=args.signing_secret,
        allow_http_callbacks=args.allow_http_callbacks,
        ca_file=args.ca_file,
        allow_targets=tuple(args.allow_target),
        admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
        allowed_hosts=tuple(args.allowed_host),
        modio_events=tuple(args.modio_event),
        rate_limit=None if args.rate_limit is None else parse_rate(args.rate_limit),
    )
    try:
        emulator = Emulator(config).start()
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; try --port 0"
        ) from None
    state: dict[str, Any] = emulator.state()
    out = sys.stdout
    out.write(
        f"hookmock emulator ready in {(wall.monotonic_ns() - t0) // MS} ms\n"
        f"  base URL        {state['base_url']}\n"
        f"  API key         {state['api_key']}\n"
        f"  signing secret  {state['signing_secret']}\n"
        f"  clock           {state['clock']}\n"
        f"  database        {state['db']}\n"
        f"  history page    {state['ui']}\n"
        f"  OpenAPI         {state['openapi']}\n"
    )
    if args.state_file:
        out.write(f"  state file      {args.state_file}\n")
    out.write("Press Ctrl-C to stop.\n")
    out.flush()
    previous = signal.signal(signal.SIGTERM, lambda *_: emulator._stop.set())
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emulator.stop()
    return 0
