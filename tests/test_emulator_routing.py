"""The emulator's routing over real HTTP: every documented route answers on its method (and HEAD
on GET routes), a known path with a wrong method is 405 with an ``Allow`` header, an unknown path is
404 ``route_not_found``, one trailing slash is accepted, and a path parameter reaches its handler
as the client sent it (percent-decoded).  These pin what the router does, whichever router it is.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from emulator_support import running
from hookmock.emulator.routes import all_routes, document
from hookmock.profiles.moda import API_VERSION, VERSION_HEADER

ROUTING_CODES = {"route_not_found", "method_not_allowed"}


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = {k.lower(): v for k, v in response.getheaders()}
        self.body = response.read()

    @property
    def error(self) -> dict[str, Any]:
        error: dict[str, Any] = json.loads(self.body)["error"]
        return error


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    with running() as (emulator, _api):
        yield emulator


def send(emu: Any, method: str, target: str, body: bytes | None = None, **headers: str) -> Answer:
    """One request with exactly this method and request target (no normalisation by a client)."""
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.putheader("Authorization", f"Bearer {emu.api_key}")
        if body is not None:
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(len(body)))
        for name, value in headers.items():
            conn.putheader(name.replace("_", "-"), value)
        conn.endheaders(body)
        return Answer(conn.getresponse())
    finally:
        conn.close()


def _operations() -> list[tuple[str, str, set[str]]]:
    """(concrete path, method, the path's documented methods) of every documented operation."""
    out = []
    for path, ops in document()["paths"].items():
        concrete = re.sub(r"{[a-z_]+}", "x1", path)
        for method in ops:
            out.append((concrete, method.upper(), {m.upper() for m in ops}))
    return out


OPERATIONS = _operations()
PATHS = sorted({(path, frozenset(methods)) for path, _m, methods in OPERATIONS})


def _allow(methods: set[str] | frozenset[str]) -> str:
    return ", ".join(sorted({*methods, "HEAD"} if "GET" in methods else set(methods)))


def test_the_document_lists_the_routes():
    assert len(OPERATIONS) == sum(len(methods) for _p, methods, _e, _h in all_routes()) > 35
    assert ("/v1/tasks", "GET", {"GET", "POST"}) in OPERATIONS


@pytest.mark.parametrize(("path", "method"), [(p, m) for p, m, _ in OPERATIONS])
def test_every_documented_operation_reaches_its_handler(emu, path, method):
    body = b"{}" if method in ("POST", "PUT") else None
    answer = send(emu, method, path, body)
    assert answer.status < 500, answer.body
    if answer.status >= 400:
        assert answer.error["code"] not in ROUTING_CODES, answer.body
    # one trailing slash reaches the same handler
    again = send(emu, method, path + "/", body)
    assert again.status < 500
    if again.status >= 400:
        assert again.error["code"] not in ROUTING_CODES, again.body


@pytest.mark.parametrize("path", sorted({p for p, m, _ in OPERATIONS if m == "GET"}))
def test_head_on_every_get_route_answers_like_get_without_a_body(emu, path):
    get = send(emu, "GET", path)
    head = send(emu, "HEAD", path)
    assert head.status == get.status
    assert head.body == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert "x-request-id" in head.headers


@pytest.mark.parametrize(("path", "methods"), PATHS)
def test_a_wrong_method_on_every_path_is_405_naming_the_allowed_ones(emu, path, methods):
    allow = _allow(methods)
    for wrong in sorted({"DELETE", "PATCH", "OPTIONS", "PUT", "POST", "GET"} - methods - {"HEAD"}):
        for target in (path, path + "/"):
            answer = send(emu, wrong, target, b"{}" if wrong in ("POST", "PUT", "PATCH") else None)
            assert answer.status == 405, (wrong, target, answer.body)
            assert answer.headers["allow"] == allow
            assert answer.error["code"] == "method_not_allowed"
            assert answer.error["type"] == "invalid_request"
            assert answer.error["message"] == f"{wrong} is not allowed on {target!r}; allowed: {allow}"


def test_head_on_a_post_only_route_is_405(emu):
    answer = send(emu, "HEAD", "/_hookmock/settle")
    assert answer.status == 405
    assert answer.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/"),
        ("GET", "/v1"),
        ("GET", "/v1/"),
        ("GET", "/_hookmock"),
        ("GET", "/_hookmock/"),
        ("GET", "/favicon.ico"),
        ("GET", "/v1/nothing"),
        ("DELETE", "/v1/nothing"),  # no path matches: 404, not 405
        ("GET", "/V1/tasks"),  # case-sensitive
        ("GET", "/v1/tasks//"),  # one trailing slash only
        ("GET", "/v1//tasks"),  # slashes are not merged
        ("GET", "/v1/tasks/a/b"),
        ("GET", "/v1/tasks/%2F"),  # the server decodes %2F: /v1/tasks//
        ("GET", "/v1/tasks/%2Fx"),
        ("POST", "/_hookmock/ui/deliveries//retry"),  # an empty path parameter
        ("GET", "/_hookmock/modio/games/x1/webhook/extra"),
    ],
)
def test_an_unknown_path_is_404_route_not_found(emu, method, target):
    answer = send(emu, method, target)
    assert answer.status == 404, answer.body
    assert "allow" not in answer.headers
    error = answer.error
    assert (error["type"], error["code"]) == ("not_found", "route_not_found")
    # the path as the client sent it (still percent-encoded), quoted
    assert error["message"] == f"no route {method} {target!r}; see /_hookmock/openapi.json for every route"
    assert answer.headers["content-type"] == "application/json"
    assert error["request_id"] == answer.headers["x-request-id"]


