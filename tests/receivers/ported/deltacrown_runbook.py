"""Port of the "Minimum Viable Receiver" a webhook sender publishes for its integrators to copy.

Original: ``rkRashik/DeltaCrown``, ``Documents/Runbooks/webhook_receiver_setup.md`` ("Quick Start",
a Flask ``webhook_inbound`` with timestamp freshness, HMAC-SHA256 over ``{timestamp}.{body}``,
dedupe on ``X-Webhook-Id``).  Its scheme is nearly Moda's already: the port reads the timestamp in
seconds (the original: milliseconds), prefixes the expected signature with ``v1=``, and takes the
event id and type from the envelope (guarded) where the original reads ``X-Webhook-Id`` and
``X-Webhook-Event``, which Moda does not send.  The event handlers are the work
(``apply_effect``).

Defects, from reading the code (the ground truth):

* The webhook id is added to ``seen_webhooks`` *before* the event is processed, and a processing
  error answers 500: the provider retries, the retry is "already processed" (200), and the event
  is never applied -> a retry-after-failure defect.
* ``hmac.compare_digest(expected_signature, signature)`` compares ``str``: a non-ASCII signature
  header raises ``TypeError`` -> 500 for anyone -> ``signature`` fails.
* Future timestamps are refused beyond ``CLOCK_SKEW_SECONDS = 30`` (the original's constant, kept):
  Moda's window is 300 s both ways, so a sender clock a few minutes ahead loses real deliveries
  -> ``clock-skew`` fails.
* (In the original, ``payload.get`` on a validly signed ``[]`` raises and the handler's own
  ``except Exception`` answers 500.  The port takes the id from the body, so a body that is not an
  object is refused up front as "missing" its id: the port does not have this defect.)
* (``int()`` would accept whitespace around the timestamp, but a server strips it before the app
  sees the header: not observable, not a defect.  The audit first reported it in-process only,
  where hookmock handed the app the spaces; in-process delivery now strips them as servers do.)
* (Not observable here: the in-memory ``in`` / ``add`` pair has no I/O between check and insert;
  the Redis variant the same page recommends, ``exists`` then ``setex``, is a check-then-insert
  race.)
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from flask import Flask, jsonify, request

from ._common import SIG, TS, Port, event_id_of

DEFECTS = (
    ("retry-after-failure", "fail", "marked seen before processing; a failure's retry is a 'duplicate'"),
    ("signature", "fail", "str compare_digest: a non-ASCII signature -> 500 for anyone"),
    ("clock-skew", "fail", "30 s future tolerance: Moda's window is 300 s"),
)
REPLAY_WINDOW_SECONDS = 300
CLOCK_SKEW_SECONDS = 30


class DeltacrownRunbook(Port):
    path = "/webhooks/inbound"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        seen_webhooks: set[str] = set()
        app = Flask(__name__)
        self.wsgi = app

        @app.route(self.path, methods=["POST"])
        def webhook_inbound() -> Any:
            signature = request.headers.get(SIG)
            timestamp = request.headers.get(TS)
            webhook_id = event_id_of(request.get_data())  # was X-Webhook-Id
            event = event_id_of(request.get_data(), "type")  # was X-Webhook-Event
            if not all([signature, timestamp, webhook_id, event]):
                return jsonify({"error": "Missing required headers"}), 400
            body = request.get_data(as_text=True)
            try:
                timestamp_s = int(timestamp)  # type: ignore[arg-type]
                now_s = int(self.now())  # now_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
                age_seconds = now_s - timestamp_s
                if age_seconds > REPLAY_WINDOW_SECONDS:
                    return jsonify({"error": "Timestamp too old"}), 400
                if age_seconds < -CLOCK_SKEW_SECONDS:
                    return jsonify({"error": "Timestamp in future"}), 400
            except ValueError:
                return jsonify({"error": "Invalid timestamp format"}), 400
            message = f"{timestamp}.{body}"
            expected_signature = (
                "v1="
                + hmac.new(self.secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()
            )
            if not hmac.compare_digest(expected_signature, signature):  # type: ignore[arg-type]
                return jsonify({"error": "Invalid signature"}), 401
            if webhook_id in seen_webhooks:
                return jsonify({"status": "duplicate", "message": "Webhook already processed"}), 200
            seen_webhooks.add(webhook_id)  # type: ignore[arg-type]
            try:
                payload = json.loads(body)
                event_type = payload.get("type")
                data = payload.get("data", {})
                if event_type:
                    self.apply_effect(webhook_id, data)  # process_payment_verified(data) ...
                return jsonify({"status": "accepted"}), 200
            except json.JSONDecodeError:
                return jsonify({"error": "Invalid JSON"}), 400
            except Exception as e:
                # "Log error but return 200 to avoid retries for processing errors" (it returns 500)
                return jsonify({"status": "error", "message": str(e)}), 500

    def apply_effect(self, event_id: str | None, data: Any = None) -> None:  # type: ignore[override]
        self.store.apply_always(event_id or "")


def make(profile: str, secret: str, clock: Any = None) -> DeltacrownRunbook:
    return DeltacrownRunbook(secret, clock)
