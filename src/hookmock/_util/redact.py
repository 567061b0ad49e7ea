"""One redaction mechanism for every secret hookmock holds, used wherever a text that a receiver
or a client controls is stored or shown.

A receiver may echo what it was sent: the mod.io token header, or (a debug page) anything else.
An echo is not always the secret as sent: it may be JSON-escaped, HTML-escaped (with non-ASCII
characters, or every character, as decimal, hex or named character references), lower- or
upper-cased or casefolded, in the other Unicode normal form (NFD for NFC and back), base64 or
base64url encoded (at any byte alignment), percent-encoded (the usual way, every byte, or from
Latin-1), hex, UTF-16 or UTF-32 (either byte order, in bytes), or, for a non-ASCII secret, its
UTF-8 bytes read as Latin-1 (what decoding an HTTP header makes of raw UTF-8).  And any of its
characters, all or some, may be escaped: HTML numeric references (zero-padded, with or without
``;``), ``\\uXXXX``, ``\\xXX``, ``%XX``; the text is also searched with its escapes decoded
(:mod:`hookmock._util.unescape`), and what is found there is redacted as the escapes it was.
And stored texts are cut (the delivery log keeps the first 2 KB of a response), so an echo can
be cut in the middle.  A :class:`Redactor` therefore removes, for each secret it holds:

* every run of text made of pieces of **any form** of the secret that are at least
  :data:`MIN_PIECE` characters long (:data:`MIN_HEX_PIECE` for hex and every-byte percent, whose
  characters carry less, :data:`MIN_REF_PIECE` for every character a reference), wherever it
  appears: a whole echo and a piece of one alike;
* with ``cut=True`` (the text was truncated, or may have been), a shorter piece at its end too:
  the text's last :data:`MIN_CUT_PIECE` or more characters that begin a form of the secret.

In bytes, a redaction takes whole UTF-8 characters: one that would begin or end inside a
multibyte character is widened to all of it (half a character left beside the marker would
tell part of the secret, and is not text).

Case-insensitive forms (the secret itself, its escapes and percent/hex encodings, each also of
the secret lower- and upper-cased and casefolded, which reaches beyond ASCII) are matched ignoring
ASCII case; base64 forms exactly.  A known public prefix (Moda's ``whsec_``, the API
key's ``moda_live_``) is not secret: it is kept and only what follows it is matched, so
``whsec_…redacted`` still says what was there.  A secret whose rest is shorter than
:data:`MIN_PIECE` is matched only in whole forms (a piece of it would match ordinary text).

Very short secrets: one of 1 to 3 characters (shorter than :data:`MIN_SECRET`) is matched only
whole and exactly as sent, in the same case, in no other form; and every occurrence is replaced,
so a 1-character secret removes that character everywhere.  That is all hookmock promises for
such a secret (it cannot tell one from ordinary text); give secrets of at least 8 characters.
Redact first, then cut: :meth:`Redactor.excerpt` does both, in that order.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import html
import html.entities
import json
import logging
import re
import string
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from hookmock._util.unescape import Decoded, has_escape, without_partial_escape

__all__ = [
    "MARKER",
    "MIN_CUT_PIECE",
    "MIN_HEX_PIECE",
    "MIN_PIECE",
    "MIN_REF_PIECE",
    "MIN_SECRET",
    "RedactingFilter",
    "Redactor",
    "forms_of",
    "hide_userinfo",
    "redactor_for",
]

#: What replaces a secret (or a piece of one).
MARKER = "…redacted"
#: Shortest piece of a secret (in any form but hex) redacted anywhere in a text.  Long enough
#: that ordinary text does not match a random secret by chance.
MIN_PIECE = 8
#: Shortest piece of a hex form redacted anywhere (hex digits carry 4 bits each).
MIN_HEX_PIECE = 12
#: Shortest piece redacted anywhere of a form that writes every character as an HTML character
#: reference (``&#109;`` or ``&#x6d;``: five or six characters each, about four of them).
MIN_REF_PIECE = 24
#: Shortest piece redacted at the end of a text that was cut (any form).
MIN_CUT_PIECE = 4
#: Secrets shorter than this are only replaced where they appear exactly, in the same case.
MIN_SECRET = 4

_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _fold(text: str) -> str:
    """ASCII lower case (length-preserving, unlike ``str.lower``)."""
    return text.translate(_FOLD)


#: ``min_piece`` of a form matched only whole (a secret too short to look for in pieces).
WHOLE = sys.maxsize

#: Tables and codec names used below (module level: they are data, not logic).
_LATIN_1 = "latin-1"
_URLSAFE = str.maketrans("+/", "-_")
_SLASH = str.maketrans({"/": "\\/"})  # PHP's json_encode escapes "/"
_GO = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})  # Go's encoding/json
_json_unicode = functools.partial(json.dumps, ensure_ascii=False)
_html_text = functools.partial(html.escape, quote=False)
_quote_all = functools.partial(quote, safe="")
_quote_latin1 = functools.partial(quote, safe="", encoding=_LATIN_1)
_NAMED = html.entities.codepoint2name
_UTF8_CONTINUATION = range(0x80, 0xC0)
_UTF8_NOT_FIRST = range(0x80, 0xF5)  # a byte a continuation byte can follow: lead or continuation
_WIDE_CODECS = (
    ("utf-16-le", MIN_HEX_PIECE),
    ("utf-16-be", MIN_HEX_PIECE),
    ("utf-32-le", MIN_REF_PIECE),
    ("utf-32-be", MIN_REF_PIECE),
)


@dataclass(frozen=True)
class Form:
    """One way a secret can appear in a text."""

    text: str
    #: Matched ignoring ASCII case (``text`` is then stored folded).
    folded: bool
    #: Shortest piece of ``text`` matched on its own (:data:`WHOLE`: only the whole text).
    min_piece: int
    #: ``text`` is already bytes read one character a byte (a UTF-16 or UTF-32 encoding): looked
    #: for as it is in every view, never re-encoded.
    raw: bool = False


def _base64_runs(data: bytes, public: int) -> list[str]:
    """The base64 and base64url characters that depend only on ``data``, whatever bytes come
    before or after it: one run of each for each of the three alignments ``data`` can have.  With
    a ``public`` prefix of that many bytes, the run starts at the first character holding a bit of
    what follows the prefix (that character's other bits are the prefix's, known)."""
    runs: list[str] = []
    # ``first``: the first character made of data bits only, after ``pad`` bytes (8 * pad / 6, up)
    for pad, first in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.b64encode(bytes(pad) + data).decode()
        # one past the last character made of data bits only (8 * (pad + len) / 6, down)
        run = encoded[max(first, 8 * (pad + public) // 6) : 8 * (pad + len(data)) // 6]
        runs += (run, run.translate(_URLSAFE))
    return runs


def _texts(value: str) -> tuple[str, ...]:
    """The forms of ``value`` matched ignoring ASCII case: the text and its escapes (and, of a
    non-ASCII value, its UTF-8 bytes read as Latin-1, as HTTP header decoding does, its Latin-1
    percent-encoding and its non-ASCII characters as HTML character references)."""
    escaped = json.dumps(value)[1:-1]
    texts = [
        value,
        escaped,
        _json_unicode(value)[1:-1],
        escaped.translate(_SLASH),
        json.dumps(escaped)[1:-1],  # JSON inside a JSON string
        escaped.translate(_GO),
        html.escape(value),
        _html_text(value),
        _quote_all(value),
        quote(value),
        quote_plus(value),
        _quote_all(_quote_all(value)),  # a URL inside a URL
    ]
    if not value.isascii():
        texts.append(_utf8_as_latin1(value))
        if max(value) <= "\xff":
            texts.append(_quote_latin1(value))
        escaped_html = html.escape(value)
        texts += (
            _refs(escaped_html, "&#{};", non_ascii=True),
            _refs(escaped_html, "&#x{:x};", non_ascii=True),
            _refs(escaped_html, "&{};", non_ascii=True),
        )
    return tuple(texts)


def _refs(value: str, template: str, *, non_ascii: bool) -> str:
    """``value`` with its characters (``non_ascii``: only the non-ASCII ones) written as HTML
    character references; the ``&{};`` template names them, and leaves a character without a
    name as it is (an echo that writes it as a number instead is pieces of this form and of the
    decimal one, which the search joins)."""
    out = []
    for char in value:
        if non_ascii and char.isascii():
            out.append(char)
        elif template == "&{};":
            out.append(f"&{_NAMED[ord(char)]};" if ord(char) in _NAMED else char)
        else:
            out.append(template.format(ord(char)))
    return "".join(out)


def _percent_every_byte(data: bytes) -> str:
    return "".join(f"%{byte:02X}" for byte in data)


def forms_of(value: str, prefix: str) -> list[Form]:
    """Every form of ``value`` a redactor looks for, of the value as it is, lower- and
    upper-cased and casefolded (beyond ASCII, where folding the case of the text looked at does
    not reach), and in both Unicode normal forms (NFC and NFD: composed "Ä" or "A" and a combining
    diaeresis).  With a public ``prefix``, ``value`` is what follows it, and the base64 of the
    whole (prefix and value) is looked for too, from the first character that holds a bit of
    ``value``.  (The prefix's case does not matter there: ASCII case is bit 0x20, and that
    character holds only the prefix's last 2 or 4 bits.)"""
    cased = (value, value.lower(), value.upper(), value.casefold())
    variants = dict.fromkeys(cased)
    variants.update(dict.fromkeys(unicodedata.normalize(n, text) for text in cased for n in ("NFC", "NFD")))
    # ASCII case is folded in the text looked at: one variant for an ASCII value, more else
    texts = [text for variant in dict.fromkeys(map(_fold, variants)) for text in _texts(variant)]
    forms = [Form(text, True, MIN_PIECE) for text in dict.fromkeys(map(_fold, texts))]
    head = prefix.encode()
    runs: list[str] = []
    for variant in variants:
        raw = variant.encode()
        forms.append(Form(raw.hex(), True, MIN_HEX_PIECE))
        # every byte percent-encoded (three characters a byte: as long a piece as hex)
        forms.append(Form(_fold(_percent_every_byte(raw)), True, MIN_HEX_PIECE))
        if max(variant) <= "\xff":
            forms.append(Form(_fold(_percent_every_byte(variant.encode(_LATIN_1))), True, MIN_HEX_PIECE))
        # every character an HTML character reference
        for template in ("&#{};", "&#x{:x};"):
            forms.append(Form(_fold(_refs(variant, template, non_ascii=False)), True, MIN_REF_PIECE))
        runs += _base64_runs(raw, 0)
        runs += _base64_runs(head + raw, len(head))
        # UTF-16 and UTF-32 (either byte order; a BOM before it is no part of the match): pieces
        # of 6 characters, 12 and 24 bytes, the sizes of the hex and reference pieces
        for codec, size in _WIDE_CODECS:
            forms.append(Form(_fold(variant.encode(codec).decode(_LATIN_1)), True, size, raw=True))
    forms += [Form(run, False, MIN_PIECE) for run in dict.fromkeys(runs)]
    return list(dict.fromkeys(forms))


class Redactor:
    """Removes secrets, in every form and in pieces, from texts and bytes (see the module text).

    ``secrets``: values, or ``(value, public_prefix)`` pairs.  Thread-safe; :meth:`add` more later.
    """

    def __init__(self, secrets: Iterable[str | tuple[str, str]] = (), *, marker: str = MARKER) -> None:
        self.marker = marker
        self._lock = threading.Lock()
        #: The forms of each secret (none: matched only exactly, in the same case).
        self._secrets: dict[str, tuple[Form, ...]] = {}
        #: The lookup tables, by view (see :meth:`_table`); emptied when a secret is added.
        self._tables: dict[Callable[[str], str], _Table] = {}
        #: Counts the secrets added (after each is in use): what a caller remembers about texts
        #: found clean is stale once this changes.
        self.generation = 0
        for item in secrets:
            if isinstance(item, str):
                self.add(item)
            else:
                self.add(item[0], prefix=item[1])

    def __repr__(self) -> str:  # never shows a secret
        return f"<Redactor of {len(self._secrets)} secret(s)>"

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def add(self, value: str | None, *, prefix: str | None = None) -> None:
        """Also redact ``value``; ``prefix`` is a public prefix it may start with (kept)."""
        if not value:
            return
        with self._lock:
            if value in self._secrets:
                return
            core = value.removeprefix(prefix) if prefix else value
            whole = len(core) < MIN_PIECE  # too short to look for in pieces: only whole forms
            if whole:
                core = value
            forms = forms_of(core, value.removesuffix(core)) if len(value) >= MIN_SECRET else []
            if whole:
                forms = [dataclasses.replace(form, min_piece=WHOLE) for form in forms]
            self._secrets = {**self._secrets, value: tuple(forms)}
            self._tables.clear()
            self.generation += 1

    def _table(self, view: Callable[[str], str]) -> _Table:
        """The lookup tables for texts seen through ``view``: :func:`_same` for texts,
        :func:`_utf8_as_latin1` for bytes (decoded one character a byte)."""
        table = self._tables.get(view)
        if table is not None:
            return table
        with self._lock:
            secrets = dict(self._secrets)
        table = _Table(secrets, view)
        with self._lock:
            if len(self._secrets) == len(secrets):  # not added to meanwhile
                self._tables[view] = table
        return table

    def _redact(self, text: str, table: _Table, marker: str, *, cut: bool) -> str:
        if (text, cut) in table.clean:  # a short text seen before with nothing to hide
            return text
        spans = table.spans(text, cut=cut)
        if not spans:
            table.remember_clean(text, cut)
            return text
        spans = _whole_characters(text, spans)
        out: list[str]
        out, at = [], 0
        for start, end in spans:
            out += (text[at:start], marker)
            at = end
        out.append(text[at:])
        return "".join(out)

    def text(self, text: str, *, cut: bool = False) -> str:
        """``text`` with every secret (any form, any piece) replaced by the marker; ``cut``: the
        text may have been cut short, so a shorter piece at its end is replaced too."""
        if not self._secrets:
            return text
        return self._redact(text, self._table(_same), self.marker, cut=cut)

    __call__ = text

    def data(self, data: bytes, *, cut: bool = False) -> bytes:
        """Like :meth:`text`, for bytes (matched as UTF-8; other bytes are left as they are)."""
        if not self._secrets:
            return data
        marker = _utf8_as_latin1(self.marker)
        clean = self._redact(data.decode(_LATIN_1), self._table(_utf8_as_latin1), marker, cut=cut)
        return clean.encode(_LATIN_1)

    def excerpt(self, data: bytes, limit: int, *, was_cut: bool = False) -> bytes:
        """Redact ``data`` whole, then keep its first ``limit`` bytes, then redact the end of what
        is kept as cut.  ``was_cut``: ``data`` itself is already a cut (e.g. at the transport's
        excerpt size), so its end is redacted as cut even when it fits."""
        clean = self.data(data, cut=was_cut or len(data) >= limit)
        if len(clean) <= limit:
            return clean
        return self.data(clean[:limit], cut=True)


def _same(text: str) -> str:
    return text


def _utf8_as_latin1(text: str) -> str:
    """What ``text`` looks like in bytes decoded one character a byte (latin-1)."""
    return text.encode().decode(_LATIN_1)


class _Group:
    """The pieces of one length, matched folded or not, and a fast way to find them.

    Looking up every window of ``size`` characters costs a slice and a set lookup per character;
    instead, windows of ``probe`` characters are looked up every ``stride`` characters (any piece
    of ``size`` contains one of them), and only around a hit are the full windows checked."""

    def __init__(self, folded: bool, size: int) -> None:
        self.folded = folded
        self.size = size
        self.probe = size // 2
        self.stride = size - self.probe + 1
        self.pieces: set[str] = set()
        self.probes: set[str] = set()

    def add(self, text: str) -> None:
        self.pieces |= _windows(text, self.size)
        self.probes |= _windows(text, self.probe)

    def scan(self, subject: str) -> list[tuple[int, int]]:
        size, probe = self.size, self.probe
        # a window that runs past the end is shorter than a probe or a piece: never found
        starts = range(0, len(subject), self.stride)
        if self.probes.isdisjoint([subject[p : p + probe] for p in starts]):  # the usual case
            return []
        found = []
        for p in starts:
            if subject[p : p + probe] in self.probes:
                for i in range(max(0, p + probe - size), p + 1):  # the pieces holding this probe
                    if subject[i : i + size] in self.pieces:
                        found.append((i, i + size))
        return found


def _windows(text: str, size: int) -> set[str]:
    """Every run of ``size`` characters in ``text``."""
    return {text[i : i + size] for i in range(len(text) - size + 1)}


#: Texts up to this long found clean are remembered (header names and values, short bodies: the
#: same ``Content-Type: application/json`` or ``ok`` on every delivery), at most CLEAN_MAX of them.
CLEAN_TEXT_MAX = 256
CLEAN_MAX = 4096


class _Table:
    """What a redactor looks for in texts seen through one view (see :meth:`Redactor._table`)."""

    def __init__(self, secrets: dict[str, tuple[Form, ...]], view: Callable[[str], str]) -> None:
        #: ``(text, cut)`` of short texts in which nothing was found: what a receiver answers is
        #: mostly the same few headers and bodies, each scanned once instead of on every attempt.
        #: Only texts with nothing to hide are kept (never a secret), and a new secret makes a
        #: new table (see :meth:`Redactor.add`).
        self.clean: set[tuple[str, bool]] = set()
        groups: dict[tuple[bool, int], _Group] = {}
        #: The forms by their first MIN_CUT_PIECE characters, by whether they are folded.
        self.begins: dict[bool, dict[str, list[str]]] = {True: {}, False: {}}
        self.longest = 0
        #: Secrets too short for anything but an exact match.
        self.exact: list[str] = []
        for value, forms in secrets.items():
            if not forms:
                self.exact.append(view(value))
            for form in forms:
                text = form.text if form.raw else view(form.text)
                size = min(form.min_piece, len(text))
                group = groups.get((form.folded, size))
                if group is None:
                    group = groups[(form.folded, size)] = _Group(form.folded, size)
                group.add(text)
                self.begins[form.folded].setdefault(text[:MIN_CUT_PIECE], []).append(text)
                self.longest = max(self.longest, len(text))
        self.groups = list(groups.values())
        self.view = view

    def spans(self, text: str, *, cut: bool) -> list[tuple[int, int]]:
        """Where ``text`` holds a secret (any form, any piece; ``cut``: and its end), merged; and
        where the text with its escapes decoded (:class:`~hookmock._util.unescape.Decoded`)
        does: each such span widened to the whole escapes it was decoded from."""
        covered = self._find(text, cut=cut, exact=True)
        if has_escape(text):
            # a text cut inside an escape: its end is looked at without that beginning of one,
            # and a piece found ending there takes it too
            body = without_partial_escape(text) if cut else text
            decoded = Decoded(body, self.view)
            for span in self._find(decoded.text, cut=cut, exact=False):
                start, end = decoded.origin(*span)
                covered.append((start, len(text) if end == len(body) and cut else end))
        return _merge(covered)

    def _find(self, text: str, *, cut: bool, exact: bool) -> list[tuple[int, int]]:
        folded = _fold(text)
        covered: list[tuple[int, int]] = []
        for group in self.groups:
            covered += group.scan(folded if group.folded else text)
        for value in self.exact if exact else ():
            start = text.find(value)
            while start >= 0:
                covered.append((start, start + len(value)))
                start = text.find(value, start + len(value))
        if cut:
            covered += self.cut_end(text, folded)
        return covered

    def remember_clean(self, text: str, cut: bool) -> None:
        if len(text) <= CLEAN_TEXT_MAX:
            if len(self.clean) >= CLEAN_MAX:  # bounded: a receiver answering ever-new texts
                self.clean.clear()
            self.clean.add((text, cut))

    def cut_end(self, text: str, folded: str) -> list[tuple[int, int]]:
        """The longest end of ``text`` (at least :data:`MIN_CUT_PIECE` long) that begins a form."""
        length = len(text)
        best = length
        for subject, begins in ((folded, self.begins[True]), (text, self.begins[False])):
            for at in range(max(0, length - self.longest), best):
                forms = begins.get(subject[at : at + MIN_CUT_PIECE])
                if forms and any(form.startswith(subject[at:]) for form in forms):
                    best = at
                    break
        return [(best, length)] if best < length else []


def _whole_characters(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` widened so that none cuts a UTF-8 sequence in half, in bytes (``text`` decoded
    one character a byte) or in a text that holds bytes read that way (a response header): a span
    that starts or ends inside a character takes all of it (a lone half left beside the marker
    would tell part of the secret).  Inside a character: a continuation byte (0x80 to 0xBF) right
    after a lead or another continuation byte (0x80 to 0xF4)."""
    widened = []
    for start, end in spans:
        # back over at most 3 continuation bytes, to the byte that leads the sequence
        for _ in range(3):
            if start == 0 or not _inside(text, start):
                break
            start -= 1
        for _ in range(3):
            if end == len(text) or not _inside(text, end):
                break
            end += 1
        widened.append((start, end))
    return _merge(widened)


def _inside(text: str, at: int) -> bool:
    """Whether ``text[at]`` continues a UTF-8 sequence begun before it."""
    return ord(text[at]) in _UTF8_CONTINUATION and ord(text[at - 1]) in _UTF8_NOT_FIRST


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@functools.lru_cache(maxsize=64)
def redactor_for(value: str, prefix: str = "") -> Redactor:
    """A (cached) redactor of one secret."""
    return Redactor([(value, prefix)])


_USERINFO = re.compile(r"(?P<head>//[^/?#]*?:)[^/?#]*@")


def hide_userinfo(url: str) -> str:
    """``url`` with the password of a ``user:password@`` part replaced by the marker, for
    messages that show a URL someone gave (the URL is refused, but its message is printed)."""
    return _USERINFO.sub(lambda m: m.group("head") + MARKER + "@", url)


class RedactingFilter(logging.Filter):
    """A logging filter that removes a redactor's secrets from each record's message and
    traceback (attach it to the loggers of a component that holds secrets)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redactor.text(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.redactor.text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        return True
