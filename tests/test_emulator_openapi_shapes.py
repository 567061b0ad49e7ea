"""The OpenAPI document describes the control API's answers field by field (generated clients get
types), and real answers over a socket validate against those descriptions."""

from __future__ import annotations

from typing import Any

import jsonschema

from emulator_support import stack
from hookmock.emulator.openapi import OPERATIONS
from hookmock.emulator.routes import document

CONTROL_ROUTES = ("health", "ready", "get_clock", "advance_clock", "settle", "reset", "drill")


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    doc = document()
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    doc = document()
    return jsonschema.Draft202012Validator(
        {**schema, "components": doc["components"]}, format_checker=jsonschema.FormatChecker()
    )


def _ok_schema(method: str, path: str) -> dict[str, Any]:
    op = document()["paths"][path][method]
    status = next(code for code in op["responses"] if code.startswith("2"))
    return op["responses"][status]["content"]["application/json"]["schema"]


def test_attempt_timeline_items_and_control_answers_are_described_field_by_field():
    doc = document()
    detail = doc["components"]["schemas"]["DeliveryDetail"]["properties"]["attempt_timeline"]
    attempt = _resolved(detail["items"])
    assert {"number", "started_at", "duration_ms", "outcome", "status_code"} <= set(attempt["required"])
    assert "interrupted" in attempt["properties"]["outcome"]["enum"]
    for name in CONTROL_ROUTES:
        given = OPERATIONS[name].schema
        assert given is not None
        schema = _resolved({"$ref": f"#/components/schemas/{given}"} if isinstance(given, str) else given)
        assert schema.get("properties"), f"{name}: its answer has no described fields"


def test_real_answers_validate_against_the_described_shapes():
    with stack("500,ok") as (_emu, api, receiver):
        api.post("/v1/tasks", {"prompt": "A poster", "callback_url": receiver.url})
        advanced = api.advance(10)
        _validator(_ok_schema("post", "/_hookmock/clock/advance")).validate(advanced)
        [row] = api.get("/v1/webhook_deliveries")["data"]
        detail = api.get(f"/v1/webhook_deliveries/{row['id']}")
        assert len(detail["attempt_timeline"]) == 2
        _validator(_ok_schema("get", "/v1/webhook_deliveries/{delivery_id}")).validate(detail)
        drill = api.post("/_hookmock/drills", {"mode": "stale", "delivery_id": row["id"]})
        _validator(_ok_schema("post", "/_hookmock/drills")).validate(drill)
        _validator(_ok_schema("post", "/_hookmock/settle")).validate(api.post("/_hookmock/settle?timeout=1"))
        _validator(_ok_schema("get", "/_hookmock/ready")).validate(api.get("/_hookmock/ready"))
