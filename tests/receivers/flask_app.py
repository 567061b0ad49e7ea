"""A correct receiver written in Flask with its own verification code (no hookmock inside).

It answers 403 for authentication failures and 422 for bodies it cannot use: a different style
from the werkzeug receiver, which the audit must pass just the same.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from typing import Any

from flask import Flask, Response, jsonify, request

from hookmock.clock import Clock, RealClock

TOLERANCE_S = 300


def make_flask_receiver(profile: str = "moda", secret: str = "", clock: Clock | None = None) -> Any:
    clk: Clock = clock or RealClock()
    app = Flask(f"receiver_{profile}")
    applied: dict[str, int] = {}
    lock = threading.Lock()

    def authentic(body: bytes) -> bool:
        if profile == "modio":
            token = request.headers.get("x-modio-webhook-token")
            return token is not None and hmac.compare_digest(token.encode(), secret.encode())
        ts = request.headers.get("x-webhook-timestamp", "")
        sig = request.headers.get("x-webhook-signature", "")
        if not re.fullmatch(r"[0-9]{1,15}", ts) or not sig.startswith("v1="):
            return False
        expected = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig[3:].encode(), expected.encode()):
            return False
        return abs(int(clk.time()) - int(ts)) <= TOLERANCE_S

    @app.post("/")
    @app.post("/webhook")
    def webhook() -> Any:
        body = request.get_data(cache=False)
        if not authentic(body):
            return Response("forbidden", status=403)
        try:
            payload = json.loads(body)
        except ValueError:
            return Response("unprocessable", status=422)
        key = "event_uuid" if profile == "modio" else "id"
        event_id = payload.get(key) if isinstance(payload, dict) else None
        if not isinstance(event_id, str):
            return Response("unprocessable", status=422)
        with lock:
            if event_id not in applied:
                applied[event_id] = 1
        return jsonify(received=True)

    @app.get("/effects/<event_id>")
    def effects(event_id: str) -> Any:
        with lock:
            return jsonify(count=applied.get(event_id, 0))

    def count(event_id: str) -> int:
        with lock:
            return applied.get(event_id, 0)

    app.count = count  # type: ignore[attr-defined]
    return app
