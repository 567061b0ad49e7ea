"""A FastAPI receiver that answers at once and applies the event in ``BackgroundTasks`` (work after
the response: effects show up a moment after the 2xx), with its own verification code.

``make_fastapi_receiver(profile, secret, clock, dedupe=True)`` returns the ASGI app; ``app.count``
is the effect probe for Python callers, ``GET /effects/{event_id}`` the one over HTTP, and
``app.effects.apply_effect`` the work (``hookmock.fail_once(app.effects, "apply_effect")``).
A failed background job is retried (up to 3 tries), as a real job queue would.
``dedupe=False`` is the broken variant (applies every copy).  ``serve_asgi(app)`` runs it with
uvicorn on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from fastapi import BackgroundTasks, FastAPI, Request, Response

from hookmock.clock import Clock, RealClock

TOLERANCE_S = 300


class Effects:
    def __init__(self, dedupe: bool, work_s: float) -> None:
        self.dedupe = dedupe
        self.work_s = work_s
        self.applied: Counter[str] = Counter()
        self.lock = threading.Lock()

    def count(self, event_id: str) -> int:
        with self.lock:
            return self.applied[event_id]

    def apply_effect(self, event_id: str) -> None:
        with self.lock:
            if self.dedupe and self.applied[event_id]:
                return
            self.applied[event_id] += 1

    def job(self, event_id: str) -> None:
        """The background task: some work, then the effect; retried when it fails."""
        for _ in range(3):
            time.sleep(self.work_s)
            try:
                self.apply_effect(event_id)
                return
            except Exception:
                continue


def make_fastapi_receiver(
    profile: str = "moda",
    secret: str = "",
    clock: Clock | None = None,
    *,
    dedupe: bool = True,
    work_s: float = 0.01,
) -> Any:
    clk: Clock = clock or RealClock()
    app = FastAPI()
    effects = Effects(dedupe, work_s)
    app.effects = effects  # type: ignore[attr-defined]
    app.count = effects.count  # type: ignore[attr-defined]

    def authentic(request: Request, body: bytes) -> bool:
        if profile == "modio":
            token = request.headers.get("x-modio-webhook-token")
            return token is not None and hmac.compare_digest(token.encode(), secret.encode())
        ts = request.headers.get("x-webhook-timestamp", "")
        sig = request.headers.get("x-webhook-signature", "")
        if not re.fullmatch(r"[0-9]{1,15}", ts) or not sig.startswith("v1=") or not sig.isascii():
            return False
        expected = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig[3:].encode(), expected.encode()):
            return False
        return abs(clk.time() - int(ts)) <= TOLERANCE_S

    @app.get("/effects/{event_id}")
    def effect_count(event_id: str) -> dict[str, int]:
        return {"count": effects.count(event_id)}

    @app.post("/webhook")
    async def webhook(request: Request, background: BackgroundTasks) -> Response:
        body = await request.body()
        if not authentic(request, body):
            return Response("unauthorized", status_code=401)
        try:
            payload = json.loads(body)
        except ValueError:
            return Response("bad json", status_code=400)
        key = "event_uuid" if profile == "modio" else "id"
        event_id = payload.get(key) if isinstance(payload, dict) else None
        if not isinstance(event_id, str):
            return Response("not an event", status_code=400)
        background.add_task(effects.job, event_id)
        return Response('{"received": true}', media_type="application/json")

    return app


def make_fastapi_no_dedupe(profile: str = "moda", secret: str = "", clock: Clock | None = None) -> Any:
    return make_fastapi_receiver(profile, secret, clock, dedupe=False)


@contextlib.contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1 (an ephemeral port) in a thread; yield the base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-receiver", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)
