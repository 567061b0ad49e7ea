"""The OpenAPI document: it describes every route, and the app conforms to it (schemathesis)."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from emulator_support import running
from hookmock.emulator.app import all_routes
from hookmock.emulator.openapi import document

SCHEMA = schemathesis.openapi.from_dict(document())


def test_every_route_is_documented_and_nothing_else():
    documented = {(path, method.upper()) for path, ops in document()["paths"].items() for method in ops}
    routed = {
        (re.sub(r"<([a-z_]+)>", r"{\1}", path), method)
        for path, methods, _, _ in all_routes()
        for method in methods
    }
    assert routed == documented


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
