"""Every route of the emulator in one table, and the OpenAPI document built from it.

The router (:class:`~hookmock.emulator.app.EmulatorApp`) and the document served at
``/_hookmock/openapi.json`` are both made from :func:`all_routes`: the ROUTES of each module that
serves requests, and this module's own route for the document.  Each route's documentation is in
:data:`hookmock.emulator.openapi.OPERATIONS`, under its endpoint name.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from werkzeug.wrappers import Response

from . import control, moda_api, modio_api, ui
from .http import Ctx, json_response

__all__ = ["ROUTES", "Handler", "all_routes", "document"]

Handler = Callable[[Ctx], Response]


def serve_document(ctx: Ctx) -> Response:
    return json_response(document())


#: The route of the document itself.
ROUTES: list[tuple[str, list[str], str, Handler]] = [
    ("/_hookmock/openapi.json", ["GET"], "openapi", serve_document)
]


def all_routes() -> list[tuple[str, list[str], str, Handler]]:
    """``(path, methods, endpoint, handler)`` of every route the emulator serves."""
    return [*moda_api.ROUTES, *modio_api.ROUTES, *control.ROUTES, *ui.ROUTES, *ROUTES]


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of :func:`all_routes` (built once; its module loaded then)."""
    from . import openapi

    return openapi.build(all_routes())
