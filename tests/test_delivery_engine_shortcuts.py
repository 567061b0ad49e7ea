"""The engine's short cuts keep its answers: it remembers short responses it found clean and forgets
them the moment its redactor learns another secret or is replaced (a response remembered clean is
never let through once it holds a secret), and a step goes on from the state its attempt left in
the log (a delivery canceled while in flight reports what the log kept)."""

from __future__ import annotations

from typing import Any

from hookmock import VirtualClock
from hookmock._util.redact import MARKER, Redactor
from hookmock.sender import Sender
from hookmock.transport import AttemptResult

LATER = "tok_learnedlater_5f1e9a7c3b2d"


def _echo(body: bytes, detail: str, headers: tuple[tuple[str, str], ...]) -> AttemptResult:
    return AttemptResult("response", 1_000_000, 200, headers, body, detail, "wsgi", {"body_bytes": len(body)})


def _leaks(result: AttemptResult) -> bool:
    texts = [result.excerpt.decode(), result.detail, *[v for h in result.headers for v in h]]
    return any(LATER in t for t in texts)


def _results() -> list[AttemptResult]:
    return [
        _echo(f"echo {LATER}".encode(), "OK", (("Content-Type", "text/plain"),)),
        _echo(b"ok", f"OK {LATER}", ()),
        _echo(b"ok", "OK", (("X-Echo", LATER),)),
    ]


def test_a_result_remembered_clean_is_redacted_once_its_secret_is_added() -> None:
    with Sender("moda", clock=VirtualClock()) as sender:
        engine = sender.engine
        for result in _results():
            assert engine.redacted(result) is result  # nothing this redactor knows: clean
            assert engine.redacted(result) is result  # (remembered)
        engine.redactor.add(LATER)
        for result in _results():
            cleaned = engine.redacted(result)
            assert cleaned is not result and not _leaks(cleaned)
            assert MARKER in cleaned.excerpt.decode() + cleaned.detail + repr(cleaned.headers)


def test_a_replaced_redactor_starts_afresh() -> None:
    with Sender("moda", clock=VirtualClock()) as sender:
        engine = sender.engine
        for result in _results():
            assert engine.redacted(result) is result
        engine.redactor = Redactor([LATER])
        assert all(not _leaks(engine.redacted(r)) for r in _results())


def test_a_delivery_after_the_secret_is_learned_logs_no_piece_of_it() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("X-Echo", LATER)])
        return [f"echo {LATER}".encode()]

    with Sender("moda", clock=VirtualClock()) as sender:
        first = sender.send(app, "task.succeeded")
        assert LATER in first.attempts[0].excerpt.decode()  # not a secret of this sender yet
        sender.engine.redactor.add(LATER)
        second = sender.send(app, "task.succeeded")
        (attempt,) = second.attempts
        assert LATER not in attempt.excerpt.decode() and LATER not in repr(attempt.headers)
        assert LATER not in repr(sender.log.attempts(second.id))


# -- a step goes on from the state its attempt left in the log -----------------------------------


def _canceling_app(sender: Sender, status: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        sender.cancel_pending()  # while this attempt is in flight: the delivery ends canceled
        start_response(status, [])
        return [b""]

    return app


def test_a_step_whose_delivery_was_canceled_in_flight_reports_what_the_log_kept(tmp_path: Any) -> None:
    from hookmock.delivery.machine import Done, Wait

    for log in (None, str(tmp_path / "log.db")):
        for status in ("200 OK", "500 Oops"):
            with Sender("moda", clock=VirtualClock(), log=log) as sender:
                pending = sender.accept(_canceling_app(sender, status), "task.succeeded")
                action = sender.engine.step(pending.id)
                assert action == Done("failed"), (log, status, action)  # canceled: failed to providers
                assert sender.get(pending.id).canceled
            with Sender("moda", clock=VirtualClock(), log=log) as sender:
                pending = sender.accept(lambda e, s: s("500 Oops", []) or [b""], "task.succeeded")
                assert sender.engine.step(pending.id) == Wait(sender.get(pending.id).next_due_ns or -1)
