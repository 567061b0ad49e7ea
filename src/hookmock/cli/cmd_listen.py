"""hookmock listen [--host H] [--port P] --profile NAME --secret S [--script "500,500,ok"]
[--forward-to URL] [--json] [--tls]"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import signal
import sys
import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from ..clock import SECOND
from ..receiver._body import DEFAULT_MAX_BODY_BYTES
from ._common import add_secret_option, add_target_options, print_json, secret_from
from ._inputs import number, profile_help

if TYPE_CHECKING:  # pragma: no cover
    from ..profiles import Profile
    from ..receiver.record import ReceivedRequest


#: What ``listen`` keeps of requests it has printed: enough to number attempts of recent events.
KEEP_REQUESTS = 1000
KEEP_BYTES = 16 * 1024 * 1024
#: The largest --max-body-bytes accepted.
MAX_BODY_CEILING = 1024 * 1024 * 1024


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "listen",
        help="run a fake webhook receiver in the foreground, printing each delivery",
        description=(
            "Accept webhook deliveries on any path, print each one live with its verdict (signature or "
            "token, freshness, schema) and the answer sent, until Ctrl-C. --script makes it fail on "
            "purpose; --forward-to puts it, as a fault proxy, in front of your running app."
        ),
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1); a non-loopback address needs an admin token in "
        "$HOOKMOCK_ADMIN_TOKEN, as for 'hookmock serve'",
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free port)")
    p.add_argument("--profile", default="moda", help=profile_help())
    add_secret_option(p)
    p.add_argument(
        "--script",
        metavar="TOKENS",
        help='answers per attempt of each event, e.g. "500,500,ok" (tokens: ok, a status, timeout, '
        "reset, close, malformed, delay:2.5, dribble); with --forward-to, a fault is answered after "
        "your app has processed the delivery (a lost acknowledgement)",
    )
    p.add_argument("--forward-to", metavar="URL", help="forward every delivery to your app at URL")
    add_target_options(p, ca_file=False, allow_what="--forward-to host or network")
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a CA made now (its file is printed)")
    p.add_argument("--json", action="store_true", help="one JSON object per request, one per line")
    p.add_argument(
        "--state-file",
        metavar="PATH",
        help="write JSON with the receiver's url, port, profile and pid to PATH (mode 0600) once it "
        "accepts connections, and remove it on exit: a script's readiness signal ('hookmock wait "
        "PATH' prints the url); it holds no secret",
    )
    p.add_argument(
        "--max-body-bytes",
        metavar="N",
        type=number("--max-body-bytes", 1, MAX_BODY_CEILING, integer=True),
        default=DEFAULT_MAX_BODY_BYTES,
        help=f"answer 413 to a request body over N bytes (default {DEFAULT_MAX_BODY_BYTES}, "
        f"{DEFAULT_MAX_BODY_BYTES // 1024 // 1024} MiB)",
    )


def run(args: argparse.Namespace) -> int:
    from ..emulator.config import ADMIN_TOKEN_ENV, require_admin_token
    from ..errors import UsageError
    from ..profiles import get_profile
    from ..receiver.server import FakeReceiver

    profile = get_profile(args.profile)
    secret = secret_from(args, profile.secret_name)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port: use 0-65535 (0 picks a free one)")
    max_body = int(args.max_body_bytes)
    require_admin_token(args.host, os.environ.get(ADMIN_TOKEN_ENV), exposes="the fake receiver")
    if args.state_file is not None:
        from ..emulator.config import check_state_file, remove_state_file

        check_state_file(args.state_file)
        remove_state_file(args.state_file)  # a dead receiver's address must not be read meanwhile
    printer = _Printer(profile, secret, as_json=args.json)
    handler: Any = None
    if args.forward_to is not None:
        from ..receiver.proxy import FaultProxy

        handler = FaultProxy(args.forward_to, profile, allow_targets=args.allow_target)
        printer.upstream_down = handler.check_upstream(timeout_s=2.0)
        if args.script is not None:
            handler = _ScriptedProxy(handler, args.script)
    receiver = FakeReceiver(
        profile,
        secret,
        host=args.host,
        port=args.port,
        tls=args.tls,
        handler=handler,
        on_request=printer,
        max_body_bytes=max_body,
        keep_bytes=max(KEEP_BYTES, max_body),
        keep_requests=KEEP_REQUESTS,
    )
    if args.script is not None and args.forward_to is None:
        receiver.script(args.script)
    try:
        receiver.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    stop = threading.Event()
    stopped_by: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stopped_by.append(signum)
        stop.set()

    # SIGINT too: a background job of a non-interactive shell starts with it ignored
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        if args.state_file is not None:
            _write_state(args.state_file, receiver, profile.name)
        printer.ready(receiver, args)
        while not stop.wait(0.2):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if args.state_file is not None:
            from ..emulator.config import remove_state_file

            with contextlib.suppress(UsageError):  # replaced by a link meanwhile: left alone
                remove_state_file(args.state_file)
        receiver.stop()
    printer.summary()
    return 130 if stopped_by and stopped_by[0] == signal.SIGINT else 0


def _write_state(path: str, receiver: Any, profile: str) -> None:
    """The state file: written atomically once the receiver accepts connections (so its presence
    is the readiness signal), without the secret (the script that started listen has it)."""
    from .._util.files import write_private
    from ..errors import UsageError

    state = {
        "kind": "listen",
        "url": receiver.url,
        "base_url": "/".join(receiver.url.split("/")[:3]),  # scheme://host:port: any path is heard
        "host": receiver.host,
        "port": receiver.port,
        "profile": profile,
        "pid": os.getpid(),
        "ca_file": receiver.ca_file,
    }
    try:
        write_private(path, (json.dumps(state, indent=2) + "\n").encode(), option="--state-file")
    except OSError as exc:
        raise UsageError(f"cannot write --state-file {path!r}: {exc.strerror or exc}") from None


class _ScriptedProxy:
    """With --forward-to and --script: attempt n of an event is forwarded, then answered as step n
    of the script; ``ok`` passes the app's own answer through."""

    def __init__(self, proxy: Any, script: str) -> None:
        from ..receiver.faults import parse_script

        self.proxy = proxy
        self.plan = parse_script(script)
        self.counts: Counter[str | None] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        from ..receiver.faults import Respond
        from ..validation import JSONInputError, parse_json

        body = environ["wsgi.input"].read()
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            payload = parse_json(body, what="body")
            event_id = self.proxy.profile.received_event_id(_headers_of(environ), payload)
        except JSONInputError:
            event_id = None
        with self.lock:
            self.counts[event_id] += 1
            fault = self.plan.for_attempt(self.counts[event_id])
        if not (isinstance(fault, Respond) and fault.status == 200 and not fault.body):
            self.proxy.lose_ack(fault, event_id=event_id, times=1)
        return self.proxy(environ, start_response)


