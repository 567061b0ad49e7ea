"""Escapes decoded for the redactor (:mod:`hookmock._util.redact`): a secret echoed with its
characters escaped is looked for in the text as decoded, and redacted in the text as it was.

What is decoded: HTML numeric character references (decimal or hex, ``x`` or ``X``, hex digits in
either case, any number of leading zeros, with or without the ``;``), ``\\uXXXX`` escapes (a
surrogate pair of two is one character) and the bytes of ``\\xXX`` and ``%XX``.  A reference to
no character (a surrogate, past U+10FFFF) is left as it is.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

__all__ = ["Decoded", "has_escape", "without_partial_escape"]

#: An escape that stands for one character (or byte): an HTML numeric character reference with
#: any number of leading zeros, with or without its ``;`` (HTML5 reads both), decimal or hex in
#: either case; ``\\uXXXX`` (JSON, JavaScript); ``\\xXX`` and ``%XX`` (a byte).
_ESCAPE = re.compile(
    r"&#(?:[xX]0*(?P<hex>[0-9a-fA-F]{1,6})|0*(?P<dec>[0-9]{1,7}));?"
    r"|\\u(?P<u>[0-9a-fA-F]{4})"
    r"|(?:\\x|%)(?P<byte>[0-9a-fA-F]{2})"
)
_SURROGATES = range(0xD800, 0xE000)
#: The beginning of an escape at the end of a text (empty: none), where a cut can leave one.
_PARTIAL_ESCAPE = re.compile(
    r"(?:&(?:#(?:[xX][0-9a-fA-F]*|[0-9]*))?|\\(?:u[0-9a-fA-F]{0,3}|x[0-9a-fA-F]?)?|%[0-9a-fA-F]?)?\Z"
)


class Decoded:
    """``text`` with each escape (:data:`_ESCAPE`) replaced by what it stands for, as the view
    sees it (a character is its UTF-8 bytes in the bytes view; an escaped byte is that byte), and
    the way back: a span of the decoded text to the span of ``text`` it came from, whole escapes.
    So a secret written with every character escaped, some escaped, zero-padded, or without
    ``;``, is found like the secret itself (and its other forms), at the same piece length."""

    def __init__(self, text: str, view: Callable[[str], str]) -> None:
        parts: list[str] = []
        #: Per segment: where it starts in the decoded text, where in ``text``, where it ends
        #: in ``text``, whether it is an escape (else: literal text, one character for one).
        self.starts: list[int] = []
        self.segments: list[tuple[int, int, bool]] = []
        at = length = 0
        matches = list(_ESCAPE.finditer(text))
        skip = False
        for index, match in enumerate(matches):
            if skip:
                skip = False
                continue
            decoded, end = _unescape(match, matches[index + 1] if index + 1 < len(matches) else None, view)
            if decoded is None:
                continue
            skip = end != match.end()
            if match.start() > at:  # the literal text before it
                self.starts.append(length)
                self.segments.append((at, match.start(), False))
                parts.append(text[at : match.start()])
                length += match.start() - at
            self.starts.append(length)
            self.segments.append((match.start(), end, True))
            parts.append(decoded)
            length += len(decoded)
            at = end
        self.starts.append(length)
        self.segments.append((at, len(text), False))
        parts.append(text[at:])
        self.text = "".join(parts)

    def origin(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that ``text[start:end]`` was decoded from."""
        first = bisect.bisect_right(self.starts, start) - 1
        last = bisect.bisect_right(self.starts, end - 1) - 1
        begin, _, escape = self.segments[first]
        if not escape:
            begin += start - self.starts[first]
        literal, finish, escape = self.segments[last]
        if not escape:
            finish = literal + end - self.starts[last]
        return begin, finish


def _unescape(
    match: re.Match[str], following: re.Match[str] | None, view: Callable[[str], str]
) -> tuple[str | None, int]:
    """What one escape stands for in ``view`` and where it ends (a UTF-16 surrogate pair of two
    ``\\u`` escapes is one character); ``None``: not a character, left as it is."""
    if match["byte"] is not None:
        return chr(int(match["byte"], 16)), match.end()
    number = int(match["dec"]) if match["dec"] is not None else int(match["hex"] or match["u"], 16)
    end = match.end()
    if (
        0xD800 <= number < 0xDC00
        and match["u"]
        and following is not None
        and following["u"]
        and following.start() == end
    ):
        low = int(following["u"], 16)
        if 0xDC00 <= low < 0xE000:
            number = 0x10000 + ((number - 0xD800) << 10) + (low - 0xDC00)
            end = following.end()
    if number > 0x10FFFF or number in _SURROGATES:
        return None, end
    return view(chr(number)), end


def has_escape(text: str) -> bool:
    """Whether ``text`` holds an escape :class:`Decoded` would decode."""
    return _ESCAPE.search(text) is not None


def without_partial_escape(text: str) -> str:
    """``text`` without the beginning of an escape at its end (where a cut may have left one)."""
    match = _PARTIAL_ESCAPE.search(text)
    return text[: match.start()] if match else text
