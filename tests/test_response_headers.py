"""Each attempt's response headers: kept in the delivery log (bounded, secrets redacted), shown in
the emulator's delivery detail and on its history page; a log from before they were kept opens."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hookmock import Sender
from hookmock.delivery._schema import MIGRATIONS, SCHEMA_VERSION, split
from hookmock.delivery.records import (
    HEADER_VALUE_MAX,
    HEADERS_MAX,
    HEADERS_MAX_BYTES,
    bound_headers,
)
from hookmock.emulator import Emulator, EmulatorConfig
from hookmock.emulator.client import EmulatorClient
from hookmock.profiles.moda import API_KEY_PREFIX, SECRET_PREFIX
from hookmock.receiver.server import FakeReceiver

MODA_SECRET = SECRET_PREFIX + "HDRm0da" + secrets.token_hex(14)
MODIO_TOKEN = "HDRm0dio" + secrets.token_hex(14)
API_KEY = API_KEY_PREFIX + "HDRkey" + secrets.token_hex(12)
#: what the receiver echoes is not the exact setting (the emulator's file keeps those on purpose,
#: blanked below) but forms the redactor must still catch: the secret without its prefix, the
#: token in upper case
NEEDLES = [MODA_SECRET[len(SECRET_PREFIX) :], MODIO_TOKEN, MODIO_TOKEN.upper(), MODIO_TOKEN.upper()[-16:]]


def leaks(data: bytes | str) -> list[str]:
    text = data if isinstance(data, str) else data.decode("latin-1")
    return [n for n in NEEDLES if n in text]


def header_app(extra: list[tuple[str, str]]) -> Any:
    """A receiver answering 200 with its own headers, two of them echoing the secrets."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/plain"),
                ("X-Request-Trace", "trace-42"),
                ("X-Debug-Secret", f"seen {MODA_SECRET[len(SECRET_PREFIX) :]} here"),
                ("X-Debug-Token", MODIO_TOKEN.upper()),
                *extra,
            ],
        )
        return [b"ok"]

    return app


@contextmanager
def receiver(extra: list[tuple[str, str]] = []) -> Iterator[FakeReceiver]:  # noqa: B006
    rx = FakeReceiver("modio", None, handler=header_app(extra))
    rx.start()
    try:
        yield rx
    finally:
        rx.stop()


def pairs(attempt: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): value for name, value in attempt["response_headers"]}


def test_emulator_detail_and_page_show_response_headers_with_secrets_redacted(tmp_path: Path) -> None:
    db = tmp_path / "emu.db"
    config = EmulatorConfig(
        port=0, clock="virtual", db_path=str(db), signing_secret=MODA_SECRET, api_key=API_KEY,
        allow_http_callbacks=True,
    )  # fmt: skip
    with receiver() as rx, Emulator(config) as emu:
        api = EmulatorClient(emu.base_url, API_KEY)

        def call(method: str, path: str, body: Any = None) -> Any:
            status, parsed, _ = api.call(method, path, body)
            assert status < 300, (method, path, status, parsed)
            return parsed

        call("PUT", "/_hookmock/modio/games/5/webhook", {"url": rx.url, "token": MODIO_TOKEN})
        moda = call("POST", "/_hookmock/moda/events", {"event_type": "task.failed", "callback_url": rx.url})
        # sent before any mod.io webhook: the game's token is redacted from the moment it is set
        assert call("POST", "/_hookmock/settle?timeout=10")["settled"]
        call("POST", "/_hookmock/modio/games/5/events", {"event_name": "ADD_MOD"})
        assert call("POST", "/_hookmock/settle?timeout=10")["settled"]
        modio = call("GET", "/_hookmock/modio/history")["data"][0]
        details = [
            call("GET", f"/v1/webhook_deliveries/{moda['id']}"),
            call("GET", f"/_hookmock/modio/history/{modio['id']}"),
        ]
        for detail in details:
            (attempt,) = detail["attempt_timeline"]
            shown = pairs(attempt)
            assert shown["x-request-trace"] == "trace-42"
            assert shown["content-type"] == "text/plain"
            assert shown["x-debug-secret"].startswith("seen ") and shown["x-debug-secret"].endswith(" here")
            assert "x-debug-token" in shown
            assert not leaks(str(detail)), detail
        status, page, _ = api.call("GET", f"/_hookmock/ui/deliveries/{moda['id']}")
        assert status == 200
        assert "<h4>Response headers</h4><table class=response-headers>" in page
        assert "<th scope=row>X-Request-Trace</th><td>trace-42</td>" in page
        assert not leaks(page)
        wal = tmp_path / "emu.db-wal"
        files = db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    files += db.read_bytes()
    for setting in (MODA_SECRET, MODIO_TOKEN, API_KEY):  # the emulator's settings, kept on purpose
        files = files.replace(setting.encode(), b"#" * len(setting))
    assert b"trace-42" in files  # the headers are in the file ...
    assert not leaks(files)  # ... and no piece of a secret


