"""Secrets never leak: a full run with a canary signing secret and a canary mod.io token, then search.

The run: the Python API (a sender on a file log, fake receivers, one of which echoes every request
header back, the mod.io token included), the CLI (``send``, ``deliveries``, ``redeliver``,
``listen``, ``audit``, with and without ``--json``), and ``hookmock serve`` in a subprocess (its API,
redelivery, mod.io history and retry, drills, the history page).  Then every byte the run left is
searched for either canary: the log databases (raw file and WAL, while open and after close), every
file written under the test's directory (except the emulator's state file, whose job is to hand the
secret over), captured stdout/stderr (except the serve banner's ``signing secret`` line, printed on
purpose), every API response (body and headers) and every history page.  Zero hits.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hookmock import Sender, VirtualClock
from hookmock.cli import main
from hookmock.clock import RealClock
from hookmock.emulator import Emulator, EmulatorConfig
from hookmock.emulator.client import EmulatorClient
from hookmock.ids import random_token
from hookmock.profiles import get_profile
from hookmock.profiles.moda import API_KEY_PREFIX, SECRET_PREFIX
from hookmock.receiver.server import FakeReceiver
from hookmock.transport import EXCERPT_BYTES
from secrets_support import EchoAll, Needles, excerpts

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")

MODA_CANARY = "whsec_CANARYm0da" + secrets.token_hex(12)
MODIO_CANARY = "CANARYm0dio" + secrets.token_hex(14)
NEEDLES = (
    [c.encode() for c in (MODA_CANARY, MODIO_CANARY)]
    + [
        MODA_CANARY[len("whsec_") :].encode(),  # the secret without its prefix
        MODIO_CANARY[-20:].encode(),  # a tail: catches a cut-down copy
    ]
)


def hits(data: bytes | str) -> int:
    raw = data.encode() if isinstance(data, str) else data
    return sum(raw.count(n) for n in NEEDLES)


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A hostile receiver: answers 500 with every request header echoed back (the token too)."""
    echoed = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    body = json.dumps({"error": "debug echo", "headers": echoed}).encode()
    start_response("500 Internal Server Error", [("Content-Type", "application/json")])
    return [body]


@contextmanager
def receiver(
    profile: str, secret: str | None, script: str | None = None, **kw: Any
) -> Iterator[FakeReceiver]:
    rx = FakeReceiver(profile, secret, **kw)
    if script:
        rx.script(script)
    rx.start()
    try:
        yield rx
    finally:
        rx.stop()


