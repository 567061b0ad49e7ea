"""A correct receiver written in FastAPI (ASGI) with its own verification code (no hookmock inside).

Delivered in-process as an ASGI app, or served by uvicorn; the audit must give the same verdicts
either way.  It answers 401 for authentication failures and 400 for bodies it cannot use.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from hookmock.clock import Clock, RealClock

TOLERANCE_S = 300


def make_fastapi_receiver(profile: str = "moda", secret: str = "", clock: Clock | None = None) -> Any:
    clk: Clock = clock or RealClock()
    app = FastAPI(title=f"receiver_{profile}")
    applied: dict[str, int] = {}
    lock = threading.Lock()  # the effect probe reads from another thread

    def authentic(request: Request, body: bytes) -> bool:
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

    @app.post("/webhooks/{provider}")
    async def webhook(provider: str, request: Request) -> Response:
        body = await request.body()
        if not authentic(request, body):
            return Response("unauthorized", status_code=401)
        try:
            payload = json.loads(body)
        except ValueError:
            return Response("bad request", status_code=400)
        key = "event_uuid" if profile == "modio" else "id"
        event_id = payload.get(key) if isinstance(payload, dict) else None
        if not isinstance(event_id, str):
            return Response("bad request", status_code=400)
        with lock:
            applied.setdefault(event_id, 1)
        return JSONResponse({"received": True})

    @app.get("/effects/{event_id}")
    async def effects(event_id: str) -> dict[str, int]:
        with lock:
            return {"count": applied.get(event_id, 0)}

    def count(event_id: str) -> int:
        with lock:
            return applied.get(event_id, 0)

    app.count = count  # type: ignore[attr-defined]
    return app
