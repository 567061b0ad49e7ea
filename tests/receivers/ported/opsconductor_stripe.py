"""Port of a FastAPI Stripe billing webhook route.

Original: ``andrewcho-dev/opsconductor-pulse``, ``services/ui_iot/routes/billing.py``
(``stripe_webhook``: ``construct_webhook_event`` with every exception answered 400, then one handler
per event type inside ``try/except Exception`` that logs and answers 200 "to avoid Stripe retry
storms").  Ported to Moda (on a real FastAPI app): the two Moda headers are joined into the ``t=…,v1=…``
header the real ``stripe`` library parses (Moda's scheme is Stripe's), ``event["data"]["object"]``
becomes Moda's ``event["data"]``, and the handlers become ``apply_effect``.

Defects, from reading the code (the ground truth):

* Processing errors are swallowed and answered 200: when the work fails once, the provider sees
  success and never retries; the event is lost (a retry-after-failure defect).
* No dedupe: a retried delivery provisions again -> ``idempotency`` fails.
* ``stripe`` checks only the past -> ``future-timestamp`` warns (13- and 400-digit timestamps are
  far-future ones: same root cause).
* After verifying, ``event["type"]`` / ``event["data"]`` are unguarded: a validly signed ``{}``
  answers 500 (secret holder only) -> ``bad-input`` warns.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from fastapi import FastAPI, HTTPException, Request

from ._common import SIG, TS, AsgiPort

logger = logging.getLogger(__name__)

DEFECTS = (
    ("retry-after-failure", "fail", "processing errors swallowed with 200: the event is lost"),
    ("idempotency", "fail", "no dedupe"),
    ("future-timestamp", "warn", "stripe checks only the past"),
    ("bad-input", "warn", "signed {} -> KeyError 500 (secret holder only)"),
)


class OpsconductorStripe(AsgiPort):
    path = "/webhook/stripe"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        app = FastAPI()
        self.asgi = app

        def construct_webhook_event(payload: bytes, sig_header: str) -> Any:
            return stripe.Webhook.construct_event(payload, sig_header, self.secret)

        @app.post(self.path)
        async def stripe_webhook(request: Request) -> Any:
            payload = await request.body()
            sig_header = f"t={request.headers.get(TS)},{request.headers.get(SIG)}"  # the port
            try:
                event = construct_webhook_event(payload, sig_header)
            except Exception as exc:
                logger.warning("Stripe webhook signature failed: %s", exc)
                raise HTTPException(400, "Invalid signature") from None
            event_type = event["type"]
            data_object = event["data"]  # event["data"]["object"]
            try:
                if event_type.startswith(("task.", "export.")):
                    self.apply_effect(event["id"], data_object)
                else:
                    logger.debug("Unhandled Stripe event: %s", event_type)
            except Exception:
                logger.exception("Error processing Stripe webhook %s", event_type)
                # Return 200 to avoid Stripe retry storms on processing errors
            return {"status": "ok"}

    def apply_effect(self, event_id: str | None, data_object: Any = None) -> None:  # type: ignore[override]
        self.store.apply_always(event_id or "")


def make(profile: str, secret: str, clock: Any = None) -> OpsconductorStripe:
    return OpsconductorStripe(secret, clock)
