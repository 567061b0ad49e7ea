"""The in-process delivery path's short cuts behave exactly as what they replace.

Hot records have a hand-written ``__init__`` (a frozen dataclass's generated one costs an
``object.__setattr__`` per field, and a delivery makes several records); these tests keep each in
step with its fields, so a field added later cannot be left out of it.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import random
from datetime import datetime, timezone
from typing import Any

import pytest

from hookmock import VirtualClock, ids
from hookmock.clock import SECOND, format_iso
from hookmock.delivery import records
from hookmock.delivery.engine import AttemptEvent
from hookmock.delivery.machine import DeliveryState, Done, Phase, Send, Wait, WaitForResult
from hookmock.delivery.records import AttemptRecord, DeliveryRecord, headers_to_json
from hookmock.delivery.result import Delivery
from hookmock.profiles import get_profile
from hookmock.sender import Sender
from hookmock.transport import AttemptResult

SECRET = "whsec_perfinprocperfinprocperfinproc"

FAST_INIT = [
    AttemptResult,
    AttemptRecord,
    DeliveryRecord,
    DeliveryState,
    AttemptEvent,
    Send,
    Wait,
    WaitForResult,
    Done,
]


def _sample(name: str) -> Any:
    return f"value-of-{name}"


@pytest.mark.parametrize("cls", FAST_INIT, ids=lambda c: c.__name__)
def test_a_hand_written_init_takes_every_field_in_order_with_its_default(cls: type) -> None:
    fields = [f for f in dataclasses.fields(cls) if f.init]
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in fields]
    for param, field in zip(params, fields, strict=True):
        if field.default is not dataclasses.MISSING:
            assert param.default == field.default, field.name
        elif field.default_factory is not dataclasses.MISSING:
            assert param.default is None, field.name  # None stands for "a new one"
        else:
            assert param.default is inspect.Parameter.empty, field.name


@pytest.mark.parametrize("cls", FAST_INIT, ids=lambda c: c.__name__)
def test_a_hand_written_init_makes_the_record_the_fields_describe(cls: type) -> None:
    fields = [f for f in dataclasses.fields(cls) if f.init]
    values = {f.name: _sample(f.name) for f in fields}
    made = cls(**values)
    assert list(vars(made)) == [f.name for f in dataclasses.fields(cls)]  # every field, in order
    assert dataclasses.asdict(made) == values
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.__setattr__(fields[0].name, "changed")
    changed = dataclasses.replace(made, **{fields[-1].name: "other"})
    assert getattr(changed, fields[-1].name) == "other" and changed != made
    assert cls(**values) == made and hash(cls(**values)) == hash(made)


def test_an_attempt_result_gets_a_new_extra_mapping_each_time() -> None:
    first, second = AttemptResult("response", 1), AttemptResult("response", 1)
    assert first.extra == {} and first.extra is not second.extra


def test_a_snapshot_is_the_delivery_the_ordinary_constructor_makes() -> None:
    state = DeliveryState(Phase.SCHEDULED, 1, 1, 99)
    record = DeliveryRecord(
        *(7, "whd_1", "moda", "evt_1", "task.failed", "http://x/", state),
        *(5, 6, 500, b"no", 3, "k", "r", "j", b"{}"),
    )
    attempt = AttemptRecord(1, 6, 3, "response", 500, b"no", "Internal Server Error", 6)
    made = Delivery.from_record(record, [attempt])
    expected = Delivery(
        id="whd_1",
        profile="moda",
        event_id="evt_1",
        event_type="task.failed",
        status="pending",
        target="http://x/",
        body=b"{}",
        attempts=(attempt,),
        created_ns=5,
        next_due_ns=99,
        api_key_id="k",
        replayed_from_id="r",
        record=record,
    )
    assert made == expected and list(vars(made)) == list(vars(expected))
    finished = Delivery.from_record(record.changed(state=DeliveryState(Phase.FAILED, 4, 4, None)), [])
    assert finished.status == "failed" and finished.next_due_ns is None


def test_headers_json_is_the_same_remembered_or_not() -> None:
    headers = (("Content-Type", "text/plain"), ("X-Ünïcode", "é"))
    first = headers_to_json(headers)
    assert first == '[["Content-Type", "text/plain"], ["X-Ünïcode", "é"]]'
    assert headers_to_json(headers) == first and headers in records._JSON_OF
    assert headers_to_json([["a", "b"]]) == '[["a", "b"]]'  # type: ignore[arg-type]  # lists: not kept
    long = (("X-Long", "v" * 600),)
    assert headers_to_json(long) == f'[["X-Long", "{"v" * 600}"]]' and long not in records._JSON_OF
    assert headers_to_json(()) is None


def test_the_json_of_headers_is_bounded() -> None:
    for i in range(records._JSON_OF_MAX + 10):
        headers_to_json((("X-N", str(i)),))
    assert len(records._JSON_OF) <= records._JSON_OF_MAX


def _app(status: str, chunks: list[bytes], *, write: bytes = b"") -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read()
        writer = start_response(status, [("Content-Type", "text/plain")])
        if write:
            writer(write)
        return chunks

    return app


def test_send_makes_the_first_attempt_at_once_and_retries_on_schedule() -> None:
    calls = []

    def flaky(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(1)
        start_response("500 Oops" if len(calls) < 3 else "200 OK", [])
        return [b""]

    with Sender("moda", SECRET, clock=VirtualClock()) as sender:
        delivery = sender.send(flaky, "task.succeeded")
        assert delivery.succeeded and [a.status for a in delivery.attempts] == [500, 500, 200]
        assert delivery.attempt_times()[0] == 0 and delivery.attempt_times()[1] > 0
        once = sender.send(_app("200 OK", [b"fine"], write=b"wrote "), "task.succeeded")
        assert once.succeeded and once.attempts[0].excerpt == b"wrote fine"


def test_headers_the_engine_bounded_are_kept_as_bounded_and_redacted() -> None:
    many = [(f"X-{i}", SECRET if i == 3 else "v") for i in range(records.HEADERS_MAX + 5)]

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", many)
        return [b"ok"]

    with Sender("moda", SECRET, clock=VirtualClock()) as sender:
        attempt = sender.send(app, "task.succeeded").attempts[0]
        assert len(attempt.headers) == records.HEADERS_MAX
        assert all(SECRET[6:12] not in value for _, value in attempt.headers)
        sender.log.list()  # written to the table: read back the same
        assert sender.log.attempts(sender.deliveries().records[0].id)[0].headers == attempt.headers


@pytest.mark.parametrize("count", [1, 39, 40, 41, 127])
def test_held_deliveries_are_written_whole_in_chunks_and_read_back_the_same(count: int) -> None:
    """An in-memory log writes its held deliveries as multi-row statements of 40 and the rest one
    by one: every row and attempt reads back as it was held, in order."""
    calls: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(1)
        start_response("500 No" if len(calls) % 3 == 0 else "200 OK", [("X-Call", str(len(calls)))])
        return [f"answer {len(calls)}".encode()]

    with Sender("moda", SECRET, clock=VirtualClock()) as sender:
        sent = [sender.send(app, "task.succeeded") for _ in range(count)]
        assert len(sender.log._held) == count  # still held beside the table
        page = sender.deliveries(limit=200)  # a reader of the table: written now
        assert not sender.log._held
        assert [r.id for r in reversed(page.records)] == [d.id for d in sent]
        for delivery in sent:
            assert sender.get(delivery.id) == delivery


def _digits(value: int, length: int) -> str:
    """Base32 digits the plain way: one digit at a time, least significant first."""
    out = ""
    for _ in range(length):
        out = ids.CROCKFORD[value & 31] + out
        value >>= 5
    return out


@pytest.mark.parametrize("length", [26, 25, 10])
def test_ids_are_encoded_the_same_with_the_unrolled_lookups(length: int) -> None:
    rng = random.Random(18)
    for value in [0, (1 << 130) - 1, 1 << 129, *(rng.getrandbits(140) for _ in range(2000))]:
        assert ids._encode(value, length) == _digits(value, length)


def test_format_iso_remembers_one_second_and_still_formats_every_other() -> None:
    times = [0, 999_999_999, 1_000_000_000, 1_777_593_600_123_456_789, 1_777_593_600_999_999_999, 5, 0]
    for ns in times:
        expected = datetime.fromtimestamp(ns // SECOND, tz=timezone.utc).isoformat()
        assert format_iso(ns) == expected and format_iso(ns) == expected


def test_serialized_bytes_are_the_compact_utf8_json_of_the_payload() -> None:
    payload = {"id": "evt_1", "data": {"name": "Ünïcödé ✓", "n": [1, 2.5, None, True]}}
    expected = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert get_profile("moda").serialize(payload) == expected
    assert get_profile("modio").serialize(payload) == expected


def test_a_literal_target_is_checked_once_and_a_refused_one_every_time() -> None:
    from hookmock.errors import TargetNotAllowed
    from hookmock.transport.targets import TargetPolicy

    resolved: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["127.0.0.1"]

    policy = TargetPolicy(resolver=resolver)
    first = policy.check("http://127.0.0.1:8080/hook")
    again = policy.check("http://127.0.0.1:8080/other")
    assert first == again and first is not again  # a fresh list each time
    assert [a.sockaddr for a in policy.check("http://[::1]:9/")] == [("::1", 9)]
    for _ in range(2):
        with pytest.raises(TargetNotAllowed):
            policy.check("http://192.0.2.7:8080/hook")
    policy.check("http://localhost:8080/hook")
    policy.check("http://localhost:8080/hook")
    assert resolved == ["localhost", "localhost"]  # a name is resolved on every attempt


def test_bodies_are_read_as_json_the_way_json_loads_reads_them() -> None:
    from hookmock.validation import JSONInputError, parse_json

    text = '{"a": [1, 2.5e3, "\\u00e9"], "b": {"c": null}}'
    assert parse_json(text.encode(), what="body") == json.loads(text)
    for bad in (b'{"n": NaN}', b"[Infinity]", b'{"a": 1,}'):
        with pytest.raises(JSONInputError, match=r"^body is not valid JSON"):
            parse_json(bad, what="body")


def test_a_header_is_found_in_pairs_as_in_any_other_form() -> None:
    from hookmock._util.headers import get_header

    pairs = [("Content-Type", "a"), ("X-Moda-Signature", "v1=1"), ("x-moda-signature", "v1=2"), ("N", 5)]
    for form in (pairs, tuple(pairs), iter(pairs)):
        assert get_header(form, "x-MODA-signature") == "v1=1"  # type: ignore[arg-type]
    assert get_header(tuple(pairs), "n") == "5" and get_header(tuple(pairs), "missing") is None  # type: ignore[arg-type]
