"""A naive Moda receiver, as a first attempt often looks: it parses before it verifies, verifies
re-serialized JSON, compares ``str`` signatures with ``hmac.compare_digest``, checks no timestamp
window and applies every delivery.  Many defects at once: the audit report of this receiver is the
yardstick for how long a report gets (it must stay short enough for a CI log)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from werkzeug.wrappers import Request, Response

from hookmock.clock import Clock

from .base import EffectStore


def make_naive_receiver(profile: str = "moda", secret: str = "", clock: Clock | None = None) -> Any:
    store = EffectStore()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method == "GET":
            event_id = request.path.rsplit("/", 1)[-1]
            response = Response(json.dumps({"count": store.count(event_id)}))
            return response(environ, start_response)
        payload = json.loads(request.get_data())  # parses before verifying: a 500 on bad JSON
        if profile == "modio":
            if request.headers.get("X-Modio-Webhook-Token") != secret:
                return Response("bad token", status=401)(environ, start_response)
            store.apply_always(payload["event_uuid"])
            return Response("ok")(environ, start_response)
        ts = int(request.headers["X-Webhook-Timestamp"])  # a 500 when missing or malformed
        signed = f"{ts}.".encode() + json.dumps(payload, separators=(",", ":")).encode()
        expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Webhook-Signature", ""), expected):
            return Response("bad signature", status=401)(environ, start_response)
        store.apply_always(payload["id"])
        percent = payload["data"]["progress"]["percent"]  # a 500 when progress is null or absent
        return Response(f"ok {percent}")(environ, start_response)

    app.count = store.count  # type: ignore[attr-defined]
    return app
