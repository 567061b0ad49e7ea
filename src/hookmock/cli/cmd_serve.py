"""hookmock serve: the standalone emulator (Moda's API, deliveries, mod.io history, control API).

Every option can also come from an environment variable (``HOOKMOCK_PORT``, ``HOOKMOCK_SIGNING_SECRET``
...; see :data:`ENV`), so secrets stay out of ``ps``; a flag wins over its variable.  Stopping:
SIGTERM exits 0, SIGINT (Ctrl-C) exits 130 -- SIGINT works in a background job of a
non-interactive shell too, where the shell starts it ignored.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from ..errors import UsageError
from ._common import SECRET_ENV, add_secret_option, add_target_options, check_secret_text

#: The environment variable of each option, and its default (None: generated or unset).
ENV: dict[str, tuple[str, Any]] = {
    "host": ("HOOKMOCK_HOST", "127.0.0.1"),
    "port": ("HOOKMOCK_PORT", 8765),
    "db": ("HOOKMOCK_DB", None),
    "clock": ("HOOKMOCK_CLOCK", "real"),
    "state_file": ("HOOKMOCK_STATE_FILE", None),
    "api_key": ("HOOKMOCK_API_KEY", None),
    "signing_secret": ("HOOKMOCK_SIGNING_SECRET", None),
    "allow_http_callbacks": ("HOOKMOCK_ALLOW_HTTP_CALLBACKS", False),
    "allow_target": ("HOOKMOCK_ALLOW_TARGET", []),
    "ca_file": ("HOOKMOCK_CA_FILE", None),
    "allowed_host": ("HOOKMOCK_ALLOWED_HOST", []),
    "modio_event": ("HOOKMOCK_MODIO_EVENT", []),
    "rate_limit": ("HOOKMOCK_RATE_LIMIT", None),
    "quiet": ("HOOKMOCK_QUIET", False),
    "redact_secrets": ("HOOKMOCK_REDACT_SECRETS", False),
}
#: Options that do something instead of serving, so they configure nothing and have no variable.
NOT_SERVING = frozenset({"print_openapi"})
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")

#: Every field of the state file, as ``--help`` lists them.
STATE_FIELDS = {
    "base_url": "the emulator's URL",
    "api_key": "the Moda API key (Authorization: Bearer)",
    "api_key_id": "the key's id, as deliveries record it",
    "signing_secret": "the webhook signing secret",
    "host": "the bound address",
    "port": "the bound port",
    "db": "the SQLite file (null: in memory)",
    "clock": "real or virtual",
    "pid": "the emulator's process id",
    "openapi": "the OpenAPI document's URL",
    "ui": "the history page's URL",
}


def _env_help(dest: str) -> str:
    name, default = ENV[dest]
    shown = "" if default in (None, False, []) else f"default {default}; "
    return f"({shown}env {name})"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fields = "; ".join(f"{k}: {v}" for k, v in STATE_FIELDS.items())
    p = sub.add_parser(
        "serve",
        help="run the emulator: Moda's API, its deliveries API, mod.io history and a control API",
        description="Run the emulator in the foreground until stopped. It prints its base URL, an API key "
        "and its signing secret. Every option can be given as an environment variable instead (named "
        "after each option below; a flag wins), which keeps secrets out of ps. Binding to a non-loopback "
        "address needs an admin token in the HOOKMOCK_ADMIN_TOKEN environment variable. Stop it with "
        "SIGTERM (exit 0) or SIGINT/Ctrl-C (exit 130; also in a background job of a script). "
        f"The --state-file is removed at start and on exit, and holds JSON with: {fields}. "
        "'hookmock wait STATE_FILE' waits until it is ready.",
    )
    p.add_argument("--host", help=f"address to bind {_env_help('host')}")
    p.add_argument("--port", help=f"port, 0 picks a free one {_env_help('port')}")
    p.add_argument(
        "--db",
        metavar="PATH",
        help="SQLite file for tasks and deliveries, kept across restarts "
        "(default: in memory; env HOOKMOCK_DB)",
    )
    p.add_argument(
        "--clock",
        choices=("real", "virtual"),
        help=f"virtual: time moves only via the control API {_env_help('clock')}",
    )
    p.add_argument(
        "--state-file",
        metavar="PATH",
        help="write the emulator's address and keys here as JSON, mode 0600, once it is ready "
        "(default: none; env HOOKMOCK_STATE_FILE)",
    )
    p.add_argument(
        "--api-key", metavar="KEY", help="use this API key (default: generated; env HOOKMOCK_API_KEY)"
    )
    add_secret_option(
        p,
        long_name="--signing-secret",
        help=f"use this signing secret (default: generated; env HOOKMOCK_SIGNING_SECRET, else {SECRET_ENV})",
    )
    p.add_argument(
        "--allow-http-callbacks",
        action="store_true",
        default=None,
        help="accept http:// callback URLs; Moda takes HTTPS only (env HOOKMOCK_ALLOW_HTTP_CALLBACKS=1)",
    )
    p.add_argument(
        "--modio-event",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept this mod.io event name (one your Rules Engine rule sends); repeatable "
        "(env HOOKMOCK_MODIO_EVENT, comma-separated)",
    )
    p.add_argument(
        "--rate-limit",
        default=None,
        metavar="N/s",
        help="answer /v1 requests beyond N per second with 429 rate_limited (default: no limit; "
        "env HOOKMOCK_RATE_LIMIT)",
    )
    add_target_options(p, allow_what="webhook host or network")
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept this name in the Host header (DNS-rebinding guard); repeatable "
        "(env HOOKMOCK_ALLOWED_HOST, comma-separated)",
    )
    p.add_argument(
        "--quiet", action="store_true", default=None, help="print no banner (env HOOKMOCK_QUIET=1)"
    )
    p.add_argument(
        "--print-openapi",
        action="store_true",
        help="print the emulator's OpenAPI 3.1 document (the one served at /_hookmock/openapi.json, "
        "the same as `hookmock openapi`) and exit 0 without serving",
    )
    p.add_argument(
        "--redact-secrets",
        action="store_true",
        default=None,
        help="show the API key and signing secret as *** in the banner; read them from --state-file "
        "(env HOOKMOCK_REDACT_SECRETS=1)",
    )


def _flag(name: str, raw: str) -> bool:
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise UsageError(f"{name}={raw[:40]!r} is not a yes/no value; give 1 or 0")


def resolve(args: argparse.Namespace, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Each option's value: the flag, else its environment variable, else its default."""
    env = dict(os.environ if environ is None else environ)
    out: dict[str, Any] = {}
    for dest, (name, default) in ENV.items():
        given = getattr(args, dest, None)
        if isinstance(given, list) and not given:
            given = None
        if given is not None:
            out[dest] = given
            continue
        raw = env.get(name)
        if dest == "signing_secret" and raw is None:
            raw, name = env.get(SECRET_ENV), SECRET_ENV
        if raw is None:
            out[dest] = default
        elif isinstance(default, bool):
            out[dest] = _flag(name, raw)
        elif isinstance(default, list):
            out[dest] = [part.strip() for part in raw.split(",") if part.strip()]
        else:
            out[dest] = raw
    try:
        out["port"] = int(str(out["port"]).strip())
    except ValueError:
        raise UsageError(f"port {str(out['port'])[:40]!r} is not a number; give 0 to 65535") from None
    if out["clock"] not in ("real", "virtual"):
        raise UsageError(f"HOOKMOCK_CLOCK={out['clock'][:40]!r} is not a clock; give real or virtual")
    return out