class Evidence:
    """Everything produced by the run that a user could see, keyed by where it came from."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes]] = []

    def add(self, where: str, data: bytes | str) -> None:
        self.items.append((where, data.encode() if isinstance(data, str) else data))

    def add_files(self, root: Path, *, skip: set[Path]) -> int:
        count = 0
        for path in sorted(root.rglob("*")):
            if path.is_file() and path not in skip:
                self.add(f"file {path.relative_to(root)}", path.read_bytes())
                count += 1
        return count

    def leaks(self) -> list[str]:
        return [f"{where}: {hits(data)} hit(s)" for where, data in self.items if hits(data)]

    @property
    def bytes(self) -> int:
        return sum(len(d) for _, d in self.items)


def _api_run(tmp: Path, ev: Evidence) -> None:
    """Python API: a sender on a file log, a retrying receiver, an echoing one, redelivery."""
    db = tmp / "api.db"
    clock = VirtualClock(start=RealClock().time())
    with (
        receiver("moda", MODA_CANARY, "500,ok", clock=clock) as good,
        receiver("modio", MODIO_CANARY, handler=echo_app, clock=clock) as echo,
        Sender("moda", MODA_CANARY, clock=clock, log=db) as moda,
        Sender("modio", MODIO_CANARY, clock=clock, log=db) as modio,
    ):
        done = [moda.send(good.url, "task.succeeded"), modio.send(echo.url, None)]
        done.append(moda.redeliver(done[0].id))
        done.append(moda.send(echo.url, "task.failed"))
        ev.add("api: reprs", repr(moda) + repr(modio) + repr(moda.engine) + repr(moda.log))
        for delivery in done:
            ev.add(
                f"api: delivery {delivery.id}",
                repr(delivery)
                + str(delivery)
                + delivery.timeline()
                + json.dumps(delivery.row(), default=str),
            )
            for attempt in delivery.attempts:
                ev.add(
                    f"api: attempt {delivery.id}/{attempt.number}", repr(attempt) + attempt.excerpt.decode()
                )
        for name in ("api.db", "api.db-wal"):  # raw bytes while the log is open
            if (tmp / name).exists():
                ev.add(f"open log {name}", (tmp / name).read_bytes())
        assert [d.status for d in done] == ["succeeded", "failed", "succeeded", "failed"]
        assert echo.requests and good.requests[-1].verdict.ok


@contextmanager
def listen(tmp: Path, profile: str, secret: str, script: str, ev: Evidence) -> Iterator[str]:
    env = {**os.environ, "HOOKMOCK_SECRET": secret}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookmock", "listen", "--profile", profile, "--script", script, "--json"],
        env=env,
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        yield json.loads(first)["url"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
        ev.add(f"listen {profile} stdout", first + out)
        ev.add(f"listen {profile} stderr", err)


def _cli_run(
    tmp: Path, ev: Evidence, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp / "cli.db")
    monkeypatch.chdir(tmp)

    def cli(*argv: str, secret: str | None = None) -> int:
        if secret is None:
            monkeypatch.delenv("HOOKMOCK_SECRET", raising=False)
        else:
            monkeypatch.setenv("HOOKMOCK_SECRET", secret)
        code = main(list(argv))
        out = capsys.readouterr()
        ev.add(f"cli {' '.join(argv[:2])} stdout", out.out)
        ev.add(f"cli {' '.join(argv[:2])} stderr", out.err)
        return code

    with (
        listen(tmp, "moda", MODA_CANARY, "500,ok", ev) as moda_url,
        listen(tmp, "modio", MODIO_CANARY, "ok", ev) as modio_url,
        receiver("modio", None, handler=echo_app) as echo,
    ):
        fast = ("--retry-delays", "0.05,0.05,0.05")  # not faithful: keeps the run short
        assert cli("send", moda_url, "--db", db, "--json", *fast, secret=MODA_CANARY) == 0
        assert cli("send", moda_url, "--db", db, *fast, secret=MODA_CANARY) == 0
        assert cli("send", modio_url, "--profile", "modio", "--db", db, "--json", secret=MODIO_CANARY) == 0
        assert cli("send", modio_url, "--profile", "modio", "--db", db, secret="not-the-token") == 0
        assert cli("send", echo.url, "--profile", "modio", "--db", db, "--json", secret=MODIO_CANARY) == 1
        assert cli("send", echo.url, "--profile", "modio", "--db", db, secret=MODIO_CANARY) == 1
        assert cli("deliveries", "--db", db, "--json") == 0
        rows = json.loads(ev.items[-2][1])["data"]
        assert len(rows) == 6
        for row in rows:
            assert cli("deliveries", "--db", db, "--show", row["id"], "--json") == 0
            assert cli("deliveries", "--db", db, "--show", row["id"]) == 0
        assert cli("deliveries", "--db", db) == 0
        moda_id = next(r["id"] for r in rows if moda_url in json.dumps(r))
        echo_id = next(r["id"] for r in rows if echo.url in json.dumps(r))
        assert cli("redeliver", moda_id, "--db", db, "--json", secret=MODA_CANARY) == 0
        assert cli("redeliver", echo_id, "--db", db, secret=MODIO_CANARY) == 1
    # audits: a receiver that accepts anything fails most checks, so the report is full of curls
    with receiver("moda", None) as lax, receiver("modio", None, handler=echo_app) as echo:
        junit = str(tmp / "audit-junit.xml")
        assert cli("audit", lax.url, "--json", "--junit", junit, secret=MODA_CANARY) == 1
        assert cli("audit", lax.url, "-v", secret=MODA_CANARY) == 1
        assert cli("audit", echo.url, "--profile", "modio", "-v", secret=MODIO_CANARY) == 1
        assert cli("audit", echo.url, "--profile", "modio", "--json", secret=MODIO_CANARY) == 1
        report = json.loads(ev.items[-2][1])
        assert "curl" in json.dumps(report)


def _serve_run(tmp: Path, ev: Evidence) -> tuple[Path, bytes]:
    """``hookmock serve`` with the canary secret; every API response and page is kept."""
    state_dir = tmp / "state"
    state_dir.mkdir()
    state = state_dir / "state.json"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "hookmock", "serve", "--port", "0", "--db", str(tmp / "emulator.db"),
            "--state-file", str(state), "--clock", "virtual", "--allow-http-callbacks",
            "--signing-secret", MODA_CANARY,
        ],
        cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    responses: list[tuple[str, str, int, Any, dict[str, str]]] = []
    try:
        deadline = time.monotonic() + 30
        while not state.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.02)
        state_bytes = state.read_bytes()  # the emulator removes the file on exit
        info = json.loads(state_bytes)
        assert info["signing_secret"] == MODA_CANARY  # the state file hands the secret over
        api = EmulatorClient(info["base_url"], info["api_key"])

        def call(method: str, path: str, body: Any = None) -> Any:
            status, parsed, headers = api.call(method, path, body)
            responses.append((method, path, status, parsed, headers))
            assert status < 500, (method, path, status, parsed)
            return parsed

        with (
            receiver("moda", MODA_CANARY, "500,ok") as good,
            receiver("modio", MODIO_CANARY, handler=echo_app) as echo,
        ):
            task = call("POST", "/v1/tasks", {"prompt": "canary run", "callback_url": good.url})
            call("POST", "/_hookmock/clock/advance", {"seconds": 6})
            call("GET", f"/v1/tasks/{task['id']}")
            call("POST", "/_hookmock/moda/events", {"event_type": "task.failed", "callback_url": echo.url})
            call("PUT", "/_hookmock/modio/games/77/webhook", {"url": echo.url, "token": MODIO_CANARY})
            call("POST", "/_hookmock/modio/games/77/test")
            call("POST", "/_hookmock/modio/games/77/events", {"event_name": "ADD_MOD"})
            call("POST", "/_hookmock/clock/advance", {"seconds": 2})
            deliveries = call("GET", "/v1/webhook_deliveries")["data"]
            assert deliveries, "no deliveries listed"
            for row in deliveries:
                call("GET", f"/v1/webhook_deliveries/{row['id']}")
                call("GET", f"/_hookmock/ui/deliveries/{row['id']}")
            call("POST", f"/v1/webhook_deliveries/{deliveries[-1]['id']}/redeliver")
            for mode in ("duplicate", "stale", "bad_signature"):
                call("POST", "/_hookmock/drills", {"mode": mode, "delivery_id": deliveries[-1]["id"]})
            history = call("GET", "/_hookmock/modio/history")["data"]
            assert history, "no mod.io history"
            for entry in history:
                call("GET", f"/_hookmock/modio/history/{entry['id']}")
                call("GET", f"/_hookmock/ui/deliveries/{entry['id']}")
            call("POST", f"/_hookmock/modio/history/{history[0]['id']}/retry")
            call("POST", "/_hookmock/drills", {"mode": "duplicate", "delivery_id": history[0]["id"]})
            call("POST", "/_hookmock/clock/advance", {"seconds": 40})
            call("GET", "/_hookmock/ui")
            call("GET", "/_hookmock/ui/rows")  # the page's live-update JSON
            call("GET", "/_hookmock/modio/games")
            call("GET", "/_hookmock/openapi.json")
            call("GET", "/v1/webhook_deliveries?status=failed")
            sent = [dict((k.lower(), v) for k, v in r.headers) for r in echo.requests]
            assert any(h.get("x-modio-webhook-token") == MODIO_CANARY for h in sent)  # the echo had it
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    banner = [line for line in out.decode().splitlines() if not line.strip().startswith("signing secret")]
    assert len(banner) == len(out.decode().splitlines()) - 1  # exactly one line prints it, on purpose
    ev.add("serve stdout (without the signing secret line)", "\n".join(banner))
    ev.add("serve stderr", err)
    for method, path, status, parsed, headers in responses:
        body = parsed if isinstance(parsed, str) else json.dumps(parsed)
        ev.add(f"serve {method} {path} -> {status}", body + json.dumps(headers))
    assert len([r for r in responses if r[1].startswith("/_hookmock/ui")]) >= 3
    assert not state.exists()  # removed on exit
    return state, state_bytes


def _scrubbed_emulator_db(path: Path, work: Path) -> bytes:
    """The emulator's database holds its own settings, like the state file: its signing secret (so a
    restart keeps it) and each mod.io game's token (the game's webhook configuration).  Those two
    values, and nothing else, are removed from a copy, the copy is vacuumed (free pages rewritten) and
    its raw bytes returned: the delivery log, tasks and history must hold no canary at all."""
    work.mkdir()
    copy = work / "emulator-copy.db"
    with sqlite3.connect(path) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    conn = sqlite3.connect(copy)
    try:
        kept = conn.execute("SELECT value FROM emu_meta WHERE key = 'signing_secret'").fetchone()
        tokens = [r[0] for r in conn.execute("SELECT token FROM emu_games")]
        assert kept == (MODA_CANARY,) and tokens == [MODIO_CANARY]
        conn.execute("UPDATE emu_meta SET value = 'scrubbed' WHERE key = 'signing_secret'")
        conn.execute("UPDATE emu_games SET token = 'scrubbed'")
        conn.commit()
        conn.execute("VACUUM")
    finally:
        conn.close()
    data = copy.read_bytes()
    shutil.rmtree(work)
    return data


def test_canaries_appear_nowhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ev = Evidence()
    _api_run(tmp_path, ev)
    _cli_run(tmp_path, ev, capsys, monkeypatch)
    state, state_bytes = _serve_run(tmp_path, ev)
    captured = capsys.readouterr()
    ev.add("pytest-captured stdout", captured.out)
    ev.add("pytest-captured stderr", captured.err)
    emulator_db = tmp_path / "emulator.db"
    files = ev.add_files(tmp_path, skip={state, emulator_db})
    ev.add("emulator.db without its two settings", _scrubbed_emulator_db(emulator_db, tmp_path / "scrub"))
    assert hits(state_bytes) >= 1  # the search does find a canary where one is
    dbs = [p.name for p in tmp_path.rglob("*.db")]
    assert {"api.db", "cli.db", "emulator.db"} <= set(dbs)
    leaks = ev.leaks()
    print(
        "\n".join(
            f"  {w} ({len(d)} bytes)"
            for w, d in ev.items
            if w.startswith(("open", "file", "emulator", "serve s", "listen"))
        )
    )
    print(f"canary search: {len(ev.items)} sources, {files} files, {ev.bytes:,} bytes, {len(leaks)} hits")
    assert leaks == []


# -- every secret, in every encoding, cut anywhere ---------------------------------------------


class Found:
    """What a run showed (where, bytes), searched for any piece of any encoding of the secrets."""

    def __init__(self, needles: Needles) -> None:
        self.needles = needles
        self.items: list[tuple[str, bytes]] = []
        self.tails: list[tuple[str, str]] = []

    def add(self, where: str, data: Any) -> Any:
        text = data if isinstance(data, (str, bytes)) else json.dumps(data, ensure_ascii=False)
        self.items.append((where, text.encode() if isinstance(text, str) else text))
        if not isinstance(data, (str, bytes)):
            self.tails.extend((where, e) for e in excerpts(data))
        return data

    def add_json_lines(self, where: str, out: str) -> None:
        for line in out.splitlines():
            if line.strip().startswith("{"):
                self.add(where, json.loads(line))
        self.add(where + " (raw)", out)

    def leaks(self) -> list[str]:
        found = [f"{w}: {sorted(set(h))[:3]}" for w, d in self.items if (h := self.needles.hits(d))]
        found += [f"{w}: excerpt ends {t!r}" for w, e in self.tails if (t := self.needles.cut_tail(e))]
        return found


def _emulator_echo_run(tmp: Path, found: Found, secrets_: dict[str, str]) -> Path:
    """The emulator fires Moda and mod.io webhooks at a receiver echoing its three secrets."""
    moda, key, token = secrets_["moda"], secrets_["api_key"], secrets_["token"]
    echo = EchoAll([(moda, SECRET_PREFIX), (key, API_KEY_PREFIX), (token, "")], cut_at=EXCERPT_BYTES)
    wanted = len(echo.pairs) * EchoAll.OFFSETS  # every (secret, encoding) at every cut offset
    db = tmp / "emu.db"
    config = EmulatorConfig(
        port=0, clock="virtual", db_path=str(db), signing_secret=moda, api_key=key,
        allow_http_callbacks=True,
    )  # fmt: skip
    with receiver("modio", None, handler=echo) as rx, Emulator(config) as emu:
        api = EmulatorClient(emu.base_url, key)

        def call(method: str, path: str, body: Any = None) -> Any:
            status, parsed, _ = api.call(method, path, body)
            assert status < 300, (method, path, status, parsed)
            return found.add(f"emulator {method} {path}", parsed)

        call("PUT", "/_hookmock/modio/games/77/webhook", {"url": rx.url, "token": token})
        moda_events = 20  # four attempts each
        for _ in range(moda_events):
            call("POST", "/_hookmock/moda/events", {"event_type": "task.failed", "callback_url": rx.url})
        for _ in range(wanted - 4 * moda_events):
            call("POST", "/_hookmock/modio/games/77/events", {"event_name": "ADD_MOD"})
        for seconds in (2, 6, 31, 31):
            call("POST", "/_hookmock/clock/advance", {"seconds": seconds})
        assert len(echo.bodies) >= wanted
        rows, cursor = [], ""
        while cursor is not None:
            page = call("GET", f"/v1/webhook_deliveries?limit=200{cursor and '&cursor=' + cursor}")
            rows += page["data"]
            cursor = page["next_cursor"]
        history = call("GET", "/_hookmock/modio/history")["data"]
        assert len(rows) == moda_events and history
        for row in rows:
            call("GET", f"/v1/webhook_deliveries/{row['id']}")
            call("GET", f"/_hookmock/ui/deliveries/{row['id']}")
        for entry in history:
            call("GET", f"/_hookmock/modio/history/{entry['id']}")
            call("GET", f"/_hookmock/ui/deliveries/{entry['id']}")
        call("GET", "/_hookmock/ui")
        call("GET", "/_hookmock/ui/rows")
        # the receiver's bodies: the search does find pieces where there are some
        assert all(found.needles.hits(body) for body in echo.bodies)
        assert all(found.needles.cut_tail(b[:EXCERPT_BYTES].decode()) for b in echo.bodies)
        for name in ("emu.db", "emu.db-wal"):  # raw, while open (checked below)
            if (tmp / name).exists():
                found.items.append(
                    (f"open file {name}", _without_settings((tmp / name).read_bytes(), secrets_))
                )
    return db


def _without_settings(data: bytes, secrets_: dict[str, str]) -> bytes:
    """The emulator's file keeps its settings (signing secret, API key, game token) on purpose:
    those exact copies are blanked; any other piece of a secret, in any encoding, is a leak."""
    for value in secrets_.values():
        data = data.replace(value.encode(), b"#" * len(value))
    return data


def _cli_echo_run(tmp: Path, found: Found, cli: Any, secrets_: dict[str, str]) -> None:
    """``hookmock send`` (Moda and mod.io) at a receiver echoing the sender's own secret, then
    ``hookmock deliveries``: the log the CLI writes and prints holds no piece of it."""
    db = str(tmp / "cli.db")
    token, moda = secrets_["token"], secrets_["moda"]
    fast = ("--retry-delays", "0.01,0.01,0.01")  # not faithful: keeps the run short
    for profile, secret, prefix, sends in (("modio", token, "", 11), ("moda", moda, SECRET_PREFIX, 3)):
        echo = EchoAll([(secret, prefix)], cut_at=EXCERPT_BYTES)
        with receiver(profile, None, handler=echo) as rx:
            for n in range(sends):
                extra = ("--json",) if n % 2 else ()
                argv = ["send", rx.url, "--profile", profile, "--db", db, *extra]
                out = cli(*(argv + list(fast) if profile == "moda" else argv), secret=secret)
                found.add_json_lines(f"cli send {profile} #{n}", out)
        assert len(echo.bodies) == sends * (4 if profile == "moda" else 1)
    listing = cli("deliveries", "--db", db, "--json")
    found.add_json_lines("cli deliveries --json", listing)
    for row in json.loads(listing)["data"]:
        found.add_json_lines(
            "cli deliveries --show --json", cli("deliveries", "--db", db, "--show", row["id"], "--json")
        )
        found.add("cli deliveries --show", cli("deliveries", "--db", db, "--show", row["id"]))
    found.add("cli deliveries", cli("deliveries", "--db", db))
    for name in ("cli.db", "cli.db-wal"):
        if (tmp / name).exists():
            found.add(f"file {name}", (tmp / name).read_bytes())  # holds no secret at all


def _audit_echo_run(tmp: Path, found: Found, cli: Any, secrets_: dict[str, str]) -> None:
    """``hookmock audit`` of a receiver echoing the token, cut where the report's preview cuts."""
    token = secrets_["token"]
    echo = EchoAll([(token, "")], cut_at=120, status="200 OK")
    with receiver("modio", None, handler=echo) as rx:
        junit = tmp / "audit.xml"
        cli("audit", rx.url, "--profile", "modio", "--json", "--junit", str(junit), secret=token)
        found.add(
            "audit --json", json.loads(cli("audit", rx.url, "--profile", "modio", "--json", secret=token))
        )
        found.add("audit -v", cli("audit", rx.url, "--profile", "modio", "-v", secret=token))
        found.add("audit junit", junit.read_bytes())
        assert len(echo.bodies) > len(echo.pairs)


