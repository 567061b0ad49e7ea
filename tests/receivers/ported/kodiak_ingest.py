"""Port of Kodiak's GitHub webhook ingest endpoint (a Starlette app).

Original: ``chdsbd/kodiak``, ``bot/kodiak/entrypoints/ingest.py`` (``github_webhook_event``: HMAC of
the body, ``hub_signature.replace("sha1=", "")``, ``hmac.compare_digest`` on ``str``, then
``await request.json()`` and a push onto the installation's Redis queue).  Ported to Moda on a real
Starlette app: SHA-256 over ``{X-Webhook-Timestamp}.{body}`` instead of SHA-1 over the body, the
prefix ``v1=`` instead of ``sha1=``; Moda sends no ``X-Github-Event``, so the port reads the
envelope's ``type`` once the body is parsed (where the original reads ``event.get`` anyway); the
installation id becomes the envelope's ``data.id``.  Pushing onto the queue is the work (``apply_effect``).

Defects, from reading the code (the ground truth):

* ``hmac.compare_digest(sha, expected_sha)`` compares ``str``: a non-ASCII signature raises
  ``TypeError`` -> 500 for anyone -> ``signature`` fails.  (``replace("v1=", "")`` also takes the
  bare hex: lenient, the right HMAC all the same.)
* GitHub signs no timestamp: the port verifies the timestamp's signature but never its age ->
  ``replay`` fails (far-future and malformed timestamps pass for the same reason).
* No dedupe: every delivery is queued again -> ``idempotency`` fails.  (In Kodiak's own domain a
  duplicate only re-evaluates a pull request; Moda tells receivers to assume the work is not
  idempotent.)
* After verifying, ``await request.json()`` and ``event.get(...)`` are unguarded: a validly signed
  malformed body, ``[]`` or ``null`` answers 500, and ``{}`` is acknowledged -> ``bad-input`` warns.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from starlette import status
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ._common import SIG, TS, AsgiPort

DEFECTS = (
    ("signature", "fail", "str compare_digest: a non-ASCII signature -> 500 for anyone"),
    ("replay", "fail", "the timestamp's age is never checked"),
    ("future-timestamp", "see", "far-future timestamps accepted: the same root cause as replay"),
    ("idempotency", "fail", "no dedupe: every delivery queued again"),
    ("bad-input", "warn", "signed malformed JSON, [] or null -> 500; {} acknowledged"),
)


class KodiakIngest(AsgiPort):
    path = "/api/github/hook"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)

        async def root(_: Request) -> Response:
            return PlainTextResponse("OK")

        async def github_webhook_event(request: Request) -> Response:
            signed = f"{request.headers.get(TS)}.".encode() + (await request.body())
            expected_sha = hmac.new(
                key=self.secret.encode(), msg=signed, digestmod=hashlib.sha256
            ).hexdigest()
            try:
                hub_signature = request.headers[SIG]
            except KeyError as e:
                raise HTTPException(
                    status_code=status.HTTP_400_BAD_REQUEST, detail="missing required signature header"
                ) from e
            sha = hub_signature.replace("v1=", "")
            if not hmac.compare_digest(sha, expected_sha):
                raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail="Invalid signature")
            event: dict[str, Any] = await request.json()
            github_event = event.get("type")  # was request.headers["X-Github-Event"]
            installation_id: Any = event.get("data", {}).get("id")  # event["installation"]["id"]
            if github_event in {"github_app_authorization", "installation", "installation_repositories"}:
                return JSONResponse({"ok": True})  # "administrative_event_received"
            if installation_id is None:
                return JSONResponse({"ok": True})  # "unexpected_event_skipped"
            self.apply_effect(event.get("id"), installation_id)  # redis.rpush(ingest_queue, [...])
            return JSONResponse({"ok": True})

        self.asgi = Starlette(
            routes=[
                Route("/", root, methods=["GET"]),
                Route(self.path, github_webhook_event, methods=["POST"]),
            ]
        )

    def apply_effect(self, event_id: str | None, installation_id: Any = None) -> None:  # type: ignore[override]
        self.store.apply_always(event_id or "")


def make(profile: str, secret: str, clock: Any = None) -> KodiakIngest:
    return KodiakIngest(secret, clock)