def run(args: argparse.Namespace) -> int:
    if getattr(args, "print_openapi", False):
        # No option is resolved and nothing is bound: the document does not depend on them.
        from .cmd_openapi import document_text

        sys.stdout.write(document_text())
        return 0
    from ..clock import MS, RealClock

    wall = RealClock()
    t0 = wall.monotonic_ns()
    with _collector_paused():
        from ..emulator import Emulator, EmulatorConfig
        from ..emulator.config import ADMIN_TOKEN_ENV
        from ..emulator.control import pending_json
        from ..emulator.ratelimit import parse_rate

        opts = resolve(args)
        for option, value in (("--api-key", opts["api_key"]), ("--signing-secret", opts["signing_secret"])):
            if value is not None:
                check_secret_text(value, option)
        if opts["ca_file"] and not os.path.isfile(opts["ca_file"]):
            raise UsageError(
                f"--ca-file {opts['ca_file']!r} does not exist; give a PEM file of the CA to trust"
            )
        config = EmulatorConfig(
            host=opts["host"],
            port=opts["port"],
            db_path=opts["db"],
            clock=opts["clock"],
            state_file=opts["state_file"],
            api_key=opts["api_key"],
            signing_secret=opts["signing_secret"],
            allow_http_callbacks=opts["allow_http_callbacks"],
            ca_file=opts["ca_file"],
            allow_targets=tuple(opts["allow_target"]),
            admin_token=os.environ.get(ADMIN_TOKEN_ENV) or None,
            allowed_hosts=tuple(opts["allowed_host"]),
            modio_events=tuple(opts["modio_event"]),
            rate_limit=None if opts["rate_limit"] is None else parse_rate(opts["rate_limit"]),
        )
        stopped_by: list[int] = []
        done = threading.Event()

        def on_signal(signum: int, _frame: object) -> None:
            stopped_by.append(signum)
            done.set()

        # before the state file is written: a script that saw it may signal at once
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            emulator = Emulator(config).start()
        except OSError as exc:
            _restore(previous)
            raise UsageError(
                f"cannot listen on {opts['host']}:{opts['port']}: {exc.strerror or exc}; try --port 0"
            ) from None
        except BaseException:
            _restore(previous)
            raise
    try:
        if not opts["quiet"]:
            _banner(emulator.state(), (wall.monotonic_ns() - t0) // MS, opts)
        while not done.wait(0.2):
            pass
    finally:
        _restore(previous)
        busy = pending_json(emulator.core)["in_flight"]
        if busy and not opts["quiet"]:
            print(
                f"stopping: waiting up to 5 s for {busy} webhook attempt(s) in flight to finish",
                file=sys.stderr,
                flush=True,
            )
        emulator.stop()
    return 130 if stopped_by and stopped_by[0] == signal.SIGINT else 0


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Start-up without the cyclic garbage collector.  Importing and building the emulator makes
    tens of thousands of objects that live as long as the process (modules, classes, functions, its
    tables); the collector walked them about 60 times while starting, a few per cent of the CPU
    until ready.  Once the emulator has started they are frozen (``gc.freeze``: moved out of the
    generations, so no later collection walks them again either); collection is on again as it
    was, also when the start fails (``main`` is called in-process by tests)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()  # started: what is there now stays for the process's life
    finally:
        if enabled:
            gc.enable()


def _restore(previous: dict[signal.Signals, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _banner(state: dict[str, Any], ready_ms: int, opts: dict[str, Any]) -> None:
    hide = opts["redact_secrets"]
    key = "*** (hidden: see --state-file)" if hide else state["api_key"]
    secret = "*** (hidden: see --state-file)" if hide else state["signing_secret"]
    lines = [
        f"hookmock emulator ready in {ready_ms} ms",
        f"  base URL        {state['base_url']}",
        f"  API key         {key}",
        f"  signing secret  {secret}",
        f"  clock           {state['clock']}",
        f"  database        {state['db']}",
        f"  history page    {state['ui']}",
        f"  OpenAPI         {state['openapi']}",
    ]
    if opts["state_file"]:
        lines.append(f"  state file      {opts['state_file']}")
    lines.append("Stop with Ctrl-C or SIGINT (exit 130), or SIGTERM (exit 0).")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
