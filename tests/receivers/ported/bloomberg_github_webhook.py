"""Port of Bloomberg's Flask GitHub webhook extension.

Original: ``bloomberg/python-github-webhook``, ``github_webhook/webhook.py`` (``Webhook._postreceive``,
``_get_digest``, ``_get_header``, ``_format_event``).  Ported to Moda: the digest is HMAC-SHA256 over
``{X-Webhook-Timestamp}.{body}`` instead of HMAC-SHA1 over the body, the prefix is ``v1`` instead of
``sha1``.  GitHub names the event in ``X-Github-Event``; Moda has no such header, so the port reads
the envelope's ``type`` (guarded, so the port adds no crash of its own).  The registered hooks are
the work (``apply_effect``).

Defects, from reading the code (the ground truth):

* GitHub signs no timestamp, so the port verifies the timestamp's signature but never its age:
  a captured delivery replays forever -> ``replay`` fails; far-future and malformed timestamps
  pass for the same reason (those checks point at ``replay``).
* ``hmac.compare_digest(sig_parts[1], digest)`` compares ``str``: a non-ASCII signature header
  raises ``TypeError`` -> 500 for anyone -> ``signature`` fails.
* No dedupe: every delivery runs the hooks -> ``idempotency`` fails.
* ``request.get_json()`` accepts any JSON but ``null``: a validly signed ``[]``, ``"x"`` or ``{}``
  is acknowledged with 204 -> ``bad-input`` warns (lenient).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Flask, abort, request

from ._common import SIG, TS, Port, event_id_of

DEFECTS = (
    ("replay", "fail", "the timestamp's age is never checked: captured deliveries replay forever"),
    ("future-timestamp", "see", "far-future timestamps accepted: the same root cause as replay"),
    ("signature", "fail", "str compare_digest: a non-ASCII signature -> 500 for anyone"),
    ("idempotency", "fail", "no dedupe: every delivery runs the hooks"),
    ("bad-input", "warn", "validly signed non-events ([], a string, {}) acknowledged with 204"),
)


def _get_header(key: str) -> str:
    try:
        return request.headers[key]
    except KeyError:
        abort(400, "Missing header: " + key)


class BloombergGithubWebhook(Port):
    path = "/postreceive"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        app = Flask(__name__)
        self.wsgi = app
        app.add_url_rule(self.path, view_func=self._postreceive, methods=["POST"])

    def _get_digest(self) -> str | None:
        if not self.secret:
            return None
        signed = _get_header(TS).encode() + b"." + request.data
        return hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()

    def _postreceive(self) -> Any:
        digest = self._get_digest()
        if digest is not None:
            sig_parts = _get_header(SIG).split("=", 1)
            if len(sig_parts) < 2 or sig_parts[0] != "v1" or not hmac.compare_digest(sig_parts[1], digest):
                abort(400, "Invalid signature")
        data = request.get_json()
        if data is None:
            abort(400, "Request body must contain json")
        event_type = data.get("type") if isinstance(data, dict) else None  # was X-Github-Event
        if event_type is not None:  # a hook is registered for every Moda event type
            self.apply_effect(event_id_of(data))  # for hook in self._hooks.get(event_type, []): hook(data)
        return "", 204


def make(profile: str, secret: str, clock: Any = None) -> BloombergGithubWebhook:
    return BloombergGithubWebhook(secret, clock)
