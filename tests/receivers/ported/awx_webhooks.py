"""Ports of AWX's webhook receivers (GitHub and GitLab), Django REST framework views.

Original: ``ansible/awx``, ``awx/api/views/webhooks.py`` (``WebhookReceiverBase.post`` and
``check_signature``, ``GithubWebhookReceiver.get_signature``, ``GitlabWebhookReceiver``).  The
GitHub receiver is ported to Moda (HMAC-SHA256 over ``{X-Webhook-Timestamp}.{body}``, prefix ``v1``
instead of ``sha1``, and the event's ``id`` from the envelope as the ``webhook_guid`` that GitHub
sends in ``X-GitHub-Delivery``); the GitLab receiver to mod.io (its token header becomes
``X-Modio-Webhook-Token``; its guid stays the SHA-1 of the body).  Launching the job is the work
(``apply_effect``); the "previously received" lookup is the receiver's own dedupe.  The lookup
and the job creation are separate database round trips (the sleep stands for them).

Defects, from reading the code (the ground truth):

GitHub -> Moda (``AwxGithub``):

* ``hash_alg, signature = header_sig.split('=')`` is unguarded: a signature without ``=`` (the bare
  hex) or with two (the header sent twice) raises ``ValueError`` -> 500 for anyone ->
  ``signature`` fails.  (The comparison is on bytes: ``force_bytes``, no non-ASCII crash.)
* The timestamp is signed but its age is never checked -> ``replay`` fails (far-future and
  malformed timestamps pass for the same reason: those checks point at ``replay``).
* Check, then create: concurrent copies all pass ``exists()`` -> ``concurrent-duplicates`` fails.
* Validly signed non-events (``[]``, ``null``, ``{}``, an empty body) launch a job -> ``bad-input``
  warns (lenient).

GitLab -> mod.io (``AwxGitlab``):

* Check, then create -> ``concurrent-duplicates`` fails.
* Validly authenticated non-events launch a job -> ``bad-input`` warns (lenient).
"""

from __future__ import annotations

import hmac
import time
from hashlib import sha1, sha256
from typing import Any

from . import _drf
from ._common import Port, event_id_of

DEFECTS_GITHUB = (
    ("signature", "fail", "unguarded split('='): a bare or repeated signature -> 500 for anyone"),
    ("replay", "fail", "the timestamp's age is never checked"),
    ("future-timestamp", "see", "far-future timestamps accepted: the same root cause as replay"),
    ("concurrent-duplicates", "fail", "exists() then create: concurrent copies all launch"),
    ("bad-input", "warn", "validly signed non-events launch a job"),
)
DEFECTS_GITLAB = (
    ("concurrent-duplicates", "fail", "exists() then create: concurrent copies all launch"),
    ("bad-input", "warn", "validly authenticated non-events launch a job"),
)


def force_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


class _AwxReceiver(Port):
    path = "/api/v2/job_templates/1/webhook/"

    def __init__(self, secret: str, clock: Any = None) -> None:
        super().__init__(secret, clock)
        self.webhook_key = secret
        self.jobs: set[Any] = set()  # webhook_guid of every launched job
        self.wsgi = _drf.api_view(self.post)

    def get_event_guid(self, request: _drf.DRFRequest) -> Any:
        raise NotImplementedError

    def get_signature(self, request: _drf.DRFRequest) -> bytes:
        raise NotImplementedError

    def check_signature(self, request: _drf.DRFRequest) -> None:
        raise NotImplementedError

    def apply_effect(self, event_id: str | None, guid: Any = None) -> None:  # type: ignore[override]
        time.sleep(0.01)  # obj.create_unified_job(...): the job row is written after the lookup
        with self.store.lock:
            self.jobs.add(guid)
        self.store.apply_always(event_id or "")

    def post(self, request: _drf.DRFRequest) -> tuple[Any, int]:
        request.body  # noqa: B018 (the original reads it "to capture it for multiple uses")
        f"headers: {request.headers}\ndata: {request.data}\n"  # logger.debug(...)
        self.check_signature(request)
        event_guid = self.get_event_guid(request)
        with self.store.lock:
            previously = event_guid in self.jobs  # Job.objects.filter(webhook_guid=...).exists()
        if previously:
            return {"message": "Webhook previously received, aborting."}, 202
        self.apply_effect(event_id_of(request.data, self.id_key), event_guid)
        return {"message": "Job queued."}, 202

    id_key = "id"


class AwxGithub(_AwxReceiver):
    profile = "moda"

    def get_event_guid(self, request: _drf.DRFRequest) -> Any:
        data = request.data
        return data.get("id") if isinstance(data, dict) else None  # was X-GitHub-Delivery

    def get_signature(self, request: _drf.DRFRequest) -> bytes:
        header_sig = request.META.get("HTTP_X_WEBHOOK_SIGNATURE")
        if not header_sig:
            raise _drf.PermissionDenied()
        hash_alg, signature = header_sig.split("=")
        if hash_alg != "v1":
            raise _drf.PermissionDenied()
        return force_bytes(signature)

    def check_signature(self, request: _drf.DRFRequest) -> None:
        if not self.webhook_key:
            raise _drf.PermissionDenied()
        signed = force_bytes(request.META.get("HTTP_X_WEBHOOK_TIMESTAMP", "")) + b"." + request.body
        mac = hmac.new(force_bytes(self.webhook_key), msg=signed, digestmod=sha256)
        if not hmac.compare_digest(force_bytes(mac.hexdigest()), self.get_signature(request)):
            raise _drf.PermissionDenied()


class AwxGitlab(_AwxReceiver):
    profile = "modio"
    id_key = "event_uuid"

    def get_event_guid(self, request: _drf.DRFRequest) -> Any:
        return sha1(force_bytes(request.body)).hexdigest()

    def get_signature(self, request: _drf.DRFRequest) -> bytes:
        return force_bytes(request.META.get("HTTP_X_MODIO_WEBHOOK_TOKEN") or "")

    def check_signature(self, request: _drf.DRFRequest) -> None:
        if not self.webhook_key:
            raise _drf.PermissionDenied()
        if not hmac.compare_digest(force_bytes(self.webhook_key), self.get_signature(request)):
            raise _drf.PermissionDenied()


def make_github(profile: str, secret: str, clock: Any = None) -> AwxGithub:
    return AwxGithub(secret, clock)


def make_gitlab(profile: str, secret: str, clock: Any = None) -> AwxGitlab:
    return AwxGitlab(secret, clock)
