"""GitHub webhook receivers for the audit corpus: correct ones and broken ones.

A GitHub receiver differs from a Moda one in three ways: the signature is ``X-Hub-Signature-256:
sha256=<hex>`` over the raw body, there is no timestamp, and the idempotency key is the
``X-GitHub-Delivery`` header (the payload carries no event id).  Every receiver counts
applications per delivery GUID (``count(guid)``, ``GET /effects/<guid>``: the effect probe).
Header names appear here because this is receiver code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from werkzeug.wrappers import Request, Response

from .base import WerkzeugReceiver

SIG256 = "X-Hub-Signature-256"
SIG1 = "X-Hub-Signature"
DELIVERY = "X-GitHub-Delivery"


class GitHubReceiver(WerkzeugReceiver):
    """Correct: ``hookmock.verify`` on the raw bytes, then dedupe on ``X-GitHub-Delivery``."""

    def __init__(self, profile: str = "github", secret: str = "", clock: Any = None) -> None:
        super().__init__(profile, secret, clock)

    def parse(self, request: Request, body: bytes) -> dict[str, Any] | Response:
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return Response("body is not UTF-8 JSON", status=self.body_status)
        # GitHub: "sender" is included in every webhook payload
        if not isinstance(payload, dict) or "sender" not in payload or not request.headers.get(DELIVERY):
            return Response("not a GitHub delivery", status=self.body_status)
        return payload

    def dedupe_key(self, request: Request, payload: dict[str, Any]) -> str:
        return request.headers[DELIVERY]

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        key = self.dedupe_key(request, payload)
        if self.apply(key):
            self.store.apply_always(request.headers[DELIVERY])
        return Response("ok", status=200)

    def apply(self, key: str) -> bool:
        """Whether ``key`` is new (remembered from now on)."""
        with self.store.lock:
            if key in self.store.seen:
                return False
            self.store.seen.add(key)
            return True


class GitHubDocsReceiver(GitHubReceiver):
    """Correct, spelled out as GitHub's "Validating webhook deliveries" Python example does it:
    ``"sha256=" + hmac.new(secret, body, sha256).hexdigest()`` compared with ``compare_digest``."""

    def expected(self, body: bytes) -> str:
        return (
            "sha256=" + hmac.new(self.secret.encode("utf-8"), msg=body, digestmod=hashlib.sha256).hexdigest()
        )

    def signature_ok(self, request: Request, body: bytes) -> bool:
        got = request.headers.get(SIG256)
        # bytes, not str: compare_digest raises TypeError on non-ASCII text
        return got is not None and hmac.compare_digest(self.expected(body).encode(), got.encode("latin-1"))

    def authenticate(self, request: Request, body: bytes) -> Response | None:
        if not self.signature_ok(request, body):
            return Response("Request signatures didn't match!", status=403)
        return None


# -- broken ---------------------------------------------------------------------------------------
def _sha1(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


class Sha1OnlyReceiver(GitHubDocsReceiver):
    """Checks the legacy SHA-1 ``X-Hub-Signature`` (old tutorials) and ignores the SHA-256 one."""

    def signature_ok(self, request: Request, body: bytes) -> bool:
        got = request.headers.get(SIG1)
        return got is not None and hmac.compare_digest(
            _sha1(self.secret, body).encode(), got.encode("latin-1")
        )


class EitherSignatureReceiver(GitHubDocsReceiver):
    """Accepts the SHA-256 signature, or else the SHA-1 one ("support both headers")."""

    def signature_ok(self, request: Request, body: bytes) -> bool:
        if super().signature_ok(request, body):
            return True
        return Sha1OnlyReceiver.signature_ok(self, request, body)  # type: ignore[arg-type]


class PlainEqualsReceiver(GitHubDocsReceiver):
    """Compares with ``==`` (GitHub's docs: "Never use a plain == operator"): not observable over
    the network, so the audit only advises (``constant-time`` skip)."""

    def signature_ok(self, request: Request, body: bytes) -> bool:
        return request.headers.get(SIG256) == self.expected(body)


class NoDeliveryDedupeReceiver(GitHubReceiver):
    """Verifies correctly but applies every delivery: a captured one can be replayed for ever."""

    def apply(self, key: str) -> bool:
        return True


class PayloadIdDedupeReceiver(GitHubReceiver):
    """Deduplicates on an id inside the payload (the issue's, the pull request's, the pushed
    commit), so a later event about the same issue is dropped as a 'duplicate'."""

    def dedupe_key(self, request: Request, payload: dict[str, Any]) -> str:
        for key in ("issue", "pull_request"):
            if isinstance(payload.get(key), dict):
                return f"{key}:{payload[key].get('id')}"
        return str(payload.get("after") or payload.get("hook_id") or request.headers[DELIVERY])


class ReserializingGitHubReceiver(GitHubDocsReceiver):
    """Signs ``json.dumps(json.loads(body))`` instead of the raw bytes (the Express
    ``JSON.stringify(req.body)`` mistake)."""

    def signature_ok(self, request: Request, body: bytes) -> bool:
        try:
            again = json.dumps(json.loads(body), separators=(",", ":")).encode()
        except ValueError:
            return False
        return super().signature_ok(request, again)


class NoSignatureCheckGitHubReceiver(GitHubReceiver):
    """Trusts every request (a webhook created without a secret, or a forgotten check)."""

    def authenticate(self, request: Request, body: bytes) -> Response | None:
        return None


CORRECT = {
    "github-werkzeug": GitHubReceiver,
    "github-docs": GitHubDocsReceiver,
    # the corpus's profile-generic receiver (hookmock.verify, dedupe on Profile.received_event_id)
    "generic-werkzeug": WerkzeugReceiver,
}

#: (receiver, the check that must catch it, the status that check must give)
BROKEN: list[tuple[type[GitHubReceiver], str, str]] = [
    (Sha1OnlyReceiver, "sha1-legacy", "fail"),
    (Sha1OnlyReceiver, "signature", "fail"),
    (EitherSignatureReceiver, "sha1-legacy", "fail"),
    (NoDeliveryDedupeReceiver, "idempotency", "fail"),
    # the same root cause as 'idempotency', which reports it (alone, delivery-replay fails: see the tests)
    (NoDeliveryDedupeReceiver, "delivery-replay", "see"),
    (PayloadIdDedupeReceiver, "delivery-replay", "fail"),
    (ReserializingGitHubReceiver, "raw-body", "fail"),
    (NoSignatureCheckGitHubReceiver, "signature", "fail"),
]
