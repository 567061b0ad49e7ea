"""The emulator's WSGI app: routing, the Host check, cross-site refusal (:mod:`.websafety`), API keys,
the API version header, request ids, body limits, and Moda's error body for every error (unknown
routes, 405 and 413 included, and what the HTTP server refuses itself: :meth:`render_framing_error`).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from .._util.framing import ERROR_CODES
from .._util.sqlite import DatabaseLocked, is_locked
from ..errors import UsageError
from ..ids import crockford_id
from ..profiles.moda import API_KEY_PREFIX, API_VERSION, LEGACY_API_VERSIONS, VERSION_HEADER
from . import websafety
from .config import ADMIN_TOKEN_HEADER
from .errors import ApiError, error_body
from .http import Ctx, json_response
from .ratelimit import RateLimiter
from .router import MethodNotAllowed, RouteNotFound, Router
from .routes import Handler, all_routes

if TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .core import EmulatorCore

__all__ = ["EmulatorApp"]

log = logging.getLogger("hookmock.emulator")

SUPPORTED_VERSIONS = (API_VERSION, *LEGACY_API_VERSIONS)
#: Retry-After (seconds) of the 503 answered while another process holds the ``--db`` file's lock.
LOCKED_RETRY_S = 1
#: The WSGI environ key holding the request target as the client sent it (bytes; see ``server``).
RAW_TARGET_KEY = "hookmock.raw_target"
#: How much of the path a client sent an error message quotes, at most (characters).
SHOWN_PATH_CHARS = 200
#: Routes under the control prefix that need no admin token (probes and the API description).
_OPEN_CONTROL = {"health", "ready", "openapi"}


class EmulatorApp:
    def __init__(self, core: EmulatorCore) -> None:
        self.core = core
        self.handlers: dict[str, Handler] = {}
        self.router = Router()
        for path, methods, endpoint, handler in all_routes():
            self.router.add(path, methods, endpoint)
            self.handlers[endpoint] = handler
        self.limiter = RateLimiter(core.config.rate_limit) if core.config.rate_limit else None
        #: The page's forms carry this (one per process): see :mod:`.websafety`.
        self.form_token = secrets.token_urlsafe(24)

    def render_framing_error(
        self, status: int, code: str, message: str
    ) -> tuple[bytes, list[tuple[str, str]]]:
        """Moda's error body for what the HTTP server refuses before the app runs (400, 408,
        413, 414, 417, 431, 501, 503, 505)."""
        request_id = crockford_id("req")
        details = {"max_bytes": self.core.config.max_body_bytes} if status == 413 else None
        err = ApiError(
            "rate_limited" if status == 503 else "invalid_request",
            code,
            message,
            status=status,
            details=details,
            retry_after_ms=1000 if status == 503 else None,
        )
        # the message may quote what the client sent (a request line, an Expect value): redacted
        body_data = _redacted(error_body(err, request_id), self.core.gateway.redactor.text)
        body = json.dumps(body_data, separators=(",", ":")).encode()
        return body, [("Content-Type", "application/json"), ("X-Request-ID", request_id)]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        # one byte over the limit is read, so a longer body (chunked: no Content-Length to check
        # first) is refused instead of cut at the limit; Ctx.body checks the length it got
        request.max_content_length = self.core.config.max_body_bytes + 1
        request_id = crockford_id("req")
        response = self.respond(request, request_id)
        response.headers["X-Request-ID"] = request_id
        return response(environ, start_response)

    def respond(self, request: Request, request_id: str) -> Response:
        faithful = request.path.startswith("/v1/") or request.path == "/v1"
        headers: dict[str, str] = {}
        try:
            raw_host = request.environ.get("HTTP_HOST")
            if raw_host is None and request.environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
                raise ApiError(
                    "invalid_request",
                    "host_missing",
                    "the request has no Host header; HTTP/1.1 requires one (RFC 9112 section 3.2)",
                )
            if not self.core.config.host_allowed(request.host):
                raise ApiError(
                    "invalid_request",
                    "host_not_allowed",
                    f"Host header {raw_host!r} does not name this server (DNS rebinding guard); "
                    "start the emulator with --allowed-host NAME to accept it",
                )
            if faithful:
                headers[VERSION_HEADER] = self._version(request)
            endpoint, args = self.router.match(request.method, request.path)
            ctx = Ctx(self.core, request, request_id, args, form_token=self.form_token)
            if not faithful:
                websafety.check_request(request, endpoint, self.form_token)
            if faithful:
                ctx.api_key_id = self._authenticate(request)
                if self.limiter is not None:
                    self.limiter.check()
            elif endpoint not in _OPEN_CONTROL:
                self._admin(request)
            if (
                request.content_length is not None
                and request.content_length > self.core.config.max_body_bytes
            ):
                raise RequestEntityTooLarge()
            response = self.handlers[endpoint](ctx)
        except ApiError as err:
            response = self._error(err, request_id)
        except DatabaseLocked as exc:  # another process holds the --db file: not the client's fault
            response = self._error(self._locked(request, getattr(exc, "clock", None)), request_id)
        except UsageError as exc:
            response = self._error(ApiError("invalid_request", "invalid_request", str(exc)), request_id)
        except RouteNotFound:
            response = self._error(
                ApiError(
                    "not_found",
                    "route_not_found",
                    f"no route {request.method} {sent_path(request)!r}; see /_hookmock/openapi.json for "
                    "every route",
                ),
                request_id,
            )
        except MethodNotAllowed as exc:
            allowed = ", ".join(exc.allowed)
            response = self._error(
                ApiError(
                    "invalid_request",
                    "method_not_allowed",
                    f"{request.method} is not allowed on {sent_path(request)!r}; allowed: {allowed}",
                    status=405,
                    headers={"Allow": allowed},
                ),
                request_id,
            )
        except RequestEntityTooLarge:
            limit = self.core.config.max_body_bytes
            response = self._error(
                ApiError(
                    "invalid_request",
                    "body_too_large",
                    f"the request body is larger than {limit} bytes",
                    status=413,
                    details={"max_bytes": limit},
                ),
                request_id,
            )
        except HTTPException as exc:  # anything else raised about the request (a body timeout: 408)
            code = exc.code or 400
            name = ERROR_CODES.get(code, "bad_request")  # the code the server layer gives that status
            response = self._error(
                ApiError("invalid_request", name, exc.description or "bad request", status=code),
                request_id,
            )
        except Exception as exc:
            if is_locked(exc):  # SQLite's own "database is locked", raised by a read (file out of WAL)
                return self._finish(self._error(self._locked(request), request_id), headers)
            log.exception(
                "internal error answering %s %s (request %s)", request.method, request.path, request_id
            )
            response = self._error(
                ApiError("internal_error", "internal_error", "the emulator failed; see its log"), request_id
            )
        return self._finish(response, headers)

    @staticmethod
    def _finish(response: Response, headers: dict[str, str]) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    def _error(self, err: ApiError, request_id: str) -> Response:
        # an error message quotes what the client sent (a path, a parameter, a header): a secret
        # the emulator holds, sent back by a client in any form, is redacted there as anywhere
        body = _redacted(error_body(err, request_id), self.core.gateway.redactor.text)
        return json_response(body, err.status, err.headers)

    def _locked(self, request: Request, clock: dict[str, Any] | None = None) -> ApiError:
        """503 for a request that met the ``--db`` file locked by another process past the busy
        wait (a read on a file out of WAL mode, or a write): the request may succeed once it ends.
        ``clock``: where a clock advance that met the lock on the way left the clock."""
        path = self.core.config.db_path
        log.warning(
            "the database %r is locked by another process: answered 503 to %s %s",
            path,
            request.method,
            sent_path(request),
        )
        return ApiError(
            "internal_error",
            "database_locked",
            f"database {path!r} is locked: another process holds its lock (the emulator's --db file, "
            f"its delivery log). Retry in a moment (Retry-After: {LOCKED_RETRY_S} s); if it stays "
            "locked, stop the process holding the file",
            status=503,
            retry_after_ms=LOCKED_RETRY_S * 1000,
            headers={"Retry-After": str(LOCKED_RETRY_S)},
            details=None if clock is None else {"clock": clock},
        )

    def _version(self, request: Request) -> str:
        value = request.headers.get(VERSION_HEADER)
        if value is None or value == "":
            return API_VERSION
        if value not in SUPPORTED_VERSIONS:
            raise ApiError(
                "invalid_request",
                "unsupported_version",
                f"{VERSION_HEADER} {value[:40]!r} is not supported; use {API_VERSION} "
                f"(or the legacy {', '.join(LEGACY_API_VERSIONS)})",
                details={"supported": list(SUPPORTED_VERSIONS)},
            )
        return value

    def _authenticate(self, request: Request) -> str:
        auth = request.headers.get("Authorization")
        if not auth:
            raise ApiError(
                "authentication",
                "missing_api_key",
                f"no API key; send 'Authorization: Bearer {API_KEY_PREFIX}…' (the key the emulator printed)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                "authentication",
                "invalid_authorization",
                "the Authorization header must be 'Bearer <API key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        key_id = self.core.key_id_for(token.strip())
        if key_id is None:
            raise ApiError(
                "authentication",
                "invalid_api_key",
                "the API key is not valid for this emulator; use the key it printed at start-up "
                "(or the api_key of its --state-file)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return key_id

    def _admin(self, request: Request) -> None:
        token = self.core.config.admin_token
        if not token:
            return
        given = request.headers.get(ADMIN_TOKEN_HEADER) or request.cookies.get("hookmock_admin") or ""
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise ApiError(
                "authentication",
                "admin_token_required",
                "this emulator is bound to a non-loopback address; "
                f"send the admin token in {ADMIN_TOKEN_HEADER}",
            )


def sent_path(request: Request) -> str:
    """The request target's path as the client sent it: still percent-encoded (``//`` stays
    ``//``, ``%ff`` stays ``%ff``), any byte outside printable ASCII percent-encoded, the query left
    out, at most :data:`SHOWN_PATH_CHARS` characters.  Error messages quote it (and redact it)."""
    target = request.environ.get(RAW_TARGET_KEY)
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    data: bytes
    if isinstance(target, bytes):  # the emulator's server: the request line's target as sent
        data = target.split(b"?", 1)[0]
    elif isinstance(raw, str):
        try:  # undo the WSGI encoding (UTF-8 read as latin-1) of http.server's latin-1 request line
            data = raw.encode("latin-1").decode("utf-8").encode("latin-1")
        except UnicodeError:
            data = raw.encode("latin-1", "replace")
        data = data.split(b"?", 1)[0]
    else:  # no raw target (an in-process WSGI call): the decoded path, encoded again
        data = request.path.encode("utf-8", "surrogateescape")
    shown = "".join(chr(b) if 0x21 <= b < 0x7F else f"%{b:02X}" for b in data)
    return shown if len(shown) <= SHOWN_PATH_CHARS else shown[:SHOWN_PATH_CHARS] + "…"


def make_app(core: EmulatorCore) -> Any:
    return EmulatorApp(core)


def _redacted(value: Any, redact: Callable[[str], str]) -> Any:
    """``value`` (JSON data) with every string, key or value, passed through ``redact``."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k) if isinstance(k, str) else k: _redacted(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v, redact) for v in value]
    return value
