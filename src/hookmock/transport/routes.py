"""Where a sender's deliveries go: target registration and the choice of transport.

A target is a URL (sent over :class:`~hookmock.transport.http.HTTPTransport`, checked by the
outbound-safety policy before anything is accepted) or an in-process WSGI application (a callable,
a ``WSGITarget`` or an ``(app, url)`` pair), recorded in the log as ``wsgi://module.name`` and
delivered through :class:`~hookmock.transport.wsgi.WSGITransport`.  A transport given to the
sender replaces both.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from . import Transport

__all__ = ["WSGI_SCHEME", "Routes"]

#: ``target_url`` recorded for deliveries to an in-process WSGI application.
WSGI_SCHEME = "wsgi://"


def _app_name(app: object) -> str:
    name = getattr(app, "__qualname__", None) or type(app).__qualname__
    module = getattr(app, "__module__", None) or type(app).__module__
    return f"{WSGI_SCHEME}{module}.{name}".replace("<", "").replace(">", "")


class Routes:
    """Registers targets by the URL recorded in the log and resolves them to a transport."""

    def __init__(
        self,
        *,
        transport: Transport | None,
        allow_targets: tuple[str, ...],
        ca_file: str | os.PathLike[str] | None,
    ) -> None:
        self.transport = transport
        self.allow_targets = allow_targets
        self._ca_file = ca_file
        self._http: Transport | None = None
        self._wsgi: Transport | None = None
        self._apps: dict[str, object] = {}

    @property
    def ca_file(self) -> str | os.PathLike[str] | None:
        return self._ca_file

    @ca_file.setter
    def ca_file(self, value: str | os.PathLike[str] | None) -> None:
        self._ca_file = value
        self._http = None  # rebuilt with the new CA on the next HTTPS attempt

    def register(self, target: object) -> str:
        """The ``target_url`` to record for ``target``; refuses a disallowed URL at once."""
        if isinstance(target, str):
            if target.startswith(WSGI_SCHEME):
                raise UsageError(f"{target!r} names an in-process app; pass the WSGI application itself")
            if self.transport is None:
                check = getattr(self.http(), "check_target", None)
                if check is not None:
                    check(target)  # TargetNotAllowed / UsageError before anything is accepted
            return target
        app = getattr(target, "app", None)  # a WSGITarget
        if isinstance(target, tuple) and len(target) == 2 and callable(target[0]):
            app = target[0]
        if callable(target) or callable(app):
            name = _app_name(app if callable(app) else target)
            candidate, n = name, 1
            while self._apps.get(candidate, target) is not target:
                n += 1
                candidate = f"{name}-{n}"
            self._apps[candidate] = target
            return candidate
        raise UsageError(
            f"a target must be a URL string, a WSGI application, a WSGITarget or an (app, url) pair, "
            f"not {type(target).__name__}"
        )

    def resolve(self, target_url: str) -> tuple[Transport, object]:
        """The transport for a recorded ``target_url`` and what to pass it as the target."""
        app = self._apps.get(target_url)
        if self.transport is not None:
            return self.transport, (app if app is not None else target_url)
        if app is not None:
            return self.wsgi(), app
        if target_url.startswith(WSGI_SCHEME):
            raise UsageError(
                f"{target_url} is an in-process WSGI app of another sender or process; "
                "send to it again with the app object"
            )
        return self.http(), target_url

    def http(self) -> Transport:
        if self._http is None:
            from .http import HTTPTransport

            self._http = HTTPTransport(ca_file=self._ca_file, allow_targets=self.allow_targets)
        return self._http

    def wsgi(self) -> Transport:
        if self._wsgi is None:
            from .wsgi import WSGITransport

            self._wsgi = WSGITransport()
        return self._wsgi
