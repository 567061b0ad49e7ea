"""A correct receiver in plain werkzeug (an integrator using ``hookmock.verify``), and the effect store.

Broken receivers in :mod:`receivers.broken` subclass :class:`WerkzeugReceiver` and override the
one step they get wrong.  Every receiver also answers ``GET /effects/<event_id>`` with
``{"count": N}``: how many times it applied that event (the audit's effect probe).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from werkzeug.wrappers import Request, Response

import hookmock
from hookmock.clock import Clock, RealClock
from hookmock.profiles import get_profile


class EffectStore:
    """What the receiver did: how many times each event was applied."""

    def __init__(self) -> None:
        self.applied: Counter[str] = Counter()
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def count(self, event_id: str) -> int:
        with self.lock:
            return self.applied[event_id]

    def apply_once(self, event_id: str) -> bool:
        """Apply unless already applied (check and insert under one lock)."""
        with self.lock:
            if event_id in self.seen:
                return False
            self.seen.add(event_id)
            self.applied[event_id] += 1
            return True

    def apply_always(self, event_id: str) -> None:
        with self.lock:
            self.seen.add(event_id)
            self.applied[event_id] += 1


class WerkzeugReceiver:
    """Correct: verifies the raw bytes with hookmock, 401 for bad auth, 400 for bad bodies."""

    auth_status = 401
    body_status = 400

    def __init__(self, profile: str = "moda", secret: str = "", clock: Clock | None = None) -> None:
        self.profile = get_profile(profile)
        self.secret = secret
        self.clock: Clock = clock or RealClock()
        self.store = EffectStore()

    # the effect probe, for Python callers
    def count(self, event_id: str) -> int:
        return self.store.count(event_id)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method == "GET" and request.path.startswith("/effects/"):
            event_id = request.path[len("/effects/") :]
            response = Response(json.dumps({"count": self.count(event_id)}), mimetype="application/json")
        elif request.method != "POST":
            response = Response("POST only", status=405)
        else:
            response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        body = request.get_data(cache=False)
        rejection = self.authenticate(request, body)
        if rejection is not None:
            return rejection
        payload = self.parse(request, body)
        if isinstance(payload, Response):
            return payload
        return self.process(request, payload)

    # -- steps that broken receivers override ---------------------------------------------
    def authenticate(self, request: Request, body: bytes) -> Response | None:
        try:
            hookmock.verify(self.profile, request.headers, body, self.secret, clock=self.clock)
        except hookmock.VerificationError as exc:
            return Response(f"rejected: {exc.reason}", status=self.auth_status)
        return None

    def parse(self, request: Request, body: bytes) -> dict[str, Any] | Response:
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return Response("body is not UTF-8 JSON", status=self.body_status)
        if (
            not isinstance(payload, dict)
            or not self.profile.received_event_id(request.headers, payload)
            or not self.profile.event_type_of(payload)
        ):
            return Response("not an event", status=self.body_status)
        return payload

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        # the payload's event id (Moda, mod.io), or the message id header (Standard Webhooks)
        event_id = self.profile.received_event_id(request.headers, payload)
        assert event_id is not None
        self.store.apply_once(event_id)
        return Response("ok", status=200)
