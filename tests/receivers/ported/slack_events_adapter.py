"""Port of the Slack Events API adapter's request handler.

Original: ``slackapi/python-slack-events-api``, ``slackeventsapi/server.py`` (``SlackServer.bind_route``
and ``verify_signature``), a Flask app.  Ported to Moda: ``X-Slack-Request-Timestamp`` becomes
``X-Webhook-Timestamp``, the ``v0:{ts}:{body}`` base string becomes ``{ts}.{body}``, ``v0=`` becomes
``v1=``, and the Slack envelope's ``"event"`` key becomes Moda's ``"data"``.  ``emitter.emit`` is the
work (``apply_effect``).

Defects, from reading the code (the ground truth):

* ``int(req_timestamp)`` runs before anything else and is not guarded: a missing or malformed
  timestamp header (``1.5``, ``NaN``, empty, a latin-1 byte, 8000 digits, the header twice) raises
  and answers 500, for anyone (no secret needed) -> ``timestamp-parsing`` fails.
* ``hmac.compare_digest(request_hash, str(signature))`` compares ``str``: a non-ASCII signature
  header raises ``TypeError`` -> 500 for anyone -> ``signature`` fails.
* No dedupe: every delivery is emitted -> ``idempotency`` fails.
* After verifying, ``json.loads(request.data.decode('utf-8'))`` is unguarded and a body without the
  envelope key falls off the end of the view (Flask raises on a ``None`` response): validly signed
  bad bodies answer 500 -> ``bad-input`` warns (only a secret holder can sign them).
* Surrounding whitespace in the timestamp is accepted (``int(" 1 ")``): lenient, harmless.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from flask import Flask, make_response, request

from ._common import SIG, TS, Port, event_id_of

DEFECTS = (
    ("timestamp-parsing", "fail", "int(timestamp) before verifying: malformed or missing -> 500 for anyone"),
    ("signature", "fail", "str compare_digest: a non-ASCII signature -> 500 for anyone"),
    ("idempotency", "fail", "no dedupe: every delivery emitted"),
    ("bad-input", "warn", "unguarded json.loads / missing envelope key after verifying -> 500"),
)


class SlackEventsAdapter(Port):
    path = "/slack/events"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        app = Flask(__name__)
        self.wsgi = app

        def verify_signature(timestamp: Any, signature: Any) -> bool:
            req = str.encode(str(timestamp) + ".") + request.data
            request_hash = "v1=" + hmac.new(str.encode(self.secret), req, hashlib.sha256).hexdigest()
            return hmac.compare_digest(request_hash, str(signature))

        @app.route(self.path, methods=["GET", "POST"])
        def event() -> Any:
            if request.method == "GET":
                return make_response("These are not the slackbots you're looking for.", 404)
            req_timestamp = request.headers.get(TS)
            if abs(self.now() - int(req_timestamp)) > 60 * 5:  # type: ignore[arg-type]
                return make_response("", 403)
            req_signature = request.headers.get(SIG)
            if not verify_signature(req_timestamp, req_signature):
                return make_response("", 403)
            event_data = json.loads(request.data.decode("utf-8"))
            if "challenge" in event_data:
                return make_response(event_data.get("challenge"), 200, {"content_type": "application/json"})
            if "data" in event_data:
                self.apply_effect(event_id_of(event_data))  # self.emitter.emit(event_type, event_data)
                return make_response("", 200)
            return None  # the original falls off the end here: Flask answers 500


def make(profile: str, secret: str, clock: Any = None) -> SlackEventsAdapter:
    return SlackEventsAdapter(secret, clock)
