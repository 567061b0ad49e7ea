from __future__ import annotations

import copy
import json
import re

import pytest

import hookmock
from hookmock.cli import main
from hookmock.errors import SchemaValidationError, UsageError
from hookmock.validation import guess_schema, load_schema, schema_names, violations

#: mod.io's published webhook example, as its Rules Engine webhook page shows it
MODIO_SEED_EXAMPLE = {
    "event_name": "ADD_MOD_COMMENT",
    "event_timestamp": 1683876030,
    "event_uuid": "5d9f92b8-ce56-42e8-8a1d-838f3c405981",
    "request_method": "POST",
    "request_resource": {
        "resource_type": "comment",
        "resource_id": 30,
        "resource_url": "https://mod.io/g/demo/m/aepyceros-volitans#30",
    },
    "request_secondary_resource": {
        "resource_type": "mod",
        "resource_id": 10,
        "resource_url": "https://mod.io/g/demo/m/aepyceros-volitans",
    },
    "request_user": {"user_id": 1, "username": "Admin", "profile_url": "https://mod.io/u/admin"},
    "event_body": {"content": "I am a bad apple!"},
}


def _seed_example() -> dict:
    """A fresh copy of mod.io's published example (other test modules import it)."""
    return copy.deepcopy(MODIO_SEED_EXAMPLE)


def test_published_examples_validate_against_their_schemas():
    """The provider's own example payload and Test-button payload are valid, and are recognised as
    the schema they belong to (a schema stricter than the provider would reject real traffic)."""
    hookmock.validate(MODIO_SEED_EXAMPLE)
    assert guess_schema(MODIO_SEED_EXAMPLE) == "modio-event"
    ping = {
        "event": "PING",
        "event_timestamp": 1683876030,
        "event_uuid": "5d9f92b8-ce56-42e8-8a1d-838f3c405981",
        "message": "If you received this then everything looks good!",
    }
    hookmock.validate(ping, "modio-ping")
    assert guess_schema(ping) == "modio-ping"


def test_every_schema_is_2020_12_with_an_id():
    names = schema_names()
    for required in (
        "moda-envelope",
        "moda-task",
        "moda-delivery",
        "moda-error",
        "modio-event",
        "modio-ping",
        "modio-history-entry",
    ):
        assert required in names
    for name in names:
        doc = load_schema(name)
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert doc["$id"].endswith(f"{name}.schema.json")
        from jsonschema import Draft202012Validator

        Draft202012Validator.check_schema(doc)


def test_violations_are_listed_with_json_paths():
    event = hookmock.make_event("moda", "task.failed", seed=1)
    event["data"]["status"] = "succeeded"
    event["data"]["kind"] = "painting"
    del event["created"]
    with pytest.raises(SchemaValidationError) as info:
        hookmock.validate(event)
    paths = {v.path for v in info.value.violations}
    assert {"$", "$.data.kind", "$.data.status"} <= paths
    assert "'created' is a required property" in str(info.value)
    assert len(info.value.violations) >= 3


def test_event_and_task_must_agree():
    event = hookmock.make_event("moda", "export.succeeded", seed=2)
    event["type"] = "task.succeeded"
    assert any(v.path == "$.data.kind" for v in violations(event))


def test_guess_schema():
    assert guess_schema(hookmock.make_event("moda", seed=1)) == "moda-envelope"
    assert guess_schema(MODIO_SEED_EXAMPLE) == "modio-event"
    assert guess_schema({"event": "PING"}) == "modio-ping"
    with pytest.raises(UsageError, match="--schema"):
        guess_schema({"hello": 1})
    with pytest.raises(UsageError, match="unknown schema 'nope'"):
        violations({}, "nope")


def test_cli_validate_exit_codes(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(MODIO_SEED_EXAMPLE))
    assert main(["validate", str(good)]) == 0
    assert "valid modio-event" in capsys.readouterr().out

    bad = tmp_path / "bad.json"
    broken = dict(MODIO_SEED_EXAMPLE, event_uuid="nope")
    bad.write_text(json.dumps(broken))
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "$.event_uuid" in out

    assert main(["validate", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert main(["validate", str(garbage)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["validate", str(good), "--schema", "moda-envelope"]) == 1
    assert main(["validate", str(good), "--schema", "nope"]) == 2


def test_cli_schema_lists_and_prints(capsys):
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert "moda-envelope" in out and "modio-history-entry" in out
    assert main(["schema", "modio-ping"]) == 0
    assert json.loads(capsys.readouterr().out)["$id"].endswith("modio-ping.schema.json")


def test_cli_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert re.search(r"hookmock \d+\.\d+", capsys.readouterr().out)
    assert main(["--help"]) == 0
    assert "validate" in capsys.readouterr().out
    assert main(["no-such-command"]) == 2


def test_cli_events_and_sign(capsys, tmp_path):
    assert main(["events", "--profile", "modio"]) == 0
    lines = capsys.readouterr().out.splitlines()
    said = [line.count("inferred from the Rules Engine actions") for line in lines]
    assert said.count(1) == 12 and max(said) == 1  # each inferred name says so once, not twice
    assert main(["events", "--profile", "moda", "--example", "task.failed", "--seed", "3"]) == 0
    hookmock.validate(json.loads(capsys.readouterr().out))
    body = tmp_path / "b.json"
    body.write_bytes(b"{}")
    assert main(["sign", str(body), "--secret", "whsec_x", "--timestamp", "1700000000"]) == 0
    headers = json.loads(capsys.readouterr().out)
    hookmock.verify("moda", headers, b"{}", "whsec_x", now=1700000000)
    assert main(["events", "--profile", "nope"]) == 2
    assert "unknown profile 'nope'" in capsys.readouterr().err
