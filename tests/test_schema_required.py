"""Every required field of every shipped schema is enforced, with the field's path.

Two halves, so that neither the schemas nor the validator can quietly lose a requirement:

- the cases are generated from the schemas themselves: a recording validator walks each valid example
  and notes every ``required`` keyword that applies to it (conditions inside ``if`` excluded); each
  required key is then removed from a copy, and the violation must name the key at the object's path;
- the fields the provider documents (and hookmock's own API shapes) promise are pinned here by hand,
  and must be among what the schema requires — dropping ``"id"`` from a ``required`` list fails.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest

from emulator_support import running, stack
from hookmock import EventFactory
from hookmock.profiles import available_profiles, get_profile
from hookmock.receiver.server import FakeReceiver
from hookmock.validation import load_schema, schema_names, violations

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

# What the provider documents (and, for the emulator's own shapes, hookmock's API) say is always there.
DOCUMENTED_REQUIRED: dict[str, set[str]] = {
    "moda-envelope": {"id", "type", "created", "api_version", "data"},
    "moda-task": {"id", "kind", "status", "created_at"},
    "moda-delivery": {"id", "event_type", "target_url", "status", "attempts", "created_at"},
    "moda-error": {"error"},
    "modio-event": {"event_name", "event_timestamp", "event_uuid", "request_resource", "event_body"},
    "modio-ping": {"event", "event_timestamp", "event_uuid", "message"},
    "modio-history-entry": {"id", "date", "name", "http_status", "response", "event_uuid", "url", "payload"},
    "scenario": {"scenario", "steps"},
    # the Standard Webhooks specification's payload structure ("data" may also be squashed in)
    "standard-webhooks-event": {"type", "timestamp"},
}
# Nested objects the documents describe field by field: (schema, JSON pointer into the schema) -> fields.
DOCUMENTED_NESTED: dict[tuple[str, str], set[str]] = {
    ("moda-error", "/properties/error"): {"type", "code", "message"},
    ("moda-task", "/properties/links"): {"self"},
    ("modio-event", "/properties/request_resource"): {"resource_type", "resource_id", "resource_url"},
    ("modio-event", "/properties/request_user"): {"user_id", "username", "profile_url"},
}


def _without_if_requirements(node: Any, inside_if: bool = False) -> Any:
    """A copy in which ``required`` under an ``if`` (a condition, not a demand) is renamed."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            name = "x-condition-required" if key == "required" and inside_if else key
            out[name] = _without_if_requirements(value, inside_if or key == "if")
        return out
    if isinstance(node, list):
        return [_without_if_requirements(v, inside_if) for v in node]
    return node


def _applicable_required(schema_name: str, example: Any) -> set[tuple[str, str]]:
    """(JSON path, key) for every ``required`` key that applies to ``example`` under ``schema_name``."""
    from jsonschema import Draft202012Validator, validators
    from referencing import Registry, Resource

    paths: dict[int, str] = {}

    def index(node: Any, path: str) -> None:
        if isinstance(node, dict):
            paths[id(node)] = path
            for key, value in node.items():
                index(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                index(value, f"{path}[{i}]")

    index(example, "$")
    seen: set[tuple[str, str]] = set()
    original = Draft202012Validator.VALIDATORS["required"]

    def recording(validator: Any, required: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if isinstance(instance, dict) and id(instance) in paths:
            seen.update((paths[id(instance)], key) for key in required if key in instance)
        yield from original(validator, required, instance, schema)

    recorder = validators.extend(
        Draft202012Validator, {"required": recording, "x-condition-required": original}
    )
    docs = {name: _without_if_requirements(load_schema(name)) for name in schema_names()}
    registry: Registry[Any] = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc)) for doc in docs.values()
    )
    errors = list(recorder(docs[schema_name], registry=registry).iter_errors(example))
    assert errors == [], f"the example is not a valid {schema_name}: {errors[0].message}"
    return seen


def _remove(example: Any, path: str, key: str) -> Any:
    doc = copy.deepcopy(example)
    node = doc
    for part in path[2:].replace("[", ".[").split(".") if path != "$" else []:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    del node[key]
    return doc


