"""Receivers on ``http.server``: header-name case survives to the application here (it does not
in WSGI), so the header-case defect lives in this style.

``serve(handler_class_factory)`` runs one on 127.0.0.1 in a thread and yields its base URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hookmock.clock import Clock, RealClock

from .base import EffectStore


def make_handler(
    profile: str, secret: str, *, case_sensitive: bool, clock: Clock | None = None
) -> tuple[type[BaseHTTPRequestHandler], EffectStore]:
    clk: Clock = clock or RealClock()
    store = EffectStore()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def header(self, name: str) -> str | None:
            if case_sensitive:
                return dict(self.headers.items()).get(name)  # the bug: an exact-case dict lookup
            return self.headers.get(name)

        def answer(self, status: int, text: str = "") -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            event_id = self.path.rsplit("/", 1)[-1]
            self.answer(200, f'{{"count": {store.count(event_id)}}}')

        def do_POST(self) -> None:
            import json

            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if profile == "modio":
                token = self.header("X-Modio-Webhook-Token")
                ok = token is not None and hmac.compare_digest(token.encode(), secret.encode())
            else:
                ts = self.header("X-Webhook-Timestamp") or ""
                sig = self.header("X-Webhook-Signature") or ""
                mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
                ok = (
                    ts.isdigit()
                    and len(ts) <= 15
                    and hmac.compare_digest(sig.encode(), f"v1={mac}".encode())
                    and abs(int(clk.time()) - int(ts)) <= 300
                )
            if not ok:
                return self.answer(401, "unauthorized")
            try:
                payload = json.loads(body)
            except ValueError:
                return self.answer(400, "bad json")
            key = "event_uuid" if profile == "modio" else "id"
            event_id = payload.get(key) if isinstance(payload, dict) else None
            if not isinstance(event_id, str):
                return self.answer(400, "not an event")
            store.apply_once(event_id)
            self.answer(200, "ok")

    return Handler, store


@contextlib.contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
