"""Echoes an outside attacker found left readable, each found now by decoding, not by a listed form.

* HTML numeric character references with any number of leading zeros (``&#0121;``, ``&#x0079;``,
  ``&#X79;``, hex digits in either case), and without their ``;`` (HTML5 reads them);
* JSON with every character ``\\uXXXX``-escaped (either hex case), or only some of them;
* ``\\xXX`` and ``%XX`` bytes mixed with plain text;
* UTF-16 (LE, BE, with or without a BOM) and UTF-32 (LE, BE) encodings of the secret, in bytes.

Each is checked at the redactor (random secrets, hypothesis) and over the real path: a loopback
receiver echoes it in its response (body and header), and the row stored in the SQLite log file
is searched for any 8-character piece of the echo.  The encodings are written here independently
of ``hookmock._util.redact`` (the thing under test).
"""

from __future__ import annotations

import codecs
import random
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookmock import Sender
from hookmock._util.redact import MARKER, Redactor
from serving_support import serve_raw_answer

SECRET = "whsec_ynGUzkAo0MEEX1JNn7ywzplqWPcBZxTh"
CORE = SECRET.removeprefix("whsec_")


def _padded_dec(char: str, rng: random.Random) -> str:
    return "&#" + "0" * rng.randrange(0, 6) + str(ord(char)) + ";"


def _padded_hex(char: str, rng: random.Random) -> str:
    digits = f"{ord(char):x}"
    digits = digits.upper() if rng.random() < 0.5 else digits
    return "&#" + rng.choice("xX") + "0" * rng.randrange(0, 6) + digits + ";"


def _no_semicolon(char: str, rng: random.Random) -> str:
    # HTML5 ends a reference at the first character that is not a digit (here: the next "&")
    return (_padded_dec if rng.random() < 0.5 else _padded_hex)(char, rng)[:-1]


def _json_u(char: str, rng: random.Random) -> str:
    if ord(char) > 0xFFFF:  # a surrogate pair, as JSON writes it
        pair = char.encode("utf-16-be")
        return "".join(f"\\u{int.from_bytes(pair[i : i + 2], 'big'):04x}" for i in (0, 2))
    text = f"\\u{ord(char):04x}"
    return text.upper().replace("\\U", "\\u") if rng.random() < 0.5 else text


def _some_json_u(char: str, rng: random.Random) -> str:
    return _json_u(char, rng) if rng.random() < 0.5 else char


def _bytes_escaped(char: str, rng: random.Random) -> str:
    template = rng.choice(["\\x{:02x}", "\\x{:02X}", "%{:02x}", "%{:02X}"])
    return "".join(template.format(byte) for byte in char.encode())


#: Per character: the echo of that character (the echo of a text is its characters' echoes).
CHAR_FORMS: dict[str, Callable[[str, random.Random], str]] = {
    "dec_padded": _padded_dec,
    "hex_padded": _padded_hex,
    "no_semicolon": _no_semicolon,
    "json_u_all": _json_u,
    "json_u_some": _some_json_u,
    "bytes_escaped": _bytes_escaped,
}

#: Whole-text encodings in bytes.
WIDE = ["utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be", "utf-32"]


def _echo_pieces(secret: str, form: str, seed: int) -> tuple[str, list[str]]:
    """The echo of ``secret`` in ``form`` and every run of 8 characters' echoes in it."""
    rng = random.Random(seed)
    parts = [CHAR_FORMS[form](char, rng) for char in secret]
    return "".join(parts), ["".join(parts[i : i + 8]) for i in range(len(parts) - 7)]


def _wide_pieces(secret: str, codec: str) -> tuple[bytes, list[bytes]]:
    data = secret.encode(codec)
    bom = len(data) - len(secret.encode(codec.replace("-le", "").replace("-be", "") + "-le"))
    unit = 4 if "32" in codec else 2
    body = data[bom:] if bom > 0 else data
    return data, [body[i : i + 8 * unit] for i in range(0, len(body) - 8 * unit + 1)]


