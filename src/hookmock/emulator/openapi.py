"""The OpenAPI 3.1 document of every emulator route, built from the route table.

Each route is declared once: its path, method, endpoint and handler in the ROUTES list of the module
that serves it (``moda_api``, ``modio_api``, ``control``, ``ui``, collected by :mod:`.routes`), and its
documentation here, in :data:`OPERATIONS` under the same endpoint name: summary, query parameters,
request body, success status and schema, error statuses.  :func:`build` joins the two: the
document's paths and methods are the router's, path parameters come from the path itself, and a
route without an operation (or an operation without a route) is an error, so the document and the
routes cannot drift apart.  schemathesis checks the app against the result
(``tests/test_emulator_openapi.py``).

Moda's objects reuse hookmock's JSON Schemas (draft 2020-12, which OpenAPI 3.1 speaks).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from .._version import __version__
from ..delivery.records import IN_FLIGHT, INTERRUPTED
from ..profiles.moda import API_VERSION, LEGACY_API_VERSIONS, TASK_KINDS, TASK_STATUSES, VERSION_HEADER
from ..transport import OUTCOMES as ATTEMPT_OUTCOMES
from ..validation import load_schema
from .control import DRILLS
from .tasks import OUTCOMES

__all__ = ["OPERATIONS", "PATH_PARAMETERS", "Operation", "build", "openapi_path"]

JSON = "application/json"
HTML = "text/html"

Kind = Literal["moda", "control", "modio", "page"]
#: The tag of each kind of route in the document.
TAGS: dict[Kind, str] = {"moda": "Moda", "control": "Control", "modio": "mod.io (extension)", "page": "Page"}


@dataclass(frozen=True)
class Operation:
    """The documentation of one route (its method and path come from the router).

    ``kind``: ``moda`` routes need the API key and take the version header, and may answer 401;
    the others (``control``, ``modio``, ``page``) do not.  ``schema`` is the success body: the name
    of a component schema, an inline schema, or None (no body; ``ok_text`` describes the answer).
    Every route may answer 400 and any other error with Moda's error body; ``errors`` lists the
    other statuses it documents."""

    summary: str
    kind: Kind
    ok: str
    schema: str | dict[str, Any] | None
    errors: tuple[int, ...] = ()
    query: tuple[dict[str, Any], ...] = ()
    body: dict[str, Any] | None = None
    body_required: bool = True
    description: str | None = None
    ok_text: str | None = None
    #: the media type of a page route's text answer (HTML unless said)
    media: str = HTML


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


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


_VERSION_PARAM = {
    "name": VERSION_HEADER,
    "in": "header",
    "required": False,
    "description": f"API version; {API_VERSION} (canonical) when absent. Unknown → 400 unsupported_version.",
    "schema": {"type": "string", "enum": [API_VERSION, *LEGACY_API_VERSIONS]},
}
_CLOCK_PROPERTIES: dict[str, Any] = {
    "now": {"type": "string", "format": "date-time"},
    "now_ns": {"type": "integer"},
    "clock": {"enum": ["real", "virtual"]},
    "skew_s": {"type": "number", "description": "seconds this clock is ahead of wall time"},
    "warning": {
        "type": ["string", "null"],
        "description": "set when the clock is more than 300 s from wall time",
    },
}
_LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Page size")
_CURSOR = _query("cursor", {"type": "string"}, "Opaque cursor: next_cursor of the previous page")
_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}

#: Description of each path parameter (``<name>`` in a route's path), wherever it appears.
PATH_PARAMETERS = {
    "task_id": "task_…",
    "delivery_id": "whd_…",
    "canvas_id": "cvs_… (any id; hookmock:<outcome> in it picks the outcome)",
    "game_id": "Your game's id or name",
    "entry_id": "History entry id",
}

# -- request bodies ------------------------------------------------------------------------------

_CALLBACK = {"type": "string", "format": "uri", "description": "HTTPS URL to POST the terminal event to"}
_IDEMPOTENCY = {"type": "string", "minLength": 1, "maxLength": 255}
_MAGIC = (
    "Magic values (hookmock): a string containing hookmock:<outcome> anywhere in the body picks the "
    f"outcome; outcomes: {', '.join(OUTCOMES)}."
)
_TASK_BODY = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["design", "brand_kit_extract"], "default": "design"},
        "prompt": {"type": "string", "description": "Required for design tasks. " + _MAGIC},
        "url": {"type": "string", "description": "Required for brand_kit_extract"},
        "format": _STR,
        "callback_url": _CALLBACK,
        "idempotency_key": _IDEMPOTENCY,
    },
}
_REMIX_BODY = {
    "type": "object",
    "required": ["source_canvas_id"],
    "properties": {
        "source_canvas_id": _STR,
        "prompt": _STR,
        "callback_url": _CALLBACK,
        "idempotency_key": _IDEMPOTENCY,
    },
}
_EXPORT_BODY = {
    "type": "object",
    "properties": {
        "format": {"type": "string", "enum": ["png", "jpg", "pdf", "svg", "mp4"], "default": "png"},
        "callback_url": _CALLBACK,
        "idempotency_key": _IDEMPOTENCY,
    },
}
_ADVANCE_BODY = {
    "type": "object",
    "properties": {
        "seconds": {
            "type": "number",
            "minimum": 0,
            "description": "How far to advance, in seconds (added to ms)",
        },
        "ms": {"type": "integer", "minimum": 0, "description": "How far to advance, in milliseconds"},
    },
}
_COMPLETE_BODY = {
    "type": "object",
    "required": ["outcome"],
    "properties": {"outcome": {"type": "string", "enum": list(OUTCOMES), "description": "How the task ends"}},
}
_MODA_EVENT_BODY = {
    "type": "object",
    "required": ["event_type", "callback_url"],
    "properties": {
        "event_type": _STR,
        "callback_url": _STR,
        "overrides": {
            "type": "object",
            "description": "Envelope fields to change (nested objects or a__b keys). Fields that define "
            "the event (id, type, api_version, data.kind, data.status) need unfaithful: true",
        },
        "unfaithful": {
            "type": "boolean",
            "default": False,
            "description": "Allow overrides that send an event outside Moda's set; the log records "
            "what is sent",
        },
    },
}
_DRILL_BODY = {
    "type": "object",
    "required": ["mode"],
    "properties": {
        "mode": {"type": "string", "enum": list(DRILLS), "description": "The drill (see the summary)"},
        "delivery_id": {
            "type": "string",
            "description": "The delivery to misbehave with (whd_… or a mod.io history entry id); "
            "give this or delivery_ids",
        },
        "delivery_ids": {
            "type": "array",
            "items": _STR,
            "description": "Several deliveries, oldest first (out_of_order needs at least two)",
        },
        "copies": {
            "type": "integer",
            "minimum": 2,
            "maximum": 20,
            "default": 5,
            "description": "How many copies concurrent sends at once",
        },
    },
}
_WEBHOOK_BODY = {
    "type": "object",
    "required": ["url"],
    "properties": {
        "url": {"type": "string", "format": "uri", "minLength": 1},
        "token": {
            "type": "string",
            "minLength": 1,
            "maxLength": 512,
            "description": "Your security token; leave it out to have the emulator issue one "
            "(returned in the answer, shown on the page)",
        },
    },
}
_MODIO_EVENT_BODY = {
    "type": "object",
    "required": ["event_name"],
    "properties": {
        "event_name": _STR,
        "overrides": {
            "type": "object",
            "description": "Payload fields to change; event_name, event and event_uuid need unfaithful: true",
        },
        "unfaithful": {"type": "boolean", "default": False},
    },
}
_EVENT_NAME_BODY = {
    "type": "object",
    "required": ["event_name"],
    "properties": {
        "event_name": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
        "resource_type": {"type": "string", "default": "mod"},
        "secondary_type": _NSTR,
    },
}
_EVENT_NAMES = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["event_name", "description"],
                "properties": {"event_name": _STR, "description": _STR},
            },
        }
    },
}
_HISTORY = {
    "type": "object",
    "required": ["data", "next_cursor"],
    "properties": {"data": {"type": "array", "items": _ref("HistoryEntry")}, "next_cursor": _NSTR},
}

#: Errors of the routes that create a task: a reused idempotency key (409) and the magic values
#: hookmock:permission (403), hookmock:unprocessable (422), hookmock:rate-limited (429, as
#: serve --rate-limit answers on every /v1 route).
_CREATE_ERRORS = (403, 409, 422, 429)

# -- one operation per endpoint ------------------------------------------------------------------

OPERATIONS: dict[str, Operation] = {
    # Moda's API (/v1)
    "create_task": Operation(
        "Create a task", "moda", "202", "Task", _CREATE_ERRORS, body=_TASK_BODY, body_required=False
    ),
    "list_tasks": Operation(
        "List tasks, newest first",
        "moda",
        "200",
        "TaskList",
        query=(
            _LIMIT,
            _CURSOR,
            _query("status", {"type": "string", "enum": list(TASK_STATUSES)}, "Filter"),
            _query("kind", {"type": "string", "enum": list(TASK_KINDS)}, "Filter"),
        ),
    ),
    "create_remix": Operation("Remix a canvas", "moda", "202", "Task", _CREATE_ERRORS, body=_REMIX_BODY),
    "get_task": Operation("Get a task", "moda", "200", "Task", (404,)),
    "task_events": Operation(
        "A task's webhook events (the envelopes sent), newest first",
        "moda",
        "200",
        {
            "type": "object",
            "required": ["data", "next_cursor"],
            "properties": {"data": {"type": "array", "items": _ref("Envelope")}, "next_cursor": _NSTR},
        },
        (404,),
        query=(_LIMIT, _CURSOR),
    ),
    "cancel_task": Operation("Cancel a task", "moda", "200", "Task", (404, 409)),
    "create_export": Operation(
        "Export a canvas (fires export.* events)",
        "moda",
        "202",
        "Task",
        _CREATE_ERRORS,
        body=_EXPORT_BODY,
        body_required=False,
    ),
    "export_status": Operation(
        "Status of a canvas export",
        "moda",
        "200",
        "Task",
        (404,),
        query=(_query("task_id", _STR, "The export task", required=True),),
    ),
    "list_deliveries": Operation(
        "List webhook deliveries, newest first",
        "moda",
        "200",
        "DeliveryList",
        query=(
            _LIMIT,
            _CURSOR,
            _query("event_type", _STR, "Filter"),
            _query("status", {"type": "string", "enum": ["pending", "succeeded", "failed"]}, "Filter"),
            _query("api_key_id", _STR, "Filter"),
            _query("from", {"type": "string", "format": "date-time"}, "Created at or after"),
            _query("to", {"type": "string", "format": "date-time"}, "Created at or before"),
        ),
    ),
    "get_delivery": Operation(
        "One delivery with its attempt timeline (extension)",
        "moda",
        "200",
        "DeliveryDetail",
        (404,),
        description="hookmock extension: Moda documents no such route.",
    ),
    "redeliver": Operation(
        "Redeliver: a new delivery with the original body", "moda", "202", "Redelivery", (404,)
    ),
    # hookmock's control API (/_hookmock)
    "health": Operation(
        "Liveness",
        "control",
        "200",
        {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}},
    ),
    "ready": Operation(
        "Readiness",
        "control",
        "200",
        {
            "type": "object",
            "required": ["ready", "base_url", "clock", "tasks"],
            "properties": {
                "ready": {"const": True},
                "base_url": _STR,
                "clock": {"enum": ["real", "virtual"]},
                "tasks": {"type": "integer", "description": "tasks in the store"},
            },
        },
    ),
    "openapi": Operation("This document", "control", "200", {"type": "object"}),
    "get_clock": Operation("The emulator's clock", "control", "200", "Clock"),
    "advance_clock": Operation(
        "Advance the virtual clock, running everything due on the way",
        "control",
        "200",
        "ClockAdvanced",
        (409,),
        body=_ADVANCE_BODY,
        body_required=False,
        description="The answer says what is still pending, and warns (`warning`, also logged) when the "
        "virtual clock is more than 300 s from wall time: receivers that check freshness against "
        "their own clock then refuse every webhook.",
    ),
    "settle": Operation(
        "Wait until no delivery attempt or task step is due now and none is in flight",
        "control",
        "200",
        "Settled",
        query=(
            _query(
                "timeout",
                {"type": "number", "minimum": 0, "maximum": 120, "default": 10},
                "The longest real wait, in seconds",
            ),
        ),
        description="Returns as soon as nothing is due or in flight (`settled: true`), or when the "
        "timeout is reached (`settled: false`); `pending` lists what is scheduled for later.",
    ),
    "reset": Operation(
        "Forget all tasks and games; cancel pending deliveries (none is sent again) and hide "
        "earlier deliveries from the lists",
        "control",
        "200",
        {"type": "object", "required": ["reset"], "properties": {"reset": {"const": True}}},
    ),
    "complete_task": Operation(
        "End a task now with the given outcome", "control", "200", "Task", (404, 409), body=_COMPLETE_BODY
    ),
    "trigger_moda_event": Operation(
        "Fire any Moda event (a generated envelope, with overrides) at a URL",
        "control",
        "202",
        "Delivery",
        body=_MODA_EVENT_BODY,
    ),
    "drill": Operation(
        "Make the sender misbehave on purpose: " + "; ".join(f"{k}: {v}" for k, v in DRILLS.items()),
        "control",
        "200",
        {
            "type": "object",
            "required": ["mode", "sent"],
            "properties": {
                "mode": {"enum": list(DRILLS)},
                "sent": {"type": "array", "items": _ref("DrillRequest")},
            },
        },
        (404, 409),
        body=_DRILL_BODY,
    ),
    # mod.io's side (extension: mod.io publishes no API for it)
    "modio_games": Operation(
        "mod.io games with a webhook (a token is shown only where the emulator issued it)",
        "modio",
        "200",
        {
            "type": "object",
            "required": ["data"],
            "properties": {"data": {"type": "array", "items": _ref("Game")}},
        },
    ),
    "modio_put_webhook": Operation(
        "Configure a game's webhook (URL and security token)", "modio", "200", "Game", body=_WEBHOOK_BODY
    ),
    "modio_event_names": Operation(
        "The mod.io event names the emulator knows (catalogue and registered)",
        "modio",
        "200",
        _EVENT_NAMES,
    ),
    "modio_register_event": Operation(
        "Register a mod.io event name (as serve --modio-event NAME does)",
        "modio",
        "201",
        _EVENT_NAMES,
        body=_EVENT_NAME_BODY,
    ),
    "modio_trigger": Operation(
        "Fire a catalogue event at the game's webhook",
        "modio",
        "202",
        "HistoryEntry",
        (404,),
        body=_MODIO_EVENT_BODY,
    ),
    "modio_test": Operation("The Test button: send PING", "modio", "202", "HistoryEntry", (404,)),
    "modio_history": Operation(
        "Webhook history as JSON (extension: mod.io publishes no history API)",
        "modio",
        "200",
        _HISTORY,
        query=(_LIMIT, _CURSOR),
    ),
    "modio_history_entry": Operation(
        "One history entry with its attempts", "modio", "200", "DeliveryDetail", (404,)
    ),
    "modio_retry": Operation(
        "Retry: re-send the same payload on the same entry (attempts + 1)",
        "modio",
        "202",
        "HistoryEntry",
        (404, 409),
    ),
    # the history page (HTML)
    "ui": Operation("History page (HTML)", "page", "200", None),
    "ui_rows": Operation(
        "The history page's rows as JSON (what its live updates poll)",
        "page",
        "200",
        {"type": "object", "required": ["clock", "now_ms", "filters", "rows", "next_cursor"]},
        query=(
            _query("status", {"enum": ["pending", "succeeded", "failed"]}, "Only deliveries in this status"),
            _query("event_type", _STR, "Only deliveries of this event type"),
            _query("profile", {"enum": ["moda", "modio"]}, "Only this provider's deliveries"),
            _query("q", _STR, "A delivery id or an event id (exact)"),
            _query("cursor", _STR, "The next_cursor of the previous page (keyset pagination)"),
        ),
    ),
    "ui_script": Operation(
        "The history page's script (JavaScript)", "page", "200", None, media="text/javascript"
    ),
    "ui_style": Operation("The history page's stylesheet (CSS)", "page", "200", None, media="text/css"),
    "ui_create_task": Operation(
        "The page's Create-a-Moda-task form (form post; 303 back to the page)",
        "page",
        "303",
        None,
        (),
        ok_text="Back to the page",
    ),
    "ui_modio_event": Operation(
        "The page's Fire-a-mod.io-event form (form post; 303 back to the page)",
        "page",
        "303",
        None,
        (404,),
        ok_text="Back to the page",
    ),
    "ui_details": Operation("Delivery details page (HTML)", "page", "200", None, (404,)),
    "ui_retry": Operation(
        "The page's Retry/Redeliver button (form post; 303 back to the page)",
        "page",
        "303",
        None,
        (404, 409),
        ok_text="Back to the page",
    ),
    "ui_test": Operation(
        "The page's Test button (form post; 303 back to the page)",
        "page",
        "303",
        None,
        (404,),
        ok_text="Back to the page",
    ),
}


def _envelope() -> dict[str, Any]:
    """Moda's event envelope, its ``data`` pointing at this document's Task."""
    s = _schema("moda-envelope")
    s["properties"]["data"] = _ref("Task")
    return s


def _components() -> dict[str, Any]:
    return {
        "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "moda_live_… key"}},
        "schemas": {
            "Error": _schema("moda-error"),
            "Task": _schema("moda-task"),
            "TaskList": {
                "type": "object",
                "required": ["data", "next_cursor"],
                "properties": {"data": {"type": "array", "items": _ref("Task")}, "next_cursor": _NSTR},
            },
            "Delivery": _schema("moda-delivery"),
            "Envelope": _envelope(),
            "DeliveryList": {
                "type": "object",
                "required": ["data", "next_cursor"],
                "properties": {"data": {"type": "array", "items": _ref("Delivery")}, "next_cursor": _NSTR},
            },
            "DeliveryDetail": {
                "type": "object",
                "required": ["id", "profile", "attempt_timeline"],
                "properties": {
                    "id": _STR,
                    "profile": {"enum": ["moda", "modio"]},
                    "payload": {},
                    "attempt_timeline": {"type": "array", "items": _ref("Attempt")},
                },
            },
            "DrillRequest": {
                "type": "object",
                "description": "One request a drill sent (never logged as a delivery)",
                "required": [
                    "delivery_id",
                    "event_id",
                    "timestamp",
                    "outcome",
                    "status_code",
                    "duration_ms",
                    "response_body_excerpt",
                ],
                "properties": {
                    "delivery_id": _STR,
                    "event_id": {"type": ["string", "null"]},
                    "timestamp": {
                        "type": ["integer", "null"],
                        "description": "the signed Unix timestamp (null: mod.io signs none)",
                    },
                    "outcome": {"enum": list(ATTEMPT_OUTCOMES)},
                    "status_code": {"type": ["integer", "null"]},
                    "duration_ms": {"type": "integer"},
                    "response_body_excerpt": {"type": ["string", "null"]},
                },
            },
            "Attempt": {
                "type": "object",
                "description": "One attempt of a delivery, oldest first",
                "required": [
                    "number",
                    "started_at",
                    "started_ns",
                    "duration_ms",
                    "outcome",
                    "status_code",
                    "response_body_excerpt",
                    "detail",
                    "response_headers",
                ],
                "properties": {
                    "number": {"type": "integer", "minimum": 1, "description": "1 for the first attempt"},
                    "started_at": {"type": "string", "format": "date-time"},
                    "started_ns": {"type": "integer", "description": "started_at in Unix nanoseconds"},
                    "duration_ms": {
                        "type": ["integer", "null"],
                        "description": "null while the attempt is in flight",
                    },
                    "outcome": {
                        "enum": [*ATTEMPT_OUTCOMES, IN_FLIGHT, INTERRUPTED],
                        "description": "response: an HTTP answer (any status); in_flight: being sent; "
                        "interrupted: the sending process stopped first; the rest: no answer, and why",
                    },
                    "status_code": {"type": ["integer", "null"], "description": "null without a response"},
                    "response_body_excerpt": {
                        "type": ["string", "null"],
                        "description": "the start of the response body (secrets redacted)",
                    },
                    "detail": {"type": ["string", "null"], "description": "what went wrong, in words"},
                    "response_headers": {
                        "type": "array",
                        "description": "the response's headers as [name, value] pairs, in order (secrets "
                        "redacted; at most 50, values cut to 1 KB, 8 KB in all; empty without a response)",
                        "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
                    },
                },
            },
            "Redelivery": {
                "type": "object",
                "required": ["id", "replayed_from_id", "status"],
                "properties": {"id": _STR, "replayed_from_id": _STR, "status": {"const": "pending"}},
            },
            "HistoryEntry": _schema("modio-history-entry"),
            "Game": {
                "type": "object",
                "required": ["game_id", "url", "ruleset_uuid", "token_issued"],
                "properties": {
                    "game_id": _STR,
                    "url": _STR,
                    "ruleset_uuid": _STR,
                    "token_issued": {"type": "boolean"},
                    "token": {
                        "type": "string",
                        "description": "The token the emulator issued (absent when the user gave one)",
                    },
                },
            },
            "Clock": {
                "type": "object",
                "required": ["now", "now_ns", "clock", "skew_s", "warning"],
                "properties": _CLOCK_PROPERTIES,
            },
            "ClockAdvanced": {
                "type": "object",
                "required": ["now", "now_ns", "clock", "skew_s", "warning", "pending"],
                "properties": {**_CLOCK_PROPERTIES, "pending": _ref("Pending")},
            },
            "Pending": {
                "type": "object",
                "required": ["deliveries", "in_flight", "next_attempt_at", "next_task_step_at"],
                "properties": {
                    "deliveries": {"type": "integer", "description": "unfinished deliveries"},
                    "in_flight": {"type": "integer", "description": "attempts being sent now"},
                    "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
                    "next_task_step_at": {"type": ["string", "null"], "format": "date-time"},
                },
            },
            "Settled": {
                "type": "object",
                "required": ["settled", "waited_ms", "pending"],
                "properties": {
                    "settled": {"type": "boolean"},
                    "waited_ms": {"type": "integer"},
                    "pending": _ref("Pending"),
                },
            },
        },
    }


_PATH_VARIABLE = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


def openapi_path(rule: str) -> str:
    """A werkzeug rule's path as OpenAPI writes it: ``/v1/tasks/<task_id>`` -> ``/v1/tasks/{task_id}``."""
    return _PATH_VARIABLE.sub(r"{\1}", rule)


