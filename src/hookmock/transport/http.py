"""The real HTTP(S) transport: one POST over a socket, with a total deadline.

A small HTTP/1.1 client on ``socket`` and ``ssl``, written for the sender's needs rather than
for general use:

* it connects only to an address the outbound-safety check approved (no second DNS lookup), but
  sends the original ``Host`` header and uses the original host name for TLS SNI and the
  certificate check;
* TLS verification is on by default, against the system store plus ``ca_file`` (a user CA);
  ``verify_tls=False`` is an explicit, named relaxation;
* it never follows redirects (a 3xx is just a response) and never reads proxy settings from
  the environment;
* the deadline is total over connect + TLS + send + the complete response: before every
  blocking call the remaining time is recomputed, so a receiver dribbling a byte a second cannot
  stretch it;
* the response body is read to its end (Content-Length, chunked, or close-delimited) but only
  the first ``excerpt_bytes`` are kept; a huge or endless body is cut at the deadline.

See :mod:`hookmock.transport` for the outcomes and the virtual-clock contract.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
from collections.abc import Mapping

from ..clock import SECOND, Clock
from ..errors import UsageError
from . import EXCERPT_BYTES, AttemptResult
from ._deadline import AttemptClock, DeadlineReached
from ._gate import Gate
from ._response import IncompleteBody, MalformedResponse, ResponseReader
from .targets import ResolutionFailed, ResolvedAddress, Target, TargetPolicy, parse_target

__all__ = ["HTTPTransport"]

_SEND_CHUNK = 64 * 1024
_METHODS = ("POST", "GET")
_RESERVED_HEADERS = frozenset({"host", "content-length", "connection", "transfer-encoding"})


def _errno_name(exc: OSError) -> str:
    code = exc.errno
    name = errno.errorcode.get(code, "") if code is not None else ""
    text = exc.strerror or str(exc) or type(exc).__name__
    return f"{name} {text}".strip() if name else text


class HTTPTransport:
    """Deliver one attempt over real HTTP(S).

    ``allow_targets`` extends the loopback-only default (HOST names or CIDRs); ``policy`` gives
    a ready :class:`~hookmock.transport.targets.TargetPolicy` instead (e.g. with an injected
    resolver).  ``ca_file`` is a PEM file of extra CAs to trust on top of the system store.
    """

    #: ``send(..., gate=Gate)`` holds concurrent copies together (see :mod:`._gate`)
    supports_gate = True

    def __init__(
        self,
        *,
        ca_file: str | os.PathLike[str] | None = None,
        verify_tls: bool = True,
        allow_targets: tuple[str, ...] | list[str] = (),
        policy: TargetPolicy | None = None,
        excerpt_bytes: int = EXCERPT_BYTES,
    ) -> None:
        if policy is not None and allow_targets:
            raise UsageError("give either allow_targets=[...] or policy=TargetPolicy(...), not both")
        if excerpt_bytes < 0:
            raise UsageError(f"excerpt_bytes={excerpt_bytes} is negative; use 0 or more")
        self.policy = policy if policy is not None else TargetPolicy(allow_targets)
        self.ca_file = os.fspath(ca_file) if ca_file is not None else None
        self.verify_tls = verify_tls
        self.excerpt_bytes = excerpt_bytes
        # Loading the system's CA store takes tens of ms: done at the first HTTPS attempt. A given CA
        # file is read now (alone, about 1 ms), so a bad file is an error here, not at the first
        # delivery; its certificates, as read now, are added to the system's at that attempt.
        self._ssl: ssl.SSLContext | None = None
        self._ca_der: bytes | None = None
        if self.ca_file is not None:
            alone = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self._load_ca_file(alone)
            self._ca_der = b"".join(alone.get_ca_certs(binary_form=True))

    def __repr__(self) -> str:
        return (
            f"HTTPTransport(ca_file={self.ca_file!r}, verify_tls={self.verify_tls}, policy={self.policy!r})"
        )

    @property
    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:  # two threads may both build one: harmless, either is kept
            self._ssl = self._make_ssl_context()
        return self._ssl

    def _load_ca_file(self, context: ssl.SSLContext) -> None:
        assert self.ca_file is not None
        if not os.path.isfile(self.ca_file):
            raise UsageError(f"CA file {self.ca_file!r} does not exist; give a PEM file of CA certificates")
        try:
            context.load_verify_locations(cafile=self.ca_file)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise UsageError(
                f"CA file {self.ca_file!r} is not a readable PEM file of CA certificates: {exc}"
            ) from None

    def _make_ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if self._ca_der:
            context.load_verify_locations(cadata=self._ca_der)
        elif self.ca_file is not None:  # a file of no certificate at all: its own error
            self._load_ca_file(context)
        if not self.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def check_target(self, url: str) -> list[ResolvedAddress]:
        """Run the outbound-safety check alone (raises ``UsageError`` / ``TargetNotAllowed``)."""
        return self.policy.check(url)

    # -- the attempt -----------------------------------------------------------------------
    def send(
        self,
        target: object,
        headers: Mapping[str, str],
        body: bytes,
        *,
        deadline_ns: int,
        clock: Clock,
        method: str = "POST",
        gate: Gate | None = None,
    ) -> AttemptResult:
        """POST ``body`` to the URL ``target`` (``method``: another verb, e.g. the effect probe's GET).

        ``gate``: hold the request's last byte until every copy sharing the gate has written the
        rest of its own (see :mod:`hookmock.transport._gate`).

        Raises :class:`~hookmock.errors.UsageError` (bad URL, bad header) and
        :class:`~hookmock.errors.TargetNotAllowed` before any packet leaves; every network
        condition is reported as an :class:`AttemptResult` instead.
        """
        if not isinstance(target, str):
            raise UsageError(
                f"HTTPTransport needs a URL string, not {type(target).__name__}; "
                "use InProcessTransport to deliver to an application in-process"
            )
        if not isinstance(deadline_ns, int) or deadline_ns <= 0:
            raise UsageError(f"deadline_ns={deadline_ns!r} must be a positive integer number of nanoseconds")
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise UsageError(f"body must be bytes, not {type(body).__name__}")
        parsed = parse_target(target)
        request = _build_request(parsed, headers, bytes(body), method)
        attempt = AttemptClock(clock, deadline_ns)
        try:
            try:
                addresses = self.policy.check(parsed)
            except ResolutionFailed as exc:  # a failed attempt, retried like any other
                return AttemptResult("dns_error", attempt.elapsed_ns(), detail=str(exc))
            return self._run(attempt, parsed, addresses, request, gate)
        finally:
            attempt.finish()
            if gate is not None:
                gate.abandon()  # a no-op once the gate opened; else the other copies go now

    def _timeout(self, attempt: AttemptClock, phase: str, peer: str | None) -> AttemptResult:
        duration = attempt.deadline_ns if attempt.clock.is_virtual else attempt.elapsed_ns()
        seconds = attempt.deadline_ns / SECOND
        detail = f"no complete response within {seconds:g} s ({phase})"
        if attempt.backstop_hit and attempt.clock.is_virtual:
            detail += "; real-time backstop"
        return AttemptResult("timeout", duration, detail=detail, peer=peer)

    def _run(
        self,
        attempt: AttemptClock,
        target: Target,
        addresses: list[ResolvedAddress],
        request: bytes,
        gate: Gate | None = None,
    ) -> AttemptResult:
        phase = "connect"
        peer: str | None = None
        try:
            connected = self._connect(attempt, addresses)
            if isinstance(connected, AttemptResult):
                return connected
            sock, peer = connected
            if target.scheme == "https":
                phase = "TLS handshake"
                sock = self._tls(attempt, sock, target)
            phase = "sending the request"
            if gate is None:
                send_error = self._send(attempt, sock, request)
            else:  # all but the last byte, then the last byte once every copy is that far
                send_error = self._send(attempt, sock, request[:-1])
                gate.wait()
                send_error = send_error or self._send(attempt, sock, request[-1:])
            phase = "reading the response"
            reader = ResponseReader(lambda n: _recv(attempt, sock, n), excerpt_bytes=self.excerpt_bytes)
            try:
                response = reader.read()
                elapsed = attempt.complete()
            except (MalformedResponse, IncompleteBody, OSError, DeadlineReached):
                if send_error is not None and not attempt.expired():
                    return AttemptResult(
                        "reset", attempt.elapsed_ns(), detail=f"while sending: {send_error}", peer=peer
                    )
                raise
        except DeadlineReached:
            return self._timeout(attempt, phase, peer)
        except ssl.SSLCertVerificationError as exc:
            detail = f"certificate verify failed: {exc.verify_message or exc.reason}"
            return AttemptResult("tls_error", attempt.elapsed_ns(), detail=detail, peer=peer)
        except ssl.SSLError as exc:
            if attempt.expired():
                return self._timeout(attempt, phase, peer)
            outcome = "tls_error" if phase == "TLS handshake" else "reset"
            return AttemptResult(outcome, attempt.elapsed_ns(), detail=f"{phase}: {exc}", peer=peer)
        except MalformedResponse as exc:
            if attempt.expired():
                return self._timeout(attempt, phase, peer)
            return AttemptResult("malformed", attempt.elapsed_ns(), detail=str(exc), peer=peer)
        except IncompleteBody as exc:
            if attempt.expired():
                return self._timeout(attempt, phase, peer)
            return AttemptResult("reset", attempt.elapsed_ns(), detail=str(exc), peer=peer)
        except TimeoutError:
            return self._timeout(attempt, phase, peer)
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
            if attempt.expired():
                return self._timeout(attempt, phase, peer)
            detail = f"{phase}: {_errno_name(exc)}"
            return AttemptResult("reset", attempt.elapsed_ns(), detail=detail, peer=peer)
        except OSError as exc:
            if attempt.expired():
                return self._timeout(attempt, phase, peer)
            detail = f"{phase}: {_errno_name(exc)}"
            return AttemptResult("error", attempt.elapsed_ns(), detail=detail, peer=peer)
        if elapsed is None or elapsed > attempt.deadline_ns:
            return self._timeout(attempt, "the response completed after the deadline", peer)
        return AttemptResult(
            "response",
            elapsed,
            status=response.status,
            headers=response.headers,
            excerpt=response.excerpt,
            detail=response.reason,
            peer=peer,
            extra={"body_bytes": response.body_bytes, "framing": response.framing},
        )

    def _connect(
        self, attempt: AttemptClock, addresses: list[ResolvedAddress]
    ) -> tuple[socket.socket, str] | AttemptResult:
        """Connect to the first address that accepts; refused/unreachable ones are skipped."""
        failures: list[tuple[ResolvedAddress, OSError]] = []
        for address in addresses:
            sock = socket.socket(address.family, socket.SOCK_STREAM)
            try:
                attempt.attach(sock)
                attempt.arm(sock)
                sock.connect(address.sockaddr)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock, str(address)
            except (DeadlineReached, TimeoutError):
                sock.close()
                raise DeadlineReached from None
            except OSError as exc:
                sock.close()
                if attempt.expired():
                    raise DeadlineReached from None
                failures.append((address, exc))
        tried = ", ".join(f"{addr}: {_errno_name(exc)}" for addr, exc in failures)
        last_addr = str(failures[-1][0]) if failures else None
        if failures and all(isinstance(exc, ConnectionRefusedError) for _, exc in failures):
            return AttemptResult("refused", attempt.elapsed_ns(), detail=tried, peer=last_addr)
        return AttemptResult("error", attempt.elapsed_ns(), detail=f"connect: {tried}", peer=last_addr)

    def _tls(self, attempt: AttemptClock, sock: socket.socket, target: Target) -> ssl.SSLSocket:
        tls = self._ssl_context.wrap_socket(sock, server_hostname=target.host, do_handshake_on_connect=False)
        attempt.attach(tls)
        attempt.arm(tls)
        tls.do_handshake()
        return tls

    def _send(self, attempt: AttemptClock, sock: socket.socket, request: bytes) -> str | None:
        """Send the request under the deadline; a peer that hung up is returned, not raised.

        A receiver may answer (e.g. 413) and close before reading the whole request, so after a
        send error the response is still read; the error is reported only if none arrives.
        """
        view = memoryview(request)
        sent = 0
        while sent < len(view):
            attempt.arm(sock)
            try:
                sent += sock.send(view[sent : sent + _SEND_CHUNK])
            except (ConnectionResetError, BrokenPipeError) as exc:
                if attempt.expired():
                    raise DeadlineReached from None
                return _errno_name(exc)
        return None


def _recv(attempt: AttemptClock, sock: socket.socket, size: int) -> bytes:
    attempt.arm(sock)
    try:
        data = sock.recv(size)
    except OSError:
        if attempt.expired():
            raise DeadlineReached from None
        raise
    if not data and attempt.expired():
        raise DeadlineReached
    return data


def _build_request(target: Target, headers: Mapping[str, str], body: bytes, method: str = "POST") -> bytes:
    if method not in _METHODS:
        raise UsageError(f"HTTP method {method!r} is not supported here; use one of {', '.join(_METHODS)}")
    lines = [
        f"{method} {target.path} HTTP/1.1",
        f"Host: {target.host_header}",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise UsageError(f"header {name!r}: names and values must be strings")
        if not name or any(ch in name for ch in " \t\r\n:") or not name.isascii():
            raise UsageError(f"header name {name!r} is not a valid HTTP token")
        if "\r" in value or "\n" in value or "\0" in value:
            raise UsageError(f"header {name!r} has a line break in its value; remove it")
        if name.lower() in _RESERVED_HEADERS:
            continue  # framing headers are the transport's own
        lines.append(f"{name}: {value}")
    try:
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError as exc:
        raise UsageError(f"a header value is not latin-1 text: {exc.object[exc.start : exc.end]!r}") from None
    return head + body
