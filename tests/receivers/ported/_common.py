"""What every ported receiver shares: the effect counter and the named unit of work.

A port keeps the original's logic line for line where it can; only the provider scheme changes
(Moda: HMAC-SHA256 over ``{timestamp}.{raw body}`` in ``X-Webhook-Signature: v1=<hex>``, with
``X-Webhook-Timestamp``; mod.io: the ``X-Modio-Webhook-Token`` header), plus two things the audit
needs and the original does not have:

* ``count(event_id)``: how many times the receiver's work ran for an event (the effect probe);
* ``apply_effect(event_id)``: the receiver's work itself (``emitter.emit``, ``hook(data)``, a job
  launch, a subprocess), a named callable so that ``hookmock.fail_once(app, "apply_effect")`` can
  make it fail once.  It is always looked up on ``self`` at call time.

``now()`` is the original's ``time.time()``, read from the audit's clock so that in-process audits
on a virtual clock see the same time as the sender.
"""

from __future__ import annotations

import json
from typing import Any

from hookmock.clock import Clock, RealClock

from ..base import EffectStore

SIG = "X-Webhook-Signature"
TS = "X-Webhook-Timestamp"
TOKEN = "X-Modio-Webhook-Token"


class Port:
    """Base of a ported receiver: a WSGI callable with ``count`` and ``apply_effect``."""

    #: The path the original listens on (the audit target is ``(app, path)``).
    path = "/"
    #: The provider profile it was ported to.
    profile = "moda"

    def __init__(self, secret: str, clock: Clock | None = None) -> None:
        self.secret = secret
        self.clock: Clock = clock or RealClock()
        self.store = EffectStore()
        self.wsgi: Any = None

    def now(self) -> float:
        return float(self.clock.time())

    def count(self, event_id: str) -> int:
        return self.store.count(event_id)

    def apply_effect(self, event_id: str | None) -> None:
        """The receiver's work, once per call (no dedupe of its own)."""
        self.store.apply_always(event_id or "")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.wsgi(environ, start_response)


class AsgiPort(Port):
    """A port of an ASGI (FastAPI) original: ``self.asgi`` is the real FastAPI app."""

    asgi: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:  # type: ignore[override]
        await self.asgi(scope, receive, send)


def event_id_of(body: bytes | str | Any, key: str = "id") -> str | None:
    """The event id for the effect counter: instrumentation only, never part of the receiver's
    own logic (it never raises)."""
    try:
        data = json.loads(body) if isinstance(body, (bytes, str)) else body
    except ValueError:
        return None
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