def _path_parameter(name: str, rule: str) -> dict[str, Any]:
    if name not in PATH_PARAMETERS:
        raise ValueError(f"route {rule}: path parameter <{name}> has no description in PATH_PARAMETERS")
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": PATH_PARAMETERS[name],
        "schema": {"type": "string"},
    }


def _operation(op: Operation, rule: str) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": op.summary, "tags": [TAGS[op.kind]]}
    parameters = [_path_parameter(name, rule) for name in _PATH_VARIABLE.findall(rule)]
    parameters.extend(op.query)
    if op.kind == "moda":
        out["security"] = [{"apiKey": []}]
        parameters.append(_VERSION_PARAM)
    if parameters:
        out["parameters"] = parameters
    if op.description is not None:
        out["description"] = op.description
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required, "content": {JSON: {"schema": op.body}}}
    if op.kind == "page" and op.schema is None and op.ok_text is None:
        ok: dict[str, Any] = {"description": op.media, "content": {op.media: {"schema": _STR}}}
    elif op.schema is None:
        ok = {"description": op.ok_text or op.summary}
    else:
        ok = _json(_ref(op.schema) if isinstance(op.schema, str) else op.schema, op.summary)
    errors = (400, 401, *op.errors) if op.kind == "moda" else (400, *op.errors)
    out["responses"] = {op.ok: ok, **_errors(*errors)}
    return out