def test_an_unknown_v1_path_still_answers_with_the_api_version(emu):
    answer = send(emu, "GET", "/v1/nothing")
    assert answer.headers[VERSION_HEADER.lower()] == API_VERSION


@pytest.mark.parametrize(
    "target",
    [
        "/v1/tasks/",
        "//v1/tasks",  # leading slashes are dropped, as werkzeug's Request.path does
        "/v1/tasks?limit=5",
        "/v1/tasks/?limit=5",
        "http://127.0.0.1/v1/tasks",  # absolute form
    ],
)
def test_path_variants_that_reach_the_task_list(target):
    # its own emulator: the module's one has answered other tests' requests (its task list is
    # empty only while no other test has made a task there)
    with running() as (emu, _api):
        answer = send(emu, "GET", target)
    assert answer.status == 200, answer.body
    assert json.loads(answer.body) == {"data": [], "next_cursor": None}
    assert answer.headers[VERSION_HEADER.lower()] == API_VERSION


def test_a_lower_case_method_is_matched_as_upper_case(emu):
    assert send(emu, "get", "/v1/tasks").status == 200


def test_a_wrong_method_with_a_trailing_slash_names_the_path_as_sent(emu):
    answer = send(emu, "DELETE", "/v1/tasks/")
    assert answer.status == 405
    assert answer.error["message"] == "DELETE is not allowed on '/v1/tasks/'; allowed: GET, HEAD, POST"


@pytest.mark.parametrize(
    ("target", "task_id"),
    [
        ("/v1/tasks/abc", "abc"),
        ("/v1/tasks/abc/", "abc"),
        ("/v1/tasks/%20", " "),
        ("/v1/tasks/%C3%A9", "é"),
        ("/v1/tasks/%FF", "\ufffd"),  # not UTF-8: replaced, as werkzeug decodes the path
        ("/v1/tasks/..", ".."),
        ("/v1/tasks/.", "."),
        ("/v1/tasks/x;y", "x;y"),
        ("/v1/tasks/x%3By", "x;y"),
        ("/v1/tasks/x1/events/", "x1"),
        ("/v1/tasks/" + "a" * 2000, "a" * 2000),
    ],
)
def test_a_path_parameter_reaches_the_handler_as_sent(emu, target, task_id):
    answer = send(emu, "GET", target)
    assert answer.status == 404
    assert answer.error["code"] == "task_not_found"
    assert answer.error["message"] == f"no task with id {task_id!r}"


def test_head_on_a_missing_task_is_404_without_a_body(emu):
    answer = send(emu, "HEAD", "/v1/tasks/abc")
    assert answer.status == 404
    assert answer.body == b""


def test_a_websocket_upgrade_request_is_answered_as_plain_http(emu):
    """The emulator speaks no WebSocket; it ignores ``Upgrade`` (RFC 9110 section 7.8 lets a server
    do that) instead of calling GET not allowed on a GET route."""
    answer = send(emu, "GET", "/v1/tasks", Connection="Upgrade", Upgrade="websocket")
    assert answer.status == 200, answer.body
    assert json.loads(answer.body) == {"data": [], "next_cursor": None}
    unknown = send(emu, "GET", "/v1/nothing", Connection="Upgrade", Upgrade="websocket")
    assert unknown.status == 404
