"""Port of a small Flask GitHub webhook server.

Original: ``huine-test/teste-wf``, ``server.py`` (``webhook`` and ``verify_signature``).  Ported to
Moda: the HMAC covers ``{X-Webhook-Timestamp}.{body}`` instead of the body, SHA-256 either way, and
the ``sha256=`` prefix becomes ``v1=``.  "make something" is the work (``apply_effect``).

Defects, from reading the code (the ground truth):

* ``req.headers.get(SIG).split(...)`` on a missing header: ``AttributeError`` -> 500 for anyone
  -> ``signature`` fails.  Same check: ``compare_digest`` on ``str`` raises on a non-ASCII
  signature (500 for anyone).
* The signature is taken as ``split('v1=')[-1].strip()``: the bare hex without ``v1=`` is
  accepted.  Harmless (it is still the right HMAC).
* The timestamp is signed but its age is never checked -> ``replay`` fails (far-future and
  malformed timestamps pass for the same reason: those checks point at ``replay``).
* No dedupe -> ``idempotency`` fails.
* The body is never parsed: validly signed garbage is acknowledged -> ``bad-input`` warns.
* ``app.run(..., debug=True)`` serves the Werkzeug debugger on every crash, and anyone can make it
  crash (the missing header above).  Not part of the port (the audit serves it), so not counted.
"""

from __future__ import annotations

from hashlib import sha256
from hmac import HMAC, compare_digest
from typing import Any

from flask import Flask, request

from ._common import SIG, TS, Port, event_id_of

DEFECTS = (
    ("signature", "fail", "missing header -> AttributeError 500; str compare_digest -> 500 on non-ASCII"),
    ("replay", "fail", "the timestamp's age is never checked"),
    ("future-timestamp", "see", "far-future timestamps accepted: the same root cause as replay"),
    ("idempotency", "fail", "no dedupe"),
    ("bad-input", "warn", "the body is never parsed: signed garbage acknowledged"),
    ("debug-server", "advisory", "app.run(debug=True): the Werkzeug debugger on every crash"),
)


class TesteWfGithub(Port):
    path = "/"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        app = Flask(__name__)
        self.wsgi = app

        def verify_signature(req: Any) -> bool:
            received_sign = req.headers.get(SIG).split("v1=")[-1].strip()
            secret = self.secret.encode()
            signed = f"{req.headers.get(TS)}.".encode() + req.data
            expected_sign = HMAC(key=secret, msg=signed, digestmod=sha256).hexdigest()
            return compare_digest(received_sign, expected_sign)

        @app.route("/", methods=["POST", "GET"])
        def webhook() -> Any:
            if request.method == "POST":
                if verify_signature(request):
                    self.apply_effect(event_id_of(request.data))  # make something
                    return "Successfully", 200
                return "Forbidden", 403
            return "Not allowed", 405


def make(profile: str, secret: str, clock: Any = None) -> TesteWfGithub:
    return TesteWfGithub(secret, clock)
