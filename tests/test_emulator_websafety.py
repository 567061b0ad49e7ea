"""Cross-site requests to the emulator's control API and history page, as plain HTTP requests.

Every request here is one a web page in the developer's browser could make (a form post, a
``fetch`` in ``no-cors`` mode, a ``text/plain`` body) or a DNS-rebinding Host; each must leave the
emulator's state and the webhooks it sends unchanged.  The same attack from a real headless
browser page is in test_emulator_browser.py.
"""

from __future__ import annotations

import json
import re
import urllib.parse

import pytest

from emulator_support import running, stack
from hookmock import validate
from hookmock.receiver.server import FakeReceiver

FOREIGN = "http://127.0.0.1:1"  # another loopback port: another origin


@pytest.fixture
def emulator_with_receiver():
    """An emulator with one task, and a plain-HTTP receiver its control API could be told to call."""
    receiver = FakeReceiver("moda")
    receiver.start()
    try:
        with running(allow_http_callbacks=True) as (emu, api):
            api.post("/v1/tasks", {"prompt": "keep me", "callback_url": receiver.url})
            yield emu, api, receiver
    finally:
        receiver.stop()


def tasks(api) -> int:
    return int(api.get("/_hookmock/ready")["tasks"])


def refused(result, status: int, code: str) -> dict:
    got, body, headers = result
    assert got == status, body
    validate(body, "moda-error")
    assert body["error"]["code"] == code and body["error"]["request_id"] == headers["X-Request-ID"]
    return body


def test_a_form_encoded_reset_from_a_foreign_origin_is_refused(emulator_with_receiver):
    emu, api, _ = emulator_with_receiver
    result = api.call(
        "POST",
        "/_hookmock/reset",
        raw=b"x=1",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": FOREIGN},
    )
    body = refused(result, 403, "cross_site_request")
    assert FOREIGN in body["error"]["message"] and emu.base_url in body["error"]["message"]
    assert tasks(api) == 1


def test_a_text_plain_event_trigger_sends_no_webhook(emulator_with_receiver):
    """``POST /_hookmock/moda/events`` as text/plain used to give 202 and a signed webhook."""
    _emu, api, receiver = emulator_with_receiver
    payload = json.dumps({"event_type": "task.failed", "callback_url": receiver.url}).encode()
    refused(
        api.call("POST", "/_hookmock/moda/events", raw=payload, headers={"Content-Type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    # the same with a browser's headers: refused as cross-site before the body is looked at
    refused(
        api.call(
            "POST",
            "/_hookmock/moda/events",
            raw=payload,
            headers={"Content-Type": "text/plain", "Origin": FOREIGN, "Sec-Fetch-Site": "same-site"},
        ),
        403,
        "cross_site_request",
    )
    api.advance(5)
    # only the fixture's own task's webhook: nothing the trigger asked for
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["task.succeeded"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "null"},
        {"Origin": FOREIGN},
        {"Origin": "http://localhost.evil.example"},
    ],
    ids=["sec-fetch cross-site", "sec-fetch same-site", "origin null", "origin port", "origin host"],
)
def test_cross_site_json_is_refused_too(emulator_with_receiver, headers):
    _emu, api, _ = emulator_with_receiver
    refused(api.call("POST", "/_hookmock/reset", {}, headers=headers), 403, "cross_site_request")
    assert tasks(api) == 1


def test_a_no_cors_fetch_without_a_body_is_refused(emulator_with_receiver):
    """``fetch(url, {method: "POST", mode: "no-cors"})`` sends no Content-Type, but an Origin."""
    _emu, api, _ = emulator_with_receiver
    refused(api.call("POST", "/_hookmock/reset", headers={"Origin": FOREIGN}), 403, "cross_site_request")
    assert tasks(api) == 1


def test_scripts_curl_and_the_own_origin_still_work(emulator_with_receiver):
    emu, api, _ = emulator_with_receiver
    same = {"Origin": emu.base_url, "Sec-Fetch-Site": "same-origin"}
    assert api.call("POST", "/_hookmock/clock/advance", {"seconds": 1}, headers=same)[0] == 200
    assert api.call("GET", "/_hookmock/health", headers={"Origin": FOREIGN})[0] == 200  # reads are fine
    assert api.call("POST", "/_hookmock/reset")[0] == 200  # curl -X POST: no body, no Content-Type
    assert tasks(api) == 0


def test_a_body_must_be_json(emulator_with_receiver):
    _emu, api, _ = emulator_with_receiver
    for content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
    ):
        body = refused(
            api.call("POST", "/_hookmock/reset", raw=b"{}", headers={"Content-Type": content_type}),
            415,
            "unsupported_media_type",
        )
        assert content_type.split(";")[0] in body["error"]["message"]
    assert tasks(api) == 1


def test_the_page_forms_need_the_form_token():
    with stack("500,ok") as (emu, api, _moda):
        api.post("/v1/tasks", {"prompt": "Poster", "callback_url": _moda.url})
        api.advance(60)
        page = api.call("GET", "/_hookmock/ui")[1]
        [action] = re.findall(r"action='(/_hookmock/ui/deliveries/[^']+/retry)'", page)
        [token] = set(re.findall(r"name=form_token value='([^']+)'", page))  # one token, many forms
        form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": emu.base_url}
        for data in (b"", b"form_token=wrong", b"other=1"):
            refused(api.call("POST", action, raw=data, headers=form), 403, "form_token_invalid")
        status, page, _ = api.call(
            "POST", action, raw=urllib.parse.urlencode({"form_token": token}).encode(), headers=form
        )
        assert status == 303  # back to the page (the emulator client never follows redirects)
        # a foreign page that somehow knew the token is still refused by its Origin
        refused(
            api.call("POST", action, raw=f"form_token={token}".encode(), headers={**form, "Origin": FOREIGN}),
            403,
            "cross_site_request",
        )
        assert len(api.get("/v1/webhook_deliveries")["data"]) == 2  # the original and one redelivery


def test_a_rebound_host_name_is_refused_on_every_state_changing_route(emulator_with_receiver):
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 is same-origin
    with itself; only the Host header tells."""
    _emu, api, _ = emulator_with_receiver
    for path in ("/_hookmock/reset", "/_hookmock/clock/advance", "/_hookmock/ui"):
        status, body, _ = api.call(
            "POST" if "ui" not in path else "GET", path, {}, headers={"Host": "evil.example:8765"}
        )
        assert status == 400 and body["error"]["code"] == "host_not_allowed"
    assert tasks(api) == 1


def test_the_v1_api_is_not_usable_cross_site(emulator_with_receiver):
    """A page cannot send Authorization to another origin without a preflight, which the emulator
    never grants: a simple cross-site request to /v1 is unauthenticated."""
    emu, api, receiver = emulator_with_receiver
    anonymous = type(api)(emu.base_url)
    payload = json.dumps({"prompt": "x", "callback_url": receiver.url}).encode()
    status, body, _ = anonymous.call(
        "POST", "/v1/tasks", raw=payload, headers={"Content-Type": "text/plain", "Origin": FOREIGN}
    )
    assert status == 401 and body["error"]["type"] == "authentication"
    status, _, headers = anonymous.call(
        "OPTIONS",
        "/v1/tasks",
        headers={"Origin": FOREIGN, "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in headers
    assert tasks(api) == 1


def test_the_page_cannot_be_framed_by_another_page(emulator_with_receiver):
    """Clickjacking: a foreign page framing the history page would make its buttons same-origin."""
    _emu, api, _ = emulator_with_receiver
    status, _, headers = api.call("GET", "/_hookmock/ui")
    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