def test_every_secret_echoed_in_every_encoding_and_cut_anywhere_leaves_no_piece(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets_ = {
        "moda": get_profile("moda").generate_secret(),
        "api_key": API_KEY_PREFIX + random_token(32),
        # characters that JSON, HTML and percent-encoding each write differently
        "token": random_token(16) + '"/+&<' + random_token(16),
    }
    needles = Needles(
        [(secrets_["moda"], SECRET_PREFIX), (secrets_["api_key"], API_KEY_PREFIX), (secrets_["token"], "")]
    )
    found = Found(needles)
    monkeypatch.chdir(tmp_path)

    def cli(*argv: str, secret: str | None = None) -> str:
        if secret is None:
            monkeypatch.delenv("HOOKMOCK_SECRET", raising=False)
        else:
            monkeypatch.setenv("HOOKMOCK_SECRET", secret)
        main(list(argv))
        out = capsys.readouterr()
        found.add(f"cli {' '.join(argv[:2])} stderr", out.err)
        return out.out

    db = _emulator_echo_run(tmp_path, found, secrets_)
    found.add_json_lines(
        "deliveries --json of the emulator's file", cli("deliveries", "--db", str(db), "--json")
    )
    for name in ("emu.db", "emu.db-wal"):
        if (tmp_path / name).exists():
            found.items.append((f"file {name}", _without_settings((tmp_path / name).read_bytes(), secrets_)))
    _cli_echo_run(tmp_path, found, cli, secrets_)
    _audit_echo_run(tmp_path, found, cli, secrets_)
    assert len(found.tails) > 200
    print(f"echo search: {len(found.items)} sources, {sum(len(d) for _, d in found.items):,} bytes, "
          f"{len(found.tails)} excerpts")  # fmt: skip
    leaks = found.leaks()
    print("\n".join(leaks))
    assert leaks == []
