"""Cross-site request refusal for the control API and the history page.

The emulator listens on loopback with no credentials on ``/_hookmock/``, so any web page the
developer has open could otherwise reset it, or make it send a correctly signed webhook, with a
form post or a ``fetch(..., {mode: "no-cors"})``.  A state-changing request (any method but GET,
HEAD and OPTIONS) to the control API or the page is therefore refused when:

* its ``Origin`` is not the emulator's own origin (``null`` included): 403 ``cross_site_request``;
* its ``Sec-Fetch-Site`` is ``cross-site`` or ``same-site``: 403 ``cross_site_request``;
* it has a body that is not ``application/json``: 415 ``unsupported_media_type``.  Such bodies
  are what a page can send without asking (form encodings, ``text/plain``); the page's own forms
  are the exception, and they carry a form token made anew by each emulator process
  (403 ``form_token_invalid`` without it).

Scripts and ``curl`` send no ``Origin``, and a POST with no body needs no ``Content-Type``
(``curl -X POST .../_hookmock/reset``).  The Host check (DNS rebinding) runs before all this, on
every route.  The faithful ``/v1`` routes are left as Moda has them: they need
``Authorization: Bearer``, which a page cannot send to another origin without a CORS preflight,
and the emulator answers no preflight.
"""

from __future__ import annotations

import secrets

from werkzeug.wrappers import Request

from .errors import ApiError

__all__ = ["FORM_ENDPOINTS", "FORM_TOKEN_FIELD", "SAFE_METHODS", "check_request", "own_origin"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The history page's form targets: they accept the page's own form posts (with the form token).
FORM_ENDPOINTS = frozenset({"ui_retry", "ui_test", "ui_create_task", "ui_modio_event"})
#: The hidden field of the page's forms.
FORM_TOKEN_FIELD = "form_token"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def own_origin(request: Request) -> str:
    """The origin a browser gives a page of this emulator (scheme and Host as the client sent it)."""
    return f"{request.scheme}://{request.host}".lower()


def _cross_site(request: Request, why: str) -> ApiError:
    return ApiError(
        "permission",
        "cross_site_request",
        f"refused {request.method} {request.path}: {why}. The control API and the history page "
        "accept state-changing requests only from the emulator's own page or from a client that is "
        "not a browser (a script, curl, the test suite)",
        details={
            "origin": request.headers.get("Origin"),
            "sec_fetch_site": request.headers.get("Sec-Fetch-Site"),
        },
    )


def check_request(request: Request, endpoint: str, form_token: str) -> None:
    """Raise :class:`ApiError` for a state-changing request that a foreign page could have made."""
    if request.method in SAFE_METHODS:
        return
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.strip().lower() in ("cross-site", "same-site"):
        raise _cross_site(request, f"the browser marked it Sec-Fetch-Site: {site.strip()[:20]}")
    origin = request.headers.get("Origin")
    if origin is not None and origin.strip().lower() != own_origin(request):
        raise _cross_site(
            request,
            f"its Origin {origin.strip()[:100]!r} is not this emulator's origin {own_origin(request)!r}",
        )
    mimetype = request.mimetype
    has_body = (
        bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    )
    if mimetype == "application/json" or (not mimetype and not has_body):
        return
    if endpoint in FORM_ENDPOINTS and mimetype in _FORM_TYPES:
        given = request.form.get(FORM_TOKEN_FIELD, "")
        if not secrets.compare_digest(given.encode(), form_token.encode()):
            raise ApiError(
                "permission",
                "form_token_invalid",
                f"the form post to {request.path} lacks this emulator's form token (field "
                f"{FORM_TOKEN_FIELD!r}); reload /_hookmock/ui and use its buttons, or send JSON",
                details={"parameter": FORM_TOKEN_FIELD},
            )
        return
    shown = request.headers.get("Content-Type", "")[:80] or "none"
    raise ApiError(
        "invalid_request",
        "unsupported_media_type",
        f"{request.method} {request.path} takes a JSON body: send Content-Type: application/json "
        f"(got {shown!r}), or no body at all",
        status=415,
        details={"content_type": shown},
    )
