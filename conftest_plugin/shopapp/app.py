"""The shop's webhook receiver: a plain werkzeug WSGI application.

* ``POST /webhooks/moda``: checks ``X-Webhook-Signature`` (``v1=`` HMAC-SHA256 over
  ``"{timestamp}.{raw body}"`` with the signing secret) on the RAW bytes, and rejects timestamps more
  than 300 s from now (replays).  A finished PDF export is rendered to a thumbnail first, which is
  slow for big documents (longer than Moda's deadline: the retry then finds the event done).
* ``POST /webhooks/modio``: checks the ``X-Modio-Webhook-Token`` shared token.
* Both deduplicate on the event id in SQLite (Moda ``id``, mod.io ``event_uuid``) and record one
  effect per event; duplicates are acknowledged with 200 and change nothing.
* ``GET /effects/<event_id>``: ``{"count": N}``, how many times an event took effect.

``now`` and ``sleep`` are injectable so tests can run it on a virtual clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .store import Store

REPLAY_WINDOW_S = 300

#: Thumbnail rendering time per page of a PDF export, in seconds.
RENDER_SECONDS_PER_PAGE = 0.5


class ShopApp:
    def __init__(
        self,
        db_path: str | Path,
        *,
        moda_secret: str,
        modio_token: str,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        synchronous: str = "FULL",
    ) -> None:
        self.store = Store(db_path, synchronous=synchronous)
        self.moda_secret = moda_secret.encode("utf-8")
        self.modio_token = modio_token.encode("utf-8")
        self.now = now
        self.sleep = sleep
        self.url_map = Map(
            [
                Rule("/webhooks/moda", endpoint="moda", methods=["POST"]),
                Rule("/webhooks/modio", endpoint="modio", methods=["POST"]),
                Rule("/effects/<event_id>", endpoint="effects", methods=["GET"]),
            ]
        )

    # -- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = self.url_map.bind_to_environ(environ).match()
            response = getattr(self, f"on_{endpoint}")(request, **args)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    # -- Moda ------------------------------------------------------------------------------
    def on_moda(self, request: Request) -> Response:
        raw = request.get_data(cache=False)  # the exact bytes: never re-serialize before verifying
        signature = request.headers.get("X-Webhook-Signature", "")
        timestamp = request.headers.get("X-Webhook-Timestamp", "")
        # unix seconds: 1 to 15 ASCII digits (a 400-digit "timestamp" minus a float now overflows)
        if not signature.startswith("v1=") or not re.fullmatch(r"[0-9]{1,15}", timestamp):
            return _text(400, "missing or malformed signature headers")
        if abs(int(self.now()) - int(timestamp)) > REPLAY_WINDOW_S:
            return _text(401, "timestamp outside the replay window")
        expected = hmac.new(self.moda_secret, timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        # bytes, not str: compare_digest raises TypeError (a 500 for anyone) on non-ASCII text
        if not hmac.compare_digest(expected.encode(), signature[3:].encode()):
            return _text(401, "bad signature")
        event = _json(raw)
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            return _text(400, "not a Moda event")
        event_type = str(event.get("type"))
        data = event.get("data") or {}
        if self.store.seen("moda", event["id"]):  # a retry or a duplicate: skip the slow work
            return _text(200, "duplicate ignored")
        if event_type == "export.succeeded":
            self._render_thumbnail(data)
        detail = json.dumps({"task": data.get("id"), "status": data.get("status")})
        fresh = self.store.apply_once("moda", event["id"], event_type, int(self.now()), event_type, detail)
        return _text(200, "processed" if fresh else "duplicate ignored")

    def _render_thumbnail(self, task: dict[str, Any]) -> None:
        result = task.get("result") or {}
        if result.get("format") == "pdf":
            pages = int((task.get("input") or {}).get("pages", 1))
            self.sleep(pages * RENDER_SECONDS_PER_PAGE)

    # -- mod.io ----------------------------------------------------------------------------
    def on_modio(self, request: Request) -> Response:
        token = request.headers.get("X-Modio-Webhook-Token", "").encode("utf-8")
        if not hmac.compare_digest(token, self.modio_token):
            return _text(401, "bad token")
        event = _json(request.get_data(cache=False))
        if not isinstance(event, dict):
            return _text(400, "not a mod.io event")
        if event.get("event") == "PING":
            return _text(200, "pong")
        event_id, event_type = event.get("event_uuid"), event.get("event_name")
        if not isinstance(event_id, str) or not isinstance(event_type, str):
            return _text(400, "not a mod.io event")
        resource = event.get("request_resource") or {}
        detail = json.dumps({"resource": resource.get("resource_id")})
        fresh = self.store.apply_once("modio", event_id, event_type, int(self.now()), event_type, detail)
        return _text(200, "processed" if fresh else "duplicate ignored")

    # -- effects ---------------------------------------------------------------------------
    def on_effects(self, request: Request, event_id: str) -> Response:
        return Response(
            json.dumps({"count": len(self.store.effects(event_id))}), content_type="application/json"
        )

    def effects(self, event_id: str | None = None) -> list[dict[str, str]]:
        return self.store.effects(event_id)


def _text(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, content_type="text/plain")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def create_app(db_path: str | Path, *, moda_secret: str, modio_token: str, **options: Any) -> ShopApp:
    return ShopApp(db_path, moda_secret=moda_secret, modio_token=modio_token, **options)


__all__ = ["NotFound", "ShopApp", "create_app"]
