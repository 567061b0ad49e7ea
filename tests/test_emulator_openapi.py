"""The OpenAPI document: it describes every route, and the app conforms to it (schemathesis)."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from emulator_support import running
from hookmock.emulator import openapi
from hookmock.emulator.routes import all_routes, document

SCHEMA = schemathesis.openapi.from_dict(document())


def _documented(doc: dict) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}


def test_every_served_route_is_documented_and_every_documented_route_is_served():
    """Against the running app's router, not the table the document is built from.  HEAD is left
    out: the router answers it for every GET route by itself."""
    with running() as (emu, _api):
        served = {
            (re.sub(r"<([a-z_]+)>", r"{\1}", path), method)
            for path, methods, _endpoint in emu.app.router.routes()
            for method in methods
            if method != "HEAD"
        }
    assert served == _documented(document())


def test_path_parameters_come_from_the_route_path():
    for path, ops in document()["paths"].items():
        in_path = set(re.findall(r"{([a-z_]+)}", path))
        for op in ops.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == in_path, path


def test_a_route_without_documentation_cannot_be_served_undocumented():
    routes = [*all_routes(), ("/_hookmock/new", ["GET"], "brand_new", None)]
    with pytest.raises(ValueError, match=r"/_hookmock/new \(endpoint 'brand_new'\) has no entry"):
        openapi.build(routes)


def test_documentation_without_a_route_is_refused():
    routes = [r for r in all_routes() if r[2] != "get_task"]
    with pytest.raises(ValueError, match="documents endpoints no route serves: get_task"):
        openapi.build(routes)


def test_a_path_parameter_must_be_described():
    routes = [*all_routes(), ("/_hookmock/things/<thing_id>", ["GET"], "health", None)]
    with pytest.raises(ValueError, match=r"<thing_id> has no description"):
        openapi.build(routes)


def test_served_document_is_the_same():
    with running() as (_emu, api):
        assert api.get("/_hookmock/openapi.json") == document()


@pytest.fixture(scope="module")
def emulator():
    with running(allow_http_callbacks=True) as (emu, _api):
        yield emu


@SCHEMA.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_document(emulator, case):
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    if case.headers and "Authorization" in case.headers:
        headers = {}
    # positive_data_acceptance is left out: a schema cannot say which cursors exist or which callback
    # hosts are allowed, so a correct 400 for those would count as a failure.  Every other check
    # (no 5xx, status codes, content types, headers, response schemas, negative data rejected) runs.
    case.call_and_validate(
        base_url=emulator.base_url, headers=headers, excluded_checks=[positive_data_acceptance]
    )
