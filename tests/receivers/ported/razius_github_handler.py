"""Port of a Flask GitHub push-to-deploy handler.

Original: ``razius/github-webhook-handler``, ``index.py`` (``index``).  Ported to Moda: the HMAC is
SHA-256 over ``{X-Webhook-Timestamp}.{body}`` instead of SHA-1 over the body; ``repos.json`` maps
``{family}/{outcome}`` of the event type (was ``{owner}/{name}/branch:{branch}``) and ``{family}``
(was ``{owner}/{name}``) to a secret key and actions; the repository fields read from the payload
become the envelope's ``data.kind`` / ``data.id`` and the ref becomes ``type``.  Dropped: the
GitHub IP allow-list (it fetches GitHub's address ranges from the network) and the
``X-GitHub-Event`` ping/push filter (Moda sends no such header).  Running the actions is the
work (``apply_effect``).

Defects, from reading the code (the ground truth):

* ``json.loads(request.data)`` and ``payload['data']['kind']`` run before the signature is
  checked: malformed JSON, ``[]``, ``{}``, ``null`` answer 500 for anyone -> ``bad-input`` fails.
* ``request.headers.get(SIG).split('=')[1]``: a missing header (``AttributeError``) or one without
  ``=`` (``IndexError``) answers 500 for anyone; ``compare_digest`` on ``str`` raises on a non-ASCII
  signature -> ``signature`` fails.
* The timestamp is signed but its age is never checked -> ``replay`` fails (far-future and
  malformed timestamps pass for the same reason: those checks point at ``replay``).
* No dedupe: every delivery runs the actions again -> ``idempotency`` fails.
"""

from __future__ import annotations

import hmac
import json
import re
from hashlib import sha256
from typing import Any

from flask import Flask, abort, request

from ._common import SIG, TS, Port, event_id_of

DEFECTS = (
    ("bad-input", "fail", "the body is parsed before verifying: 500 for anyone"),
    ("signature", "fail", "split('=')[1] on a missing/bare header, str compare_digest -> 500 for anyone"),
    ("replay", "fail", "the timestamp's age is never checked"),
    ("future-timestamp", "see", "far-future timestamps accepted: the same root cause as replay"),
    ("idempotency", "fail", "no dedupe: every delivery redeploys"),
)


class RaziusGithubHandler(Port):
    path = "/"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        self.repos = {
            kind: {"key": secret, "path": "/srv/app", "action": [["git", "pull"]]}
            for kind in ("task", "export")
        }
        app = Flask(__name__)
        self.wsgi = app

        @app.route("/", methods=["GET", "POST"])
        def index() -> Any:
            if request.method == "GET":
                return "OK"
            repos = self.repos  # json.loads(io.open(REPOS_JSON_PATH, 'r').read())
            payload = json.loads(request.data)
            repo_meta = {"name": payload["data"]["id"], "owner": payload["data"]["kind"]}
            repo = None
            match = re.match(r"(?P<family>\w+)\.(?P<branch>.*)", payload["type"])
            if match:
                repo_meta.update(match.groupdict())
                repo = repos.get("{family}/{branch}".format(**repo_meta), None)
                if not repo:
                    repo = repos.get("{family}".format(**repo_meta), None)
            if repo and repo.get("path", None):
                key = repo.get("key", None)
                if key:
                    signature = request.headers.get(SIG).split("=")[1]  # type: ignore[union-attr]
                    signed = f"{request.headers.get(TS)}.".encode() + request.data
                    mac = hmac.new(key.encode(), msg=signed, digestmod=sha256)
                    if not hmac.compare_digest(mac.hexdigest(), signature):
                        abort(403)
                if repo.get("action", None):
                    self.apply_effect(event_id_of(payload))  # subprocess.Popen(action, cwd=...).wait()
            return "OK"


def make(profile: str, secret: str, clock: Any = None) -> RaziusGithubHandler:
    return RaziusGithubHandler(secret, clock)
