"""Port of a Flask Stripe webhook handler that uses the ``stripe`` library.

Original: ``jmurrah/discord-bouncer``, ``discord_bouncer/app.py`` (``handle_stripe_post``:
``stripe.Webhook.construct_event`` with ``request.get_data(as_text=True)``, ``ValueError`` and
``SignatureVerificationError`` answered 400).  Moda's scheme *is* Stripe's (HMAC-SHA256 hex over
``{t}.{body}``, ``v1=``) with the timestamp in its own header, so the port only joins the two Moda
headers into the ``t=…,v1=…`` header the real ``stripe`` library parses.  What the original does
after verifying (nothing yet) is the work (``apply_effect``).

Defects, from reading the code (the ground truth):

* ``stripe``'s ``secure_compare`` is ``hmac.compare_digest`` on ``str``: a non-ASCII signature
  raises ``TypeError``, which the handler does not catch -> 500 for anyone -> ``signature`` fails.
* ``stripe`` checks only the past (``timestamp < now - tolerance``) -> ``future-timestamp`` warns;
  13-digit and 400-digit timestamps are far-future timestamps (same root cause).
* No dedupe -> ``idempotency`` fails.
* A validly signed ``[]``, ``null`` or ``"x"`` makes ``construct_event`` raise ``AttributeError``
  (500, secret holder only) and ``{}`` is acknowledged -> ``bad-input`` warns.
"""

from __future__ import annotations

from typing import Any

import stripe
from flask import Flask, Response, request

from ._common import SIG, TS, Port

DEFECTS = (
    ("signature", "fail", "str compare_digest inside stripe, TypeError uncaught -> 500 for anyone"),
    ("future-timestamp", "warn", "stripe checks only the past"),
    ("idempotency", "fail", "no dedupe"),
    ("bad-input", "warn", "signed [], null, a string -> 500; {} acknowledged"),
)


class DiscordBouncerStripe(Port):
    path = "/"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        app = Flask(__name__)
        self.wsgi = app

        @app.route("/", methods=["POST"])
        def handle_stripe_post() -> Any:
            payload = request.get_data(as_text=True)
            signature_header = f"t={request.headers.get(TS)},{request.headers.get(SIG)}"  # the port
            endpoint_secret = self.secret
            try:
                event = stripe.Webhook.construct_event(payload, signature_header, endpoint_secret)
            except ValueError:
                return Response(status=400)
            except stripe.error.SignatureVerificationError:  # type: ignore[attr-defined]
                return Response(status=400)
            self.apply_effect(event["id"])  # (nothing yet: the work goes here)
            return Response(status=200)


def make(profile: str, secret: str, clock: Any = None) -> DiscordBouncerStripe:
    return DiscordBouncerStripe(secret, clock)
