"""Echoes of a secret an outside attacker found left readable, each taken as reported.

* A non-ASCII secret echoed as raw UTF-8 bytes in a response header is stored as the bytes read
  as Latin-1 (HTTP header decoding): delivered over a real loopback socket to a receiver that
  echoes it, and the stored attempt headers searched for any 8-character piece of it.
* Every byte percent-encoded (either hex case), and the Latin-1 percent-encoding.
* HTML character references (decimal, hex, named; every character of an ASCII secret), and the
  other Unicode normal form (NFD of an NFC secret and back).
* A casefolded echo, and a redaction in bytes that cut a UTF-8 character in half.

The forms are written here independently of ``hookmock._util.redact`` (the thing under test).
"""

from __future__ import annotations

import html
import html.entities
import socket
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

from hookmock import Sender
from hookmock._util.redact import MARKER, Redactor
from serving_support import serve_raw_answer

UMLAUT = "PÄSSWÖRD-ümlaut-123"
ASCII = "modasecret-Zq7xW4vK"
TURKISH = "İstanbul-ΣΊΣΥΦΟΣ-99"


def _mojibake(text: str) -> str:
    """``text``'s UTF-8 bytes read one character a byte (what HTTP header decoding makes)."""
    return text.encode("utf-8").decode("latin-1")


def _pieces(text: str, size: int = 8) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def _every_form_piece(secret: str) -> set[str]:
    """Every 8-character piece of the secret as sent, re-cased, and read as Latin-1."""
    forms = {secret, secret.upper(), secret.lower(), secret.casefold()}
    forms |= {_mojibake(f) for f in forms}
    return {p for f in forms for p in _pieces(f)}


