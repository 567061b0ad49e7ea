"""The fake receiver's cheaper serving path gives what werkzeug's and the email package's did.

The receiver reads plain header fields itself (``receiver/_head.py``), builds the recorded headers
and path straight from the WSGI environ, answers a ``Respond`` from werkzeug's headers worked out
once, and works the verdict out when it is first read.  Each is pinned here against the library
it stands in for, on many inputs, and over a real socket.
"""

from __future__ import annotations

import email.utils
import http.client
import io
import socket
import time

import pytest
from werkzeug import Request, Response
from werkzeug.datastructures import EnvironHeaders

from hookmock.clock import VirtualClock
from hookmock.profiles import get_profile
from hookmock.receiver._connection import FaultRequestHandler, answer_for
from hookmock.receiver._environ import environ_headers, request_path
from hookmock.receiver._head import PlainFields, parse_header_lines, read_header_lines
from hookmock.receiver.faults import Respond
from hookmock.receiver.server import FakeReceiver

HEADS = [
    b"Host: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n",
    b"Host: x\n\n",  # bare LF line ends
    b"A: b  \r\nC:d\r\nE:\t e\t\r\nEmpty:\r\n\r\n",  # blanks around values, an empty value
    b"X-Dup: 1\r\nx-dup: 2\r\nX_Under: u\r\n\r\n",  # duplicates, an underscore
    b"Latin: caf\xe9 \xff\r\nCtl: a\x00b\x7f\r\n\r\n",  # bytes past ASCII, control bytes
    b"Weird!#$%&'*+-.^_`|~09: ok\r\n\r\n",  # every token character in a name
    b"Folded: one\r\n two\r\n\tthree\r\nAfter: x\r\n\r\n",  # obsolete line folding
    b" Leading: space\r\nA: b\r\n\r\n",  # a first line that is a continuation
    b"A: b\rc\r\nD: e\r\n\r\n",  # a bare CR inside a value
    b"A: b\r\r\n\r\n",
    b"No colon here\r\nA: b\r\n\r\n",  # not a field: email ends the head there
    b": empty name\r\nA: b\r\n\r\n",
    b"Space Name: v\r\nA: b\r\n\r\n",
    b"Name : v\r\n\r\n",
    b"From someone\r\nA: b\r\n\r\n",
    b"A: b\r\nC: d",  # the connection ended before the empty line
    b"\r\n",  # no fields at all
    b"",
]


def _lines(head: bytes) -> list[bytes]:
    return read_header_lines(io.BytesIO(head))


def _view(message: http.client.HTTPMessage) -> dict[str, object]:
    names = {k.lower() for k in message} | {"a", "host", "missing"}
    return {
        "items": message.items(),
        "keys": message.keys(),
        "values": message.values(),
        "get": {n: message.get(n, "-") for n in sorted(names)},
        "item": {n: message[n] for n in sorted(names)},
        "get_all": {n: message.get_all(n) for n in sorted(names)},
        "defects": [type(d).__name__ for d in message.defects],
        "payload": message.get_payload(),
        "string": message.as_string(),
    }


@pytest.mark.parametrize("head", HEADS, ids=range(len(HEADS)))
def test_header_fields_read_as_http_client_reads_them(head: bytes) -> None:
    ours = parse_header_lines(_lines(head))
    theirs = http.client.parse_headers(io.BytesIO(head))
    assert isinstance(ours, http.client.HTTPMessage)
    assert _view(ours) == _view(theirs)


def test_plain_heads_skip_the_email_parser_and_others_do_not() -> None:
    assert isinstance(parse_header_lines(_lines(HEADS[0])), PlainFields)
    assert isinstance(parse_header_lines(_lines(HEADS[4])), PlainFields)
    for odd in (HEADS[6], HEADS[8], HEADS[10], HEADS[15]):
        assert type(parse_header_lines(_lines(odd))) is http.client.HTTPMessage


