"""hookmock's JSON Schemas outside Python: written to a folder (``hookmock schema --out``) and bundled
(``--bundle``), checked offline by check-jsonschema and by Ajv in strict mode, which must agree with
``hookmock validate`` on valid payloads (the mod.io seed example, factory output for every event
type) and on mutated ones."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from hookmock.cli import main
from hookmock.factories import EventFactory
from hookmock.validation import bundle_schema, guess_schema, load_schema, schema_names, violations
from schema_tools import ajv_dir, ajv_verdicts, check_jsonschema_failures
from test_validation import _seed_example

PING = {
    "event": "PING",
    "event_timestamp": 1683876030,
    "event_uuid": "5d9f92b8-ce56-42e8-8a1d-838f3c405981",
    "message": "If you received this then everything looks good!",
}


def _valid() -> list[tuple[str, dict[str, Any]]]:
    found = [("modio-seed", _seed_example()), ("modio-ping", PING)]
    for profile in ("moda", "modio"):
        for payload in EventFactory(profile, seed=15).every_event():
            kind = payload.get("type") or payload.get("event_name") or payload.get("event")
            found.append((f"{profile}-{kind}".replace(".", "_"), payload))
    return found


def _mutations(payload: dict[str, Any], schema: str) -> list[dict[str, Any]]:
    required = load_schema(schema)["required"]
    dropped = {k: v for k, v in payload.items() if k != required[0]}
    retyped = {**payload, required[-1]: [1, 2]}
    out = [dropped, retyped]
    if schema == "moda-envelope":  # the status must match the event type (allOf/if/then across $ref)
        swapped = copy.deepcopy(payload)
        swapped["data"]["status"] = "succeeded" if payload["data"]["status"] != "succeeded" else "failed"
        out.append(swapped)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[Path], set[str]]]:
    """``{schema: (instance files, the invalid ones by path)}``, judged by hookmock."""
    where = tmp_path_factory.mktemp("payloads")
    by_schema: dict[str, tuple[list[Path], set[str]]] = {}
    for label, payload in _valid():
        schema = guess_schema(payload)
        files, invalid = by_schema.setdefault(schema, ([], set()))
        assert violations(payload, schema) == [], label
        path = where / f"{label}.json"
        path.write_text(json.dumps(payload))
        files.append(path)
        for i, mutated in enumerate(_mutations(payload, schema)):
            assert violations(mutated, schema) != [], (label, i)
            path = where / f"{label}-mutated{i}.json"
            path.write_text(json.dumps(mutated))
            files.append(path)
            invalid.add(str(path))
    assert set(by_schema) == {"moda-envelope", "modio-event", "modio-ping"}
    return by_schema


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folders = {"out": tmp_path_factory.mktemp("out"), "bundle": tmp_path_factory.mktemp("bundle")}
    assert main(["schema", "--out", str(folders["out"])]) == 0
    assert main(["schema", "--out", str(folders["bundle"]), "--bundle"]) == 0
    return folders


def test_check_jsonschema_agrees_with_hookmock_on_the_bundled_schemas(corpus, written) -> None:
    for schema, (files, invalid) in corpus.items():
        assert check_jsonschema_failures(written["bundle"] / f"{schema}.schema.json", files) == invalid, (
            schema
        )


def test_check_jsonschema_agrees_with_hookmock_on_the_written_out_folder(corpus, written) -> None:
    # check-jsonschema resolves a relative $id against its working directory rather than the file it
    # read, so it is told where the schema lives; the references then resolve from the folder.
    for schema, (files, invalid) in corpus.items():
        path = written["out"] / f"{schema}.schema.json"
        assert check_jsonschema_failures(path, files, "--base-uri", path.as_uri()) == invalid, schema


@pytest.fixture(scope="module")
def ajv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ajv-cli and ajv-formats, installed once into pytest's cache (the validation itself is offline)."""
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    return ajv_dir(
        Path(cache.mkdir("hookmock-tools") if cache is not None else tmp_path_factory.mktemp("tools"))
    )


def test_ajv_in_strict_mode_agrees_with_hookmock_on_bundled_and_written_out_schemas(
    corpus, written, ajv
) -> None:
    for schema, (files, invalid) in corpus.items():
        bundled = ajv_verdicts(ajv, written["bundle"] / f"{schema}.schema.json", [], files)
        others = [p for p in sorted(written["out"].iterdir()) if p.name != f"{schema}.schema.json"]
        folder = ajv_verdicts(ajv, written["out"] / f"{schema}.schema.json", others, files)
        expected = {str(f): str(f) not in invalid for f in files}
        assert bundled == expected, schema
        assert folder == expected, schema


def test_every_schema_compiles_under_ajv_strict_mode(written, ajv) -> None:
    for path in sorted(written["bundle"].iterdir()):
        # an empty object is valid or not; what matters is that strict mode compiles the schema
        instance = path.with_suffix(".instance")
        instance.write_text("{}")
        ajv_verdicts(ajv, path, [], [instance])
        instance.unlink()


def test_no_schema_names_a_network_host() -> None:
    for name in schema_names():
        text = json.dumps(load_schema(name))
        doc = load_schema(name)
        assert doc["$id"] == f"{name}.schema.json"
        refs = [v for k, v in _walk(doc) if k == "$ref"]
        assert all(r.startswith("#") or r.endswith(".schema.json") for r in refs), (name, refs)
        assert "hookmock.dev" not in text


def _walk(node: Any) -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [pair for k, v in node.items() for pair in [(k, v), *_walk(v)]]
    if isinstance(node, list):
        return [pair for item in node for pair in _walk(item)]
    return []


def test_a_bundle_is_self_contained() -> None:
    bundled = bundle_schema("moda-envelope")
    assert bundled["properties"]["data"] == {"$ref": "#/$defs/moda-task"}
    embedded = bundled["$defs"]["moda-task"]
    assert "$id" not in embedded and "$schema" not in embedded
    assert embedded["properties"] == load_schema("moda-task")["properties"]
    for name in schema_names():
        bundled = bundle_schema(name)
        Draft202012Validator.check_schema(bundled)  # a valid draft 2020-12 document
        refs = [v for k, v in _walk(bundled) if k == "$ref"]
        assert all(r.startswith("#") for r in refs), (name, refs)
    # a schema's own pointers keep working
    assert bundle_schema("scenario")["properties"]["steps"]["items"] == {"$ref": "#/$defs/step"}


def test_schema_cli_bundle_prints_the_bundle(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "moda-envelope", "--bundle"]) == 0
    assert json.loads(capsys.readouterr().out) == bundle_schema("moda-envelope")


def test_schema_cli_out_writes_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--out", str(tmp_path / "new" / "dir")]) == 0
    written = sorted(p.name for p in (tmp_path / "new" / "dir").iterdir())
    assert written == sorted(f"{n}.schema.json" for n in schema_names())
    assert len(capsys.readouterr().out.splitlines()) == len(schema_names())
    for name in schema_names():
        assert json.loads((tmp_path / "new" / "dir" / f"{name}.schema.json").read_text()) == load_schema(name)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["schema", "--bundle"], "--bundle needs a schema NAME"),
        (["schema", "moda-task", "--out", "x"], "drop the name 'moda-task'"),
        (["schema", "nope", "--bundle"], "unknown schema 'nope'"),
    ],
)
def test_schema_cli_mistakes_exit_2_with_a_message(argv, says, capsys) -> None:
    assert main(argv) == 2
    assert says in capsys.readouterr().err


def test_schema_cli_out_onto_a_file_exits_2(tmp_path: Path, capsys) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    assert main(["schema", "--out", str(target)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
