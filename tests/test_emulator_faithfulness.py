"""Issue 16, "Faithfulness": each gap between the provider documents and the emulator, closed and
checked over real sockets (the emulator, fake receivers and a raw HTTP server on loopback)."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from emulator_support import running, stack
from hookmock import validate
from hookmock.cli import main as cli_main
from hookmock.emulator import EmulatorConfig
from hookmock.errors import UsageError
from hookmock.profiles import get_profile
from hookmock.profiles import modio as modio_profile
from hookmock.profiles.modio import TOKEN_HEADER
from hookmock.receiver.server import FakeReceiver

MODIO = get_profile("modio")


@pytest.fixture(autouse=True)
def _catalogue_restored():
    """Registered mod.io names live in the process's catalogue: put it back after each test, so
    that no other test in this worker sees them."""
    shapes, events = dict(modio_profile._SHAPES), dict(modio_profile._EVENTS)
    yield
    for table, saved in ((modio_profile._SHAPES, shapes), (modio_profile._EVENTS, events)):
        table.clear()
        table.update(saved)


@pytest.fixture
def modio_receiver():
    """A mod.io fake receiver; its token is set by the test (``receiver.token``)."""
    receivers: list[FakeReceiver] = []

    def make(token: str) -> FakeReceiver:
        receiver = FakeReceiver("modio", token)
        receiver.start()
        receivers.append(receiver)
        return receiver

    yield make
    for r in receivers:
        r.stop()


def _game(api, url, game="g1", **extra):
    return api.put(f"/_hookmock/modio/games/{game}/webhook", {"url": url, **extra})


# 1. mod.io history details have an "Endpoint" field --------------------------------------------


def test_modio_history_details_have_an_endpoint(modio_receiver):
    token = MODIO.generate_secret()
    receiver = modio_receiver(token)
    with running() as (_emu, api):
        _game(api, receiver.url, token=token)
        entry = api.post("/_hookmock/modio/games/g1/events", {"event_name": "ADD_MOD_COMMENT"})
        api.post("/_hookmock/modio/games/g1/test")
        api.advance(1)
        detail = api.get(f"/_hookmock/modio/history/{entry['id']}")
        # the PING and the event are due together and may arrive in either order: pick by content
        bodies = [json.loads(r.body) for r in receiver.requests]
        (sent,) = [b for b in bodies if b.get("event_name") == "ADD_MOD_COMMENT"]
        assert detail["endpoint"] == f"POST {sent['request_resource']['resource_url']}"
        validate(api.get("/_hookmock/modio/history")["data"][0], "modio-history-entry")
        ping = api.get("/_hookmock/modio/history")["data"][0]
        assert ping["name"] == "PING" and ping["endpoint"] is None  # no request raised the PING
        page = api.call("GET", f"/_hookmock/ui/deliveries/{entry['id']}")[1]
        assert "<th scope=row>endpoint</th>" in page and sent["request_resource"]["resource_url"] in page


# 2. mod.io response bodies: 2 KB, decided; secrets redacted before the cut ----------------------


class _BigBody(BaseHTTPRequestHandler):
    body = b""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_modio_response_is_cut_at_2kb_after_redacting_the_token():
    token = MODIO.generate_secret()
    # the token straddles the 2 KB cut: redaction must see it whole (the engine reads past the cut)
    handler = type("H", (_BigBody,), {"body": b"a" * 2030 + token.encode() + b"b" * 4000})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with running() as (_emu, api):
            _game(api, f"http://127.0.0.1:{server.server_address[1]}/hook", token=token)
            entry = api.post("/_hookmock/modio/games/g1/events", {"event_name": "ADD_MOD"})
            api.advance(1)
            got = api.get(f"/_hookmock/modio/history/{entry['id']}")
        assert got["http_status"] == 200
        assert len(got["response"].encode()) <= 2048 and got["response"].startswith("a" * 2000)
        assert token[:6] not in got["response"]  # not even the part before the cut
    finally:
        server.shutdown()
        server.server_close()


# 3. custom mod.io event names over HTTP and from `serve` ----------------------------------------


def test_register_modio_event_names_over_http(modio_receiver):
    token = MODIO.generate_secret()
    receiver = modio_receiver(token)
    with running() as (_emu, api):
        _game(api, receiver.url, token=token)
        status, err, _ = api.call(
            "POST", "/_hookmock/modio/games/g1/events", {"event_name": "ADD_MOD_RATING_X"}
        )
        assert status == 400 and err["error"]["code"] == "unknown_event_type"
        message = err["error"]["message"]
        assert "POST /_hookmock/modio/event-names" in message and "--modio-event ADD_MOD_RATING_X" in message
        assert "register_event()" not in message
        status, names, _ = api.call(
            "POST", "/_hookmock/modio/event-names", {"event_name": "ADD_MOD_RATING_X"}
        )
        assert status == 201 and "ADD_MOD_RATING_X" in [n["event_name"] for n in names["data"]]
        status, _, _ = api.call(
            "POST", "/_hookmock/modio/games/g1/events", {"event_name": "ADD_MOD_RATING_X"}
        )
        assert status == 202
        bad = api.call("POST", "/_hookmock/modio/event-names", {"event_name": "not an event"})
        assert bad[0] == 400 and "not an event" in bad[1]["error"]["message"]
        api.advance(1)
        assert json.loads(receiver.requests[0].body)["event_name"] == "ADD_MOD_RATING_X"


def test_serve_option_registers_modio_event_names(modio_receiver, tmp_path):
    token = MODIO.generate_secret()
    receiver = modio_receiver(token)
    db = str(tmp_path / "emu.db")
    with running(modio_events=("ADD_TEAM_MEMBER_Y",), db_path=db) as (_emu, api):
        _game(api, receiver.url, token=token)
        status, _, _ = api.call(
            "POST", "/_hookmock/modio/games/g1/events", {"event_name": "ADD_TEAM_MEMBER_Y"}
        )
        assert status == 202
        api.post("/_hookmock/modio/event-names", {"event_name": "KEPT_ACROSS_RESTART_Z"})
    with running(db_path=db) as (emu, _api):  # kept in the --db: a restart knows it too
        assert "KEPT_ACROSS_RESTART_Z" in emu.core.store.meta("modio_events")
    with pytest.raises(UsageError, match="--modio-event 'bad name'"):
        EmulatorConfig(modio_events=("bad name",)).check()
    assert cli_main(["serve", "--port", "0", "--modio-event", "lower"]) == 2


# 4. the emulator issues a mod.io token ------------------------------------------------------------


def test_put_webhook_without_token_issues_one(modio_receiver):
    with running() as (_emu, api):
        placeholder = modio_receiver("unused")
        game = _game(api, placeholder.url)
        token = game["token"]
        assert game["token_issued"] is True and len(token) == 40
        receiver = modio_receiver(token)
        again = _game(api, receiver.url)  # no token again: the issued one is kept
        assert again["token"] == token
        api.post("/_hookmock/modio/games/g1/events", {"event_name": "ADD_MOD"})
        api.advance(1)
        [req] = receiver.requests
        assert dict(req.headers)[TOKEN_HEADER] == token and req.verdict.ok
        assert token in api.call("GET", "/_hookmock/ui")[1]  # shown on the page
        assert api.get("/_hookmock/modio/games")["data"][0]["token"] == token
        mine = _game(api, receiver.url, token="my-own-token")
        assert mine["token_issued"] is False and "token" not in mine
        for bad in ("a\rb", "a\nb", "a\0b", "snow☃"):
            status, err, _ = api.call(
                "PUT", "/_hookmock/modio/games/g1/webhook", {"url": receiver.url, "token": bad}
            )
            assert status == 400 and err["error"]["details"] == {"parameter": "token"}


# 5. overrides cannot break the closed event set ---------------------------------------------------


def test_overrides_of_event_defining_fields_need_unfaithful():
    with stack("ok") as (_emu, api, receiver):
        body = {
            "event_type": "task.succeeded",
            "callback_url": receiver.url,
            "overrides": {"type": "task.running", "api_version": "1999-01-01"},
        }
        status, err, _ = api.call("POST", "/_hookmock/moda/events", body)
        assert status == 400 and err["error"]["code"] == "override_not_faithful"
        assert (
            "api_version, type" in err["error"]["message"] and '"unfaithful": true' in err["error"]["message"]
        )
        nested = {**body, "overrides": {"data": {"status": "failed"}}}
        assert api.call("POST", "/_hookmock/moda/events", nested)[0] == 400
        fine = {**body, "overrides": {"data": {"progress": None}}}
        assert api.call("POST", "/_hookmock/moda/events", fine)[0] == 202
        status, row, _ = api.call("POST", "/_hookmock/moda/events", {**body, "unfaithful": True})
        assert status == 202 and row["event_type"] == "task.running"
        api.advance(1)
        # two deliveries were due at once and may arrive in either order: find the unfaithful one
        bodies = [json.loads(r.body) for r in receiver.requests]
        [sent] = [b for b in bodies if b["api_version"] == "1999-01-01"]
        assert sent["type"] == "task.running"
        logged = {r["id"]: r["event_type"] for r in api.get("/v1/webhook_deliveries")["data"]}
        assert logged[row["id"]] == "task.running"  # the log says what was sent


def test_modio_overrides_of_the_event_name_need_unfaithful(modio_receiver):
    token = MODIO.generate_secret()
    receiver = modio_receiver(token)
    with running() as (_emu, api):
        _game(api, receiver.url, token=token)
        body = {"event_name": "ADD_MOD", "overrides": {"event_name": "DELETE_EVERYTHING"}}
        status, err, _ = api.call("POST", "/_hookmock/modio/games/g1/events", body)
        assert status == 400 and "event_name" in err["error"]["message"]
        status, entry, _ = api.call("POST", "/_hookmock/modio/games/g1/events", {**body, "unfaithful": True})
        assert status == 202 and entry["name"] == "DELETE_EVERYTHING"


# 6. task links: events served, canvas null ---------------------------------------------------------


def test_task_events_route_and_links():
    with stack("ok") as (_emu, api, receiver):
        task = api.post("/v1/tasks", {"prompt": "p", "callback_url": receiver.url})
        quiet = api.post("/v1/tasks", {"prompt": "no webhook"})
        assert api.get(task["links"]["events"]) == {"data": [], "next_cursor": None}
        api.advance(5)
        done = api.get(f"/v1/tasks/{task['id']}")
        assert done["links"]["canvas"] is None and done["result"]["canvas_id"].startswith("cvs_")
        page = api.get(done["links"]["events"] + "?limit=1")
        sent = json.loads(receiver.requests[0].body)
        assert page == {"data": [sent], "next_cursor": None}
        validate(page["data"][0], "moda-envelope")
        assert api.get(f"/v1/tasks/{quiet['id']}/events")["data"] == []
        assert api.call("GET", "/v1/tasks/task_nope/events")[0] == 404
        status, err, _ = api.call("GET", f"/v1/tasks/{task['id']}/events?cursor=abc")
        assert status == 400 and err["error"]["code"] == "invalid_cursor"


# 7. error bodies agree; permission, unprocessable, rate_limited; causes -----------------------------


def test_a_bad_cursor_is_one_error_everywhere():
    with running() as (_emu, api):
        api.post("/v1/tasks", {"prompt": "p"})
        seen = set()
        for path in ("/v1/tasks", "/v1/webhook_deliveries", "/_hookmock/modio/history"):
            status, err, _ = api.call("GET", f"{path}?cursor=not-a-cursor")
            assert status == 400, path
            seen.add((err["error"]["type"], err["error"]["code"], json.dumps(err["error"]["details"])))
        assert seen == {("invalid_request", "invalid_cursor", '{"parameter": "cursor"}')}


@pytest.mark.parametrize(
    ("magic", "status", "type_"),
    [
        ("permission", 403, "permission"),
        ("unprocessable", 422, "unprocessable"),
        ("rate-limited", 429, "rate_limited"),
    ],
)
def test_magic_values_answer_with_error_types(magic, status, type_):
    with running() as (_emu, api):
        got, err, headers = api.call("POST", "/v1/tasks", {"prompt": f"poster hookmock:{magic}"})
        assert got == status and err["error"]["type"] == type_
        validate(err, "moda-error")
        if status == 429:
            assert headers["Retry-After"] == "1" and err["error"]["retry_after_ms"] == 1000
        assert api.get("/v1/tasks")["data"] == []  # nothing was created


def test_rate_limit_option_answers_429_with_retry_after():
    with running(rate_limit=1.0) as (_emu, api):
        assert api.call("GET", "/v1/tasks")[0] == 200
        status, err, headers = api.call("GET", "/v1/tasks")
        assert status == 429 and err["error"]["type"] == "rate_limited"
        assert 0 < err["error"]["retry_after_ms"] <= 1000 and headers["Retry-After"] == "1"
        assert api.call("GET", "/_hookmock/health")[0] == 200  # the control API is not limited


def test_several_problems_are_listed_in_causes():
    with running() as (_emu, api):
        body = {"callback_url": "http://127.0.0.1:9/x", "idempotency_key": ""}
        status, err, _ = api.call("POST", "/v1/tasks", body)
        assert status == 400 and err["error"]["code"] == "multiple_problems"
        causes = err["error"]["causes"]
        assert [c["code"] for c in causes] == [
            "parameter_missing",
            "callback_url_not_https",
            "parameter_invalid",
        ]
        validate(err, "moda-error")
        one = api.call("POST", "/v1/tasks", {"callback_url": "http://127.0.0.1:9/x", "prompt": "p"})[1]
        assert one["error"]["code"] == "callback_url_not_https" and one["error"]["causes"] is None


# 8. an export's expires_at counts from completion ---------------------------------------------------


def test_export_expires_a_day_after_completion():
    with running() as (_emu, api):
        task = api.post("/v1/canvases/cvs_hookmock:slow/export", {"format": "pdf"})
        api.advance(120)
        done = api.get(f"/v1/canvases/cvs_hookmock:slow/export-status?task_id={task['id']}")
        completed = datetime.fromisoformat(done["completed_at"])
        assert completed - datetime.fromisoformat(done["created_at"]) >= timedelta(seconds=60)
        assert datetime.fromisoformat(done["result"]["expires_at"]) == completed + timedelta(days=1)


# 9. EDIT_* request_method follows mod.io's REST API ---------------------------------------------------


def test_edit_events_request_method(modio_receiver):
    token = MODIO.generate_secret()
    receiver = modio_receiver(token)
    names = ("EDIT_MOD", "EDIT_GUIDE", "EDIT_MOD_COMMENT", "EDIT_GUIDE_COMMENT", "ADD_MOD_COMMENT")
    with running() as (_emu, api):
        _game(api, receiver.url, token=token)
        for name in names:
            api.post("/_hookmock/modio/games/g1/events", {"event_name": name})
        api.advance(1)
    methods = {
        json.loads(r.body)["event_name"]: json.loads(r.body)["request_method"] for r in receiver.requests
    }
    assert methods == {
        "EDIT_MOD": "POST",
        "EDIT_GUIDE": "POST",
        "EDIT_MOD_COMMENT": "PUT",
        "EDIT_GUIDE_COMMENT": "PUT",
        "ADD_MOD_COMMENT": "POST",
    }
