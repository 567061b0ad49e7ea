"""The fault proxy: faults in front of a *real* handler, which is what makes idempotency testable.

    proxy = FaultProxy(integrator_app, "moda", clock=clock)     # or an upstream URL
    proxy.lose_ack("500")          # the handler processes the delivery, the sender sees a 500
    proxy.fail(503, times=2)       # the sender sees a 503 twice; the handler never sees those
    proxy.duplicate(2, concurrent=True)   # the handler gets the delivery twice at once
    proxy.tamper(signature=True)   # the handler gets a broken signature
    later = proxy.replay(proxy.captured[0])   # original bytes and headers, now stale

The upstream is any target hookmock accepts: a URL (reached over real HTTP), a WSGI or ASGI
application, or ``(app, "/webhooks/moda")``.  An app given with a path (or a URL with a path) gets
every request at that path; a bare app or a bare origin gets the path the proxy was called with.
In-process upstreams are called through the same transport as a Sender's in-process deliveries.

The proxy is a WSGI application.  Give it to hookmock's Sender as the target (in-process, no
socket: a ``Hang``/``Delay`` lost acknowledgement then advances the clock so the in-process
transport sees a timeout) or serve it behind a real socket with
``FakeReceiver(handler=proxy)`` (then every fault, including ``Reset``, is carried out on the
connection).  Rules apply to the next ``times`` matching requests (``times=None``: all of them),
optionally only to one ``event_id``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from werkzeug import Request, Response

from ..clock import Clock, RealClock
from ..errors import UsageError
from ..profiles import Profile, get_profile
from ..transport.apps import AppTarget, as_target, describe_target
from ._connection import ENV_ANSWER, ENV_EXCHANGE
from .faults import SOCKET_FAULTS, Delay, Fault, Hang, Respond, as_plan, fault_for

__all__ = ["UPSTREAM_OUTCOME_HEADER", "Captured", "FaultProxy", "UpstreamAnswer"]

#: On the proxy's 502 when the upstream could not answer: the transport outcome (``refused``,
#: ``timeout``, ``tls_error``, ``reset``, ``malformed``, ``error``).
UPSTREAM_OUTCOME_HEADER = "X-Hookmock-Upstream-Outcome"

WSGIApp = Callable[..., Any]

#: How much of an in-process upstream's answer the proxy keeps (and passes back to the sender).
UPSTREAM_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class UpstreamAnswer:
    """What the real handler answered (``outcome`` is ``"response"`` unless it could not answer)."""

    status: int | None
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    outcome: str = "response"
    detail: str = ""

    def describe(self) -> str:
        """``HTTP 200``, or why there was no answer: ``refused: 127.0.0.1:1: ECONNREFUSED …``."""
        if self.status is not None:
            return f"HTTP {self.status}"
        return f"{self.outcome}: {self.detail}" if self.detail else self.outcome


@dataclass
class Captured:
    """One request as it reached the proxy (before any tampering), and what happened to it."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)  # the token (mod.io): never in a repr
    body: bytes
    arrival_ns: int
    event_id: str | None
    #: What the handler answered, one entry per copy forwarded.
    upstream: list[UpstreamAnswer] = field(default_factory=list)
    #: What the sender was answered ("upstream" or the lost-acknowledgement fault).
    answered: str = ""


@dataclass
class _Rule:
    event_id: str | None
    times: int | None
    value: Any

    def take(self, event_id: str | None) -> bool:
        if self.event_id is not None and self.event_id != event_id:
            return False
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