@contextmanager
def _echoing_receiver(secret: str) -> Iterator[str]:
    """A receiver on 127.0.0.1 that answers every POST with the secret's UTF-8 bytes, as they
    are, in an ``X-Debug-Secret`` header (written on the socket: ``send_header`` would refuse
    them)."""

    answer = (
        b"HTTP/1.1 200 OK\r\nX-Debug-Secret: "
        + secret.encode("utf-8")
        + b"\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    )
    with serve_raw_answer(answer) as url:
        yield url


@pytest.mark.parametrize("secret", [UMLAUT, TURKISH])
def test_a_non_ascii_secret_echoed_as_utf8_in_a_response_header_is_not_stored(
    secret: str, tmp_path: Path
) -> None:
    db = tmp_path / "log.db"
    with _echoing_receiver(secret) as url, Sender("moda", secret, log=str(db)) as sender:
        delivery = sender.send(url, "task.succeeded")
    assert delivery.status == "succeeded"
    with sqlite3.connect(db) as conn:
        stored = [row[0] for row in conn.execute("SELECT headers FROM attempts")]
    assert stored and all(stored), stored
    # the header arrived, as mojibake, and is stored redacted to the marker alone
    assert all('"x-debug-secret"' in h.lower() for h in stored), stored
    text = "\n".join(stored)
    found = [p for p in _every_form_piece(secret) if p in text or p in text.encode().decode("unicode_escape")]
    assert found == [], found
    assert "redacted" in text


def test_the_attacker_s_header_value_is_redacted_whole() -> None:
    # what http.client hands over for the raw UTF-8 header value: the bytes read as Latin-1
    header = _mojibake(UMLAUT)
    assert header.startswith("PÃ\x84SSWÃ\x96RD-Ã¼")
    assert Redactor([UMLAUT]).text(header) == MARKER
    assert Redactor([UMLAUT]).text(header.upper()) == MARKER  # re-cased after decoding
    assert Redactor([UMLAUT]).text(f"v={_mojibake(UMLAUT.lower())};") == f"v={MARKER};"


def _percent_every_byte(data: bytes, hexcase: Callable[[str], str]) -> str:
    return "".join("%" + hexcase(f"{b:02x}") for b in data)


@pytest.mark.parametrize("secret", [ASCII, UMLAUT])
@pytest.mark.parametrize("hexcase", [str.upper, str.lower])
def test_every_byte_percent_encoded_is_redacted(secret: str, hexcase: Callable[[str], str]) -> None:
    echo = _percent_every_byte(secret.encode(), hexcase)
    assert echo != quote(secret, safe="")
    assert Redactor([secret]).text(f"?q={echo}&x=1") == f"?q={MARKER}&x=1"
    assert Redactor([secret]).data(f"?q={echo}&x=1".encode()) == f"?q={MARKER}&x=1".encode()


@pytest.mark.parametrize(
    "echo",
    [quote(UMLAUT, safe="", encoding="latin-1"), _percent_every_byte(UMLAUT.encode("latin-1"), str.upper)],
)
def test_the_latin1_percent_encoding_is_redacted(echo: str) -> None:
    assert "P%C4SSW%D6RD" in echo or "%50%C4%53" in echo
    assert Redactor([UMLAUT]).text(f"<{echo}>") == f"<{MARKER}>"


def _named(text: str) -> str:
    return "".join(f"&{html.entities.codepoint2name[ord(c)]};" if not c.isascii() else c for c in text)


@pytest.mark.parametrize(
    "echo",
    [
        UMLAUT.encode("ascii", "xmlcharrefreplace").decode(),  # &#196;
        "".join(c if c.isascii() else f"&#x{ord(c):x};" for c in UMLAUT),  # &#xc4;
        "".join(c if c.isascii() else f"&#X{ord(c):X};" for c in UMLAUT),  # &#XC4;
        _named(UMLAUT),  # &Auml;
        _named(UMLAUT.lower()),  # &auml;
        unicodedata.normalize("NFD", UMLAUT),
    ],
)
def test_html_character_references_and_nfd_of_a_non_ascii_secret_are_redacted(echo: str) -> None:
    assert echo != UMLAUT
    assert Redactor([UMLAUT]).text(f"<td>{echo}</td>") == f"<td>{MARKER}</td>"
    assert Redactor([UMLAUT]).data(f"<td>{echo}</td>".encode()) == f"<td>{MARKER}</td>".encode()


def test_an_nfd_secret_echoed_composed_is_redacted() -> None:
    secret = unicodedata.normalize("NFD", UMLAUT)
    assert Redactor([secret]).text(f"[{UMLAUT}]") == f"[{MARKER}]"


@pytest.mark.parametrize("template", ["&#{};", "&#x{:x};", "&#X{:X};"])
def test_every_character_of_an_ascii_secret_as_a_reference_is_redacted(template: str) -> None:
    echo = "".join(template.format(ord(c)) for c in ASCII)
    assert Redactor([ASCII]).text(f"<p>{echo}</p>") == f"<p>{MARKER}</p>"


def test_a_casefolded_echo_is_redacted_whole_with_no_half_character_left() -> None:
    echo = TURKISH.casefold()
    assert echo not in (TURKISH.lower(), TURKISH.upper())
    r = Redactor([TURKISH])
    assert r.text(f"[{echo}]") == f"[{MARKER}]"
    clean = r.data(f"[{echo}]".encode())
    assert clean == f"[{MARKER}]".encode()


def test_a_redaction_in_bytes_never_cuts_a_utf8_character_in_half() -> None:
    # "è" (C3 A8) differs from the secret's "é" (C3 A9) in its second byte only: the pieces on
    # either side match, and what is between them is half a character, taken with them
    secret = "abcdefghé12345678"
    echo = "x abcdefghè12345678 y".encode()
    clean = Redactor([secret]).data(echo)
    assert clean == f"x {MARKER} y".encode()
    clean.decode("utf-8")  # whole characters only


def test_a_cut_at_the_end_of_bytes_takes_the_whole_character() -> None:
    secret = "ääääääääääää"
    data = ("x " + secret).encode()[:-1]  # cut inside the last "ä"
    clean = Redactor([secret]).data(data, cut=True)
    assert clean == f"x {MARKER}".encode()


def test_text_around_a_redaction_keeps_its_own_characters() -> None:
    # a non-ASCII character next to (not part of) the secret is kept
    clean = Redactor([ASCII]).data(f"é{ASCII}é".encode())
    assert clean == f"é{MARKER}é".encode()


def test_the_loopback_receiver_really_sends_raw_utf8(tmp_path: Path) -> None:
    # the echo is what the attacker's receiver sends: the raw bytes on the wire
    with _echoing_receiver(UMLAUT) as url:
        host, port = url.split("//")[1].split("/")[0].split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    assert UMLAUT.encode("utf-8") in answer


@pytest.mark.parametrize(
    ("secret", "text", "expected"),
    [
        ("x", "a x b xx", f"a {MARKER} b {MARKER}"),  # every occurrence of the character
        ("Zq7", "Zq7 zq7 ZQ7 %5Aq7", f"{MARKER} zq7 ZQ7 %5Aq7"),  # only as sent: same case, no form
    ],
)
def test_a_secret_of_1_to_3_characters_is_matched_only_whole_as_sent(
    secret: str, text: str, expected: str
) -> None:
    assert Redactor([secret]).text(text) == expected


def test_a_header_of_utf8_read_as_latin1_is_redacted_at_whole_characters() -> None:
    # the same half-character case in a response header (a text holding bytes read as Latin-1)
    header = _mojibake("x abcdefghè12345678 y")
    assert Redactor(["abcdefghé12345678"]).text(header) == f"x {MARKER} y"


def test_symbols_beside_a_secret_in_a_text_are_kept() -> None:
    # "©" and "»" are 0x80-0xBF characters, but follow no lead byte: not half of anything
    assert Redactor([ASCII]).text(f"©{ASCII}» «{ASCII}") == f"©{MARKER}» «{MARKER}"


def test_a_redaction_in_bytes_starting_inside_a_character_takes_its_lead_byte() -> None:
    # "é" (C3 A9) and the secret's "©" (C2 A9) share their second byte: the piece found starts
    # there, and the lead byte before it goes with it (nothing before it does)
    clean = Redactor(["abcdefgh©12345678"]).data("zzzzzzzzé12345678 y".encode())
    assert clean == f"zzzzzzzz{MARKER} y".encode()


def test_a_redaction_in_bytes_ending_inside_a_character_takes_its_last_byte_only() -> None:
    # "®" (C2 AE) shares its lead byte with the secret's "©" (C2 A9)
    clean = Redactor(["abcdefgh©"]).data("x abcdefgh® tail".encode())
    assert clean == f"x {MARKER} tail".encode()


def test_widening_stops_after_three_continuation_bytes() -> None:
    # not UTF-8 (a lead byte and four continuation bytes): one character is at most four bytes,
    # so no more than three are taken before the piece
    data = b"\xf0\x80\x80\x80" + "©12345678".encode()[1:]
    assert Redactor(["©12345678"]).data(data) == b"\xf0" + MARKER.encode()


def test_the_latin1_percent_encoding_reaches_the_last_latin1_character() -> None:
    secret = "ÿ-abcdefghijk-ÿ"
    for echo in (
        quote(secret, safe="", encoding="latin-1"),
        _percent_every_byte(secret.encode("latin-1"), str.upper),
    ):
        assert echo.startswith("%FF")
        assert Redactor([secret]).text(f"<{echo}>") == f"<{MARKER}>"


def test_named_references_fall_back_to_decimal_for_a_character_without_a_name() -> None:
    secret = "PÄSSWŐRD-ümlaut-123"  # "Ő" has no HTML 4 name
    assert ord("Ő") not in html.entities.codepoint2name
    echo = "P&Auml;SSW&#336;RD-&uuml;mlaut-123"
    assert Redactor([secret]).text(f"<td>{echo}</td>") == f"<td>{MARKER}</td>"


def test_a_secret_echoed_lower_cased_where_lower_is_not_casefold_is_redacted() -> None:
    secret = "ΟΔΥΣΣΕΑΣ-ΑΣ-12"
    echo = secret.lower()  # final sigma "ς"; casefold() gives "σ"
    assert echo != secret.casefold()
    assert Redactor([secret]).text(f"[{echo}]") == f"[{MARKER}]"


def test_bytes_starting_with_half_a_character_lose_the_whole_character() -> None:
    clean = Redactor(["©12345678"]).data("é12345678 y".encode())  # é is C3 A9, © is C2 A9
    assert clean == f"{MARKER} y".encode()
