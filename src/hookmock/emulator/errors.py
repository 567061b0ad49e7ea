"""Errors the emulator answers with, always in Moda's error body.

``{"error": {"type", "code", "message", "doc_url", "request_id", "details", "retry_after_ms",
"causes"}}`` (schema ``moda-error``).  Every 4xx and 5xx of every route, the control API and
unknown routes included, has this body, so a client parses one shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._util.sqlite import DatabaseLocked

__all__ = ["CODES", "ERROR_STATUS", "ApiError", "ErrorCode", "bad_cursor", "error_body", "gather"]

#: Moda's error types and the HTTP status each one goes with.
ERROR_STATUS: dict[str, int] = {
    "invalid_request": 400,
    "authentication": 401,
    "permission": 403,
    "not_found": 404,
    "conflict": 409,
    "unprocessable": 422,
    "rate_limited": 429,
    "internal_error": 500,
}


@dataclass(frozen=True)
class ErrorCode:
    """One ``code`` of the error body, with the ``type`` and HTTP ``status`` it is answered with."""

    type: str
    code: str
    status: int
    meaning: str


def _codes(type_: str, status: int, *entries: tuple[str, str]) -> list[ErrorCode]:
    return [ErrorCode(type_, code, status, meaning) for code, meaning in entries]


#: Every ``(type, code)`` the emulator answers with.  The error reference of the documentation is
#: generated from this list, and ``tests/test_docs_site.py`` checks it against every ``ApiError`` in
#: the emulator's source and every code its HTTP server answers with: add a new code here.
CODES: tuple[ErrorCode, ...] = (
    *_codes(
        "invalid_request",
        400,
        ("bad_request", "the HTTP request is malformed (refused by the HTTP server or the router)"),
        ("callback_url_not_allowed", "callback_url names an address the emulator may not call"),
        ("callback_url_not_https", "callback_url is plain HTTP (serve --allow-http-callbacks allows it)"),
        ("drill_not_applicable", "the drill cannot apply to that delivery (stale on mod.io: no timestamp)"),
        ("host_missing", "an HTTP/1.1 request without a Host header"),
        ("host_not_allowed", "the Host header does not name the emulator (serve --allowed-host NAME)"),
        ("invalid_body", "the body is JSON but not an object"),
        ("invalid_cursor", "a cursor no list returned (every list: tasks, deliveries, events, history)"),
        ("invalid_json", "the body is not UTF-8 JSON, nests too deep or holds NaN/Infinity"),
        ("invalid_request", "the request cannot be read (for example a bad form or query encoding)"),
        ("missing_body", "the route needs a JSON object body and none was sent"),
        ("multiple_problems", "more than one problem at once; each one is in causes"),
        ("override_not_faithful", "overrides would change which event this is; send unfaithful: true"),
        (
            "parameter_invalid",
            "a parameter has the wrong type or is out of range; details.parameter names it",
        ),
        ("parameter_missing", "a required parameter is missing; details.parameter names it"),
        ("unknown_event_type", "an event type or mod.io event name the emulator does not know"),
        ("unknown_magic_value", "a hookmock:<name> magic value that names no outcome"),
        ("unknown_outcome", "an outcome that is not one of the task outcomes"),
        ("unsupported_version", "a version header value the emulator does not serve"),
        ("url_not_allowed", "a webhook url names an address the emulator may not call"),
    ),
    ErrorCode("invalid_request", "method_not_allowed", 405, "the route does not take this method"),
    ErrorCode("invalid_request", "body_too_large", 413, "the body is larger than serve --max-body-bytes"),
    ErrorCode(
        "invalid_request",
        "unsupported_media_type",
        415,
        "a control API body that is not application/json, or a JSON body declared in a charset "
        "other than UTF-8 (any route)",
    ),
    # answered by the HTTP server before the routes (see hookmock._util.framing.ERROR_CODES)
    ErrorCode("invalid_request", "request_timeout", 408, "the request was not received in time"),
    ErrorCode(
        "invalid_request", "length_required", 411, "a body the server cannot frame without Content-Length"
    ),
    ErrorCode("invalid_request", "request_line_too_long", 414, "the request line is too long"),
    ErrorCode("invalid_request", "expectation_failed", 417, "an Expect header other than 100-continue"),
    ErrorCode("invalid_request", "headers_too_large", 431, "the request headers are too large"),
    ErrorCode("invalid_request", "not_implemented", 501, "a Transfer-Encoding other than chunked"),
    ErrorCode("invalid_request", "http_version_not_supported", 505, "an HTTP version other than 1.x"),
    ErrorCode("rate_limited", "too_many_connections", 503, "every connection is busy; retry_after_ms 1000"),
    *_codes(
        "authentication",
        401,
        ("admin_token_required", "a non-loopback emulator's control API needs its admin token"),
        ("invalid_api_key", "the API key is not this emulator's (see its --state-file)"),
        ("invalid_authorization", "the Authorization header is not 'Bearer <API key>'"),
        ("missing_api_key", "no API key was sent to a /v1 route"),
    ),
    *_codes(
        "permission",
        403,
        ("cross_site_request", "a form post from another origin (the page's forms only)"),
        ("form_token_invalid", "a form post without the page's form token"),
        ("permission", "the magic value hookmock:permission"),
    ),
    *_codes(
        "not_found",
        404,
        ("delivery_not_found", "no delivery with that id"),
        ("export_not_found", "no export task with that id for this canvas"),
        ("resource_not_found", "no object with that id"),
        (
            "route_not_found",
            "no route at that path (the OpenAPI document lists every route); the message quotes the "
            "path as sent, still percent-encoded",
        ),
        ("task_not_found", "no task with that id"),
        ("webhook_not_configured", "the mod.io game has no webhook; configure it first"),
    ),
    *_codes(
        "conflict",
        409,
        ("clock_not_virtual", "the clock can be moved only with serve --clock virtual"),
        ("delivery_pending", "the history entry is still being sent; retry it afterwards"),
        ("idempotency_conflict", "an idempotency key reused with a different request"),
        ("task_already_finished", "the task has already ended"),
        ("task_not_cancelable", "only queued or running tasks can be canceled"),
        ("webhook_not_configured", "the game of that history entry no longer has a webhook"),
    ),
    ErrorCode("unprocessable", "unprocessable", 422, "the magic value hookmock:unprocessable"),
    ErrorCode(
        "rate_limited",
        "rate_limited",
        429,
        "the magic value hookmock:rate-limited, or serve --rate-limit; Retry-After says when",
    ),
    ErrorCode(
        "internal_error", "internal_error", 500, "a bug in hookmock; the log has it with the request id"
    ),
    ErrorCode(
        "internal_error",
        "database_locked",
        503,
        "another process holds the --db file's lock past the busy wait; retry after Retry-After "
        "(retry_after_ms 1000), or stop that process",
    ),
)

#: The README's "Emulator errors" section, which lists every ``code`` (one anchor for all: a code
#: has no heading of its own).
DOC_URL = "https://github.com/hookmock/hookmock#emulator-errors"


class AdvanceLocked(DatabaseLocked):
    """A clock advance met the ``--db`` file locked on the way, after the clock had moved:
    ``clock`` says where it stands now (what was done up to there stays)."""

    def __init__(self, path: str, clock: dict[str, Any]) -> None:
        super().__init__(path)
        self.clock = clock


class ApiError(Exception):
    """An error answer.  ``status`` defaults to the one of ``type``; 405 and 413 keep
    ``invalid_request`` as their type (Moda has no type of its own for them)."""

    def __init__(
        self,
        type_: str,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: Any = None,
        retry_after_ms: int | None = None,
        headers: dict[str, str] | None = None,
        causes: list[dict[str, Any]] | None = None,
    ) -> None:
        if type_ not in ERROR_STATUS:
            raise ValueError(f"unknown Moda error type {type_!r}")
        super().__init__(message)
        self.type = type_
        self.code = code
        self.message = message
        self.status = status or ERROR_STATUS[type_]
        self.details = details
        self.retry_after_ms = retry_after_ms
        self.headers = headers or {}
        self.causes = causes

    def cause(self) -> dict[str, Any]:
        """This error as one item of another error's ``causes``."""
        return {"type": self.type, "code": self.code, "message": self.message, "details": self.details}


