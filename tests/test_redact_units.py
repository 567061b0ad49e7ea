"""The redactor's edges, one promise each: where a cut text's end is redacted and where it is not,
and the logging filter (message, arguments, tracebacks).

``tests/test_redact.py`` checks every form of a secret; here the exact bytes of an excerpt and of a
log record are pinned (the mutation run, ``python bench/mutation.py redact``, found them loose).
"""

from __future__ import annotations

import base64
import logging
import sys

import pytest

from hookmock._util.redact import MARKER, RedactingFilter, Redactor

SECRET = "Zq7vK2mP9xW4rT8n"  # 16 characters: pieces of 8 are redacted anywhere, of 4 at a cut end
M = MARKER.encode()


def test_a_short_piece_at_the_end_of_a_text_that_was_not_cut_is_ordinary_text():
    r = Redactor([SECRET])
    data = b"status ok " + SECRET[:5].encode()
    assert r.data(data) == data
    assert r.excerpt(data, 100) == data
    assert r.text(data.decode()) == data.decode()


def test_a_short_piece_at_the_end_of_a_cut_text_is_redacted():
    r = Redactor([SECRET])
    data = b"status ok " + SECRET[:5].encode()
    assert r.data(data, cut=True) == b"status ok " + M
    assert r.excerpt(data, 100, was_cut=True) == b"status ok " + M


def test_data_that_fills_the_limit_may_have_been_cut():
    r = Redactor([SECRET])
    data = b"status ok " + SECRET[:5].encode()
    # redacted as a cut, then cut at the limit again: the marker is cut, never the secret
    assert r.excerpt(data, len(data)) == (b"status ok " + M)[: len(data)]
    assert r.excerpt(data, len(data) + 1) == data  # shorter than the limit: not a cut


def test_the_cut_at_the_limit_is_redacted_as_a_cut():
    r = Redactor([SECRET])
    data = b"a" * 20 + SECRET[:6].encode() + b" and more after it"
    # the piece of 6 is ordinary text in the middle, but it ends the excerpt once cut at 26 bytes
    assert r.excerpt(data, 26) == b"a" * 20 + M


def test_an_excerpt_that_fits_after_redaction_is_not_cut_again():
    short = SECRET[:8]  # shorter than the marker: redacting makes the text longer
    r = Redactor([short])
    data = short.encode() + b" / " + short[:5].encode()
    clean = r.data(data)
    assert clean == M + b" / " + short[:5].encode()
    assert len(data) < len(clean)
    # redacted whole, it is exactly the limit: kept as it is, its end is not treated as a cut
    assert r.excerpt(data, len(clean)) == clean


def test_a_whole_secret_past_the_limit_is_redacted_before_the_cut():
    r = Redactor([SECRET])
    data = b"x" * 10 + SECRET.encode()
    assert r.excerpt(data, 14) == b"x" * 10 + M[:4]  # the marker is cut, never the secret


def test_nothing_to_redact_in_empty_data_or_without_secrets():
    assert Redactor([SECRET]).data(b"") == b""
    assert Redactor([]).data(b"any " + SECRET.encode()) == b"any " + SECRET.encode()
    assert Redactor([]).text("") == ""


