"""Errors the emulator answers with, always in Moda's error body.

``{"error": {"type", "code", "message", "doc_url", "request_id", "details", "retry_after_ms",
"causes"}}`` (schema ``moda-error``).  Every 4xx and 5xx of every route, the control API and
unknown routes included, has this body, so a client parses one shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["ERROR_STATUS", "ApiError", "bad_cursor", "error_body", "gather"]

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

#: The README's "Emulator errors" section, which lists every ``code`` (one anchor for all: a code
#: has no heading of its own).
DOC_URL = "https://github.com/hookmock/hookmock#emulator-errors"


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
