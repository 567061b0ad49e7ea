"""A correct receiver written in Django (WSGI) with its own verification code (no hookmock inside).

Django's settings are process-wide, so this module configures a minimal project once (it is its own
URLconf) and each receiver is a WSGI callable that hands its own state to the one view through the
request environ.  A ``@csrf_exempt`` view behind Django's usual middleware, as webhook views are.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from typing import Any

import django
from django.conf import settings
from django.urls import path

from hookmock.clock import Clock, RealClock

TOLERANCE_S = 300
_ENV_KEY = "receivers.django"

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="receivers-django-not-secret",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        USE_TZ=True,
    )
    django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402  (after settings)
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402


class _Receiver:
    def __init__(self, profile: str, secret: str, clock: Clock) -> None:
        self.profile, self.secret, self.clock = profile, secret, clock
        self.applied: dict[str, int] = {}
        self.lock = threading.Lock()

    def authentic(self, request: HttpRequest, body: bytes) -> bool:
        if self.profile == "modio":
            token = request.headers.get("X-Modio-Webhook-Token")
            return token is not None and hmac.compare_digest(token.encode(), self.secret.encode())
        ts = request.headers.get("X-Webhook-Timestamp", "")
        sig = request.headers.get("X-Webhook-Signature", "")
        if not re.fullmatch(r"[0-9]{1,15}", ts) or not sig.startswith("v1="):
            return False
        expected = hmac.new(self.secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig[3:].encode(), expected.encode()):
            return False
        return abs(int(self.clock.time()) - int(ts)) <= TOLERANCE_S

    def count(self, event_id: str) -> int:
        with self.lock:
            return self.applied.get(event_id, 0)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    receiver: _Receiver = request.META[_ENV_KEY]
    body = request.body
    if not receiver.authentic(request, body):
        return HttpResponse("unauthorized", status=401)
    try:
        payload = json.loads(body)
    except ValueError:
        return HttpResponse("bad request", status=400)
    key = "event_uuid" if receiver.profile == "modio" else "id"
    event_id = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(event_id, str):
        return HttpResponse("bad request", status=400)
    with receiver.lock:
        receiver.applied.setdefault(event_id, 1)
    return JsonResponse({"received": True})


urlpatterns = [path("webhooks/<str:provider>", webhook)]

_HANDLER = WSGIHandler()


def make_django_receiver(profile: str = "moda", secret: str = "", clock: Clock | None = None) -> Any:
    receiver = _Receiver(profile, secret, clock or RealClock())

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ[_ENV_KEY] = receiver
        return _HANDLER(environ, start_response)

    app.count = receiver.count  # type: ignore[attr-defined]
    return app