def build(routes: Iterable[tuple[str, list[str], str, object]]) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (``(path, methods, endpoint, handler)``, as the app routes
    them), each described by its entry in :data:`OPERATIONS`.

    Raises :class:`ValueError` naming the endpoint when a route has no operation or an operation
    has no route, and naming the path parameter when one has no description."""
    paths: dict[str, dict[str, Any]] = {}
    served: set[str] = set()
    for rule, methods, endpoint, _handler in routes:
        op = OPERATIONS.get(endpoint)
        if op is None:
            raise ValueError(f"route {rule} (endpoint {endpoint!r}) has no entry in openapi.OPERATIONS")
        served.add(endpoint)
        for method in methods:
            paths.setdefault(openapi_path(rule), {})[method.lower()] = _operation(op, rule)
    unserved = sorted(set(OPERATIONS) - served)
    if unserved:
        raise ValueError(f"openapi.OPERATIONS documents endpoints no route serves: {', '.join(unserved)}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hookmock emulator",
            "version": __version__,
            "description": "Moda's API (/v1) as the emulator serves it, and hookmock's own control API, "
            "mod.io "
            "settings and history (/_hookmock, extensions). Every error has Moda's error body. "
            "Request bodies are JSON in UTF-8 (RFC 8259 section 8.1): a body whose Content-Type declares "
            "another charset (application/json; charset=utf-16) is refused with 415 "
            "unsupported_media_type, never misread. An Expect header other than 100-continue is "
            "answered 417 expectation_failed. While another process holds the --db file's lock past "
            "the busy wait, every route answers 503 database_locked with Retry-After: retry then.",
        },
        "paths": paths,
        "components": _components(),
    }
