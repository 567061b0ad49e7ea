"""Port of GitMRAI's GitLab merge-request webhook route (FastAPI).

Original: ``ethux/GitMRAI``, ``src/api/Gitlab/router.py`` (``mr_summarize``: the token checked by a
``Depends(verify_api_key)`` that compares with ``!=``, the body parsed by ``get_request_body``
(``JSONDecodeError`` -> 422), ``body_dict["project"]["id"]`` and
``body_dict["object_attributes"]["iid"]`` (``KeyError`` -> 422), then the summary is written and
posted, and any other exception is answered ``{"error": ...}`` with 200).  Ported to mod.io on a
real FastAPI app: the token header becomes ``X-Modio-Webhook-Token``, the project and merge
request become mod.io's ``request_resource.resource_id`` and ``request_user.user_id``.  Summarising
and posting the comment is the work (``apply_effect``).

Defects, from reading the code (the ground truth):

* Any failure of the work is answered 200 with an error body: mod.io records success, nobody
  retries, the comment is never posted -> a retry-after-failure defect.
* No dedupe: a retried delivery posts the comment again -> ``idempotency`` fails.
* Every event without the merge-request fields is refused with 422 (GitLab's "Test" button for a
  push event; here mod.io's ``PING``) -> ``event-types`` fails.
* ``[]``, ``null`` or a string with the right token reach ``body_dict[...]``, whose ``TypeError``
  is answered 200; a body that is not UTF-8 raises ``UnicodeDecodeError``, which
  ``get_request_body`` does not catch, answered 200 too; and even malformed JSON, whose 422
  ``HTTPException`` is raised inside the ``try``, is caught by the broad ``except`` and answered
  200 -> ``bad-input`` warns.
* The token is compared with ``!=`` and logged at debug level (not observable over HTTP).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, status

from ._common import TOKEN, AsgiPort

logger = logging.getLogger(__name__)

DEFECTS = (
    ("retry-after-failure", "fail", "work errors answered 200 with an error body"),
    ("idempotency", "fail", "no dedupe: a comment posted per delivery"),
    ("event-types", "fail", "events without the merge-request fields refused with 422 (PING)"),
    ("bad-input", "warn", "authenticated malformed JSON, [], null, non-UTF-8 -> 200 with an error body"),
    ("constant-time", "advisory", "token compared with != (not observable over HTTP)"),
    ("secret-in-logs", "advisory", "the received token logged at debug level"),
)


async def get_request_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except json.JSONDecodeError as e:
        raise HTTPException(status_code=422, detail="Invalid JSON body") from e


class GitmraiGitlab(AsgiPort):
    path = "/api/v1/mr_summarize"
    profile = "modio"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        app = FastAPI()
        self.asgi = app

        def verify_api_key(request: Request) -> None:
            api_key = request.headers.get(TOKEN)
            logger.debug("Received API key: %s", api_key)
            if api_key != self.secret:
                raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Invalid API key")

        @app.post(self.path)
        async def mr_summarize(request: Request, api_key: None = Depends(verify_api_key)) -> Any:
            try:
                body_dict = await get_request_body(request)
                project_id = body_dict["request_resource"]["resource_id"]  # body_dict["project"]["id"]
                merge_request_id = body_dict["request_user"]["user_id"]  # ["object_attributes"]["iid"]
                summary = self.apply_effect(body_dict["event_uuid"], project_id, merge_request_id)
                return summary
            except KeyError as e:
                raise HTTPException(status_code=422, detail=f"Missing required field: {e}") from e
            except Exception as e:
                logger.error("Error summarizing merge request: %s", e)
                return {"error": str(e)}

    def apply_effect(self, event_id: str | None, project_id: Any = None, mr_id: Any = None) -> Any:  # type: ignore[override]
        """GitlabService.get_diffs, MistralLLM.summarize, GitlabService.post_comment."""
        self.store.apply_always(event_id or "")
        return {"summary": f"project {project_id}, merge request {mr_id}"}


def make(profile: str, secret: str, clock: Any = None) -> GitmraiGitlab:
    return GitmraiGitlab(secret, clock)
