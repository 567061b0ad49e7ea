"""The history page's data over real sockets: filters, id search, keyset pages, the forms (with
the form token and the cross-site checks), per-attempt request headers and copy-as-curl (run for
real against a receiver), and the query plans that keep a million-row log fast."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import urllib.parse

import pytest

from emulator_support import running, stack
from hookmock.delivery.log import DeliveryLog
from hookmock.profiles import get_profile
from hookmock.receiver.server import FakeReceiver

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _rows(api, **query):
    return api.get("/_hookmock/ui/rows?" + urllib.parse.urlencode(query))


def _token(api) -> str:
    [token] = set(re.findall(r"name=form_token value='([^']+)'", api.call("GET", "/_hookmock/ui")[1]))
    return token


@pytest.fixture
def mixed():
    """Moda deliveries (succeeded, failed, pending) and mod.io entries in one emulator."""
    token = get_profile("modio").generate_secret()
    modio = FakeReceiver("modio", token)
    modio.start()
    try:
        with stack("ok") as (emu, api, moda):
            for event_type in ("task.succeeded", "task.failed", "task.succeeded"):
                api.post("/_hookmock/moda/events", {"event_type": event_type, "callback_url": moda.url})
            api.advance(1)
            moda.script("500")  # the next one fails and waits for its retry
            api.post("/_hookmock/moda/events", {"event_type": "task.canceled", "callback_url": moda.url})
            api.advance(1)
            api.put("/_hookmock/modio/games/g1/webhook", {"url": modio.url, "token": token})
            api.post("/_hookmock/modio/games/g1/events", {"event_name": "ADD_MOD_COMMENT"})
            api.advance(1)
            yield emu, api, moda, modio, token
    finally:
        modio.stop()


def test_filters_search_and_keyset_pages(mixed):
    _emu, api, *_ = mixed
    everything = _rows(api)["rows"]
    assert len(everything) == 5
    assert {r["profile"] for r in everything} == {"moda", "modio"}
    assert [r["name"] for r in _rows(api, profile="modio")["rows"]] == ["ADD_MOD_COMMENT"]
    assert {r["name"] for r in _rows(api, event_type="task.succeeded")["rows"]} == {"task.succeeded"}
    assert len(_rows(api, event_type="task.succeeded")["rows"]) == 2
    [pending] = _rows(api, status="pending")["rows"]
    assert pending["name"] == "task.canceled" and pending["http_status"] == 500
    assert pending["next_attempt_ms"] > _rows(api)["now_ms"]  # the countdown's target
    assert pending["in_flight_since_ms"] is None
    # search: a delivery id, an event id, and one that matches nothing
    target = everything[2]
    assert [r["id"] for r in _rows(api, q=target["id"])["rows"]] == [target["id"]]
    assert [r["id"] for r in _rows(api, q=target["event_id"])["rows"]] == [target["id"]]
    assert _rows(api, q="evt_nothing")["rows"] == []
    assert _rows(api, q=target["id"], profile="modio")["rows"] == [] or target["profile"] == "modio"
    # a bad filter names itself
    status, body, _ = api.call("GET", "/_hookmock/ui/rows?status=done")
    assert status == 400 and "status='done'" in body["error"]["message"]


def test_pages_follow_the_cursor_without_gaps_or_repeats(mixed, monkeypatch):
    from hookmock.emulator import ui_data

    _emu, api, *_ = mixed
    monkeypatch.setattr(ui_data, "PAGE_SIZE", 2)
    seen, cursor = [], None
    while True:
        page = _rows(api, **({"cursor": cursor} if cursor else {}))
        seen += [r["id"] for r in page["rows"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len(set(seen)) == 5
    # the HTML page links to the next page with the filters kept
    html = api.call("GET", "/_hookmock/ui?profile=moda")[1]
    assert re.search(r"id=older rel=next href='/_hookmock/ui\?profile=moda&amp;cursor=", html)
    monkeypatch.undo()
    assert seen == [r["id"] for r in _rows(api)["rows"]]


def test_the_forms_create_a_task_and_a_modio_event(mixed):
    emu, api, moda, _modio, _ = mixed
    token = _token(api)
    own = {**FORM, "Origin": emu.base_url}
    form = urllib.parse.urlencode(
        {"form_token": token, "prompt": "Poster", "outcome": "fail", "callback_url": moda.url}
    ).encode()
    # without the token, or from another origin: refused, nothing created
    no_token = form.replace(token.encode(), b"nope")
    assert api.call("POST", "/_hookmock/ui/tasks", raw=no_token, headers=own)[0] == 403
    foreign = {**FORM, "Origin": "http://127.0.0.1:1"}
    assert api.call("POST", "/_hookmock/ui/tasks", raw=form, headers=foreign)[0] == 403
    assert api.get("/v1/tasks")["data"] == []
    status, _, headers = api.call("POST", "/_hookmock/ui/tasks", raw=form, headers=own)
    assert status == 303 and headers["Location"].endswith("/_hookmock/ui")
    [task] = api.get("/v1/tasks")["data"]
    api.advance(120)
    assert api.get(f"/v1/tasks/{task['id']}")["status"] == "failed"  # the magic outcome chosen
    assert "task.failed" in [r["name"] for r in _rows(api, profile="moda")["rows"][:1]]
    # the mod.io form
    event = urllib.parse.urlencode({"form_token": token, "game_id": "g1", "event_name": "PING"}).encode()
    assert api.call("POST", "/_hookmock/ui/modio/events", raw=event, headers=own)[0] == 303
    assert _rows(api, profile="modio")["rows"][0]["name"] == "PING"
    unknown = urllib.parse.urlencode({"form_token": token, "game_id": "nope", "event_name": "PING"})
    status, body, _ = api.call("POST", "/_hookmock/ui/modio/events", raw=unknown.encode(), headers=own)
    assert status == 404 and "'nope'" in body["error"]["message"]
    bad = form.replace(b"outcome=fail", b"outcome=explode")
    status, body, _ = api.call("POST", "/_hookmock/ui/tasks", raw=bad, headers=own)
    assert status == 400 and "'explode'" in body["error"]["message"]


def test_attempt_headers_are_shown_redacted_with_the_moda_signature(mixed):
    emu, api, moda, _modio, token = mixed
    [modio_row] = _rows(api, profile="modio")["rows"]
    page = api.call("GET", f"/_hookmock/ui/deliveries/{modio_row['id']}")[1]
    assert "X-Modio-Webhook-Token" in page and token not in page
    assert "$HOOKMOCK_MODIO_TOKEN" in page
    moda_id = _rows(api, event_type="task.failed")["rows"][0]["id"]
    page = api.call("GET", f"/_hookmock/ui/deliveries/{moda_id}")[1]
    sent = next(r for r in moda.requests if json.loads(r.body)["type"] == "task.failed")
    signature = dict(sent.headers)["X-Webhook-Signature"]
    assert signature in page  # the header actually sent, rebuilt from the stored timestamp
    assert emu.signing_secret not in page and "$HOOKMOCK_MODA_SECRET" in page


def _curl_of(api, delivery_id: str) -> str:
    import html

    page = api.call("GET", f"/_hookmock/ui/deliveries/{delivery_id}")[1]
    [first, *_] = re.findall(r"<pre id=curl-\d+ class=curl>(.*?)</pre>", page, re.S)
    return html.unescape(first)


@pytest.mark.parametrize("profile", ["moda", "modio"])
def test_copy_as_curl_sends_an_authentic_webhook(profile):
    """The copied snippet, run by bash with the secret in the environment, is accepted by a
    receiver that checks the signature (Moda: signed anew at the current time) or the token."""
    secret = get_profile(profile).generate_secret()
    receiver = FakeReceiver(profile, secret)
    receiver.start()
    try:
        with running(allow_http_callbacks=True, signing_secret=secret if profile == "moda" else None) as (
            _emu,
            api,
        ):
            if profile == "moda":
                api.post(
                    "/_hookmock/moda/events", {"event_type": "task.succeeded", "callback_url": receiver.url}
                )
            else:
                api.put("/_hookmock/modio/games/g/webhook", {"url": receiver.url, "token": secret})
                api.post("/_hookmock/modio/games/g/events", {"event_name": "ADD_MOD_COMMENT"})
            api.advance(1)
            assert receiver.wait_for(1)
            [row] = _rows(api)["rows"]
            snippet = _curl_of(api, row["id"])
            assert secret not in snippet
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            missing = subprocess.run(
                ["bash", "-c", snippet], env=env, capture_output=True, text=True, timeout=20
            )
            assert missing.returncode != 0 and "HOOKMOCK_" in missing.stderr  # says what to export
            env["HOOKMOCK_MODA_SECRET" if profile == "moda" else "HOOKMOCK_MODIO_TOKEN"] = secret
            done = subprocess.run(
                ["bash", "-c", snippet], env=env, capture_output=True, text=True, timeout=20
            )
            assert done.returncode == 0, done.stderr
            assert receiver.wait_for(2)
            again = receiver.requests[-1]
            assert again.body == receiver.requests[0].body
            assert again.verdict is not None and again.verdict.ok, again.verdict
    finally:
        receiver.stop()


def test_the_page_queries_use_indexes(tmp_path):
    """The page's queries on a log: every filter, the search and a cursor page are index
    searches ordered by the index (no full scan, no sort of the whole table)."""
    path = str(tmp_path / "log.db")
    log = DeliveryLog(path)
    plans: list[str] = []
    raw = sqlite3.connect(path)
    log._db.set_trace_callback(
        lambda sql: (
            plans.append(sql) if sql.lstrip().upper().startswith("SELECT") and "deliveries" in sql else None
        )
    )
    try:
        for kw in ({}, {"profile": "modio"}, {"status": "pending"}, {"event_type": "task.failed"}):
            log.list(limit=50, **kw)
        log.find("evt_x")
    finally:
        log._db.set_trace_callback(None)
        log.close()
    assert len(plans) == 5
    for sql in plans:
        plan = " | ".join(row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql))
        assert "INDEX" in plan, (sql, plan)
        # the search sorts only its few matches; the lists walk an index in order
        assert "TEMP B-TREE" not in plan or "OR event_id" in sql, (sql, plan)
        assert not re.search(r"SCAN deliveries(?! USING)", plan), (sql, plan)
    raw.close()


def test_the_page_runs_no_inline_script_under_a_strict_policy(mixed):
    _emu, api, *_ = mixed
    status, html, headers = api.call("GET", "/_hookmock/ui")
    assert status == 200
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy and "frame-ancestors 'none'" in policy
    # the only <script> with content is the JSON data block (never executed); no on* attributes
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [" type=application/json id=page-data"]
    assert not re.search(r"<[^>]+\son[a-z]+=", html)
    # the data block cannot be closed early by a row's text
    assert html.count("</script>") == 2
    for path, kind in (("/_hookmock/ui/app.js", "text/javascript"), ("/_hookmock/ui/app.css", "text/css")):
        status, _, headers = api.call("GET", path)
        assert status == 200 and headers["Content-Type"].startswith(kind)
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_data_carries_the_clock_drift_warning():
    """The console's banner shows any clock field named like a warning: after a virtual jump past
    the signature tolerance, the page's data says so, as clock/advance does."""
    with running() as (_emu, api):
        assert api.get("/_hookmock/ui/rows")["clock"]["warning"] is None
        api.advance(400)
        clock = api.get("/_hookmock/ui/rows")["clock"]
        assert clock["warning"] and "ahead of wall time" in clock["warning"] and clock["skew_s"] > 300
        assert "id=clock-warning" in api.call("GET", "/_hookmock/ui")[1]
