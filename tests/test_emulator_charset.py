"""A JSON body declared in a charset other than UTF-8 is refused with 415, not misread.

The emulator read every body as UTF-8 whatever its ``Content-Type`` said: a UTF-16 body came back
as a puzzling 400 ``invalid_json`` about a byte, and an ASCII body declared ISO-8859-1 was taken
as it is.  JSON exchanged between systems is UTF-8 (RFC 8259 section 8.1) and Moda's API documents
JSON bodies only, so a body that declares another charset is now 415 ``unsupported_media_type``
naming the charset and saying what to send; ``charset=utf-8`` (any case, quoted) and no charset are
accepted as before.  Real HTTP over loopback.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from emulator_support import running

TASK = {"prompt": "an affiche for the café"}


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    with running() as (emulator, _api):
        yield emulator


def post(emu: Any, path: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={"Authorization": f"Bearer {emu.api_key}", "Content-Type": content_type},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _tasks(emu: Any) -> int:
    return int(emu.core.store.count_tasks())


@pytest.mark.parametrize(
    ("charset", "encoding"),
    [
        ("utf-16", "utf-16"),  # with a byte order mark
        ("UTF-16LE", "utf-16-le"),
        ("utf-32", "utf-32"),
        ("iso-8859-1", "latin-1"),  # é is one byte 0xE9
        ("us-ascii", "ascii"),  # even a body that happens to be ASCII: the declaration is wrong
        ('"windows-1252"', "cp1252"),
    ],
)
def test_a_body_in_another_charset_is_415_naming_it(emu: Any, charset: str, encoding: str) -> None:
    body = json.dumps(TASK if encoding != "ascii" else {"prompt": "plain"}, ensure_ascii=False)
    before = _tasks(emu)
    status, answer = post(emu, "/v1/tasks", body.encode(encoding), f"application/json; charset={charset}")
    error = answer["error"]
    assert status == 415, answer
    assert (error["type"], error["code"]) == ("invalid_request", "unsupported_media_type")
    assert repr(charset.strip('"')) in error["message"]
    assert "UTF-8" in error["message"] and "application/json" in error["message"]
    assert error["details"]["charset"] == charset.strip('"')
    assert _tasks(emu) == before  # nothing was made from a misread body


def test_the_control_api_refuses_another_charset_too(emu: Any) -> None:
    body = json.dumps({"seconds": 1}).encode("utf-16")
    status, answer = post(emu, "/_hookmock/clock/advance", body, "application/json; charset=utf-16")
    assert status == 415, answer
    assert answer["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=UTF-8",
        'application/json; charset="utf-8"',
        "application/json;charset=utf-8",
    ],
)
def test_utf_8_declared_or_not_is_accepted(emu: Any, content_type: str) -> None:
    status, answer = post(emu, "/v1/tasks", json.dumps(TASK, ensure_ascii=False).encode(), content_type)
    assert status == 202, answer
    assert answer["input"]["prompt"] == TASK["prompt"]


@pytest.mark.parametrize(
    ("content_type", "named"),
    [
        # spaces around '=' and before ';': werkzeug's parser dropped the parameter (read as UTF-8)
        ("application/json ; charset = utf-16", "utf-16"),
        ("application/json;charset =utf-16", "utf-16"),
        ('application/json; charset = "utf-16"', "utf-16"),
        # an unterminated quote: dropped the same way; refused, quoting what was written
        ('application/json; charset="utf-16', '"utf-16'),
        ('application/json; charset="utf-8', '"utf-8'),
        # a second charset that contradicts the first, an RFC 2231 spelling, an empty value
        ("application/json; charset=utf-8; charset=utf-16", "utf-16"),
        ("application/json; charset*=utf-8''utf-16", "utf-16"),
        ("application/json; charset=", "charset="),
    ],
)
def test_every_spelling_of_a_charset_parameter_is_read(emu: Any, content_type: str, named: str) -> None:
    """Each of these was answered 202 and the body read as UTF-8 whatever it declared."""
    body = json.dumps(TASK, ensure_ascii=False).encode("utf-16" if "utf-16" in named else "utf-8")
    before = _tasks(emu)
    status, answer = post(emu, "/v1/tasks", body, content_type)
    assert status == 415, answer
    assert answer["error"]["code"] == "unsupported_media_type"
    assert repr(named) in answer["error"]["message"]
    assert answer["error"]["details"]["charset"] == named
    assert _tasks(emu) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json ; charset = utf-8",
        'application/json; charset = "UTF-8"',
        "application/json; foo=bar",
    ],
)
def test_utf_8_with_spaces_or_other_parameters_is_accepted(emu: Any, content_type: str) -> None:
    status, answer = post(emu, "/v1/tasks", json.dumps(TASK, ensure_ascii=False).encode(), content_type)
    assert status == 202, answer
