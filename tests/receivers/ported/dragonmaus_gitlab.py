"""Port of a Flask GitLab push receiver.

Original: ``dragonmaus/flask_apps``, ``gitlab/app.py`` (``push``).  Ported to mod.io: the
``X-Gitlab-Token`` header becomes ``X-Modio-Webhook-Token``; the token is kept as bytes, as the
original's ``secret.api_key``.  Writing the request to files is the work (``apply_effect``).

Defects, from reading the code (the ground truth):

* ``request.headers.get(TOKEN).encode()`` on a missing header: ``AttributeError`` -> 500 for
  anyone -> ``token`` fails.
* No dedupe: every request is written -> ``idempotency`` fails.
* The body is never parsed: an authenticated non-event is acknowledged -> ``bad-input`` warns.
* The token is compared with ``!=`` (not constant-time): advisory, not observable over HTTP.
* Every request's headers, the token included, are written to ``gitlab.request.headers``: the
  secret ends up on disk (not observable over HTTP).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from ._common import TOKEN, Port, event_id_of

DEFECTS = (
    ("token", "fail", "missing header -> AttributeError 500 for anyone"),
    ("idempotency", "fail", "no dedupe: every request written"),
    ("bad-input", "warn", "the body is never parsed: authenticated garbage acknowledged"),
    ("constant-time", "advisory", "token compared with != (not observable over HTTP)"),
    ("secret-on-disk", "advisory", "every request's headers, the token included, written to a file"),
)


def status(code: int) -> Response:
    return Response(status=code)


class DragonmausGitlab(Port):
    path = "/push"
    profile = "modio"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        api_key = secret.encode()
        app = Flask(__name__)
        self.wsgi = app

        @app.route("/push", methods=["POST"])
        def push() -> Any:
            if request.headers.get(TOKEN).encode() != api_key:  # type: ignore[union-attr]
                return status(401)
            # with open('gitlab.request.headers', 'w') ...; with open('gitlab.request.payload', 'wb') ...
            self.apply_effect(event_id_of(request.get_data(), "event_uuid"))
            return status(200)


def make(profile: str, secret: str, clock: Any = None) -> DragonmausGitlab:
    return DragonmausGitlab(secret, clock)
