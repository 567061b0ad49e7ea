"""The fast paths added for speed behave exactly as the general paths they short-cut."""

from __future__ import annotations

import contextlib
import dataclasses
import io

import pytest

import hookmock
from hookmock import VirtualClock
from hookmock._util.redact import Redactor
from hookmock.cli import _commands, build_parser
from hookmock.errors import MalformedHeader
from hookmock.profiles.moda import SIGNATURE_HEADER, _parse_signatures
from hookmock.sender import Sender


def _help(parser: object, command: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        parser.parse_args([command, "--help"])  # type: ignore[attr-defined]
    return out.getvalue()


@pytest.mark.parametrize("command", _commands())
def test_a_command_parser_built_alone_is_the_one_the_whole_parser_holds(command: str) -> None:
    """``hookmock COMMAND`` builds only that command's parser: its usage, help and options are
    the same as in the whole command line's."""
    alone = _help(build_parser(command), command)
    assert alone and alone == _help(build_parser(), command)


def test_a_text_remembered_clean_is_redacted_once_its_secret_is_added() -> None:
    redactor = Redactor([("whsec_0123456789abcdefghij", "whsec_")])
    text = "token=Zm9vYmFyYmF6cXV4cXV1eA"
    assert redactor.text(text) == text and redactor.text(text) == text  # remembered as clean
    redactor.add("Zm9vYmFyYmF6cXV4cXV1eA")
    assert "Zm9vYmFy" not in redactor.text(text)
    assert redactor.data(text.encode()) != text.encode()


def test_a_short_body_remembered_clean_stays_clean_and_a_secret_in_one_is_never_remembered() -> None:
    redactor = Redactor([("whsec_0123456789abcdefghij", "whsec_")])
    assert redactor.data(b"ok") == b"ok" and redactor.data(b"ok") == b"ok"
    echoed = b"your secret is whsec_0123456789abcdefghij"
    for _ in range(2):
        assert b"0123456789abcdefghij" not in redactor.data(echoed)


@pytest.mark.parametrize(
    "value",
    ["v1=" + "A" * 64, "v1=" + "a" * 63, "v1=" + "g" * 64, "v2=" + "a" * 64, "v1=" + "a" * 63 + "\n"],
)
def test_malformed_signatures_are_still_refused_with_the_fast_path(value: str) -> None:
    with pytest.raises(MalformedHeader):
        _parse_signatures({SIGNATURE_HEADER: value})


def test_the_fast_path_and_the_general_parse_agree_on_a_valid_signature() -> None:
    good = "a" * 64
    assert _parse_signatures({SIGNATURE_HEADER: f"v1={good}"}) == [good]
    assert _parse_signatures({SIGNATURE_HEADER: f" v1={good} "}) == [good]  # the general parse
    assert _parse_signatures({SIGNATURE_HEADER.lower(): f"v1={good}"}) == [good]  # any case


def test_verify_accepts_a_plain_dict_in_any_header_case() -> None:
    body, secret = b'{"id":"evt_1"}', "whsec_case"
    headers = hookmock.sign("moda", body, secret, timestamp=1_700_000_000)
    lowered = {k.lower(): v for k, v in headers.items()}
    hookmock.verify("moda", lowered, body, secret, now=1_700_000_000)
    hookmock.verify("moda", list(headers.items()), body, secret, now=1_700_000_000)


def _app_a(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("200 OK", [])
    return [b"a"]


def _make_app_b():  # type: ignore[no-untyped-def]
    def _app_a(environ, start_response):  # type: ignore[no-untyped-def]  # same name, another app
        start_response("500 Internal Server Error", [])
        return [b"b"]

    _app_a.__qualname__ = _app_a.__qualname__.split(".")[-1]
    return _app_a


def test_resending_to_the_same_app_keeps_its_name_and_another_app_of_that_name_gets_its_own() -> None:
    sender = Sender("moda", "whsec_routes", clock=VirtualClock())
    other = _make_app_b()
    first = sender.send(_app_a, body=b'{"id":"evt_1","type":"task.succeeded"}')
    second = sender.send(other, body=b'{"id":"evt_2","type":"task.succeeded"}')
    again = sender.send(_app_a, body=b'{"id":"evt_3","type":"task.succeeded"}')
    assert first.target == again.target != second.target
    assert first.succeeded and again.succeeded and not second.succeeded
    sender.close()


def test_a_record_changed_is_what_dataclasses_replace_gives() -> None:
    sender = Sender("moda", "whsec_rec", clock=VirtualClock())
    record = sender.log.get(sender.accept(_app_a, body=b'{"id":"evt_1","type":"task.succeeded"}').id)
    changed = record.changed(last_attempted_ns=5, response_status_code=204)
    assert changed == dataclasses.replace(record, last_attempted_ns=5, response_status_code=204)
    assert record.response_status_code is None  # the original is untouched
    with pytest.raises(TypeError):
        record.changed(no_such_field=1)
    sender.close()