@pytest.fixture(scope="module")
def examples() -> dict[str, list[Any]]:
    """Valid examples of every shipped schema: factory events, emulator output, shipped scenarios."""
    found: dict[str, list[Any]] = {name: [] for name in schema_names()}
    for profile in available_profiles():  # every profile's event schemas get factory examples
        factory = EventFactory(profile, seed=11)
        for event_type in get_profile(profile).event_types:
            event = factory.event(event_type)
            name = get_profile(profile).schema_for(event)
            found[name].append(event)
            if name == "moda-envelope":
                found["moda-task"].append(event["data"])
    with stack("500,ok") as (_emu, api, receiver):
        task = api.post("/v1/tasks", {"prompt": "a poster", "callback_url": receiver.url})
        api.advance(60)
        found["moda-task"].append(api.get(f"/v1/tasks/{task['id']}"))
        found["moda-delivery"].extend(api.get("/v1/webhook_deliveries")["data"])
        found["moda-envelope"].append(json.loads(receiver.requests[-1].body))
        status, body, _ = api.call("GET", "/v1/tasks/tsk_does_not_exist")
        assert status == 404
        found["moda-error"].append(body)
    token = get_profile("modio").generate_secret()
    receiver = FakeReceiver("modio", token)
    receiver.start()
    try:
        with running() as (_emu, api):
            api.put("/_hookmock/modio/games/g/webhook", {"url": receiver.url, "token": token})
            api.post("/_hookmock/modio/games/g/events", {"event_name": "ADD_MOD_COMMENT"})
            api.post("/_hookmock/modio/games/g/test")
            api.advance(1)
            found["modio-history-entry"].extend(api.get("/_hookmock/modio/history")["data"])
    finally:
        receiver.stop()
    for entry in resources.files("hookmock.scenarios").joinpath("examples").iterdir():
        if entry.name.endswith(".toml"):
            found["scenario"].append(tomllib.loads(entry.read_text(encoding="utf-8")))
    return found


def test_every_schema_has_examples(examples: dict[str, list[Any]]) -> None:
    assert {name for name, docs in examples.items() if not docs} == set()


@pytest.mark.parametrize("schema_name", schema_names())
def test_removing_each_required_field_is_reported_with_its_path(
    schema_name: str, examples: dict[str, list[Any]]
) -> None:
    checked = 0
    for example in examples[schema_name]:
        for path, key in sorted(_applicable_required(schema_name, example)):
            broken = _remove(example, path, key)
            found = violations(broken, schema_name)
            assert any(
                v.path == path and repr(key) in v.message and "required" in v.message for v in found
            ), f"{schema_name}: removing {path}.{key} was reported as {found}"
            checked += 1
    assert checked >= len(DOCUMENTED_REQUIRED.get(schema_name, ()))


@pytest.mark.parametrize("schema_name", sorted(DOCUMENTED_REQUIRED))
def test_documented_fields_are_required_by_the_schema(schema_name: str) -> None:
    assert schema_name in schema_names()
    required = set(load_schema(schema_name).get("required", ()))
    assert DOCUMENTED_REQUIRED[schema_name] <= required, DOCUMENTED_REQUIRED[schema_name] - required


@pytest.mark.parametrize(("schema_name", "pointer"), sorted(DOCUMENTED_NESTED))
def test_documented_nested_fields_are_required_by_the_schema(schema_name: str, pointer: str) -> None:
    node: Any = load_schema(schema_name)
    for part in pointer.strip("/").split("/"):
        node = node[part]
    missing = DOCUMENTED_NESTED[(schema_name, pointer)] - set(node.get("required", ()))
    assert missing == set(), f"{schema_name}{pointer} no longer requires {sorted(missing)}"


@pytest.mark.parametrize("schema_name", sorted(DOCUMENTED_REQUIRED))
def test_documented_fields_are_enforced_on_every_example(
    schema_name: str, examples: dict[str, list[Any]]
) -> None:
    for example in examples[schema_name]:
        for key in sorted(DOCUMENTED_REQUIRED[schema_name]):
            broken = {k: v for k, v in example.items() if k != key}
            assert any(v.path == "$" and repr(key) in v.message for v in violations(broken, schema_name)), (
                schema_name,
                key,
            )
