"""Render a probe request as a reproducible ``curl`` command, with the secret redacted.

The body is passed with ``--data-binary`` so curl sends the exact bytes (no newline stripping,
no form encoding); a long body can be passed as ``--data-binary @FILE`` and long headers as
``-H @FILE`` instead (the report writes those files).  Header values are sent as the exact bytes
the audit sent (latin-1, as HTTP carries them).  Text that is not printable UTF-8 is written
with bash's ``$'...'`` quoting.
Every secret-derived value is masked: first the values the probe registered (a truncated or
case-changed token, …), then the secret itself through the profile's ``redact``.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from ..profiles import Profile
from .model import ProbeRequest

__all__ = ["Redactor", "header_lines", "render_curl", "shell_bytes"]

#: Shown instead of a WSGI application's URL (it has none).
WSGI_URL = "http://127.0.0.1:8000/webhook"


class Redactor:
    """Masks the secret and every value derived from it."""

    def __init__(self, profile: Profile, secret: str, masks: Iterable[tuple[str, str]] = ()) -> None:
        self.profile = profile
        self.secret = secret
        self.masks = [(v, label) for v, label in masks if v]

    def __call__(self, text: str, extra: Iterable[tuple[str, str]] = ()) -> str:
        items: list[tuple[str, str | None]] = [(v, label) for v, label in [*self.masks, *extra] if v]
        if self.secret:
            items.append((self.secret, None))
        # Longest first, so a mask containing the secret is replaced whole and a shorter mask
        # (a prefix of the secret) can never reveal the rest of it.
        for value, label in sorted(items, key=lambda item: -len(item[0])):
            if label is None:
                label = self.profile.redact(value, value)
            text = text.replace(value, label)
        # Then the secret in every other form and in pieces (hookmock._util.redact).
        return self.profile.redact(text, self.secret) if self.secret else text


def shell_bytes(data: bytes) -> str:
    """``data`` as one shell word: plain quoting for printable UTF-8, ``$'...'`` otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(ch.isprintable() or ch in "\n\t" for ch in text):
        return shlex.quote(text)
    out = []
    for byte in data:
        ch = chr(byte)
        if ch == "'" or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return "$'" + "".join(out) + "'"


def header_lines(request: ProbeRequest) -> list[str]:
    """The request's headers as ``curl -H`` arguments (``Name;`` sends an empty value)."""
    return [f"{name}: {value}" if value else f"{name};" for name, value in request.headers.items()]


def render_curl(
    request: ProbeRequest,
    url: str | None,
    redact: Redactor,
    *,
    body_file: str | None = None,
    headers_file: str | None = None,
) -> str:
    """The request as a ``curl`` command line (secret redacted); ``body_file`` / ``headers_file``
    name files holding the exact body and the headers (one per line) instead of inlining them."""
    parts = ["curl", "-sS", "-i", "-X", "POST", shlex.quote(url or WSGI_URL)]
    if headers_file is not None:
        parts.extend(["-H", shlex.quote("@" + headers_file)])
    else:
        for line in header_lines(request):
            parts.extend(["-H", shell_bytes(line.encode("latin-1", "replace"))])
    body = shlex.quote("@" + body_file) if body_file is not None else shell_bytes(request.body)
    parts.extend(["-H", shlex.quote("Expect:"), "--data-binary", body])
    return redact(" ".join(parts), request.masks)