def invalid(code: str, message: str, **details: Any) -> ApiError:
    return ApiError("invalid_request", code, message, details=details or None)


def not_found(what: str, value: str) -> ApiError:
    return ApiError("not_found", "resource_not_found", f"no {what} with id {value!r}", details={what: value})


def bad_cursor() -> ApiError:
    """The one answer to a cursor no list returned, on every list (tasks, deliveries, history)."""
    return ApiError(
        "invalid_request",
        "invalid_cursor",
        "the cursor is not one this list returned; pass next_cursor from a previous page unchanged",
        details={"parameter": "cursor"},
    )


def gather(*checks: Callable[[], Any]) -> list[Any]:
    """Run every check and return their values; when more than one raises ``invalid_request``,
    raise one error whose ``causes`` lists each problem (a client fixes them all at once).  A single
    problem is raised as it is."""
    values: list[Any] = []
    problems: list[ApiError] = []
    for check in checks:
        try:
            values.append(check())
        except ApiError as err:
            if err.type != "invalid_request":
                raise
            problems.append(err)
            values.append(None)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ApiError(
            "invalid_request",
            "multiple_problems",
            f"the request has {len(problems)} problems: " + "; ".join(p.message for p in problems),
            causes=[p.cause() for p in problems],
        )
    return values


def error_body(err: ApiError, request_id: str) -> dict[str, Any]:
    return {
        "error": {
            "type": err.type,
            "code": err.code,
            "message": err.message,
            "doc_url": DOC_URL,
            "request_id": request_id,
            "details": err.details,
            "retry_after_ms": err.retry_after_ms,
            "causes": err.causes,
        }
    }
