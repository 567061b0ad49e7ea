"""``route_not_found`` and ``method_not_allowed`` quote the path as the client sent it.

The messages used to show werkzeug's decoded path: ``GET //`` read "no route GET /", and a
``%ff`` in the path came back as ``'\\ufffd'``, so a user could not see what they had sent.  Now
the message quotes the request target's path as sent (still percent-encoded, any byte outside
printable ASCII percent-encoded, no query, bounded) and the emulator's secrets are redacted from it
as from every error.  Real HTTP over loopback, the request line written byte for byte.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from emulator_support import running
from hookmock.emulator.app import SHOWN_PATH_CHARS


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    with running() as (emulator, _api):
        yield emulator


def send(emu: Any, method: bytes, target: bytes) -> tuple[int, dict[str, Any]]:
    """One request with this exact request line (no client normalises the target)."""
    head = method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += f"Authorization: Bearer {emu.api_key}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", emu.port), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(body)["error"]


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        (b"//", "//"),
        (b"///x", "///x"),
        (b"/v1/tasks/%ff/x", "/v1/tasks/%ff/x"),
        (b"/v1/tasks/%2F/x", "/v1/tasks/%2F/x"),
        (b"/caf\xc3\xa9", "/caf%C3%A9"),  # raw UTF-8 bytes: percent-encoded, not mojibake
        (b"/x\xff", "/x%FF"),  # a raw byte that is not UTF-8
        (b"/nothing?token=abc", "/nothing"),  # the query is not part of the path
        (b"http://127.0.0.1/nothing", "http://127.0.0.1/nothing"),  # absolute form, as sent
    ],
)
def test_route_not_found_quotes_the_path_as_sent(emu: Any, target: bytes, shown: str) -> None:
    status, error = send(emu, b"GET", target)
    assert status == 404
    assert error["code"] == "route_not_found"
    assert error["message"] == f"no route GET {shown!r}; see /_hookmock/openapi.json for every route"
    assert "\ufffd" not in error["message"]


def test_method_not_allowed_quotes_the_path_as_sent(emu: Any) -> None:
    status, error = send(emu, b"DELETE", b"//v1/tasks")  # leading slashes dropped: the task list
    assert status == 405
    assert error["message"] == "DELETE is not allowed on '//v1/tasks'; allowed: GET, HEAD, POST"


def test_a_long_path_is_cut(emu: Any) -> None:
    status, error = send(emu, b"GET", b"/" + b"a" * 5000)
    assert status == 404
    quoted = error["message"].split(" ")[3].rstrip(";")
    assert quoted == repr("/" + "a" * (SHOWN_PATH_CHARS - 1) + "…")


@pytest.mark.parametrize("form", ["plain", "percent-encoded"])
def test_the_api_key_in_a_path_is_redacted(emu: Any, form: str) -> None:
    key = emu.api_key
    sent = key if form == "plain" else quote(key, safe="")
    if form == "percent-encoded":
        sent = "".join(f"%{b:02x}" for b in key.encode())
    status, error = send(emu, b"GET", f"/nothing/{sent}".encode())
    assert status == 404
    assert key not in error["message"] and sent not in error["message"], error["message"]