def _record(msg: str, args: tuple[object, ...] = (), exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("hookmock.test", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_the_filter_redacts_the_formatted_message_and_drops_its_arguments():
    f = RedactingFilter(Redactor([SECRET]))
    record = _record("signing with %s for %s", (SECRET, "shop"))
    assert f.filter(record) is True
    assert record.getMessage() == f"signing with {MARKER} for shop"
    assert (record.msg, record.args) == (f"signing with {MARKER} for shop", ())


def test_the_filter_leaves_a_clean_record_as_it_was():
    f = RedactingFilter(Redactor([SECRET]))
    record = _record("delivered %s in %d ms", ("whd_1", 12))
    assert f.filter(record) is True
    assert (record.msg, record.args) == ("delivered %s in %d ms", ("whd_1", 12))
    assert record.exc_text is None


def test_the_filter_redacts_a_traceback():
    f = RedactingFilter(Redactor([SECRET]))
    try:
        raise RuntimeError(f"could not sign with {SECRET}")
    except RuntimeError:
        record = _record("failed", exc_info=sys.exc_info())
    assert f.filter(record) is True
    assert record.exc_text is not None
    assert "RuntimeError: could not sign with " + MARKER in record.exc_text
    assert SECRET[:8] not in logging.Formatter().format(record)


def test_the_filter_redacts_a_traceback_already_formatted():
    f = RedactingFilter(Redactor([SECRET]))
    record = _record("failed")
    record.exc_text = f"Traceback ...\nValueError: {SECRET}"
    assert f.filter(record) is True
    assert record.exc_text == f"Traceback ...\nValueError: {MARKER}"


def test_a_non_ascii_secret_is_redacted_whole_in_text_and_in_bytes():
    secret = "pässwörd-ünïcödé-Zq7"
    r = Redactor([secret])
    assert r.text(f"a {secret} b") == f"a {MARKER} b"
    assert r.text(f"a {secret[:9]} b") == f"a {MARKER} b"  # a piece with non-ASCII letters
    assert r.data(f"a {secret} b".encode()) == b"a " + M + b" b"
    assert r.text(f"a {secret} b") == f"a {MARKER} b"  # the tables of each mode stay apart


@pytest.mark.parametrize("case", [str, str.upper, str.lower])
def test_base64_of_a_prefixed_key_in_any_case_is_redacted_from_its_first_secret_bit(case):
    # "moda_live_" is 10 bytes: the 14th base64 character holds 4 bits of the prefix and 2 of
    # the secret, so it is redacted too; the 13 before it are the public prefix, kept
    core = "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
    r = Redactor([("moda_live_" + core, "moda_live_")])
    echoed = base64.b64encode(case("moda_live_" + core).encode()).decode()
    assert r.text(f"x {echoed} y") == f"x {echoed[:13]}{MARKER} y"


def test_a_cut_inside_a_base64_form_is_redacted():
    run = base64.b64encode(SECRET.encode()).decode()
    assert Redactor([SECRET]).text("sig=" + run[:6], cut=True) == "sig=" + MARKER
    assert Redactor([SECRET]).text("sig=" + run[:6]) == "sig=" + run[:6]


def test_a_cut_text_that_is_all_a_piece_of_the_secret_is_redacted_whole():
    assert Redactor([SECRET]).text(SECRET[:5], cut=True) == MARKER
    assert Redactor([SECRET]).text(SECRET[:5]) == SECRET[:5]


def test_two_secrets_side_by_side_are_one_marker():
    other = "Hb5tY8uJ3kN6mQ1w"
    r = Redactor([SECRET, other])
    assert r.text(SECRET + other) == MARKER
    assert r.text(f"{SECRET} {other}") == f"{MARKER} {MARKER}"


def test_a_piece_at_the_very_start_or_filling_the_text_is_found():
    r = Redactor([SECRET])
    assert r.text(SECRET[:8] + " tail") == MARKER + " tail"
    assert r.text(SECRET[3:11]) == MARKER  # exactly one piece long
    assert r.text("head " + SECRET[8:]) == "head " + MARKER


def test_a_very_short_secret_is_matched_exactly_in_text_and_bytes():
    r = Redactor(["äö"])  # below MIN_SECRET: only the exact text, in the same case
    assert r.text("x äö y ÄÖ") == f"x {MARKER} y ÄÖ"
    assert r.data("x äö y".encode()) == b"x " + M + b" y"


def test_a_very_short_secret_does_not_stop_the_others_being_looked_for():
    r = Redactor(["ab", SECRET])
    assert r.text(f"ab {SECRET}") == f"{MARKER} {MARKER}"