# random secrets of 8 to 40 characters: ASCII letters and digits, and some beyond ASCII
secrets = st.text(
    alphabet=st.sampled_from(
        [*"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", "ä", "é", "ß", "Ω", "€", "😀"]
    ),
    min_size=8,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(secret=secrets, form=st.sampled_from(sorted(CHAR_FORMS)), seed=st.integers(0, 2**32))
def test_every_decoded_form_is_redacted_in_text_and_bytes(secret: str, form: str, seed: int) -> None:
    redactor = Redactor([secret])
    echo, pieces = _echo_pieces(secret, form, seed)
    text = f"before <{echo}> after"
    for out in (redactor.text(text), redactor.data(text.encode()).decode()):
        assert [p for p in pieces if p in out] == [], (form, out)
        assert out.startswith("before <") and out.endswith("> after"), out
        assert MARKER in out


@settings(max_examples=60, deadline=None)
@given(secret=secrets, codec=st.sampled_from(WIDE), head=st.binary(max_size=5), tail=st.binary(max_size=5))
def test_utf16_and_utf32_encodings_are_redacted_in_bytes(
    secret: str, codec: str, head: bytes, tail: bytes
) -> None:
    data, pieces = _wide_pieces(secret, codec)
    out = Redactor([secret]).data(head + data + tail)
    assert [p for p in pieces if p in out] == [], (codec, out)
    assert MARKER.encode() in out


@settings(max_examples=30, deadline=None)
@given(
    secret=secrets,
    form=st.sampled_from(sorted(CHAR_FORMS)),
    seed=st.integers(0, 2**32),
    keep=st.integers(8, 40),
)
def test_a_decoded_form_cut_short_is_redacted_at_the_end(
    secret: str, form: str, seed: int, keep: int
) -> None:
    # the first `keep` characters' echoes, then the text ends (the log keeps the first 2 KB)
    rng = random.Random(seed)
    parts = [CHAR_FORMS[form](char, rng) for char in secret[:keep]]
    out = Redactor([secret]).text("x " + "".join(parts), cut=True)
    assert [p for i in range(len(parts) - 7) if (p := "".join(parts[i : i + 8])) in out] == [], out
    assert out.startswith("x ")


def test_the_attackers_forms_are_redacted_whole() -> None:
    redactor = Redactor([(SECRET, "whsec_")])
    forms = {
        "".join(f"&#{ord(c):04d};" for c in CORE),
        "".join(f"&#x{ord(c):04X};" for c in CORE),
        "".join(f"&#X{ord(c):x};" for c in CORE),
        "".join(f"&#{ord(c)}" for c in CORE),
        "".join(f"\\u{ord(c):04x}" for c in CORE),
        "".join(f"\\u{ord(c):04X}" for c in CORE),
        "".join(("%{:02X}" if i % 2 else "%{:02x}").format(b) for i, b in enumerate(CORE.encode())),
    }
    for form in forms:
        assert redactor.text(f"[{form}]") == f"[{MARKER}]", form
    for codec in WIDE:
        data = CORE.encode(codec)
        out = redactor.data(b"[" + data + b"]")
        assert out in (
            b"[" + MARKER.encode() + b"]",
            b"[" + codecs.BOM_UTF16_LE + MARKER.encode() + b"]",
            b"[" + codecs.BOM_UTF32_LE + MARKER.encode() + b"]",
        ), (codec, out)


def test_clean_escapes_are_left_as_they_are() -> None:
    redactor = Redactor([SECRET])
    text = "a &amp; b &#0; &#99999999; \\ud800 \\u0041\\u0042 %20 \\x41 &#x1F600; &#121;&#110;"
    assert redactor.text(text) == text
    assert redactor.data(text.encode()) == text.encode()


def test_a_secret_s_piece_of_7_characters_escaped_is_left() -> None:
    # the promise is 8 characters: 7 escaped characters are ordinary text
    redactor = Redactor([SECRET])
    text = "".join(f"&#{ord(c):03d};" for c in CORE[:7])
    assert redactor.text(text) == text


@contextmanager
def _echoing_receiver(body: bytes, header: bytes) -> Iterator[str]:
    """A receiver on 127.0.0.1 that answers every POST 500 with ``body`` and an ``X-Echo: header``
    (written on the socket as they are)."""

    answer = (
        b"HTTP/1.1 500 Oops\r\nX-Echo: " + header + b"\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    with serve_raw_answer(answer) as url:
        yield url


def _stored(db: Path) -> bytes:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT excerpt, headers, detail FROM attempts").fetchall()
    assert rows
    return b"\n".join(
        bytes(excerpt) + b"\n" + (headers or "").encode() + detail.encode()
        for excerpt, headers, detail in rows
    )


def _file_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name))