def test_sender_keeps_headers_bounded_in_memory_and_in_a_file(tmp_path: Path) -> None:
    many = [(f"X-Many-{i:02d}", "v" * 10) for i in range(HEADERS_MAX + 10)]
    with receiver([("X-Long", "L" * (HEADER_VALUE_MAX + 500)), *many]) as rx:
        for log in (None, tmp_path / "log.db"):  # in memory (held attempts) and a file
            with Sender("modio", MODIO_TOKEN, log=log) as sender:
                delivery = sender.send(rx.url, None)
                (attempt,) = delivery.attempts
                assert len(attempt.headers) == HEADERS_MAX
                names = dict(attempt.headers)
                assert names["X-Request-Trace"] == "trace-42"
                assert names["X-Long"] == "L" * HEADER_VALUE_MAX
                assert names["X-Debug-Token"] == "…redacted"  # the sender's own token (the
                assert MODIO_TOKEN.upper()[-16:] not in str(attempt.headers)  # Moda secret is not its)
                stored = sender.log.attempts(delivery.id)[0].headers
                assert stored == attempt.headers
                sender.log.find(delivery.id)  # an in-memory log's held rows are written to its database
                assert sender.log.attempts(delivery.id)[0].headers == attempt.headers


def test_bound_headers_limits() -> None:
    assert len(bound_headers([("A", "b")] * 200)) == HEADERS_MAX
    big = bound_headers([(f"H{i}", "x" * HEADER_VALUE_MAX) for i in range(20)])
    assert sum(len(n) + len(v) for n, v in big) <= HEADERS_MAX_BYTES
    assert len(big) == HEADERS_MAX_BYTES // (HEADER_VALUE_MAX + 3)
    # redacted whole first, then (if cut) its kept end again as a cut
    seen: list[tuple[str, bool]] = []
    bound_headers([("N", "y" * 5000)], lambda t, cut: seen.append((t[:1], cut)) or t)
    assert seen == [("N", False), ("y", False), ("y", True)]


def _v2_log(path: Path) -> None:
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        for statement in split(script):
            db.execute(statement)
    db.execute("PRAGMA user_version = 2")
    db.execute("INSERT INTO meta (key, value) VALUES ('cursor_key', ?)", (b"k" * 32,))
    db.execute(
        "INSERT INTO deliveries (id, profile, event_type, target_url, status, phase, attempts, created_ns, "
        "body) VALUES ('d1', 'modio', 'ADD_MOD', 'http://127.0.0.1:9/', 'failed', 'failed', 1, 1, x'7b7d')"
    )
    db.execute(
        "INSERT INTO attempts (delivery_seq, number, started_ns, duration_ns, outcome, status, excerpt) "
        "VALUES (1, 1, 1, 5, 'response', 500, x'6f6b')"
    )
    db.commit()
    db.close()


def test_a_version_2_log_opens_migrates_and_keeps_new_headers(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _v2_log(path)
    with receiver() as rx, Sender("modio", MODIO_TOKEN, log=path) as sender:
        (old,) = sender.log.attempts("d1")
        assert old.status == 500 and old.headers == () and old.to_dict()["response_headers"] == []
        delivery = sender.send(rx.url, None)
        assert dict(sender.log.attempts(delivery.id)[0].headers)["X-Request-Trace"] == "trace-42"
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        rows = db.execute("SELECT headers FROM attempts ORDER BY delivery_seq").fetchall()
        assert rows[0][0] is None and "trace-42" in rows[1][0]
    finally:
        db.close()


def test_attempts_stay_complete_once_with_headers(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with receiver() as rx, Sender("modio", MODIO_TOKEN, log=path) as sender:
        sender.send(rx.url, None)
    db = sqlite3.connect(path)
    try:
        try:
            db.execute("UPDATE attempts SET headers = '[]'")
        except sqlite3.DatabaseError as exc:
            assert "completed once" in str(exc)
        else:  # pragma: no cover
            raise AssertionError("a completed attempt's headers were rewritten")
    finally:
        db.close()
