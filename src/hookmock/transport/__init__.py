"""Transports: how one delivery attempt reaches a receiver.  Edges only: no provider logic.

A transport sends one request and reports what happened as an :class:`AttemptResult`.  The
caller (a delivery driver) passes the profile's whole-response deadline and the clock; the
transport enforces the deadline as a *total* deadline (a receiver dribbling bytes cannot stretch
it) and measures the duration on that clock.

Contract with a virtual clock (shared with a fake receiver in the same process):

* the attempt starts at ``clock.now_ns()``; ``elapsed = clock.now_ns() - start``;
* a response that is complete with ``elapsed <= deadline`` counts as received; when the
  deadline is reached first (``elapsed >= deadline`` and the response is not complete, or the
  peer hangs up at or after the deadline) the outcome is ``"timeout"`` with
  ``duration_ns == deadline_ns`` exactly;
* the transport registers ``clock.call_at(start + deadline, abort)`` so that another thread
  advancing the virtual clock past the deadline aborts the attempt at once; a real-time backstop
  of the same length (in real seconds) guards against a peer that really hangs.

Outcomes (``AttemptResult.outcome``): ``"response"`` (a complete HTTP response, any status; the
profile decides what counts as success), ``"timeout"``, ``"refused"``, ``"reset"``,
``"tls_error"``, ``"malformed"`` (the peer answered something that is not HTTP/1.x, or closed
before a complete status line and headers), ``"dns_error"`` (the target's host name did not
resolve at the time of the attempt), ``"error"`` (any other local failure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..clock import Clock

__all__ = [
    "EXCERPT_BYTES",
    "EXCERPT_READ_BYTES",
    "OUTCOMES",
    "AttemptResult",
    "Transport",
]

#: How much of a response body is kept (Moda's delivery log keeps the first 2 KB).
EXCERPT_BYTES = 2048
#: How much of a response body a sender's transports read: more than is kept, so that a secret a
#: receiver echoes across the 2 KB cut is seen whole, and redacted, before the excerpt is cut.
EXCERPT_READ_BYTES = EXCERPT_BYTES + 1024

OUTCOMES = ("response", "timeout", "refused", "reset", "tls_error", "malformed", "dns_error", "error")


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt came to."""

    outcome: str
    duration_ns: int
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    excerpt: bytes = b""
    detail: str = ""
    #: The address actually connected to (after the outbound-safety check), if any.
    peer: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)

    def __init__(
        self,
        outcome: str,
        duration_ns: int,
        status: int | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        excerpt: bytes = b"",
        detail: str = "",
        peer: str | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        # what the generated frozen __init__ does (one object.__setattr__ per field), at a third
        # of its cost: one result is made per attempt (tests/test_perf_inproc.py keeps it in step)
        fields = self.__dict__
        fields["outcome"] = outcome
        fields["duration_ns"] = duration_ns
        fields["status"] = status
        fields["headers"] = headers
        fields["excerpt"] = excerpt
        fields["detail"] = detail
        fields["peer"] = peer
        fields["extra"] = {} if extra is None else extra

    @property
    def excerpt_text(self) -> str:
        return self.excerpt.decode("utf-8", "replace")

    def describe(self) -> str:
        if self.outcome == "response":
            return f"HTTP {self.status}"
        return f"{self.outcome}: {self.detail}" if self.detail else self.outcome


@runtime_checkable
class Transport(Protocol):
    """Sends one attempt.  ``target`` is a URL string or, for in-process transports, an app
    (WSGI or ASGI, see :mod:`hookmock.transport.apps`)."""

    def send(
        self,
        target: object,
        headers: Mapping[str, str],
        body: bytes,
        *,
        deadline_ns: int,
        clock: Clock,
    ) -> AttemptResult: ...
