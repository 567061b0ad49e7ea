"""In-process delivery to WSGI and ASGI applications, and the time such an attempt takes.

:class:`InProcessTransport` is what a Sender, the audit and the fault proxy use for an app
target: it takes any target :func:`~hookmock.transport.apps.as_target` accepts and hands it to
:class:`~hookmock.transport.wsgi.WSGITransport` or :class:`~hookmock.transport.asgi.ASGITransport`.

Time: see :class:`~hookmock.transport._handler_time.HandlerTime` (both transports).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..clock import Clock, RealClock
from ..errors import UsageError
from . import EXCERPT_BYTES, AttemptResult
from ._gate import Gate
from ._handler_time import HandlerTime
from .apps import AppTarget, as_target

__all__ = ["HandlerTime", "InProcessTransport"]


_REAL = RealClock()


class InProcessTransport:
    """Deliver attempts in-process to WSGI or ASGI applications, whichever the target is."""

    #: ``send(..., gate=Gate)`` holds concurrent copies together (see :mod:`._gate`)
    supports_gate = True

    def __init__(self, *, excerpt_bytes: int = EXCERPT_BYTES, remote_addr: str = "127.0.0.1") -> None:
        if excerpt_bytes < 0:
            raise UsageError(f"excerpt_bytes={excerpt_bytes} is negative; use 0 or more")
        self.excerpt_bytes = excerpt_bytes
        self.remote_addr = remote_addr
        self._wsgi: Any = None
        self._asgi: Any = None

    def __repr__(self) -> str:
        return "InProcessTransport()"

    def transport_for(self, target: AppTarget) -> Any:
        if target.interface == "asgi":
            if self._asgi is None:
                from .asgi import ASGITransport

                self._asgi = ASGITransport(excerpt_bytes=self.excerpt_bytes, remote_addr=self.remote_addr)
            return self._asgi
        if self._wsgi is None:
            from .wsgi import WSGITransport

            self._wsgi = WSGITransport(excerpt_bytes=self.excerpt_bytes, remote_addr=self.remote_addr)
        return self._wsgi

    def send(
        self,
        target: object,
        headers: Mapping[str, str],
        body: bytes,
        *,
        deadline_ns: int,
        clock: Clock,
        gate: Gate | None = None,
    ) -> AttemptResult:
        """``gate``: hold the app at its first read of the body (see :mod:`._gate`)."""
        resolved = target if type(target) is AppTarget else as_target(target)  # a Sender's: as is
        if isinstance(resolved, str):
            raise UsageError(
                f"InProcessTransport got the URL {resolved!r}; give the application itself, or "
                "(app, '/path'), or use HTTPTransport for a real server"
            )
        transport = self.transport_for(resolved)
        if gate is None:
            return transport.send(resolved, headers, body, deadline_ns=deadline_ns, clock=clock)
        return transport.send(resolved, headers, body, deadline_ns=deadline_ns, clock=clock, gate=gate)