def test_header_limits_and_errors_are_http_clients() -> None:
    long_line = b"A: " + b"x" * 70000 + b"\r\n\r\n"
    with pytest.raises(http.client.LineTooLong) as ours:
        read_header_lines(io.BytesIO(long_line))
    with pytest.raises(http.client.LineTooLong) as theirs:
        http.client.parse_headers(io.BytesIO(long_line))
    assert str(ours.value) == str(theirs.value)
    many = b"".join(b"H%d: v\r\n" % i for i in range(101)) + b"\r\n"
    with pytest.raises(http.client.HTTPException) as ours_many:
        read_header_lines(io.BytesIO(many))
    with pytest.raises(http.client.HTTPException) as theirs_many:
        http.client.parse_headers(io.BytesIO(many))
    assert str(ours_many.value) == str(theirs_many.value) == "got more than 100 headers"
    exactly = b"".join(b"H%d: v\r\n" % i for i in range(99)) + b"\r\n"
    assert parse_header_lines(read_header_lines(io.BytesIO(exactly))).items() == (
        http.client.parse_headers(io.BytesIO(exactly)).items()
    )


ENVIRONS = [
    {"REQUEST_METHOD": "POST", "PATH_INFO": "/webhook", "QUERY_STRING": ""},
    {
        "PATH_INFO": "/a/b",
        "QUERY_STRING": "x=1&y=%20",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "12",
        "HTTP_HOST": "127.0.0.1:1",
        "HTTP_X_WEBHOOK_SIGNATURE": "v1=ab",
        "HTTP_CONTENT_TYPE": "shadowed",
        "HTTP_CONTENT_LENGTH": "shadowed",
        "wsgi.input": io.BytesIO(),
        "hookmock.handler": object(),
    },
    {"PATH_INFO": "", "QUERY_STRING": "?", "CONTENT_TYPE": "", "CONTENT_LENGTH": ""},
    {"PATH_INFO": "//double//slash", "HTTP_X_UNDER_SCORE": "u", "HTTP_": "empty name"},
    {"PATH_INFO": "/caf\xc3\xa9/\xff", "QUERY_STRING": "q=caf\xc3\xa9", "HTTP_X_LATIN": "caf\xe9"},
    {"PATH_INFO": "relative", "HTTP_ACCEPT": "a,b", "HTTP_X_MD5": "X", "HTTP_WWW_AUTHENTICATE": "w"},
]


@pytest.mark.parametrize("environ", ENVIRONS, ids=range(len(ENVIRONS)))
def test_recorded_headers_and_path_are_werkzeugs(environ: dict[str, object]) -> None:
    assert environ_headers(environ) == tuple((str(k), str(v)) for k, v in EnvironHeaders(environ).items())
    request = Request(dict(environ))
    expected = request.full_path.rstrip("?") if request.query_string else request.path
    assert request_path(environ) == expected


def test_a_query_string_that_is_not_utf8_fails_as_werkzeugs_did() -> None:
    environ = {"PATH_INFO": "/x", "QUERY_STRING": "a=\xff"}
    with pytest.raises(UnicodeDecodeError):
        Request(dict(environ)).full_path  # noqa: B018
    with pytest.raises(UnicodeDecodeError):
        request_path(environ)


def _run(app: object, method: str) -> tuple[str, list[tuple[str, str]], bytes]:
    got: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        got["status"], got["headers"] = status, headers

    body = b"".join(app({"REQUEST_METHOD": method}, start_response))  # type: ignore[operator]
    return got["status"], got["headers"], body  # type: ignore[return-value]


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299, 301, 304, 404, 410, 429, 500, 503, 599, 101])
@pytest.mark.parametrize(
    "headers",
    [
        (),
        (("Content-Type", "application/json"),),
        (("Location", "/next ü"), ("Content-Location", "/c ü")),
        (("Content-Length", "3"), ("X-A", "1"), ("X-A", "2")),
        (("content-type", "text/html"), ("Retry-After", "5")),
    ],
    ids=["none", "type", "location", "length", "lower"],
)
@pytest.mark.parametrize("body", [b"", b"hello"], ids=["empty", "body"])
@pytest.mark.parametrize("method", ["POST", "HEAD"])
def test_a_respond_fault_is_answered_as_werkzeugs_response_answers_it(
    status: int, headers: tuple[tuple[str, str], ...], body: bytes, method: str
) -> None:
    fault = Respond(status, body, headers)
    werkzeugs = Response(fault.body, status=fault.status, headers=list(fault.headers))
    assert _run(answer_for(fault), method) == _run(werkzeugs, method)
    assert answer_for(fault) is answer_for(Respond(status, body, headers))  # worked out once


