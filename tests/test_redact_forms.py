"""Every form of a secret, each pinned exactly: the whole echo becomes one marker, nothing of it is
left at either edge.  The secrets here are chosen so that the forms differ from each other at
nearly every character (a JSON escape, an HTML entity, a percent sign or a non-ASCII letter every
few characters), so a form the redactor forgot, or built one character short, leaves characters
behind.  And the speed promises that can be seen from outside: a clean short text is scanned once.

The forms are written here independently of ``hookmock._util.redact`` (the thing under test).
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest

from hookmock._util import redact
from hookmock._util.redact import CLEAN_MAX, CLEAN_TEXT_MAX, MARKER, Redactor

#: Starts with a quote and a non-ASCII letter, ends with "/" and a quote: every escape differs at
#: the edges too.
DENSE = '"é/ <q&>\\+%\'Zü7/"'


def _json(s: str) -> str:
    return json.dumps(s)[1:-1]


def _ascii(s: str, case: Callable[[str], str]) -> str:
    return "".join(case(c) if c.isascii() else c for c in s)


ECHOES = {
    "raw": DENSE,
    "upper": _ascii(DENSE, str.upper),  # case is ASCII case (é stays é)
    "lower": _ascii(DENSE, str.lower),
    "json": _json(DENSE),
    "json-unicode": json.dumps(DENSE, ensure_ascii=False)[1:-1],
    "json-php": _json(DENSE).replace("/", "\\/"),
    "json-in-json": _json(_json(DENSE)),
    "json-go": _json(DENSE).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"),
    "json-go-upper": _json(DENSE).replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026"),
    "html": html.escape(DENSE),
    "html-text": html.escape(DENSE, quote=False),
    "percent": quote(DENSE, safe=""),
    "percent-path": quote(DENSE),
    "percent-form": quote_plus(DENSE),
    "percent-twice": quote(quote(DENSE, safe=""), safe=""),
    "unicode-upper": DENSE.upper(),  # é becomes É
    "json-of-unicode-upper": _json(DENSE.upper()),
    "percent-of-unicode-upper": quote(DENSE.upper(), safe=""),
    "html-of-unicode-lower": html.escape(DENSE.lower()),
    "hex": DENSE.encode().hex(),
    "HEX": DENSE.encode().hex().upper(),
    "hex-of-upper": DENSE.upper().encode().hex(),
    "hex-of-lower": DENSE.lower().encode().hex(),
}


def test_the_dense_secret_makes_every_echo_different() -> None:
    assert len(set(ECHOES.values())) == len(ECHOES)


@pytest.mark.parametrize("name", sorted(ECHOES))
def test_every_form_is_redacted_whole_to_one_marker(name: str) -> None:
    echo = ECHOES[name]
    r = Redactor([DENSE])
    assert r.text(f"[{echo}]") == f"[{MARKER}]"
    assert r.data(f"[{echo}]".encode()) == f"[{MARKER}]".encode()


def test_a_non_ascii_secret_echoed_in_another_case_is_redacted() -> None:
    # Regression: case was folded in ASCII only, so "PÄSSWÖRD" was not a piece of "pässwörd"
    # and a receiver that upper-cased the secret showed it whole.
    secret = "pässwörd-ünïcödé-Zq7"
    r = Redactor([secret])
    for echo in (secret.upper(), json.dumps(secret.upper())[1:-1], quote(secret.upper())):
        assert r.text(f"a {echo} b") == f"a {MARKER} b", echo


#: Its base64 holds "+" and "/" at each of the three alignments (base64url differs from base64).
B64 = "Zq7~?>vK2~?>mP9~?>xW4~~?"


def _run(lead: int, n: int) -> tuple[int, int]:
    """The characters of base64(lead bytes + n bytes + ...) made of the n bytes' bits only."""
    return -(-8 * lead // 6), 8 * (lead + n) // 6


@pytest.mark.parametrize("urlsafe", [False, True])
@pytest.mark.parametrize("case", [str, str.lower, str.upper])
@pytest.mark.parametrize("lead", [0, 1, 2])
def test_base64_at_every_alignment_keeps_exactly_the_characters_other_bytes_share(
    lead: int, case: object, urlsafe: bool
) -> None:
    secret = case(B64)  # type: ignore[operator]
    # zero bits around it: a character that mixes the secret's bits with its neighbours' would
    # match the redactor's own zero-padded encoding, so it must not be in what is looked for
    data = bytes(lead) + secret.encode() + b"\0"
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    echoed = encode(data).decode()
    assert ("-" in echoed) if urlsafe else ("+" in echoed or "/" in echoed)
    first, last = _run(lead, len(secret))
    assert Redactor([B64]).text(echoed) == echoed[:first] + MARKER + echoed[last:]


@pytest.mark.parametrize("lead", [0, 1, 2])
def test_base64_of_the_secret_alone_ends_with_its_own_padding(lead: int) -> None:
    echoed = base64.b64encode(bytes(lead) + B64.encode()).decode()
    first, last = _run(lead, len(B64))
    assert Redactor([B64]).text(echoed) == echoed[:first] + MARKER + echoed[last:]


@pytest.mark.parametrize("lead", [b"x", b"xy"])
def test_a_prefixed_key_s_rest_alone_in_base64_cut_short_is_redacted(lead: bytes) -> None:
    # the key's rest echoed on its own (without "moda_live_"), at an alignment where its first
    # character is not the one the prefixed form starts with, and cut after a few characters
    core = "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
    r = Redactor([("moda_live_" + core, "moda_live_")])
    echoed = base64.b64encode(lead + core.encode()).decode()
    first, _ = _run(len(lead), len(core))
    assert r.text(echoed[: first + 6], cut=True) == echoed[:first] + MARKER


def test_a_prefix_the_value_does_not_start_with_is_not_cut_off() -> None:
    r = Redactor([("abcdefghijkl", "whsec_")])
    assert r.text("x abcdefghijkl y") == f"x {MARKER} y"
    assert r.text("x abcdef y") == "x abcdef y"


def test_a_short_secret_is_redacted_whole_in_every_form_never_in_pieces() -> None:
    secret = "t0K&n5"  # 6 characters: too short for pieces
    r = Redactor([secret])
    for form in (secret, secret.upper(), html.escape(secret), quote(secret, safe=""), secret.encode().hex()):
        assert r.text(f"a {form} b") == f"a {MARKER} b", form
    for lead in (b"", b"x", b"xy"):
        echoed = base64.b64encode(lead + secret.encode()).decode()
        first, last = _run(len(lead), len(secret))
        assert r.text(echoed) == echoed[:first] + MARKER + echoed[last:]
    assert r.text("a t0K&n b") == "a t0K&n b"  # five of its six characters: ordinary text
    assert r.text("a t0K&n", cut=True) == f"a {MARKER}"  # unless at a cut end


def test_the_shortest_secret_with_forms_and_the_longest_without_pieces() -> None:
    assert Redactor(["tok1"]).text("a TOK1 b") == f"a {MARKER} b"  # MIN_SECRET long: any case
    eight = "Zq7vK2mP"  # MIN_PIECE long: looked for in pieces, so a piece of its base64 too
    run = base64.b64encode(eight.encode()).decode()[:10]
    assert Redactor([eight]).text(f"a {run[1:9]} b") == f"a {MARKER} b"
    assert Redactor([eight[:7]]).text(f"a {run[1:9]} b") == f"a {run[1:9]} b"


def test_a_short_prefixed_secret_is_its_whole_value() -> None:
    r = Redactor([("whsec_ab12", "whsec_")])  # the rest is too short: the whole value is matched
    assert r.text("a WHSEC_AB12 b") == f"a {MARKER} b"
    assert r.text("a ab12 b") == "a ab12 b"


def test_a_short_non_ascii_secret_is_matched_whole_in_bytes_too() -> None:
    r = Redactor(["äöüß"])  # 4 characters, 8 bytes
    assert r.data("x äöüß y".encode()) == f"x {MARKER} y".encode()
    assert r.data("x äö y".encode()) == "x äö y".encode()  # 4 bytes of it: not the whole secret
    assert r.text("x äö y") == "x äö y"


def test_an_exact_secret_is_found_every_time_it_appears() -> None:
    assert Redactor(["ab"]).text("ab, ab and ab") == f"{MARKER}, {MARKER} and {MARKER}"


def test_a_redactor_is_true_when_it_holds_a_secret() -> None:
    assert not Redactor([])
    assert not Redactor([""])
    assert Redactor(["ab"])


# -- the scan cache: each clean short text is scanned once ------------------------------------


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    spans = redact._Table.spans

    def counting(self: redact._Table, text: str, *, cut: bool) -> list[tuple[int, int]]:
        seen.append(text)
        return spans(self, text, cut=cut)

    monkeypatch.setattr(redact._Table, "spans", counting)
    return seen


def test_a_clean_short_text_is_scanned_once(scans: list[str]) -> None:
    r = Redactor([DENSE])
    for _ in range(3):
        assert r.text("application/json") == "application/json"
        assert r.data(b"ok") == b"ok"
    assert scans == ["application/json", "ok"]
    r.text("application/json", cut=True)  # a cut end is another question
    assert scans[-1] == "application/json" and len(scans) == 3


def test_only_texts_up_to_the_limit_are_remembered(scans: list[str]) -> None:
    r = Redactor([DENSE])
    short, long = "a" * CLEAN_TEXT_MAX, "b" * (CLEAN_TEXT_MAX + 1)
    for _ in range(2):
        r.text(short)
        r.text(long)
    assert scans == [short, long, long]


def test_the_remembered_texts_are_bounded(scans: list[str]) -> None:
    r = Redactor([DENSE])
    texts = [f"t{i}" for i in range(CLEAN_MAX + 1)]
    for text in texts:
        r.text(text)
    r.text(texts[0])  # forgotten when the memory was full
    r.text(texts[-1])  # remembered after it was emptied
    assert len(scans) == CLEAN_MAX + 2 and scans[-1] == texts[0]


def test_a_text_remembered_clean_is_looked_at_again_once_a_secret_is_added() -> None:
    r = Redactor([DENSE])
    assert r.text("a Zq7vK2mP9x b") == "a Zq7vK2mP9x b"
    r.add("Zq7vK2mP9x")
    assert r.text("a Zq7vK2mP9x b") == f"a {MARKER} b"


def test_the_last_characters_of_a_form_are_no_piece_unless_cut() -> None:
    secret = "Zq7vK2mP9xW4rT8n"
    r = Redactor([secret])
    for k in range(1, 8):  # shorter than a piece: ordinary text, even where the text ends
        assert r.text("end " + secret[-k:]) == "end " + secret[-k:]
    assert r.text("end " + secret[-8:]) == "end " + MARKER
