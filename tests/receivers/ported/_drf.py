"""Just enough of Django REST framework's request handling for the AWX ports (Django and DRF are
not test dependencies): the body is read once, ``request.data`` is parsed lazily by the JSON
parser (``ParseError`` -> 400, an unsupported media type -> 415, an empty body -> ``{}``),
``PermissionDenied`` -> 403, and any other exception -> 500, as DRF's exception handler does."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response


class APIException(Exception):
    status_code = 500


class ParseError(APIException):
    status_code = 400


class UnsupportedMediaType(APIException):
    status_code = 415


class PermissionDenied(APIException):
    status_code = 403


class DRFRequest:
    def __init__(self, request: Request) -> None:
        self._request = request
        self.body = request.get_data(cache=True)
        #: Django's ``request.META``: ``HTTP_`` + the upper-cased header name.
        self.META = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in request.headers.items()}
        self.headers = request.headers
        self._data: Any = None
        self._parsed = False

    @property
    def data(self) -> Any:
        if not self._parsed:
            if not self.body:
                self._data = {}
            elif self._request.mimetype != "application/json":
                raise UnsupportedMediaType(self._request.mimetype)
            else:
                try:
                    self._data = json.loads(self.body.decode("utf-8"))
                except ValueError as exc:
                    raise ParseError(f"JSON parse error - {exc}") from None
            self._parsed = True
        return self._data


def api_view(post: Callable[[DRFRequest], tuple[Any, int]]) -> Callable[..., Any]:
    """A WSGI app running ``post(request) -> (data, status)`` the way DRF's ``APIView`` does."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method != "POST":
            response = Response(json.dumps({"detail": "Method not allowed"}), status=405)
        else:
            try:
                data, status = post(DRFRequest(request))
                response = Response(json.dumps(data), status=status, mimetype="application/json")
            except APIException as exc:
                response = Response(json.dumps({"detail": str(exc)}), status=exc.status_code)
            except Exception:  # DRF re-raises what it does not know: the server answers 500
                response = Response("Server Error (500)", status=500)
        return response(environ, start_response)

    return app
