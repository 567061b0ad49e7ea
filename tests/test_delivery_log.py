"""The SQLite delivery log: rows, views, pagination, cursors, durability rules, a stateful model."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from hookmock.clock import SECOND, format_iso
from hookmock.delivery import machine as m
from hookmock.delivery.cursor import decode_cursor, encode_cursor
from hookmock.delivery.log import SCHEMA_VERSION, DeliveryLog
from hookmock.errors import UsageError
from hookmock.ids import crockford_id
from hookmock.profiles import get_profile
from hookmock.transport import AttemptResult
from hookmock.validation import validate

T0 = 1_777_593_600 * SECOND
MODA = m.Rules.from_profile(get_profile("moda"))
MODIO = m.Rules.from_profile(get_profile("modio"))
EVENT_TYPES = ("task.succeeded", "task.failed", "export.failed")


def _create(log: DeliveryLog, n: int, *, created: int | None = None, **kw: object) -> str:
    delivery_id = crockford_id("whd")
    log.create(
        delivery_id=delivery_id,
        profile=str(kw.pop("profile", "moda")),
        event_id=f"evt_{n}",
        event_type=str(kw.pop("event_type", EVENT_TYPES[n % 3])),
        target_url="http://127.0.0.1:9/hook",
        body=b'{"id":"evt_%d"}' % n,
        created_ns=T0 + n * SECOND if created is None else created,
        **kw,  # type: ignore[arg-type]
    )
    return delivery_id


def _attempt(log: DeliveryLog, delivery_id: str, rules: m.Rules, result: AttemptResult, now: int) -> None:
    state = m.attempt_started(log.get(delivery_id).state, rules, now)
    log.start_attempt(delivery_id, state, timestamp=now // SECOND)
    log.finish_attempt(delivery_id, state.attempts, result, m.complete(state, rules, result))


@pytest.fixture
def log(tmp_path: Path) -> DeliveryLog:
    with DeliveryLog(tmp_path / "log.db") as db:
        yield db


def test_file_log_is_wal_full_and_versioned(tmp_path: Path):
    path = tmp_path / "log.db"
    DeliveryLog(path).close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()
    with DeliveryLog(path) as again:  # reopening migrates nothing and keeps the cursor key
        assert again.schema_version == SCHEMA_VERSION
        assert again._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_newer_schema_and_foreign_files_are_refused(tmp_path: Path):
    newer = tmp_path / "newer.db"
    raw = sqlite3.connect(newer)
    raw.execute("PRAGMA user_version = 99")
    raw.commit()
    raw.close()
    with pytest.raises(UsageError, match="newer than this hookmock"):
        DeliveryLog(newer)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(UsageError, match="not a hookmock delivery log"):
        DeliveryLog(junk)
    with pytest.raises(UsageError, match="does not exist"):
        DeliveryLog(tmp_path / "missing.db", create=False)


def test_moda_rows_are_schema_valid_and_track_the_last_attempt(log: DeliveryLog):
    delivery_id = _create(log, 1, api_key_id="key_1")
    row = log.get(delivery_id).moda_row()
    validate(row, "moda-delivery")
    assert row["status"] == "pending" and row["attempts"] == 0 and row["last_attempted_at"] is None
    _attempt(
        log, delivery_id, MODA, AttemptResult("response", 4_000_000, 503, excerpt=b"x" * 5000), T0 + SECOND
    )
    row = log.get(delivery_id).moda_row()
    validate(row, "moda-delivery")
    assert row["response_status_code"] == 503 and len(row["response_body_excerpt"]) == 2048
    assert row["last_attempted_at"] == format_iso(T0 + SECOND)
    _attempt(log, delivery_id, MODA, AttemptResult("response", 1_000_000, 204), T0 + 3 * SECOND)
    row = log.get(delivery_id).moda_row()
    validate(row, "moda-delivery")
    assert (row["status"], row["attempts"], row["response_status_code"], row["api_key_id"]) == (
        "succeeded",
        2,
        204,
        "key_1",
    )
    assert [a.outcome for a in log.attempts(delivery_id)] == ["response", "response"]


def test_modio_history_entries_are_schema_valid(log: DeliveryLog):
    from hookmock.factories import EventFactory

    payload = EventFactory("modio", seed=3).event("ADD_MOD_COMMENT")
    body = get_profile("modio").serialize(payload)
    log.create(
        delivery_id="whd_01KQGDBJ007JA9K4VT3887A6WW",
        profile="modio",
        event_id=payload["event_uuid"],
        event_type="ADD_MOD_COMMENT",
        target_url="http://127.0.0.1:9/",
        body=body,
        created_ns=T0,
    )
    _attempt(
        log,
        "whd_01KQGDBJ007JA9K4VT3887A6WW",
        MODIO,
        AttemptResult("response", 37_000_000, 200, excerpt=b"ok"),
        T0,
    )
    entry = log.get("whd_01KQGDBJ007JA9K4VT3887A6WW").modio_entry()
    validate(entry, "modio-history-entry")
    assert entry["duration_ms"] == 37 and entry["http_status"] == 200 and entry["response"] == "ok"
    assert entry["payload"] == payload and entry["event_uuid"] == payload["event_uuid"]
    assert entry["resource_id"] == payload["request_resource"]["resource_id"]


def test_pagination_newest_first_with_filters(log: DeliveryLog):
    ids = [_create(log, n, api_key_id="k1" if n % 2 else "k2") for n in range(23)]
    _create(log, 99, created=T0 + 5 * SECOND)  # same created_ns as n=5: tie broken by insertion order
    seen: list[str] = []
    cursor = None
    while True:
        page = log.list(limit=7, cursor=cursor)
        seen += [r.id for r in page.records]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 24 and len(set(seen)) == 24 and set(ids) < set(seen)
    created = [log.get(i).created_ns for i in seen]
    assert created == sorted(created, reverse=True)
    only = log.list(event_type="task.failed", api_key_id="k1", limit=200).records
    assert {r.event_type for r in only} == {"task.failed"} and {r.api_key_id for r in only} == {"k1"}
    window = log.list(created_from=format_iso(T0 + 3 * SECOND), created_to=T0 + 6 * SECOND).records
    assert sorted(r.created_ns for r in window) == [T0 + n * SECOND for n in (3, 4, 5, 5, 6)]
    assert {row["id"] for row in log.list(status="pending", limit=200).moda()["data"]} == set(seen)
    assert len(log.list().records) == 24  # default limit 50


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"limit": 0}, "limit=0"),
        ({"limit": 201}, "limit=201"),
        ({"limit": True}, "limit=True"),
        ({"status": "done"}, "status='done'"),
        ({"created_from": "yesterday"}, "from='yesterday'"),
        ({"created_to": "2026-05-01T00:00:00"}, "with an offset"),
        # outside what the log can hold (SQLite's 64-bit nanoseconds): was an OverflowError
        ({"created_from": "9999-12-31T23:59:59Z"}, "from='9999-12-31T23:59:59Z' is outside"),
        ({"created_to": "9999-12-31T23:59:59Z"}, "to='9999-12-31T23:59:59Z' is outside"),
        ({"created_from": "0001-01-01T00:00:00Z"}, "from='0001-01-01T00:00:00Z' is outside"),
        ({"created_from": "0001-01-01T00:00:00+01:00"}, "0001-01-01T00:00:00\\+01:00' is outside"),
        ({"created_to": "9999-12-31T23:59:59-01:00"}, "is outside"),
        ({"created_from": 2**63}, "is outside"),
    ],
)
def test_bad_query_arguments_are_clear_errors(log: DeliveryLog, kwargs: dict[str, object], match: str):
    with pytest.raises(UsageError, match=match):
        log.list(**kwargs)  # type: ignore[arg-type]


def test_tampered_foreign_and_misused_cursors(tmp_path: Path, log: DeliveryLog):
    for n in range(5):
        _create(log, n)
    cursor = log.list(limit=2).next_cursor
    assert cursor is not None
    body, tag = cursor.split(".")
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    for bad in (flipped + "." + tag, body + "." + tag[:-2], "garbage", "", "a.b.c", cursor + "x"):
        with pytest.raises(UsageError, match="not a valid cursor"):
            log.list(limit=2, cursor=bad)
    with DeliveryLog(tmp_path / "other.db") as other:
        for n in range(5):
            _create(other, n)
        with pytest.raises(UsageError, match="not a valid cursor"):
            other.list(limit=2, cursor=cursor)
    with pytest.raises(UsageError, match="other filters"):
        log.list(limit=2, cursor=cursor, status="failed")
    assert len(log.list(limit=2, cursor=cursor).records) == 2  # a different limit is fine


def test_cursor_codec_round_trip():
    key = b"k" * 32
    token = encode_cursor(key, 123, 7, {"status": "failed"})
    assert decode_cursor(key, token, {"status": "failed", "event_type": None}) == (123, 7)


def test_attempt_rows_are_append_only(log: DeliveryLog):
    delivery_id = _create(log, 1)
    _attempt(log, delivery_id, MODA, AttemptResult("response", 1, 500), T0)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        log._db.execute("DELETE FROM attempts")
    with pytest.raises(sqlite3.IntegrityError, match="completed once"):
        log._db.execute("UPDATE attempts SET status = 200")
    state = log.get(delivery_id).state
    with pytest.raises(ValueError, match="not in flight"):
        log.finish_attempt(delivery_id, 1, AttemptResult("response", 1, 200), state)


def test_recover_marks_in_flight_interrupted_and_makes_it_due(tmp_path: Path):
    path = tmp_path / "crash.db"
    log = DeliveryLog(path)
    flying = _create(log, 1)
    waiting = _create(log, 2)
    _attempt(log, waiting, MODA, AttemptResult("response", 1, 500), T0)
    state = m.attempt_started(log.get(flying).state, MODA, T0)
    log.start_attempt(flying, state, timestamp=T0 // SECOND)
    log._db.close()  # the process "dies" with the attempt in flight (the kernel drops its lock)
    log._sendlock.close()  # type: ignore[union-attr]
    with DeliveryLog(path) as again:
        assert again.in_flight_attempts() == 1
        assert again.recover(T0 + 10 * SECOND) == [flying]
        assert again.in_flight_attempts() == 0
        attempts = again.attempts(flying)
        assert [(a.outcome, a.duration_ns) for a in attempts] == [("interrupted", 10 * SECOND)]
        assert again.get(flying).state.next_due_ns == T0 + 10 * SECOND
        assert again.get(waiting).state.next_due_ns == T0 + 1 + MODA.retry_delays_ns[0]  # untouched
        assert {r.id for r in again.unfinished()} == {flying, waiting}


def test_cancel_pending_ends_deliveries_for_good_and_keeps_history(tmp_path: Path):
    path = tmp_path / "cancel.db"
    log = DeliveryLog(path)
    waiting = _create(log, 1)
    _attempt(log, waiting, MODA, AttemptResult("response", 1, 500), T0)  # a retry is due
    flying = _create(log, 2)
    in_flight = m.attempt_started(log.get(flying).state, MODA, T0)
    log.start_attempt(flying, in_flight, timestamp=T0 // SECOND)
    done = _create(log, 3)
    _attempt(log, done, MODA, AttemptResult("response", 1, 200), T0)
    other = _create(log, 4, profile="modio")
    read_before = log.get(waiting).state  # what a driver read just before the cancel
    assert log.cancel_pending(T0 + SECOND, profile="moda") == [waiting, flying]
    for delivery_id in (waiting, flying):
        record = log.get(delivery_id)
        assert record.state.phase is m.Phase.CANCELED and record.status == "failed"
        assert m.next_action(record.state, T0 + 3600 * SECOND) == m.Done("failed")
    assert log.get(done).status == "succeeded" and log.get(other).status == "pending"
    assert [r.id for r in log.unfinished()] == [other]
    validate(log.get(waiting).moda_row(), "moda-delivery")
    # the attempt in flight completes (its row is written once) without re-opening the delivery
    failed = AttemptResult("response", 5, 500)
    log.finish_attempt(flying, 1, failed, m.complete(in_flight, MODA, failed))
    assert log.get(flying).state.phase is m.Phase.CANCELED
    assert [(a.outcome, a.status) for a in log.attempts(flying)] == [("response", 500)]
    # a driver that read the delivery before the cancel cannot start an attempt after it
    stale = m.attempt_started(read_before, MODA, T0 + SECOND)
    with pytest.raises(m.DeliveryCanceled, match="canceled"):
        log.start_attempt(waiting, stale)
    assert len(log.attempts(waiting)) == 1 and log.in_flight_attempts() == 0
    # only the given ids; a canceled delivery can be retried by hand (mod.io's Retry)
    assert log.cancel_pending(T0, delivery_ids=["whd_unknown"]) == []
    log.set_state(waiting, m.manual_retry(log.get(waiting).state, T0 + 2 * SECOND))
    assert log.get(waiting).status == "pending"
    log.close()


def test_recover_ends_the_in_flight_attempt_of_a_canceled_delivery(tmp_path: Path):
    path = tmp_path / "crash.db"
    log = DeliveryLog(path)
    flying = _create(log, 1)
    log.start_attempt(flying, m.attempt_started(log.get(flying).state, MODA, T0))
    log.cancel_pending(T0)
    log._db.close()  # the process "dies" with the attempt of a canceled delivery in flight
    log._sendlock.close()  # type: ignore[union-attr]
    with DeliveryLog(path) as again:
        assert again.recover(T0 + 4 * SECOND) == []
        assert again.in_flight_attempts() == 0
        assert [(a.outcome, a.duration_ns) for a in again.attempts(flying)] == [("interrupted", 4 * SECOND)]
        assert again.get(flying).state.phase is m.Phase.CANCELED


def test_after_seq_hides_older_rows_and_binds_the_cursor(log: DeliveryLog):
    assert log.last_seq() == 0
    old = [_create(log, n) for n in range(3)]
    mark = log.last_seq()
    new = [_create(log, n) for n in range(3, 8)]
    assert [r.id for r in log.list().records] == [*new[::-1], *old[::-1]]
    page = log.list(after_seq=mark, limit=3)
    assert [r.id for r in page.records] == new[::-1][:3] and page.next_cursor
    rest = log.list(after_seq=mark, limit=3, cursor=page.next_cursor)
    assert [r.id for r in rest.records] == new[::-1][3:] and rest.next_cursor is None
    with pytest.raises(UsageError, match="other filters"):
        log.list(limit=3, cursor=page.next_cursor)
    with pytest.raises(UsageError, match="after_seq='3'"):
        log.list(after_seq="3")  # type: ignore[arg-type]


def test_unknown_delivery_is_a_usage_error(log: DeliveryLog):
    with pytest.raises(UsageError, match="no delivery 'whd_nope'"):
        log.get("whd_nope")


def test_a_filtered_page_uses_an_index(log: DeliveryLog):
    for column in ("event_type", "status", "api_key_id"):
        plan = log._db.execute(
            f"EXPLAIN QUERY PLAN SELECT * FROM deliveries WHERE {column} = ? "
            "ORDER BY created_ns DESC, seq DESC LIMIT 51",
            ("x",),
        ).fetchall()
        text = " ".join(str(row[-1]) for row in plan)
        assert "USING INDEX" in text and "TEMP B-TREE" not in text, text


class LogModel(RuleBasedStateMachine):
    """The log agrees with a plain-Python model through any sequence of operations."""

    @initialize()
    def setup(self) -> None:
        self.log = DeliveryLog()
        self.model: dict[str, dict[str, object]] = {}
        self.now = T0
        self.n = 0

    def teardown(self) -> None:
        self.log.close()

    @rule(
        event_type=st.sampled_from(EVENT_TYPES), key=st.sampled_from([None, "k1", "k2"]), dt=st.integers(0, 3)
    )
    def create(self, event_type: str, key: str | None, dt: int) -> None:
        self.now += dt * SECOND
        self.n += 1
        delivery_id = _create(self.log, self.n, created=self.now, event_type=event_type, api_key_id=key)
        self.model[delivery_id] = {
            "status": "pending",
            "attempts": 0,
            "flying": False,
            "type": event_type,
            "key": key,
        }

    @rule(data=st.data(), code=st.sampled_from([200, 204, 302, 404, 500]), finish=st.booleans())
    def attempt(self, data: st.DataObject, code: int, finish: bool) -> None:
        ready = [i for i, d in self.model.items() if d["status"] == "pending" and not d["flying"]]
        if not ready:
            return
        delivery_id = data.draw(st.sampled_from(sorted(ready)))
        record = self.log.get(delivery_id)
        due = record.state.next_due_ns or self.now
        self.now = max(self.now, due)
        state = m.attempt_started(record.state, MODA, self.now)
        self.log.start_attempt(delivery_id, state)
        entry = self.model[delivery_id]
        entry["attempts"] = int(entry["attempts"]) + 1  # type: ignore[call-overload]
        entry["flying"] = True
        if finish:
            result = AttemptResult("response", 1000, code)
            after = m.complete(state, MODA, result)
            self.log.finish_attempt(delivery_id, state.attempts, result, after)
            entry["flying"] = False
            entry["status"] = after.status

    @rule()
    def crash_and_recover(self) -> None:
        touched = set(self.log.recover(self.now))
        assert touched == {i for i, d in self.model.items() if d["flying"]}
        for i in touched:
            self.model[i]["flying"] = False

    @rule(
        status=st.sampled_from([None, "pending", "succeeded", "failed"]),
        key=st.sampled_from([None, "k1"]),
        limit=st.integers(1, 4),
    )
    def paginate(self, status: str | None, key: str | None, limit: int) -> None:
        seen: list[str] = []
        cursor = None
        while True:
            page = self.log.list(status=status, api_key_id=key, limit=limit, cursor=cursor)
            assert len(page.records) <= limit
            seen += [r.id for r in page.records]
            cursor = page.next_cursor
            if cursor is None:
                break
        expected = {
            i
            for i, d in self.model.items()
            if (status is None or d["status"] == status) and (key is None or d["key"] == key)
        }
        assert len(seen) == len(expected) and set(seen) == expected
        keys = [(self.log.get(i).created_ns, self.log.get(i).seq) for i in seen]
        assert keys == sorted(keys, reverse=True)

    @invariant()
    def counts_agree(self) -> None:
        if not hasattr(self, "log"):
            return
        assert self.log.count() == len(self.model)
        assert self.log.in_flight_attempts() == sum(1 for d in self.model.values() if d["flying"])
        for delivery_id, entry in self.model.items():
            record = self.log.get(delivery_id)
            assert record.status == entry["status"] and record.attempts == entry["attempts"]
            assert len(self.log.attempts(delivery_id)) == entry["attempts"]


LogModel.TestCase.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)
test_log_model = LogModel.TestCase


def test_group_commit_under_concurrent_writers(tmp_path: Path):
    import threading

    log = DeliveryLog(tmp_path / "busy.db")
    errors: list[BaseException] = []
    duplicate = _create(log, 0)

    def writer(k: int) -> None:
        for n in range(15):
            try:
                delivery_id = _create(log, 1000 * k + n)
                _attempt(log, delivery_id, MODA, AttemptResult("response", 1, 200), T0)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
        with pytest.raises(sqlite3.IntegrityError):  # a failing job does not undo its batch mates
            log.create(
                delivery_id=duplicate,
                profile="moda",
                event_id=None,
                event_type="task.succeeded",
                target_url="http://127.0.0.1:9/",
                body=b"{}",
                created_ns=T0,
            )

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    log.close()
    with DeliveryLog(tmp_path / "busy.db") as again:  # everything reached the file
        assert again.count() == 1 + 8 * 15 and again.count(status="succeeded") == 8 * 15
        assert again.in_flight_attempts() == 0


class FileLogModel(LogModel):
    """The same model against a file log (WAL, committed attempts) as well as the in-memory one."""

    @initialize()
    def setup(self) -> None:
        import tempfile

        self._dir = tempfile.TemporaryDirectory()
        self.log = DeliveryLog(os.path.join(self._dir.name, "log.db"))
        self.model = {}
        self.now = T0
        self.n = 0

    def teardown(self) -> None:
        self.log.close()
        self._dir.cleanup()


FileLogModel.TestCase.settings = settings(max_examples=10, stateful_step_count=20, deadline=None)
test_file_log_model = FileLogModel.TestCase


# --- writes committed alongside a delivery (the emulator's task and game rows) --------------------------


def _side_table(log: DeliveryLog) -> None:
    with log._write() as db:
        db.execute("CREATE TABLE IF NOT EXISTS side (delivery_id TEXT, note TEXT)")


def _side(log: DeliveryLog) -> list[tuple[str, str]]:
    with log._lock:
        return log._db.execute("SELECT delivery_id, note FROM side").fetchall()


def test_alongside_commits_the_callers_rows_with_the_delivery(log: DeliveryLog):
    _side_table(log)
    with log.alongside(lambda db, did: db.execute("INSERT INTO side VALUES (?, 'task')", (did,))):
        first = _create(log, 1)
    second = _create(log, 2)  # outside the block: nothing alongside
    assert _side(log) == [(first, "task")]
    assert {r.id for r in log.list().records} == {first, second}


def test_alongside_failing_means_no_delivery_either(log: DeliveryLog):
    """One transaction: if the caller's write fails, the delivery is not created (nor half of it)."""
    _side_table(log)

    def boom(db: sqlite3.Connection, did: str) -> None:
        db.execute("INSERT INTO side VALUES (?, 'half')", (did,))
        raise sqlite3.OperationalError("disk I/O error (simulated)")

    with pytest.raises(sqlite3.OperationalError), log.alongside(boom):
        _create(log, 1)
    assert log.list().records == [] and _side(log) == []


def test_alongside_belongs_to_the_thread_that_opened_it(log: DeliveryLog):
    import threading

    _side_table(log)
    other: list[str] = []
    with log.alongside(lambda db, did: db.execute("INSERT INTO side VALUES (?, 'mine')", (did,))):
        t = threading.Thread(target=lambda: other.append(_create(log, 2)))
        t.start()
        t.join()
        mine = _create(log, 1)
    assert _side(log) == [(mine, "mine")] and len(other) == 1


def test_cancel_pending_alongside_is_one_transaction(log: DeliveryLog):
    _side_table(log)
    ids = [_create(log, n) for n in range(3)]

    def boom(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO side VALUES ('reset', 'half')")
        raise sqlite3.OperationalError("disk I/O error (simulated)")

    with pytest.raises(sqlite3.OperationalError):
        log.cancel_pending(T0, alongside=boom)
    assert {r.status for r in log.list().records} == {"pending"} and _side(log) == []
    assert sorted(log.cancel_pending(T0, alongside=lambda db: None)) == sorted(ids)
