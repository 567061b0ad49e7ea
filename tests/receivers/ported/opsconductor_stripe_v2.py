"""Port of the same FastAPI Stripe route after its "idempotency" fix.

Original: ``andrewcho-dev/opsconductor-pulse``, ``services/ui_iot/routes/billing.py`` at commit
``2b81854`` (``stripe_webhook``: a missing header or any verification error -> 400; the payload's
id, type and data object checked -> 400; then ``INSERT INTO stripe_events ... ON CONFLICT
(event_id) DO NOTHING RETURNING event_id`` and "already processed" -> 200; then the handlers inside
``try/except Exception`` that logs and answers 200).  Ported to Moda on a real FastAPI app as
:mod:`.opsconductor_stripe` (the two Moda headers joined into the header ``stripe`` parses); the
port's ``construct_webhook_event`` returns a plain dict, as ``stripe`` objects were dicts when the
original was written (it calls ``event.get``).

Defects, from reading the code (the ground truth):

* The event is recorded as seen *before* the work, and a failure of the work is swallowed and
  answered 200: the provider never retries, and even a retry would be "already processed".  One
  failure and the event is lost -> a retry-after-failure defect (the project's own design note,
  ``docs/cursor-prompts/phase205-stripe-webhook-security/003-fix-idempotency.md``, recommends
  exactly this order).
* ``stripe`` checks only the past -> ``future-timestamp`` warns.
Everything else is right: the insert is atomic, bad bodies get 400, every exception is caught.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from fastapi import FastAPI, HTTPException, Request

from ._common import SIG, TS, AsgiPort

logger = logging.getLogger(__name__)

DEFECTS = (
    ("retry-after-failure", "fail", "marked seen before the work, work errors swallowed with 200"),
    ("future-timestamp", "warn", "stripe checks only the past"),
)
HANDLED_EVENT_TYPES = ("task.succeeded", "task.failed", "task.canceled", "export.succeeded", "export.failed")


class OpsconductorStripeV2(AsgiPort):
    path = "/webhook/stripe"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        self.stripe_events: set[str] = set()
        app = FastAPI()
        self.asgi = app

        def construct_webhook_event(payload: bytes, sig_header: str) -> Any:
            return stripe.Webhook.construct_event(payload, sig_header, self.secret).to_dict()

        @app.post(self.path)
        async def stripe_webhook(request: Request) -> Any:
            payload = await request.body()
            sig_header = request.headers.get(SIG)
            if not sig_header:
                raise HTTPException(400, "Missing stripe-signature header")
            try:
                event = construct_webhook_event(payload, f"t={request.headers.get(TS)},{sig_header}")
            except stripe.error.SignatureVerificationError:  # type: ignore[attr-defined]
                raise HTTPException(400, "Invalid signature") from None
            except Exception:
                raise HTTPException(400, "Invalid payload") from None
            event_id = event.get("id")
            event_type = event.get("type")
            data_object = event.get("data") or {}  # (event.get("data") or {}).get("object")
            if not event_id or not event_type or not isinstance(data_object, dict):
                raise HTTPException(400, "Invalid payload")
            if event_type not in HANDLED_EVENT_TYPES:
                return {"status": "ok"}
            with self.store.lock:  # INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING event_id
                inserted = event_id not in self.stripe_events
                self.stripe_events.add(event_id)
            if not inserted:
                logger.info("Stripe event already processed, skipping")
                return {"status": "ok"}
            try:
                self.apply_effect(event_id, data_object)
            except Exception:
                logger.exception("Error processing Stripe webhook %s", event_type)
                # Return 200 to avoid Stripe retry storms on processing errors
            return {"status": "ok"}

    def apply_effect(self, event_id: str | None, data_object: Any = None) -> None:  # type: ignore[override]
        self.store.apply_always(event_id or "")


def make(profile: str, secret: str, clock: Any = None) -> OpsconductorStripeV2:
    return OpsconductorStripeV2(secret, clock)
