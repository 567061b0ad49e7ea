"""One way to name a target: a URL, an application, or ``(application, path)``.

Everything that delivers (``Sender.send``, ``hookmock.audit``, ``run_scenario``, ``FaultProxy`` and
every fixture) takes a target through :func:`as_target`:

* a URL string (``"http://127.0.0.1:8000/webhooks"``) is sent over real HTTP;
* an application (a WSGI callable, or an ASGI application such as FastAPI, Starlette or Django's
  ``ASGIHandler``) is delivered in-process to ``http://localhost/``;
* ``(app, "/webhooks/moda")`` or ``(app, "https://shop.test/webhooks?x=1")`` delivers in-process to
  that path (or URL) inside the app;
* an :class:`AppTarget` says all of it explicitly, including ``interface="asgi"`` for an ASGI app
  hookmock cannot recognise.

An app is ASGI when it (or its ``__call__``) is a coroutine function, as asgiref decides it (that
also recognises Django's ``markcoroutinefunction``), or when it takes exactly the three arguments
``(scope, receive, send)``; anything else callable is WSGI (``(environ, start_response)``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..errors import UsageError

__all__ = ["DEFAULT_URL", "INTERFACES", "AppTarget", "WSGITarget", "as_target", "describe_target", "is_asgi"]

#: Where an app given without a path is delivered.
DEFAULT_URL = "http://localhost/"
INTERFACES = ("wsgi", "asgi")


_ISCOROUTINEFUNCTION: Any = None


def _iscoroutinefunction(fn: object) -> bool:
    """asgiref's ``iscoroutinefunction`` (it also recognises callables marked with Django's
    ``markcoroutinefunction``), imported on first use: asgiref pulls in asyncio, which a process
    that only delivers to URLs (the emulator, ``hookmock send``) never needs."""
    global _ISCOROUTINEFUNCTION
    if _ISCOROUTINEFUNCTION is None:
        try:
            from asgiref.sync import iscoroutinefunction
        except ImportError:  # pragma: no cover - asgiref is an optional extra
            iscoroutinefunction = inspect.iscoroutinefunction
        _ISCOROUTINEFUNCTION = iscoroutinefunction
    return bool(_ISCOROUTINEFUNCTION(fn))


#: is_asgi answers per app (detection reads signatures: not redone on every delivery)
_KNOWN: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def is_asgi(app: object) -> bool:
    """Whether ``app`` is an ASGI application (single callable, ``async def``)."""
    try:
        return _KNOWN[app]
    except (KeyError, TypeError):  # not seen yet, or cannot be remembered (not weak-referenceable)
        pass
    answer = _detect_asgi(app)
    with contextlib.suppress(TypeError):
        _KNOWN[app] = answer
    return answer


def _detect_asgi(app: object) -> bool:
    if _iscoroutinefunction(app):
        return True
    if not callable(app):
        return False
    if _iscoroutinefunction(type(app).__call__):  # an instance with an async __call__ (FastAPI)
        return True
    try:  # a plain wrapper def __call__(self, scope, receive, send) returning the app's coroutine
        params = inspect.signature(app).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 3 and all(p.default is p.empty for p in positional)


def split_url(url: str) -> tuple[str, str]:
    """``("http://host/", "/path?query")`` for an absolute http(s) URL inside an app."""
    if not isinstance(url, str):
        raise UsageError(f"an in-process target URL must be a string, not {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"in-process target URL {url!r} must be an absolute http:// or https:// URL (or a path "
            "starting with '/')"
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return f"{parts.scheme}://{parts.netloc}/", path


def absolute(url_or_path: object, default_url: str = DEFAULT_URL) -> str:
    """A path inside the app (``/hooks``) made absolute against ``default_url``; a URL as is."""
    if not isinstance(url_or_path, str):
        raise UsageError(
            f"the path of an (app, path) target must be a string like '/webhooks', not {url_or_path!r}"
        )
    if url_or_path.startswith(("http://", "https://")):
        split_url(url_or_path)
        return url_or_path
    if not url_or_path.startswith("/"):
        raise UsageError(
            f"in-process target path {url_or_path!r} must start with '/' (or be a full http:// URL)"
        )
    base, _ = split_url(default_url)
    return base.rstrip("/") + url_or_path


@dataclass(frozen=True)
class AppTarget:
    """An application and the URL to deliver to inside it.  ``interface``: ``"wsgi"``,
    ``"asgi"``, or None to detect it (see :func:`is_asgi`)."""

    app: Any
    url: str = DEFAULT_URL
    interface: str | None = None

    def __post_init__(self) -> None:
        if not callable(self.app):
            raise UsageError(
                f"an in-process target needs a WSGI or ASGI application (a callable), not {self.app!r}"
            )
        object.__setattr__(self, "url", absolute(self.url))
        if self.interface is None:
            object.__setattr__(self, "interface", "asgi" if is_asgi(self.app) else "wsgi")
        elif self.interface not in INTERFACES:
            raise UsageError(f"interface={self.interface!r}: use 'wsgi' or 'asgi' (or None to detect it)")
        if self.interface == "asgi" and importlib.util.find_spec("asgiref") is None:
            # refused here, before a delivery is logged, not as an error on every attempt
            raise UsageError(
                "delivering to an ASGI application in-process needs asgiref, which is not installed: "
                "pip install 'hookmock[asgi]' (or serve the app and give its URL)"
            )

    @property
    def path(self) -> str:
        return split_url(self.url)[1]

    @property
    def name(self) -> str:
        """``module.QualName`` of the app (its class for an instance such as a Flask app)."""
        app = self.app
        name = getattr(app, "__qualname__", None) or type(app).__qualname__
        module = getattr(app, "__module__", None) or type(app).__module__
        return f"{module}.{name}".replace("<", "").replace(">", "")

    def describe(self) -> str:
        """``ASGI app fastapi.applications.FastAPI at /webhooks/moda``."""
        return f"{str(self.interface).upper()} app {self.name} at {self.path}"


#: The in-process target class under its older name.
WSGITarget = AppTarget


def as_target(target: object) -> str | AppTarget:
    """A URL string as is, anything naming an application as an :class:`AppTarget`."""
    if isinstance(target, str):
        if target.startswith("/"):
            raise UsageError(
                f"target {target!r} is a path without an application; give (app, {target!r}) "
                "or a full URL like http://127.0.0.1:8000" + target
            )
        return target
    if isinstance(target, AppTarget):
        return target
    if isinstance(target, tuple) and len(target) == 2 and callable(target[0]):
        return AppTarget(target[0], absolute(target[1]))
    if callable(target):
        return AppTarget(target)
    raise UsageError(
        f"cannot deliver to {target!r}: a target is a URL string, a WSGI or ASGI application, "
        "or an (app, '/path') pair"
    )


def describe_target(target: object) -> str:
    """A readable name for any target: the URL, or ``WSGI app module.Name at /path``."""
    resolved = as_target(target)
    return resolved if isinstance(resolved, str) else resolved.describe()