#: C0/C1 controls, and the invisible and direction-changing characters that can disguise a line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def _printable(text: str) -> str:
    """Control characters a client sent (newlines, terminal escapes, RTL overrides) shown escaped."""
    return _CONTROL.sub(
        lambda m: repr(m.group())[1:-1] if ord(m.group()) > 0xFF else f"\\x{ord(m.group()):02x}", text
    )


def _answer_key(item: ReceivedRequest) -> str:
    """The summary groups answers; a refused body's reason (with its byte counts) is left out."""
    if item.truncated is None or item.answer == "pending":
        return item.answer
    return f"HTTP {item.status} (body refused)" if item.status else "no answer (client left mid-body)"


class _Printer:
    def __init__(self, profile: Profile, secret: str, *, as_json: bool) -> None:
        self.profile = profile
        self.secret = secret
        self.as_json = as_json
        self.lock = threading.Lock()
        self.origin: int | None = None
        self.answers: Counter[str] = Counter()
        self.total = 0
        self.verified = 0
        #: With --forward-to: why the app could not be reached at start-up (None: it could).
        self.upstream_down: str | None = None

    def _out(self, text: str) -> None:
        # Whatever a client sent (a lone surrogate from "\ud800" in JSON) is printed, escaped.
        line = self.profile.redact(text, self.secret) + "\n"
        encoding = sys.stdout.encoding or "utf-8"
        sys.stdout.write(line.encode(encoding, "backslashreplace").decode(encoding, "replace"))
        sys.stdout.flush()

    def ready(self, receiver: Any, args: argparse.Namespace) -> None:
        info = {
            "type": "ready",
            "url": receiver.url,
            "profile": self.profile.name,
            "script": args.script,
            "forward_to": args.forward_to,
            "ca_file": receiver.ca_file,
            "upstream_unreachable": self.upstream_down,
        }
        with self.lock:
            if self.as_json:
                print_json(info)
                return
            self._out(f"hookmock listening on {receiver.url} (any path; profile {self.profile.name})")
            if receiver.host != receiver.format_host(receiver.host).strip("[]"):
                self._out(
                    f"  bound to every interface ({receiver.host}): from another machine use this "
                    f"machine's address with port {receiver.port}"
                )
            if args.script:
                self._out(f"  script: {args.script}")
            if args.forward_to:
                self._out(f"  forwarding to {args.forward_to}")
                if self.upstream_down:
                    self._out(
                        f"  warning: cannot reach {args.forward_to} now ({self.upstream_down}); "
                        "deliveries get 502 until your app is up"
                    )
            if receiver.ca_file:
                self._out(f"  CA file for clients to trust: {receiver.ca_file}")
            self._out("  Ctrl-C to stop")

    def __call__(self, item: ReceivedRequest) -> None:
        with self.lock:
            if self.origin is None:
                self.origin = item.arrival_ns
            self.total += 1
            self.verified += bool(item.verdict is not None and item.verdict.ok)
            self.answers[_answer_key(item)] += 1
            upstream = item.extra.get("upstream")  # --forward-to: why the app could not answer
            if self.as_json:
                row = item.to_json(self.origin)
                row["type"] = "request"
                if upstream:
                    row["upstream"] = upstream
                utf8 = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
                self._out(json.dumps(row, ensure_ascii=not utf8))
                return
            verdict = item.verdict_text()
            schema = "schema ok" if item.schema_valid else "schema INVALID"
            offset = (item.arrival_ns - self.origin) / SECOND
            self._out(
                _printable(
                    f"[+{offset:8.3f}s] #{item.index} {item.method} {item.path} {item.event_type or '?'} "
                    f"{item.event_id or '?'} attempt {item.attempt}: {verdict}; {schema} -> {item.answer}"
                    + (f" (forwarding failed: {upstream})" if upstream else "")
                )
            )

    def summary(self) -> None:
        with self.lock:
            if self.as_json:
                print_json(
                    {
                        "type": "summary",
                        "requests": self.total,
                        "verified": self.verified,
                        "answers": dict(self.answers),
                    }
                )
                return
            answers = ", ".join(f"{n} x {a}" for a, n in self.answers.most_common()) or "none"
            self._out(f"stopped: {self.total} request(s), {self.verified} verified; answers: {answers}")


def _headers_of(environ: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The request headers of a WSGI environ (``HTTP_X_MESSAGE_ID`` -> ``X-MESSAGE-ID``)."""
    return tuple(
        (key[5:].replace("_", "-"), str(value)) for key, value in environ.items() if key.startswith("HTTP_")
    )