def test_a_respond_fault_with_unhashable_headers_is_still_answered() -> None:
    fault = Respond(202, b"x", [("X-A", "1")])  # type: ignore[arg-type]
    assert _run(answer_for(fault), "POST") == (
        "202 ACCEPTED",
        _run(Response(b"x", 202, [("X-A", "1")]), "POST")[1],
        b"x",
    )


def _post(port: int, raw_head: bytes, body: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw_head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return int(reply.split(b" ", 2)[1])


def test_odd_header_fields_are_recorded_as_werkzeug_gives_them_to_an_app() -> None:
    seen: list[tuple[tuple[str, str], ...]] = []

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        seen.append(tuple(Request(environ).headers.items()))
        start_response("200 OK", [("Content-Length", "0")])  # type: ignore[operator]
        return [b""]

    head = (
        b"POST /hook/caf%C3%A9?b=2&a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"X-Dup: one\r\nx-dup: two\r\nX_Under: u\r\nLatin: caf\xe9 \r\nEmpty:\r\n"
        b"Folded: one two\r\nContent-Type: application/json\r\n"
    )
    with FakeReceiver("moda", clock=VirtualClock(), handler=app) as receiver:
        assert _post(receiver.port, head, b"{}") == 200
        # a folded line (obs-fold) is refused (RFC 9112 section 5.2), on the fast path as on email's
        folded = head.replace(b"Folded: one two\r\n", b"Folded: one\r\n two\r\n")
        assert _post(receiver.port, folded, b"{}") == 400
        tabbed = head.replace(b"Folded: one two\r\n", b"Folded: one\ttwo\r\n")
        assert _post(receiver.port, tabbed, b"{}") == 200
        first, second = receiver.requests
    assert first.headers == seen[0]
    assert second.headers == seen[1]
    assert dict(second.headers)["Latin"] == "caf\xe9 "
    assert dict(second.headers)["X-Dup"] == "one,two"
    assert first.path == second.path == "/hook/café?b=2&a=1"


def _signed(secret: str, ts: int, body: bytes = b'{"id": "evt_1"}') -> tuple[bytes, dict[str, str]]:
    return body, dict(get_profile("moda").delivery_headers(body, secret, ts))


def _send(port: int, body: bytes, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/webhook", body=body, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def _same(verdict: object) -> tuple[object, ...]:
    error = getattr(verdict, "error", None)
    fields = ("ok", "authentic", "fresh", "timestamp", "reason")
    return (*(getattr(verdict, f, None) for f in fields), type(error), str(error), verdict.describe())  # type: ignore[attr-defined]


def test_the_verdict_is_the_one_on_arrival_whatever_changes_after() -> None:
    profile = get_profile("moda")
    secret, other = profile.generate_secret(), profile.generate_secret()
    clock = VirtualClock()
    now = int(clock.time())
    with FakeReceiver("moda", secret, clock=clock) as receiver:
        good = _signed(secret, now)
        bad = _signed(other, now)
        assert _send(receiver.port, *good) == 200
        assert _send(receiver.port, *bad) == 200
        # everything the verdict depends on changes before it is first read
        receiver.record.secret = other
        receiver.secret = other
        clock.advance(3600)
        first, second = receiver.requests
        assert first.verdict is not None and first.verdict.ok and first.verdict.authentic
        assert second.verdict is not None and not second.verdict.authentic
        for item, (body, _) in ((first, good), (second, bad)):
            assert item.headers == tuple((k, v) for k, v in item.headers)
            assert _same(item.verdict) == _same(profile.check(item.headers, body, secret, now=now))
        assert type(second.verdict.error).__name__ == "BadSignature"
        assert first.verdict.fresh is True  # the clock moved an hour since: the arrival time counts


def test_a_released_request_keeps_the_verdict_it_had_on_arrival() -> None:
    profile = get_profile("moda")
    secret = profile.generate_secret()
    clock = VirtualClock()
    now = int(clock.time())
    with FakeReceiver("moda", secret, clock=clock, keep_bytes=600) as receiver:
        body = b'{"id": "evt_1", "pad": "' + b"x" * 400 + b'"}'
        assert _send(receiver.port, *_signed(secret, now, body)) == 200
        assert _send(receiver.port, *_signed(secret, now, body)) == 200
        first = receiver.requests[0]
        assert first.truncated and first.body == b"" and first.headers == ()
        assert first.verdict is not None and first.verdict.ok


def test_no_secret_no_verdict_and_the_verdict_cannot_be_set() -> None:
    with FakeReceiver("moda", clock=VirtualClock()) as receiver:
        assert _send(receiver.port, *_signed(get_profile("moda").generate_secret(), int(time.time()))) == 200
        item = receiver.requests[0]
    assert item.verdict is None
    assert item.verdict_text() == "not verified (no secret)"
    verdict = get_profile("moda").check((), b"", "whsec_x", now=0)
    with pytest.raises(AttributeError, match="the record is what arrived"):
        item.verdict = verdict  # type: ignore[misc]
    assert item.verdict is None


def test_the_date_header_is_http_servers_for_the_current_second() -> None:
    handler = FaultRequestHandler.__new__(FaultRequestHandler)
    for second in (0, 1_700_000_000, 1_700_000_000, 1_700_000_001, 4_102_444_800):
        assert handler.date_time_string(second) == email.utils.formatdate(second, usegmt=True)
    assert handler.date_time_string(1_700_000_001.75) == email.utils.formatdate(1_700_000_001, usegmt=True)
    with FakeReceiver("moda", clock=VirtualClock()) as receiver:
        conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
        before = time.time()
        conn.request("POST", "/webhook", body=b"{}")
        date = conn.getresponse().getheader("Date")
        after = time.time()
        conn.close()
    assert date is not None
    assert int(before) - 1 <= email.utils.parsedate_to_datetime(date).timestamp() <= after


@pytest.mark.parametrize(("version", "interim"), [("HTTP/1.1", True), ("HTTP/1.0", False)])
def test_expect_100_continue_through_the_receivers_header_fields(version: str, interim: bool) -> None:
    """The fields the receiver reads itself go through the hardened handler's Expect rules: a
    100 Continue for HTTP/1.1, none (and no Expect field passed on) for HTTP/1.0."""
    head = (
        f"POST /webhook {version}\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n"
    ).encode()
    with FakeReceiver("moda", clock=VirtualClock()) as receiver:
        with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as sock:
            sock.sendall(head)
            if interim:
                data = b""
                while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
                    data += chunk
                assert data.startswith(b"HTTP/1.1 100"), data[:200]
            sock.sendall(b"{}")
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        assert b" 100 " not in reply.partition(b"\r\n")[0]
        assert b"200 OK" in reply
        assert receiver.wait_idle()
        (item,) = receiver.requests
    assert item.body == b"{}"
    assert (dict(item.headers).get("Expect") is None) is (version == "HTTP/1.0")


class _Overriding(FakeReceiver):
    def dispatch(self, request: Request) -> Response:
        response = super().dispatch(request)
        response.headers["X-Seen"] = type(response).__name__
        return response


def test_dispatch_still_gives_a_werkzeug_response_and_an_override_is_served() -> None:
    environ = Request.from_values("/webhook?x=1", method="POST", data=b'{"id": "evt_9"}').environ
    with FakeReceiver("moda", clock=VirtualClock()) as receiver:
        receiver.plan("evt_9", Respond(201, b"made", (("X-A", "1"),)))
        response = receiver.dispatch(Request(environ))
        assert isinstance(response, Response)
        assert (response.status_code, response.get_data(), response.headers["X-A"]) == (201, b"made", "1")
        assert receiver.requests[0].path == "/webhook?x=1"
    with _Overriding("moda", clock=VirtualClock()) as receiver:
        conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
        conn.request("POST", "/webhook", body=b"{}")
        reply = conn.getresponse()
        assert (reply.status, reply.getheader("X-Seen")) == (200, "Response")
        conn.close()
