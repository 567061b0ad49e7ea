"""Where a sender's deliveries go: target registration and the choice of transport.

A target is anything :func:`~hookmock.transport.apps.as_target` accepts: a URL (sent over
:class:`~hookmock.transport.http.HTTPTransport`, checked by the outbound-safety policy before
anything is accepted), or an in-process WSGI or ASGI application (the app, ``(app, "/path")`` or
an ``AppTarget``), recorded in the log as ``wsgi://module.Name/path`` (``asgi://`` for ASGI) and
delivered through :class:`~hookmock.transport.inprocess.InProcessTransport`.  A transport given
to the sender replaces both.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import UsageError
from .apps import AppTarget, as_target

if TYPE_CHECKING:  # pragma: no cover
    from . import Transport

__all__ = ["ASGI_SCHEME", "WSGI_SCHEME", "Routes"]

#: ``target_url`` recorded for deliveries to an in-process WSGI application.
WSGI_SCHEME = "wsgi://"
#: ``target_url`` recorded for deliveries to an in-process ASGI application.
ASGI_SCHEME = "asgi://"
_APP_SCHEMES = (WSGI_SCHEME, ASGI_SCHEME)


def _app_name(target: AppTarget) -> str:
    path = target.path
    return f"{target.interface}://{target.name}{'' if path == '/' else path}"


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
        self._inprocess: Transport | None = None
        self._apps: dict[str, AppTarget] = {}
        self._given: dict[str, object] = {}
        #: the last app target registered and its name: a test sends to one app again and again
        self._last: tuple[object, str] | None = None

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
            if target.startswith(_APP_SCHEMES):
                raise UsageError(f"{target!r} names an in-process app; pass the application itself")
            if (
                self.transport is None
            ):  # (a transport of the caller's may take paths, e.g. WSGITransport(app=))
                as_target(target)  # a bare path: UsageError naming (app, path)
                check = getattr(self.http(), "check_target", None)
                if check is not None:
                    check(target)  # TargetNotAllowed / UsageError before anything is accepted
            return target
        last = self._last
        if last is not None and last[0] is target:  # the very object registered last: same name
            return last[1]
        resolved = as_target(target)  # UsageError for anything that names no target
        assert isinstance(resolved, AppTarget)
        name = _app_name(resolved)
        candidate, n = name, 1
        while candidate in self._apps and self._apps[candidate] != resolved:
            n += 1
            candidate = f"{name}-{n}"
        self._apps[candidate] = resolved
        self._given[candidate] = target
        if not isinstance(target, tuple):  # a tuple is made anew per call: never the same object
            self._last = (target, candidate)
        return candidate

    def resolve(self, target_url: str) -> tuple[Transport, object]:
        """The transport for a recorded ``target_url`` and what to pass it as the target."""
        app = self._apps.get(target_url)
        if self.transport is not None:  # a transport of the caller's gets the target as given
            return self.transport, self._given.get(target_url, target_url)
        if app is not None:
            return self.inprocess(), app
        if target_url.startswith(_APP_SCHEMES):
            raise UsageError(
                f"{target_url} is an in-process app of another sender or process; "
                "send to it again with the app object"
            )
        return self.http(), target_url

    def http(self) -> Transport:
        if self._http is None:
            from . import EXCERPT_READ_BYTES
            from .http import HTTPTransport

            self._http = HTTPTransport(
                ca_file=self._ca_file, allow_targets=self.allow_targets, excerpt_bytes=EXCERPT_READ_BYTES
            )  # read past the 2 KB kept: the engine redacts before it cuts
        return self._http

    def inprocess(self) -> Transport:
        if self._inprocess is None:
            from . import EXCERPT_READ_BYTES
            from .inprocess import InProcessTransport

            # read past the 2 KB kept: the engine redacts before it cuts
            self._inprocess = InProcessTransport(excerpt_bytes=EXCERPT_READ_BYTES)
        return self._inprocess
