"""Port of a FastAPI GitLab issue-webhook route.

Original: ``LzLuscas/LzLuscas-gitlab-webhook-agent``, ``app/routes/gitlab.py``
(``receive_issue_webhook``: ``payload: dict = Body(...)``, ``x_gitlab_token: str = Header(...)``).
Ported to mod.io (the token header becomes ``X-Modio-Webhook-Token``; the hard-coded token becomes
the configured one) and to Flask, with FastAPI's request validation reproduced: a missing header
or a body that is not a JSON object is a 422 before the route runs.  ``print(payload)`` is the
work (``apply_effect``).

Defects, from reading the code (the ground truth):

* No dedupe -> ``idempotency`` fails.
* An authenticated ``{}`` passes ``dict`` validation and is acknowledged -> ``bad-input`` warns.
* The token is compared with ``!=``: advisory, not observable over HTTP.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, jsonify, request

from ._common import TOKEN, Port, event_id_of

DEFECTS = (
    ("idempotency", "fail", "no dedupe"),
    ("bad-input", "warn", "an authenticated {} is acknowledged"),
    ("constant-time", "advisory", "token compared with != (not observable over HTTP)"),
)


class FastapiGitlabAgent(Port):
    path = "/webhooks/gitlab/issues"
    profile = "modio"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        app = Flask(__name__)
        self.wsgi = app

        def validate() -> tuple[Any, Any, list[str]]:
            """FastAPI's dependency resolution: every parameter checked, errors reported together."""
            errors: list[str] = []
            token = request.headers.get(TOKEN)
            if token is None:
                errors.append("header X-Modio-Webhook-Token: Field required")
            payload: Any = None
            try:
                payload = json.loads(request.get_data()) if request.get_data() else None
            except ValueError:
                errors.append("body: JSON decode error")
            else:
                if not isinstance(payload, dict):
                    errors.append("body: Input should be a valid dictionary")
            return payload, token, errors

        @app.post(self.path)
        def receive_issue_webhook() -> Any:
            payload, x_gitlab_token, errors = validate()
            if errors:
                return jsonify(detail=errors), 422
            if x_gitlab_token != self.secret:
                return jsonify(detail="Token inválido"), 403
            self.apply_effect(event_id_of(payload, "event_uuid"))  # print(payload)
            return jsonify(message="Webhook recebido e autenticado")


def make(profile: str, secret: str, clock: Any = None) -> FastapiGitlabAgent:
    return FastapiGitlabAgent(secret, clock)
