"""Every route of the emulator in one table, and the OpenAPI document built from it.

The router (:class:`~hookmock.emulator.app.EmulatorApp`) and the document served at
``/_hookmock/openapi.json`` are both made from :func:`all_routes`: the ROUTES of each module that
serves requests, the history page's (:data:`UI_ROUTES`: :mod:`.ui` is imported at its first
request, not at start-up) and this module's own route for the document.  Each route's documentation is in
:data:`hookmock.emulator.openapi.OPERATIONS`, under its endpoint name.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from werkzeug.wrappers import Response

from . import control, moda_api, modio_api
from .http import Ctx, json_response

__all__ = ["ROUTES", "UI_ROUTES", "Handler", "all_routes", "document"]

Handler = Callable[[Ctx], Response]


def serve_document(ctx: Ctx) -> Response:
    return json_response(document())


def _page(name: str) -> Handler:
    """The history page's handler ``name`` (a function of :mod:`.ui`), imported at its first call."""

    def handler(ctx: Ctx) -> Response:
        from . import ui

        page_handler: Handler = getattr(ui, name)
        return page_handler(ctx)

    handler.__name__ = handler.__qualname__ = name
    return handler


#: The history page (:mod:`.ui`).
UI_ROUTES: list[tuple[str, list[str], str, Handler]] = [
    ("/_hookmock/ui", ["GET"], "ui", _page("index")),
    ("/_hookmock/ui/rows", ["GET"], "ui_rows", _page("rows")),
    ("/_hookmock/ui/app.js", ["GET"], "ui_script", _page("script")),
    ("/_hookmock/ui/app.css", ["GET"], "ui_style", _page("style")),
    ("/_hookmock/ui/deliveries/<delivery_id>", ["GET"], "ui_details", _page("details")),
    ("/_hookmock/ui/deliveries/<delivery_id>/retry", ["POST"], "ui_retry", _page("retry")),
    ("/_hookmock/ui/modio/games/<game_id>/test", ["POST"], "ui_test", _page("test")),
    ("/_hookmock/ui/tasks", ["POST"], "ui_create_task", _page("create_task")),
    ("/_hookmock/ui/modio/events", ["POST"], "ui_modio_event", _page("modio_event")),
]

#: The route of the document itself.
ROUTES: list[tuple[str, list[str], str, Handler]] = [
    ("/_hookmock/openapi.json", ["GET"], "openapi", serve_document)
]


def all_routes() -> list[tuple[str, list[str], str, Handler]]:
    """``(path, methods, endpoint, handler)`` of every route the emulator serves."""
    return [*moda_api.ROUTES, *modio_api.ROUTES, *control.ROUTES, *UI_ROUTES, *ROUTES]


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of :func:`all_routes` (built once; its module loaded then)."""
    from . import openapi

    return openapi.build(all_routes())
