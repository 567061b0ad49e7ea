"""Checks of a request's header fields that every hookmock server makes before its application
runs (see :mod:`hookmock._util.framing`): each returns ``(status, message)`` for a request to
refuse, or None."""

from __future__ import annotations

import re
from email import errors
from typing import Any

__all__ = ["check_expect", "check_fields"]

#: A control character a field value may not hold (RFC 9110 section 5.5: HTAB is the only one allowed).
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def check_fields(message: Any) -> tuple[int, str] | None:
    """400 for a header section a server must reject, or may and hookmock does (RFC 9112): a line
    that is not a ``name: value`` field (whitespace before the colon, section 5.1), a folded line
    (obs-fold, section 5.2: never merged into the field before it), a control character in a value
    (RFC 9110 section 5.5).  ``email`` takes the first two as the start of a body or as a value
    holding a line break; both are seen here in the message it made."""
    stray = message.get_payload()
    if not isinstance(stray, str):
        stray = ""
    for defect in message.defects:  # other defects (a multipart type with no body) are no matter
        if isinstance(defect, errors.FirstHeaderLineIsContinuationDefect):
            stray = str(getattr(defect, "line", None) or " ")
            break
        if isinstance(defect, errors.MissingHeaderBodySeparatorDefect):
            stray = stray or "?"
    if stray:
        line = stray.splitlines()[0] if stray.strip("\r\n") else ""
        if line[:1] in (" ", "\t"):
            return 400, f"the header line {line[:80]!r} is folded (obs-fold); send each field on one line"
        if line and line != "?":
            return 400, (
                f"the header line {line[:80]!r} is not a 'Name: value' field "
                "(no whitespace may come between the name and the colon)"
            )
        return 400, "the request headers are malformed; send 'Name: value' lines"
    for name, value in message.items():
        if "\n" in value or "\r" in value:
            folded = value.replace("\r\n", "\n").split("\n", 1)[1].split("\n", 1)[0]
            return 400, (
                f"the header line {folded[:80]!r} is folded (obs-fold) into the {name} field; "
                "send each field on one line"
            )
        bad = _CTL.search(value)
        if bad is not None:
            return 400, (
                f"the {name} header value holds the control character {bad[0]!r}; "
                "header values may not hold control characters other than tab"
            )
    return None


def check_expect(values: list[str]) -> tuple[int, str] | None:
    """417 for an expectation other than ``100-continue`` (RFC 9110 section 10.1.1: a server MAY
    answer 417 to one it does not meet; ignoring it would let the client think it was met)."""
    unknown = [
        e.strip() for v in values for e in v.split(",") if e.strip().lower() not in ("", "100-continue")
    ]
    if not unknown:
        return None
    return 417, (
        f"Expect: {', '.join(unknown)[:80]!r} is not an expectation this server meets; "
        "send no Expect header, or Expect: 100-continue"
    )
