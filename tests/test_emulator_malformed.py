"""Malformed requests: each gets the right 4xx with Moda's error body, never a 5xx."""

from __future__ import annotations

import pytest

from emulator_support import running
from hookmock import validate

BIG = b'{"prompt": "' + b"x" * (1024 * 1024 + 10) + b'"}'

CASES = [
    # (name, method, path, raw body, headers, status, error type, code)
    ("bad json", "POST", "/v1/tasks", b"{not json", {}, 400, "invalid_request", "invalid_json"),
    ("not utf-8", "POST", "/v1/tasks", b'{"prompt": "\xff"}', {}, 400, "invalid_request", "invalid_json"),
    ("array body", "POST", "/v1/tasks", b"[1, 2]", {}, 400, "invalid_request", "invalid_body"),
    (
        "prompt wrong type",
        "POST",
        "/v1/tasks",
        b'{"prompt": 5}',
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    (
        "prompt bool",
        "POST",
        "/v1/tasks",
        b'{"prompt": true}',
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    ("prompt missing", "POST", "/v1/tasks", b"{}", {}, 400, "invalid_request", "parameter_missing"),
    (
        "unknown kind",
        "POST",
        "/v1/tasks",
        b'{"kind": "poem", "prompt": "x"}',
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    (
        "callback not str",
        "POST",
        "/v1/tasks",
        b'{"prompt": "x", "callback_url": 1}',
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    (
        "callback not url",
        "POST",
        "/v1/tasks",
        b'{"prompt": "x", "callback_url": "nope"}',
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    (
        "unknown magic",
        "POST",
        "/v1/tasks",
        b'{"prompt": "hookmock:explode"}',
        {},
        400,
        "invalid_request",
        "unknown_magic_value",
    ),
    ("remix missing source", "POST", "/v1/remix", b"{}", {}, 400, "invalid_request", "parameter_missing"),
    (
        "export bad format",
        "POST",
        "/v1/canvases/cvs_1/export",
        b'{"format": "gif"}',
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    (
        "export-status no task",
        "GET",
        "/v1/canvases/cvs_1/export-status",
        None,
        {},
        400,
        "invalid_request",
        "parameter_missing",
    ),
    ("oversized body", "POST", "/v1/tasks", BIG, {}, 413, "invalid_request", "body_too_large"),
    ("unknown route", "GET", "/v1/nothing", None, {}, 404, "not_found", "route_not_found"),
    ("unknown top route", "GET", "/favicon.ico", None, {}, 404, "not_found", "route_not_found"),
    ("wrong method", "DELETE", "/v1/tasks", None, {}, 405, "invalid_request", "method_not_allowed"),
    (
        "unknown task",
        "GET",
        "/v1/tasks/task_00000000000000000000000000",
        None,
        {},
        404,
        "not_found",
        "task_not_found",
    ),
    (
        "unknown delivery",
        "POST",
        "/v1/webhook_deliveries/whd_x/redeliver",
        None,
        {},
        404,
        "not_found",
        "delivery_not_found",
    ),
    ("bad cursor tasks", "GET", "/v1/tasks?cursor=abc", None, {}, 400, "invalid_request", "invalid_cursor"),
    (
        "tampered cursor deliveries",
        "GET",
        "/v1/webhook_deliveries?cursor=eyJ4IjoxfQ",
        None,
        {},
        400,
        "invalid_request",
        None,
    ),
    ("limit zero", "GET", "/v1/tasks?limit=0", None, {}, 400, "invalid_request", "parameter_invalid"),
    (
        "limit text",
        "GET",
        "/v1/webhook_deliveries?limit=ten",
        None,
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    (
        "limit too big",
        "GET",
        "/v1/webhook_deliveries?limit=201",
        None,
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    (
        "bad status filter",
        "GET",
        "/v1/webhook_deliveries?status=maybe",
        None,
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    ("bad from", "GET", "/v1/webhook_deliveries?from=yesterday", None, {}, 400, "invalid_request", None),
    (
        "missing key",
        "GET",
        "/v1/tasks",
        None,
        {"Authorization": ""},
        401,
        "authentication",
        "missing_api_key",
    ),
    (
        "wrong key",
        "GET",
        "/v1/tasks",
        None,
        {"Authorization": "Bearer moda_live_wrong"},
        401,
        "authentication",
        "invalid_api_key",
    ),
    (
        "basic auth",
        "GET",
        "/v1/tasks",
        None,
        {"Authorization": "Basic abc"},
        401,
        "authentication",
        "invalid_authorization",
    ),
    (
        "unknown version",
        "GET",
        "/v1/tasks",
        None,
        {"Moda-Version": "2020-01-01"},
        400,
        "invalid_request",
        "unsupported_version",
    ),
    (
        "advance negative",
        "POST",
        "/_hookmock/clock/advance",
        b'{"seconds": -1}',
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    (
        "advance text",
        "POST",
        "/_hookmock/clock/advance",
        b'{"seconds": "1"}',
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    (
        "drill unknown",
        "POST",
        "/_hookmock/drills",
        b'{"mode": "explode", "delivery_id": "x"}',
        {},
        400,
        "invalid_request",
        "parameter_invalid",
    ),
    (
        "complete bad outcome",
        "POST",
        "/_hookmock/tasks/task_x/complete",
        b'{"outcome": "win"}',
        {},
        400,
        "invalid_request",
        "unknown_outcome",
    ),
    (
        "game without webhook",
        "POST",
        "/_hookmock/modio/games/g/test",
        None,
        {},
        404,
        "not_found",
        "webhook_not_configured",
    ),
    (
        "modio unknown event",
        "GET",
        "/_hookmock/modio/history/nope",
        None,
        {},
        404,
        "not_found",
        "delivery_not_found",
    ),
    (
        "ui unknown delivery",
        "GET",
        "/_hookmock/ui/deliveries/whd_nope",
        None,
        {},
        404,
        "not_found",
        "delivery_not_found",
    ),
]


@pytest.fixture(scope="module")
def emulator():
    with running() as (emu, api):
        yield emu, api


@pytest.mark.parametrize(
    ("name", "method", "path", "raw", "headers", "status", "etype", "code"), CASES, ids=[c[0] for c in CASES]
)
def test_malformed_request(emulator, name, method, path, raw, headers, status, etype, code):
    emu, api = emulator
    headers = dict(headers)
    if headers.get("Authorization") == "":
        api_no_key = type(api)(emu.base_url)
        got_status, body, got_headers = api_no_key.call(method, path, raw=raw, headers={})
    else:
        got_status, body, got_headers = api.call(
            method, path, raw=raw, headers={"Content-Type": "application/json", **headers}
        )
    assert got_status == status, body
    validate(body, "moda-error")
    assert body["error"]["type"] == etype
    if code is not None:
        assert body["error"]["code"] == code
    assert body["error"]["request_id"] == got_headers["X-Request-ID"]
    assert body["error"]["message"]


def test_invalid_requests_name_the_value(emulator):
    _emu, api = emulator
    _, body, _ = api.call("GET", "/v1/webhook_deliveries?limit=ten")
    assert "ten" in body["error"]["message"]
    _, body, headers = api.call("DELETE", "/v1/tasks")
    assert "GET" in headers["Allow"] and "POST" in headers["Allow"]


def test_the_clock_cannot_be_advanced_past_what_a_date_can_show():
    """Found by schemathesis: repeated ten-year advances overflowed the date and broke every page."""
    from hookmock import VirtualClock

    with running(VirtualClock()) as (_emu, api):
        statuses = [
            api.call("POST", "/_hookmock/clock/advance", raw=b'{"seconds": 315000000}')[0] for _ in range(60)
        ]
        assert statuses[0] == 200 and statuses[-1] == 400
        status, body, _ = api.call("POST", "/_hookmock/clock/advance", raw=b'{"seconds": 315000000}')
        assert status == 400 and "2200" in body["error"]["message"]
        assert api.call("GET", "/_hookmock/ui")[0] == 200
        assert api.call("GET", "/_hookmock/clock")[0] == 200


def test_host_header_is_checked():
    with running() as (emu, api):
        status, body, _ = api.call("GET", "/_hookmock/health", headers={"Host": "evil.example:8765"})
        assert status == 400 and "--allowed-host" in body["error"]["message"]
        assert api.call("GET", "/_hookmock/health", headers={"Host": f"localhost:{emu.port}"})[0] == 200


def _raw(port: int, request: bytes) -> tuple[int, dict]:
    import json
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_a_refused_host_header_is_named_and_a_missing_one_refused():
    """The message used to say "Host header ''" for a Host werkzeug could not parse, and an
    HTTP/1.1 request without any Host header was served."""
    with running() as (emu, _api):
        status, body = _raw(
            emu.port, b"GET /_hookmock/health HTTP/1.1\r\nHost: evil{x}.example\r\nConnection: close\r\n\r\n"
        )
        assert status == 400 and "'evil{x}.example'" in body["error"]["message"]
        status, body = _raw(emu.port, b"GET /_hookmock/health HTTP/1.1\r\nConnection: close\r\n\r\n")
        assert status == 400 and body["error"]["code"] == "host_missing"
        status, _ = _raw(emu.port, b"GET /_hookmock/health HTTP/1.0\r\n\r\n")
        assert status == 200  # HTTP/1.0 has no Host requirement


def test_non_loopback_bind_needs_admin_token(monkeypatch):
    from hookmock.emulator import EmulatorConfig
    from hookmock.errors import UsageError

    with pytest.raises(UsageError, match="HOOKMOCK_ADMIN_TOKEN"):
        EmulatorConfig(host="0.0.0.0").check()
    with running(admin_token="s3cret-admin") as (_emu, api):
        status, body, _ = api.call("POST", "/_hookmock/reset")
        assert status == 401 and body["error"]["code"] == "admin_token_required"
        assert (
            api.call("POST", "/_hookmock/reset", headers={"X-Hookmock-Admin-Token": "s3cret-admin"})[0] == 200
        )
        assert api.call("GET", "/_hookmock/health")[0] == 200


# --- hostile values: each was a 500 (issue 12, items 11 and 12); now a 400 naming the value -------------

_DEEP = b'{"prompt": "x", "extra": ' + b"[" * 990 + b"]" * 990 + b"}"
_DEEPER = b'{"prompt": "x", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
_LABEL = "a" * 70
_WEBHOOK = "/_hookmock/modio/games/g1/webhook"

HOSTILE = [
    # (name, method, path, raw body, words the message must contain)
    ("surrogate in a value", "POST", "/v1/tasks", b'{"prompt": "a\\ud800b"}', ["\\ud800", "$.prompt"]),
    ("surrogate in a key", "POST", "/v1/tasks", b'{"prompt": "x", "\\ud800": 1}', ["\\ud800", "key"]),
    (
        "surrogate deep in overrides",
        "POST",
        "/_hookmock/moda/events",
        b'{"event_type": "task.succeeded", "callback_url": "http://127.0.0.1:9/x", '
        b'"overrides": {"data": {"x": ["\\udc00"]}}}',
        ["\\udc00", "$.overrides.data.x[0]"],
    ),
    ("nesting 990", "POST", "/v1/tasks", _DEEP, ["64 levels"]),
    ("nesting 100000", "POST", "/v1/tasks", _DEEPER, ["64 levels"]),
    ("nesting 65", "POST", "/v1/tasks", b'{"prompt": "x", "e": ' + b"[" * 64 + b"]" * 64 + b"}", ["$.e"]),
    (
        "callback bracket",
        "POST",
        "/v1/tasks",
        b'{"prompt": "x", "callback_url": "http://[::1/x"}',
        ["http://[::1/x", "brackets"],
    ),
    (
        "callback long label",
        "POST",
        "/v1/tasks",
        b'{"prompt": "x", "callback_url": "http://%s.localhost/x"}' % _LABEL.encode(),
        ["70 characters", "63"],
    ),
    (
        "callback empty label",
        "POST",
        "/v1/tasks",
        b'{"prompt": "x", "callback_url": "http://a..localhost/x"}',
        ["a..localhost", "empty label"],
    ),
    (
        "event callback bracket",
        "POST",
        "/_hookmock/moda/events",
        b'{"event_type": "task.succeeded", "callback_url": "http://[::1/x"}',
        ["http://[::1/x"],
    ),
    ("from 9999", "GET", "/v1/webhook_deliveries?from=9999-12-31T23:59:59Z", None, ["9999-12-31T23:59:59Z"]),
    ("to 9999", "GET", "/v1/webhook_deliveries?to=9999-12-31T23:59:59Z", None, ["9999-12-31T23:59:59Z"]),
    ("from year 1", "GET", "/v1/webhook_deliveries?from=0001-01-01T00:00:00Z", None, ["0001-01-01"]),
    (
        "from year 1 with offset",
        "GET",
        "/v1/webhook_deliveries?from=0001-01-01T00:00:00%2B01:00",
        None,
        ["0001-01-01T00:00:00+01:00"],
    ),
    ("advance NaN", "POST", "/_hookmock/clock/advance", b'{"seconds": NaN}', ["NaN"]),
    ("advance Infinity", "POST", "/_hookmock/clock/advance", b'{"seconds": Infinity}', ["Infinity"]),
    ("advance -Infinity", "POST", "/_hookmock/clock/advance", b'{"seconds": -Infinity}', ["-Infinity"]),
    ("advance 1e400", "POST", "/_hookmock/clock/advance", b'{"seconds": 1e400}', ["1e400"]),
    ("advance huge", "POST", "/_hookmock/clock/advance", b'{"seconds": 1e300}', ["seconds=1e+300"]),
    ("advance huge ms", "POST", "/_hookmock/clock/advance", b'{"ms": 1' + b"0" * 40 + b"}", ["ms=1000"]),
    ("advance negative", "POST", "/_hookmock/clock/advance", b'{"seconds": -0.5}', ["seconds=-0.5"]),
    ("token CR LF", "PUT", _WEBHOOK, b'{"url": "http://127.0.0.1:9/x", "token": "a\\r\\nb"}', ["(CR)"]),
    ("token LF", "PUT", _WEBHOOK, b'{"url": "http://127.0.0.1:9/x", "token": "ab\\nc"}', ["(LF)"]),
    ("token NUL", "PUT", _WEBHOOK, b'{"url": "http://127.0.0.1:9/x", "token": "a\\u0000b"}', ["NUL"]),
    ("token euro", "PUT", _WEBHOOK, b'{"url": "http://127.0.0.1:9/x", "token": "a\\u20acb"}', ["U+20AC"]),
    ("token blank end", "PUT", _WEBHOOK, b'{"url": "http://127.0.0.1:9/x", "token": "ab "}', ["blanks"]),
    ("webhook url bracket", "PUT", _WEBHOOK, b'{"url": "http://[::1/x", "token": "ab"}', ["http://[::1/x"]),
    (
        "game id NUL",
        "PUT",
        "/_hookmock/modio/games/a%00b/webhook",
        b'{"url": "http://127.0.0.1:9/x", "token": "ab"}',
        ["'a\\x00b'", "control character"],
    ),
]


@pytest.mark.parametrize(("name", "method", "path", "raw", "words"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_values_are_a_400_naming_the_value(name, method, path, raw, words):
    with running(allow_http_callbacks=True) as (_emu, api):
        status, body, _ = api.call(method, path, raw=raw, headers={"Content-Type": "application/json"})
        assert status == 400, body
        validate(body, "moda-error")
        assert body["error"]["type"] == "invalid_request"
        for word in words:
            assert word in body["error"]["message"], body["error"]["message"]
        assert api.call("GET", "/_hookmock/health")[0] == 200


def test_a_valid_token_and_valid_unicode_still_pass():
    with running(allow_http_callbacks=True) as (_emu, api):
        ok = {"url": "http://127.0.0.1:9/x", "token": "tok\tén-ÿ"}  # tab and latin-1 are header-safe
        assert api.call("PUT", _WEBHOOK, ok)[0] == 200
        raw = '{"prompt": "emoji 😀 and \\ud83d\\ude00 (a pair)"}'.encode()
        status, body, _ = api.call("POST", "/v1/tasks", raw=raw, headers={"Content-Type": "application/json"})
        assert status == 202 and body["input"]["prompt"].count("😀") == 2
        nested = b'{"prompt": "x", "e": ' + b"[" * 63 + b"]" * 63 + b"}"  # 64 levels with the body
        assert (
            api.call("POST", "/v1/tasks", raw=nested, headers={"Content-Type": "application/json"})[0] == 202
        )