@pytest.mark.parametrize("form", sorted(CHAR_FORMS))
def test_a_receiver_echoing_a_decoded_form_leaves_no_piece_in_the_log_file(form: str, tmp_path: Path) -> None:
    echo, pieces = _echo_pieces(CORE, form, seed=7)
    db = tmp_path / "log.db"
    with _echoing_receiver(b"secret=" + echo.encode(), echo.encode()) as url:
        with Sender("moda", SECRET, log=str(db), retry_delays_s=[]) as sender:
            delivery = sender.send(url, "task.succeeded")
        assert delivery.attempts[0].status == 500
        stored = _stored(db)
    assert b"x-echo" in stored.lower() and b"secret=" in stored  # both arrived, and were stored
    assert [p for p in pieces if p.encode() in stored] == [], stored
    assert [p for p in pieces if p.encode() in _file_bytes(db)] == []
    assert stored.count(MARKER.encode()) >= 2


@pytest.mark.parametrize("codec", WIDE)
def test_a_receiver_echoing_utf16_or_utf32_leaves_no_piece_in_the_log_file(
    codec: str, tmp_path: Path
) -> None:
    data, pieces = _wide_pieces(CORE, codec)
    db = tmp_path / "log.db"
    with _echoing_receiver(b"secret=" + data + b"!", b"ok") as url:
        with Sender("moda", SECRET, log=str(db), retry_delays_s=[]) as sender:
            sender.send(url, "task.succeeded")
        stored = _stored(db)
    assert b"secret=" in stored and b"!" in stored
    assert [p for p in pieces if p in stored] == [], stored
    assert [p for p in pieces if p in _file_bytes(db)] == []
    assert MARKER.encode() in stored


@pytest.mark.parametrize("form", sorted(CHAR_FORMS))
@pytest.mark.parametrize("tail", [1, 2, 3, 4])
def test_a_text_cut_inside_an_escape_loses_the_pieces_before_it(form: str, tail: int) -> None:
    # 5 whole echoed characters, then the beginning of the 6th (the 2 KB cut lands in it)
    rng = random.Random(tail)
    parts = [CHAR_FORMS[form](char, rng) for char in CORE[:6]]
    text = "x " + "".join(parts[:5]) + parts[5][:tail]
    out = Redactor([(SECRET, "whsec_")]).text(text, cut=True)
    assert out == "x " + MARKER, (text, out)


@pytest.mark.parametrize("form", sorted(CHAR_FORMS))
def test_an_audit_report_of_a_receiver_echoing_a_decoded_form_holds_no_piece(form: str) -> None:
    import hookmock

    echo, pieces = _echo_pieces(CORE, form, seed=11)

    def receiver(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        stream = environ["wsgi.input"]
        stream.read(int(str(environ.get("CONTENT_LENGTH") or 0)))  # type: ignore[attr-defined]
        start_response("500 Err", [("X-Echo", echo)])
        return [echo.encode() + b" " + CORE.encode("utf-16-le")]

    report = hookmock.audit(receiver, profile="moda", secret=SECRET)
    outputs = {"text": report.text(), "json": str(report.to_json()), "junit": str(report.junit_xml())}
    for name, output in outputs.items():
        assert [p for p in pieces if p in output] == [], (name, output)
