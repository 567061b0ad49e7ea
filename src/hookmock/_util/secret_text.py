"""The one check every front end applies to a secret, key or token a user typed: one line of
UTF-8 text (it is signed with, or sent in a header).  The CLI (``--secret``, ``$HOOKMOCK_SECRET``,
``serve``'s keys) and the pytest plugin (marker, option, ini) share it."""

from __future__ import annotations

from ..errors import UsageError

__all__ = ["check_secret_text"]


def check_secret_text(secret: str, what: str) -> None:
    """Raise :class:`UsageError` naming ``what`` (never the value) unless ``secret`` is one line
    of UTF-8 text."""
    for i, ch in enumerate(secret):
        if "\udc80" <= ch <= "\udcff":  # a byte the command line or environment had that is not UTF-8
            raise UsageError(f"{what} has a byte that is not UTF-8 at position {i}")
        if ch in "\r\n\x00":
            raise UsageError(
                f"{what} has a {'line break' if ch != chr(0) else 'NUL'} at position {i}; give it on one line"
            )
