"""The OpenAPI 3.1 document of every emulator route, served at ``/_hookmock/openapi.json``.

Moda's objects reuse hookmock's JSON Schemas (draft 2020-12, which OpenAPI 3.1 speaks).  A test
checks that every route of the app is described here, and schemathesis checks the app against it.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from werkzeug.wrappers import Response

from .._version import __version__
from ..profiles.moda import API_VERSION, LEGACY_API_VERSIONS, TASK_KINDS, TASK_STATUSES, VERSION_HEADER
from ..validation import load_schema
from .control import DRILLS
from .http import Ctx, json_response
from .tasks import OUTCOMES

__all__ = ["ROUTES", "document"]

JSON = "application/json"


def _schema(name: str) -> dict[str, Any]:
    s = copy.deepcopy(load_schema(name))
    s.pop("$schema", None)
    s.pop("$id", None)
    return s


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    out = {str(c): _json(_ref("Error"), "Error (Moda's error body)") for c in codes}
    out["default"] = _json(_ref("Error"), "Any other error, in Moda's error body")
    return out


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": schema}}}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_VERSION_PARAM = {
    "name": VERSION_HEADER,
    "in": "header",
    "required": False,
    "description": f"API version; {API_VERSION} (canonical) when absent. Unknown → 400 unsupported_version.",
    "schema": {"type": "string", "enum": [API_VERSION, *LEGACY_API_VERSIONS]},
}
_LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Page size")
_CURSOR = _query("cursor", {"type": "string"}, "Opaque cursor: next_cursor of the previous page")
_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}


def _moda(
    op: dict[str, Any], ok: str, ok_schema: dict[str, Any], *errors: int, summary: str
) -> dict[str, Any]:
    op = dict(op)
    op["summary"] = summary
    op["tags"] = ["Moda"]
    op["security"] = [{"apiKey": []}]
    op["parameters"] = [*op.get("parameters", []), _VERSION_PARAM]
    op["responses"] = {ok: _json(ok_schema, summary), **_errors(400, 401, *errors)}
    return op


def _ctl(
    summary: str, ok: str, ok_schema: dict[str, Any] | None, *errors: int, tag: str = "Control", **op: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": summary, "tags": [tag], **op}
    if ok_schema is None:
        ok_resp: dict[str, Any] = {"description": summary}
    else:
        ok_resp = _json(ok_schema, summary)
    out["responses"] = {ok: ok_resp, **_errors(400, *errors)}
    return out


@cache
def document() -> dict[str, Any]:
    callback = {"type": "string", "format": "uri", "description": "HTTPS URL to POST the terminal event to"}
    idem = {"type": "string", "minLength": 1, "maxLength": 255}
    magic = (
        "Magic values (hookmock): a string containing hookmock:<outcome> anywhere in the body picks the "
        f"outcome; outcomes: {', '.join(OUTCOMES)}."
    )
    task_body = {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ["design", "brand_kit_extract"], "default": "design"},
            "prompt": {"type": "string", "description": "Required for design tasks. " + magic},
            "url": {"type": "string", "description": "Required for brand_kit_extract"},
            "format": _STR,
            "callback_url": callback,
            "idempotency_key": idem,
        },
    }
    remix_body = {
        "type": "object",
        "required": ["source_canvas_id"],
        "properties": {
            "source_canvas_id": _STR,
            "prompt": _STR,
            "callback_url": callback,
            "idempotency_key": idem,
        },
    }
    export_body = {
        "type": "object",
        "properties": {
            "format": {"type": "string", "enum": ["png", "jpg", "pdf", "svg", "mp4"], "default": "png"},
            "callback_url": callback,
            "idempotency_key": idem,
        },
    }
    task_id = _path_param("task_id", "task_…")
    delivery_id = _path_param("delivery_id", "whd_…")
    canvas_id = _path_param("canvas_id", "cvs_… (any id; hookmock:<outcome> in it picks the outcome)")
    game_id = _path_param("game_id", "Your game's id or name")
    entry_id = _path_param("entry_id", "History entry id")
    paths: dict[str, Any] = {
        "/v1/tasks": {
            "post": _moda(
                {"requestBody": _body(task_body, False)}, "202", _ref("Task"), 409, summary="Create a task"
            ),
            "get": _moda(
                {
                    "parameters": [
                        _LIMIT,
                        _CURSOR,
                        _query("status", {"type": "string", "enum": list(TASK_STATUSES)}, "Filter"),
                        _query("kind", {"type": "string", "enum": list(TASK_KINDS)}, "Filter"),
                    ]
                },
                "200",
                _ref("TaskList"),
                summary="List tasks, newest first",
            ),
        },
        "/v1/remix": {
            "post": _moda(
                {"requestBody": _body(remix_body)}, "202", _ref("Task"), 409, summary="Remix a canvas"
            )
        },
        "/v1/tasks/{task_id}": {
            "get": _moda({"parameters": [task_id]}, "200", _ref("Task"), 404, summary="Get a task")
        },
        "/v1/tasks/{task_id}/cancel": {
            "post": _moda({"parameters": [task_id]}, "200", _ref("Task"), 404, 409, summary="Cancel a task")
        },
        "/v1/canvases/{canvas_id}/export": {
            "post": _moda(
                {"parameters": [canvas_id], "requestBody": _body(export_body, False)},
                "202",
                _ref("Task"),
                409,
                summary="Export a canvas (fires export.* events)",
            )
        },
        "/v1/canvases/{canvas_id}/export-status": {
            "get": _moda(
                {"parameters": [canvas_id, {**_query("task_id", _STR, "The export task"), "required": True}]},
                "200",
                _ref("Task"),
                404,
                summary="Status of a canvas export",
            )
        },
        "/v1/webhook_deliveries": {
            "get": _moda(
                {
                    "parameters": [
                        _LIMIT,
                        _CURSOR,
                        _query("event_type", _STR, "Filter"),
                        _query(
                            "status", {"type": "string", "enum": ["pending", "succeeded", "failed"]}, "Filter"
                        ),
                        _query("api_key_id", _STR, "Filter"),
                        _query("from", {"type": "string", "format": "date-time"}, "Created at or after"),
                        _query("to", {"type": "string", "format": "date-time"}, "Created at or before"),
                    ]
                },
                "200",
                _ref("DeliveryList"),
                summary="List webhook deliveries, newest first",
            )
        },
        "/v1/webhook_deliveries/{delivery_id}": {
            "get": _moda(
                {
                    "parameters": [delivery_id],
                    "description": "hookmock extension: Moda documents no such route.",
                },
                "200",
                _ref("DeliveryDetail"),
                404,
                summary="One delivery with its attempt timeline (extension)",
            )
        },
        "/v1/webhook_deliveries/{delivery_id}/redeliver": {
            "post": _moda(
                {"parameters": [delivery_id]},
                "202",
                _ref("Redelivery"),
                404,
                summary="Redeliver: a new delivery with the original body",
            )
        },
        "/_hookmock/health": {"get": _ctl("Liveness", "200", {"type": "object"})},
        "/_hookmock/ready": {"get": _ctl("Readiness", "200", {"type": "object", "required": ["ready"]})},
        "/_hookmock/openapi.json": {"get": _ctl("This document", "200", {"type": "object"})},
        "/_hookmock/clock": {"get": _ctl("The emulator's clock", "200", _ref("Clock"))},
        "/_hookmock/clock/advance": {
            "post": _ctl(
                "Advance the virtual clock, running everything due on the way",
                "200",
                _ref("Clock"),
                409,
                requestBody=_body(
                    {
                        "type": "object",
                        "properties": {
                            "seconds": {"type": "number", "minimum": 0},
                            "ms": {"type": "integer", "minimum": 0},
                        },
                    },
                    False,
                ),
            )
        },
        "/_hookmock/reset": {
            "post": _ctl(
                "Forget all tasks and games; cancel pending deliveries (none is sent again) and hide "
                "earlier deliveries from the lists",
                "200",
                {"type": "object"},
            )
        },
        "/_hookmock/tasks/{task_id}/complete": {
            "post": _ctl(
                "End a task now with the given outcome",
                "200",
                _ref("Task"),
                404,
                409,
                parameters=[task_id],
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["outcome"],
                        "properties": {"outcome": {"type": "string", "enum": list(OUTCOMES)}},
                    }
                ),
            )
        },
        "/_hookmock/moda/events": {
            "post": _ctl(
                "Fire any Moda event (a generated envelope, with overrides) at a URL",
                "202",
                _schema("moda-delivery"),
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["event_type", "callback_url"],
                        "properties": {
                            "event_type": _STR,
                            "callback_url": _STR,
                            "overrides": {"type": "object"},
                        },
                    }
                ),
            )
        },
        "/_hookmock/drills": {
            "post": _ctl(
                "Make the sender misbehave on purpose: " + "; ".join(f"{k}: {v}" for k, v in DRILLS.items()),
                "200",
                {"type": "object", "required": ["mode", "sent"]},
                404,
                409,
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["mode"],
                        "properties": {
                            "mode": {"type": "string", "enum": list(DRILLS)},
                            "delivery_id": _STR,
                            "delivery_ids": {"type": "array", "items": _STR},
                            "copies": {"type": "integer", "minimum": 2, "maximum": 20},
                        },
                    }
                ),
            )
        },
        "/_hookmock/modio/games": {
            "get": _ctl(
                "mod.io games with a webhook (no tokens)", "200", {"type": "object"}, tag="mod.io (extension)"
            )
        },
        "/_hookmock/modio/games/{game_id}/webhook": {
            "put": _ctl(
                "Configure a game's webhook (URL and security token)",
                "200",
                _ref("Game"),
                tag="mod.io (extension)",
                parameters=[game_id],
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["url", "token"],
                        "properties": {
                            "url": {"type": "string", "format": "uri", "minLength": 1},
                            "token": {"type": "string", "minLength": 1, "maxLength": 512},
                        },
                    }
                ),
            )
        },
        "/_hookmock/modio/games/{game_id}/events": {
            "post": _ctl(
                "Fire a catalogue event at the game's webhook",
                "202",
                _ref("HistoryEntry"),
                404,
                tag="mod.io (extension)",
                parameters=[game_id],
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["event_name"],
                        "properties": {"event_name": _STR, "overrides": {"type": "object"}},
                    }
                ),
            )
        },
        "/_hookmock/modio/games/{game_id}/test": {
            "post": _ctl(
                "The Test button: send PING",
                "202",
                _ref("HistoryEntry"),
                404,
                tag="mod.io (extension)",
                parameters=[game_id],
            )
        },
        "/_hookmock/modio/history": {
            "get": _ctl(
                "Webhook history as JSON (extension: mod.io publishes no history API)",
                "200",
                {
                    "type": "object",
                    "required": ["data", "next_cursor"],
                    "properties": {
                        "data": {"type": "array", "items": _ref("HistoryEntry")},
                        "next_cursor": _NSTR,
                    },
                },
                tag="mod.io (extension)",
                parameters=[_LIMIT, _CURSOR],
            )
        },
        "/_hookmock/modio/history/{entry_id}": {
            "get": _ctl(
                "One history entry with its attempts",
                "200",
                _ref("DeliveryDetail"),
                404,
                tag="mod.io (extension)",
                parameters=[entry_id],
            )
        },
        "/_hookmock/modio/history/{entry_id}/retry": {
            "post": _ctl(
                "Retry: re-send the same payload on the same entry (attempts + 1)",
                "202",
                _ref("HistoryEntry"),
                404,
                409,
                tag="mod.io (extension)",
                parameters=[entry_id],
            )
        },
        "/_hookmock/ui": {
            "get": {
                "summary": "History page (HTML)",
                "tags": ["Page"],
                "responses": {
                    "200": {"description": "HTML", "content": {"text/html": {"schema": _STR}}},
                    **_errors(400),
                },
            }
        },
        "/_hookmock/ui/deliveries/{delivery_id}": {
            "get": {
                "summary": "Delivery details page (HTML)",
                "tags": ["Page"],
                "parameters": [delivery_id],
                "responses": {
                    "200": {"description": "HTML", "content": {"text/html": {"schema": _STR}}},
                    **_errors(400, 404),
                },
            }
        },
        "/_hookmock/ui/deliveries/{delivery_id}/retry": {
            "post": {
                "summary": "The page's Retry/Redeliver button (form post; 303 back to the page)",
                "tags": ["Page"],
                "parameters": [delivery_id],
                "responses": {"303": {"description": "Back to the page"}, **_errors(400, 404, 409)},
            }
        },
        "/_hookmock/ui/modio/games/{game_id}/test": {
            "post": {
                "summary": "The page's Test button (form post; 303 back to the page)",
                "tags": ["Page"],
                "parameters": [game_id],
                "responses": {"303": {"description": "Back to the page"}, **_errors(400, 404)},
            }
        },
    }
    delivery = _schema("moda-delivery")
    detail = {
        "type": "object",
        "required": ["id", "profile", "attempt_timeline"],
        "properties": {
            "id": _STR,
            "profile": {"enum": ["moda", "modio"]},
            "payload": {},
            "attempt_timeline": {"type": "array", "items": {"type": "object"}},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hookmock emulator",
            "version": __version__,
            "description": "Moda's API (/v1) as the emulator serves it, and hookmock's own control API, "
            "mod.io "
            "settings and history (/_hookmock, extensions). Every error has Moda's error body.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "moda_live_… key"}
            },
            "schemas": {
                "Error": _schema("moda-error"),
                "Task": _schema("moda-task"),
                "TaskList": {
                    "type": "object",
                    "required": ["data", "next_cursor"],
                    "properties": {"data": {"type": "array", "items": _ref("Task")}, "next_cursor": _NSTR},
                },
                "Delivery": delivery,
                "DeliveryList": {
                    "type": "object",
                    "required": ["data", "next_cursor"],
                    "properties": {
                        "data": {"type": "array", "items": _ref("Delivery")},
                        "next_cursor": _NSTR,
                    },
                },
                "DeliveryDetail": detail,
                "Redelivery": {
                    "type": "object",
                    "required": ["id", "replayed_from_id", "status"],
                    "properties": {"id": _STR, "replayed_from_id": _STR, "status": {"const": "pending"}},
                },
                "HistoryEntry": _schema("modio-history-entry"),
                "Game": {
                    "type": "object",
                    "required": ["game_id", "url", "ruleset_uuid"],
                    "properties": {"game_id": _STR, "url": _STR, "ruleset_uuid": _STR},
                },
                "Clock": {
                    "type": "object",
                    "required": ["now", "now_ns", "clock"],
                    "properties": {
                        "now": _STR,
                        "now_ns": {"type": "integer"},
                        "clock": {"enum": ["real", "virtual"]},
                    },
                },
            },
        },
    }


def serve(ctx: Ctx) -> Response:
    return json_response(document())


ROUTES = [("/_hookmock/openapi.json", ["GET"], "openapi", serve)]