class FaultProxy:
    """A WSGI app that forwards webhook deliveries to ``upstream`` and injects faults on the way."""

    def __init__(
        self,
        upstream: WSGIApp | str | tuple[Any, str] | AppTarget,
        profile: str | Profile = "moda",
        *,
        clock: Clock | None = None,
        allow_targets: Iterable[str] = (),
        ca_file: str | None = None,
    ) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._fail: list[_Rule] = []
        self._lose: list[_Rule] = []
        self._dup: list[_Rule] = []
        self._tamper: list[_Rule] = []
        self.captured: list[Captured] = []
        self.profile = get_profile(profile)
        self.clock: Clock = clock if clock is not None else RealClock()
        try:
            self._target = as_target(upstream)
        except UsageError as exc:
            raise UsageError(f"FaultProxy upstream: {exc}") from None
        #: An app given as (app, path) / AppTarget gets every request at its path.
        self._fixed_path = not isinstance(upstream, str) and not callable(upstream)
        self._transport: Any
        if isinstance(self._target, str):
            from ..transport.http import HTTPTransport

            self._transport = HTTPTransport(ca_file=ca_file, allow_targets=tuple(allow_targets))
            self._transport.check_target(self._target)
        else:
            from ..transport.inprocess import InProcessTransport

            self._transport = InProcessTransport(excerpt_bytes=UPSTREAM_BODY_BYTES)

    def __repr__(self) -> str:  # safe on a half-built proxy too
        profile = getattr(getattr(self, "profile", None), "name", "?")
        try:
            upstream = describe_target(self.upstream)
        except Exception:
            upstream = repr(getattr(self, "upstream", None))
        return f"<FaultProxy {profile} -> {upstream}>"

    def upstream_url(self, path: str = "/") -> str:
        """Where a request the proxy got at ``path`` is forwarded (``wsgi app ... at /path`` in-process)."""
        if isinstance(self._target, str):
            return _upstream_url(self._target, path)
        return self._in_process(path).describe()

    def _in_process(self, path: str) -> AppTarget:
        assert isinstance(self._target, AppTarget)
        if self._fixed_path:
            return self._target
        return AppTarget(
            self._target.app, path if path.startswith("/") else "/" + path, self._target.interface
        )

    # -- rules -------------------------------------------------------------------------
    def fail(
        self, answer: Fault | str | int = 500, *, event_id: str | None = None, times: int | None = 1
    ) -> FaultProxy:
        """Answer the sender with ``answer`` (a status, ``"timeout"``, ``Reset()``...) *without*
        forwarding: the handler never sees the attempt, as when something in front of it fails.
        Checked before the other rules, which stay armed for the next request forwarded."""
        fault = fault_for(as_plan(answer), 1)
        if isinstance(fault, Respond) and not fault.body:
            fault = Respond(fault.status, _NOT_FORWARDED, fault.headers)
        with self._lock:
            self._fail.append(_Rule(event_id, times, fault))
        return self

    def lose_ack(
        self, answer: Fault | str | int = 503, *, event_id: str | None = None, times: int | None = 1
    ) -> FaultProxy:
        """Let the handler process the delivery, then answer the sender with ``answer`` instead
        (a status, ``"timeout"``, ``Reset()``...): the sender retries a delivery already applied."""
        plan = as_plan(answer)
        fault = fault_for(plan, 1)
        with self._lock:
            self._lose.append(_Rule(event_id, times, fault))
        return self

    def duplicate(
        self, copies: int = 2, *, concurrent: bool = False, event_id: str | None = None, times: int | None = 1
    ) -> FaultProxy:
        """Forward one delivery ``copies`` times (one after another, or all at once)."""
        if not isinstance(copies, int) or copies < 1:
            raise UsageError(f"duplicate(copies={copies!r}): give a whole number of copies >= 1")
        with self._lock:
            self._dup.append(_Rule(event_id, times, (copies, concurrent)))
        return self

    def tamper(
        self,
        *,
        body: bytes | Callable[[bytes], bytes] | None = None,
        signature: bool = False,
        headers: dict[str, str] | None = None,
        event_id: str | None = None,
        times: int | None = 1,
    ) -> FaultProxy:
        """Change what reaches the handler: the body, the authenticity headers, other headers."""
        if body is None and not signature and not headers:
            raise UsageError("tamper() needs body=, signature=True or headers= to change something")
        with self._lock:
            self._tamper.append(_Rule(event_id, times, (body, signature, dict(headers or {}))))
        return self

    def clear(self) -> None:
        with self._lock:
            self._fail, self._lose, self._dup, self._tamper, self.captured = [], [], [], [], []

    def _take(self, rules: list[_Rule], event_id: str | None) -> Any:
        with self._lock:
            for rule in rules:
                if rule.take(event_id):
                    return rule.value
        return None

    # -- forwarding --------------------------------------------------------------------
    def forward(
        self, method: str, path: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> UpstreamAnswer:
        """Send one request to the upstream handler as is, and return its answer."""
        headers = tuple((k, v) for k, v in headers if k.lower() not in _HOP and k.lower() != "host")
        target: object = (
            _upstream_url(self._target, path) if isinstance(self._target, str) else self._in_process(path)
        )
        result = self._transport.send(
            target, dict(headers), body, deadline_ns=self.profile.deadline_ns, clock=self.clock
        )
        exception = result.extra.get("exception")
        if isinstance(exception, Exception):  # an in-process handler raised: as if called directly
            raise exception
        if result.outcome != "response":
            return UpstreamAnswer(None, outcome=result.outcome, detail=result.detail)
        return UpstreamAnswer(result.status, result.excerpt, tuple(result.headers))

    def check_upstream(self, timeout_s: float = 5.0) -> str | None:
        """For a URL upstream, whether anything accepts connections there: ``None`` if so, else
        why not (``refused: 127.0.0.1:1: ECONNREFUSED Connection refused``).  Nothing is sent (a
        TCP connect, then close); raises ``UsageError`` / ``TargetNotAllowed`` for a URL the
        outbound policy rejects.  Always ``None`` for an in-process (WSGI/ASGI) upstream."""
        if not isinstance(self._target, str):
            return None
        import socket

        from ..transport.http import _errno_name
        from ..transport.targets import ResolutionFailed

        try:
            addresses = self._transport.check_target(self._target)
        except ResolutionFailed as exc:
            return f"error: {exc}"
        failures: list[tuple[str, OSError]] = []
        for address in addresses:
            with socket.socket(address.family, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout_s)
                try:
                    sock.connect(address.sockaddr)
                    return None
                except OSError as exc:
                    failures.append((str(address), exc))
        tried = ", ".join(f"{addr}: {_errno_name(exc)}" for addr, exc in failures)
        refused = failures and all(isinstance(exc, ConnectionRefusedError) for _, exc in failures)
        timed_out = failures and all(isinstance(exc, TimeoutError) for _, exc in failures)
        return f"{'refused' if refused else 'timeout' if timed_out else 'error'}: {tried or 'no address'}"

    def replay(self, captured: Captured | int) -> UpstreamAnswer:
        """Send a captured request again to the handler with its original bytes and headers."""
        item = self.captured[captured] if isinstance(captured, int) else captured
        answer = self.forward(item.method, item.path, item.headers, item.body)
        item.upstream.append(answer)
        return answer

    def _tampered(self, headers: tuple[tuple[str, str], ...], body: bytes, rule: Any) -> tuple[Any, bytes]:
        new_body, signature, extra = rule
        if new_body is not None:
            body = new_body(body) if callable(new_body) else bytes(new_body)
        auth = {name.lower() for name in self.profile.auth_header_names()}
        out = []
        for key, value in headers:
            if signature and key.lower() in auth and value:
                value = value[:-1] + ("0" if value[-1] != "0" else "1")
            if key.lower() in {k.lower() for k in extra}:
                continue
            out.append((key, value))
        out.extend(extra.items())
        return tuple(out), body

    # -- WSGI --------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data()
        arrival = self.clock.now_ns()
        headers = tuple((str(k), str(v)) for k, v in request.headers.items())
        path = request.full_path.rstrip("?") if request.query_string else request.path
        event_id = _event_id(self.profile, headers, body)
        item = Captured(request.method, path, headers, body, arrival, event_id)
        with self._lock:
            self.captured.append(item)
        failed = self._take(self._fail, event_id)
        if failed is not None:  # answered here: nothing is forwarded and no other rule is used up
            item.answered = f"failed without forwarding: {failed.describe()}"
            return self._answer_fault(environ, failed, arrival)(environ, start_response)
        tamper = self._take(self._tamper, event_id)
        sent_headers, sent_body = self._tampered(headers, body, tamper) if tamper else (headers, body)
        copies, concurrent = self._take(self._dup, event_id) or (1, False)
        answers = self._forward_copies(request.method, path, sent_headers, sent_body, copies, concurrent)
        item.upstream.extend(answers)
        lost = self._take(self._lose, event_id)
        if lost is not None:
            item.answered = f"lost acknowledgement: {lost.describe()}"
            return self._answer_fault(environ, lost, arrival)(environ, start_response)
        first = answers[0]
        item.answered = "upstream"
        if first.status is None:  # say why, to the sender (header, body) and in the records
            reason = first.describe()
            item.answered = f"upstream could not answer: {reason}"
            exchange = environ.get(ENV_EXCHANGE)
            if exchange is not None:  # served behind a FakeReceiver: its record carries the reason
                exchange.item._note("upstream", reason)
            response = Response(
                f"hookmock fault proxy: the upstream could not answer: {reason}\n",
                status=502,
                headers=[(UPSTREAM_OUTCOME_HEADER, first.outcome)],
            )
        else:
            response = Response(first.body, status=first.status, headers=_passable(first.headers))
        return response(environ, start_response)

    def _forward_copies(
        self,
        method: str,
        path: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
        copies: int,
        concurrent: bool,
    ) -> list[UpstreamAnswer]:
        if not concurrent or copies == 1:
            return [self.forward(method, path, headers, body) for _ in range(copies)]
        answers: list[UpstreamAnswer | None] = [None] * copies
        barrier = threading.Barrier(copies)

        def run(i: int) -> None:
            barrier.wait()
            try:
                answers[i] = self.forward(method, path, headers, body)
            except Exception as exc:  # the handler's exception, kept as its answer
                answers[i] = UpstreamAnswer(None, outcome="error", detail=f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(copies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [a if a is not None else UpstreamAnswer(None, outcome="error") for a in answers]

    def _answer_fault(self, environ: dict[str, Any], fault: Fault, arrival: int) -> Response:
        slot = environ.get(ENV_ANSWER)
        if isinstance(slot, list):  # served behind a FakeReceiver: it carries the fault out
            slot.append(fault)
            return Response(b"", status=204)
        if isinstance(fault, Respond):
            return Response(fault.body, status=fault.status, headers=list(fault.headers))
        if isinstance(fault, SOCKET_FAULTS):
            raise UsageError(
                f"{fault.describe()!r} needs a real connection: "
                "serve the proxy with FakeReceiver(handler=proxy)"
            )
        # In-process: waiting past the deadline makes the transport report a timeout.
        until = arrival + (fault.ns if isinstance(fault, Delay) else self.profile.deadline_ns)
        if isinstance(fault, (Delay, Hang)):
            advance = getattr(self.clock, "advance_to", None)
            if advance is not None:
                advance(min(until, arrival + self.profile.deadline_ns))
            else:
                self.clock.sleep_ns(min(until, arrival + self.profile.deadline_ns) - self.clock.now_ns())
        then = fault.then if isinstance(fault, Delay) else Respond(504)
        return Response(then.body, status=then.status, headers=list(then.headers))


def _upstream_url(upstream: str, path: str) -> str:
    """An upstream URL with a path is used as is; a bare origin gets the incoming path."""
    parts = urlsplit(upstream)
    if parts.path in ("", "/"):
        return upstream.rstrip("/") + (path if path.startswith("/") else "/" + path)
    return upstream


def _event_id(profile: Profile, headers: tuple[tuple[str, str], ...], body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to read
        payload = None
    return profile.received_event_id(headers, payload)


_NOT_FORWARDED = b"failed by hookmock's fault proxy (the handler did not see this request)\n"

_HOP = frozenset({"connection", "transfer-encoding", "content-length", "keep-alive", "server", "date"})


def _passable(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in _HOP]
