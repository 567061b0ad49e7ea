"""Request context and the small helpers every handler uses: JSON in, JSON out, typed fields."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from .errors import ApiError
from .jsonbody import decode_object

if TYPE_CHECKING:  # pragma: no cover
    from .core import EmulatorCore

__all__ = ["Ctx", "declared_charsets", "json_response"]


def _parameters(value: str) -> list[str]:
    """The ``;``-separated parameters of a media type (its type dropped), split outside quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts[1:]


def declared_charsets(content_type: str) -> list[str]:
    """Every ``charset`` parameter of a ``Content-Type`` value, as written (unquoted), read as
    e-mail headers read parameters: names in any case, spaces around ``=`` and ``;`` allowed, a
    quoted value unquoted, an RFC 2231 ``charset*=utf-8''utf-16`` read as its value.  A charset
    that cannot be read (an unterminated quote, an empty value) is given as written, so that it is
    refused naming it, never taken for UTF-8 (werkzeug's parser drops such a parameter)."""
    found = []
    for parameter in _parameters(content_type):
        name, equals, raw = parameter.partition("=")
        name = name.strip().lower()
        if name not in ("charset", "charset*"):
            continue
        value = raw.strip(" \t")
        if name == "charset*":  # RFC 2231: charset'language'value, percent-encoded
            value = unquote(value.split("'", 2)[-1])
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        found.append(value if equals and value else parameter.strip() or "(empty)")
    return found


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        headers=dict(headers or {}),
        mimetype="application/json",
    )


_MISSING = object()


@dataclass
class Ctx:
    core: EmulatorCore
    request: Request
    request_id: str
    args: dict[str, Any] = field(default_factory=dict)
    api_key_id: str | None = None
    #: The history page's form token (see :mod:`.websafety`).
    form_token: str = ""
    _json: Any = _MISSING

    # -- body --------------------------------------------------------------------------
    def body(self, *, required: bool = False) -> dict[str, Any]:
        """The JSON object in the body; an empty body is ``{}`` unless ``required``."""
        if self._json is _MISSING:
            raw = self.request.get_data(cache=True)
            if len(raw) > self.core.config.max_body_bytes:  # chunked: nothing told the length before
                raise RequestEntityTooLarge()
            if not raw.strip():
                if required:
                    raise ApiError("invalid_request", "missing_body", "the request needs a JSON object body")
                self._json = {}
            else:
                self._check_charset()
                self._json = decode_object(raw)  # strict: the one JSON decoding path
        value: dict[str, Any] = self._json
        return value

    def _check_charset(self) -> None:
        """A body declared in a charset other than UTF-8 is refused (415), not misread: JSON
        exchanged between systems is UTF-8 (RFC 8259 section 8.1), and so is every body Moda's API
        takes.  ``charset=utf-8`` (any case, quoted or not, spaces around ``=`` or ``;``) and no
        charset at all are accepted; a charset that cannot be read (an unterminated quote, an empty
        value) is refused too, never taken as UTF-8."""
        shown = self.request.headers.get("Content-Type", "")[:80]
        for charset in declared_charsets(self.request.headers.get("Content-Type", "")):
            if charset.lower() == "utf-8":
                continue
            raise ApiError(
                "invalid_request",
                "unsupported_media_type",
                f"Content-Type {shown!r} declares the charset {charset[:40]!r}; the emulator reads JSON "
                "bodies as UTF-8 only (RFC 8259 section 8.1): send the body UTF-8 encoded with "
                "Content-Type: application/json (or application/json; charset=utf-8)",
                status=415,
                details={"content_type": shown, "charset": charset[:40]},
            )

    def field(
        self, name: str, kind: type | tuple[type, ...], *, required: bool = False, default: Any = None
    ) -> Any:
        body = self.body()
        if name not in body:
            if required:
                raise ApiError(
                    "invalid_request",
                    "parameter_missing",
                    f"the body parameter {name!r} is required",
                    details={"parameter": name},
                )
            return default
        value = body[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if int in kinds and float not in kinds and isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON has one number type: 143.0 is the integer 143
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            ok = False
        else:
            ok = isinstance(value, kind)
        if not ok:
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise ApiError(
                "invalid_request",
                "parameter_invalid",
                f"the body parameter {name!r} must be {_TYPE_NAMES.get(names, names)}, "
                f"got {_json_type(value)}",
                details={"parameter": name},
            )
        return value

    # -- query -------------------------------------------------------------------------
    def query(self, name: str) -> str | None:
        value = self.request.args.get(name)
        return value if value is None else str(value)

    def query_int(self, name: str, *, default: int, low: int, high: int) -> int:
        raw = self.query(name)
        if raw is None or raw == "":
            return default
        value: int | None
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or str(raw).strip() != raw or not low <= value <= high:
            raise ApiError(
                "invalid_request",
                "parameter_invalid",
                f"the query parameter {name}={raw!r} must be an integer from {low} to {high}",
                details={"parameter": name},
            )
        return value


_TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "bool": "a boolean",
    "dict": "an object",
    "list": "an array",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
