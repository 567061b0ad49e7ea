"""Port of a FastAPI GitLab issue-webhook route.

Original: ``LzLuscas/LzLuscas-gitlab-webhook-agent``, ``app/routes/gitlab.py``
(``receive_issue_webhook``: ``payload: dict = Body(...)``, ``x_gitlab_token: str = Header(...)``).
Ported to mod.io: the token header becomes ``X-Modio-Webhook-Token`` and the hard-coded token the
configured one; the route is otherwise the original's, on a real FastAPI app (a missing header or a
body that is not a JSON object is FastAPI's 422 before the route runs).  ``print(payload)`` is the
work (``apply_effect``).

Defects, from reading the code (the ground truth):

* No dedupe -> ``idempotency`` fails.
* An authenticated ``{}`` passes ``dict`` validation and is acknowledged -> ``bad-input`` warns.
* The token is compared with ``!=``: advisory, not observable over HTTP.
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI, Header, HTTPException, status

from ._common import AsgiPort, event_id_of

DEFECTS = (
    ("idempotency", "fail", "no dedupe"),
    ("bad-input", "warn", "an authenticated {} is acknowledged"),
    ("constant-time", "advisory", "token compared with != (not observable over HTTP)"),
)


class FastapiGitlabAgent(AsgiPort):
    path = "/webhooks/gitlab/issues"
    profile = "modio"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        app = FastAPI()
        self.asgi = app

        @app.post(self.path)
        async def receive_issue_webhook(
            payload: dict = Body(...),  # type: ignore[type-arg]  # noqa: B008
            x_gitlab_token: str = Header(..., alias="X-Modio-Webhook-Token"),
        ) -> Any:
            if x_gitlab_token != self.secret:
                raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Token inválido")
            self.apply_effect(event_id_of(payload, "event_uuid"))  # print(payload)
            return {"message": "Webhook recebido e autenticado"}


def make(profile: str, secret: str, clock: Any = None) -> FastapiGitlabAgent:
    return FastapiGitlabAgent(secret, clock)
