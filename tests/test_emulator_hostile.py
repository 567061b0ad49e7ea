"""A standing hostile run against the emulator: generated bodies and query values, never a 5xx.

Bodies are JSON objects built from the values that once broke the emulator (lone surrogates in
values and keys, ``NaN``/``Infinity``, numbers beyond a double, 5,000-digit integers, malformed and
over-long callback hosts, far dates, control characters, deep nesting) under the keys every route
reads, sent to every route that reads a body; query values go to every filter.  Seeded, so a
failure names its case; bounded (about 900 requests over loopback, a few seconds).
"""

from __future__ import annotations

import random

import pytest

from emulator_support import running
from hookmock import VirtualClock, validate

ATOMS = [
    '"\\ud800"',
    '"x\\udfff"',
    "NaN",
    "-Infinity",
    "1e999",
    "1" + "0" * 5000,
    "1" + "0" * 300,
    "-1",
    "1.5",
    "true",
    "null",
    '""',
    '"hookmock:fail"',
    '"hookmock:nope"',
    '"http://%s.localhost/x"' % ("a" * 70),
    '"http://[::1/x"',
    '"https://a..localhost/x"',
    '"http://127.0.0.1:99999/"',
    '"http://127.0.0.1:9/x"',
    '"\\u0000"',
    '"a\\r\\nb"',
    '"€"',
    '"9999-12-31T23:59:59Z"',
    '"task.succeeded"',
    '"ADD_MOD"',
    "{}",
    "[]",
    "[" * 70 + "]" * 70,
]
KEYS = [
    "prompt",
    "callback_url",
    "idempotency_key",
    "kind",
    "url",
    "format",
    "seconds",
    "ms",
    "event_type",
    "overrides",
    "event_name",
    "token",
    "outcome",
    "mode",
    "delivery_id",
    "delivery_ids",
    "copies",
    "source_canvas_id",
    "\\ud800",
]
ROUTES = [
    ("POST", "/v1/tasks"),
    ("POST", "/v1/remix"),
    ("POST", "/v1/canvases/cvs_1/export"),
    ("POST", "/_hookmock/clock/advance"),
    ("POST", "/_hookmock/moda/events"),
    ("PUT", "/_hookmock/modio/games/g/webhook"),
    ("POST", "/_hookmock/modio/games/g/events"),
    ("POST", "/_hookmock/drills"),
    ("POST", "/_hookmock/tasks/task_x/complete"),
]
QUERIES = [
    "/v1/webhook_deliveries?from=",
    "/v1/webhook_deliveries?to=",
    "/v1/webhook_deliveries?status=",
    "/v1/tasks?limit=",
    "/v1/tasks?cursor=",
    "/v1/tasks?kind=",
    "/_hookmock/modio/history?limit=",
    "/v1/canvases/x/export-status?task_id=",
]
QUERY_VALUES = [
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "2026-01-01T00:00:00%2B99:00",
    "2262-04-12T00:00:00Z",
    "%00",
    "%ED%A0%80",
    "%FF",
    "1e3",
    "99999999999999999999999",
    "x" * 3000,
]


def _body(rng: random.Random) -> bytes:
    items = []
    for _ in range(rng.randint(0, 4)):
        value = rng.choice(ATOMS)
        if rng.random() < 0.2:
            value = '{"' + rng.choice(KEYS) + '": ' + value + "}"
        if rng.random() < 0.1:
            value = f"[{value}]"
        items.append(f'"{rng.choice(KEYS)}": {value}')
    return ("{" + ", ".join(items) + "}").encode()


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_hostile_requests_never_get_a_5xx(seed: int) -> None:
    rng = random.Random(seed)
    with running(VirtualClock(), allow_http_callbacks=True) as (_emu, api):
        api.call("PUT", "/_hookmock/modio/games/g/webhook", {"url": "http://127.0.0.1:9/x", "token": "tok"})
        for case in range(400):
            method, path = rng.choice(ROUTES)
            raw = _body(rng)
            status, body, _ = api.call(method, path, raw=raw, headers={"Content-Type": "application/json"})
            assert status < 500, f"seed={seed} case={case}: {method} {path} {raw[:300]!r} -> {body}"
            if status >= 400:
                validate(body, "moda-error")
        for query in QUERIES:
            for value in QUERY_VALUES:
                status, body, _ = api.call("GET", query + value)
                assert status < 500, f"GET {query}{value[:80]} -> {body}"
