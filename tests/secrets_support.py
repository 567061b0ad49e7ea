"""Helpers of the secret-leak tests: every encoding of a secret, a generic search for any piece of
one, and a hostile receiver that echoes secrets in every encoding with the excerpt cut landing
inside one of them.  Written independently of ``hookmock._util.redact`` (the thing under test)."""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from hookmock.ids import random_token

#: A piece this long (or longer) of any encoding but hex is a leak wherever it appears.  (Shorter
#: pieces match ordinary text by chance too often for a search of megabytes to be meaningful;
#: shorter pieces at a cut are checked by :func:`cut_tails`.)
N = 8
#: The same for hex, whose characters carry half as much.
N_HEX = 10
#: A cut excerpt must not end with this many (or more) characters that begin an encoding.
N_CUT = 4


def encodings(secret: str) -> dict[str, str]:
    """The ways a receiver may echo ``secret``."""
    raw = secret.encode("utf-8")
    return {
        "raw": secret,
        "json": json.dumps(secret)[1:-1],
        "json-in-json": json.dumps(json.dumps(secret)[1:-1])[1:-1],  # in a JSON text in a JSON string
        "json-go": json.dumps(secret)[1:-1].replace("<", "\\u003c").replace("&", "\\u0026"),  # Go's json
        "html": html.escape(secret),
        "lower": secret.lower(),
        "upper": secret.upper(),
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "percent": quote(secret, safe=""),
        "percent-twice": quote(quote(secret, safe=""), safe=""),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
    }


def _windows(text: str, size: int) -> set[bytes]:
    data = text.encode("utf-8")
    return {data[i : i + size] for i in range(len(data) - size + 1)}


#: A piece of an escaped form counts only when it carries this many characters of the secret itself:
#: ``gh&quot;`` is 8 bytes of the HTML form but only 3 characters of the secret, and pages are full of
#: ``…&quot;`` after ordinary words.
MIN_SECRET_CHARS = 6
_ESCAPES = re.compile(r"\\u[0-9a-fA-F]{4}|\\.|%25[0-9a-fA-F]{2}|%[0-9a-fA-F]{2}|&[a-z]+;|&#[0-9]+;")


def _carried(piece: bytes) -> int:
    """How many characters of the secret an escaped piece carries (an escape counts as one)."""
    return len(_ESCAPES.sub("x", piece.decode("utf-8", "replace")))


def _escaped_windows(name: str, text: str, size: int) -> set[bytes]:
    pieces = _windows(text, size)
    if name.startswith(("json", "html", "percent")):
        pieces = {p for p in pieces if _carried(p) >= MIN_SECRET_CHARS}
    return pieces


def _common(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _public(secret: str, prefix: str) -> tuple[str, ...]:
    """Two other secrets with the same public prefix: what they share with ``secret`` is not secret."""
    if not prefix:
        return ()
    size = len(secret) - len(prefix)
    return tuple(prefix + random_token(size) for _ in range(2))


class Needles:
    """Every piece (N long, N_HEX for hex) of every encoding of some secrets, minus the pieces that
    only come from a public prefix (``whsec_``)."""

    def __init__(self, secrets: Iterable[tuple[str, str]]) -> None:
        self.by_size: dict[int, set[bytes]] = {N: set(), N_HEX: set()}
        self.heads: set[str] = set()
        self.max_head = 0
        for secret, prefix in secrets:
            others = [encodings(o) for o in _public(secret, prefix)]
            for name, enc in encodings(secret).items():
                size = N_HEX if name.lower() == "hex" else N
                public = set().union(*(_windows(o[name], size) for o in others)) if others else set()
                self.by_size[size] |= _escaped_windows(name, enc, size) - public
                for k in range(N_CUT, len(enc) + 1):
                    head = enc[:k]
                    if not any(o[name].startswith(head) for o in others):
                        self.heads.add(head)
                        self.max_head = max(self.max_head, k)

    def hits(self, data: bytes | str) -> list[bytes]:
        """The pieces found in ``data``."""
        blob = data.encode("utf-8") if isinstance(data, str) else data
        found = []
        for size, wanted in self.by_size.items():
            for i in range(len(blob) - size + 1):
                if blob[i : i + size] in wanted:
                    found.append(blob[i : i + size])
        return found

    def cut_tail(self, text: str) -> str | None:
        """The end of ``text`` that begins an encoding (at least N_CUT long), if any."""
        for k in range(min(self.max_head, len(text)), N_CUT - 1, -1):
            if text[-k:] in self.heads:
                return text[-k:]
        return None


class EchoAll:
    """A WSGI app that answers with secrets echoed in every encoding of :func:`encodings`.

    Request n puts every encoding of one secret first, whole, then pads so that the excerpt cut
    (``cut_at`` bytes) lands ``k`` characters into the secret part of one encoding (past a public
    prefix such as ``whsec_``): request n takes the n-th (secret, encoding) pair and the n-th cut
    offset, both cycling, so len(pairs) x len(offsets) requests (coprime) cover every pair at
    every offset.  ``secrets``: ``(secret, public_prefix)`` pairs."""

    OFFSETS = 5

    def __init__(
        self, secrets: Iterable[tuple[str, str]], *, cut_at: int, status: str = "500 Internal Server Error"
    ) -> None:
        self.cut_at = cut_at
        self.status = status
        self.pairs: list[tuple[str, str, int]] = []  # (secret, encoding, length of its public head)
        for secret, prefix in secrets:
            others = [encodings(o) for o in _public(secret, prefix)]
            for name, enc in encodings(secret).items():
                public = min((_common(enc, o[name]) for o in others), default=0)
                self.pairs.append((secret, enc, public))
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()

    @classmethod
    def offsets(cls, enc: str, public: int) -> list[int]:
        rest = len(enc) - public
        ks = [N_CUT, N_CUT + 1, N - 1, rest // 2, rest - 1]
        assert len(ks) == cls.OFFSETS and rest > N
        return [public + k for k in ks]

    def body(self, n: int) -> bytes:
        secret, enc, public = self.pairs[n % len(self.pairs)]
        k = self.offsets(enc, public)[n % self.OFFSETS]
        head = " ".join(encodings(secret).values()) + " | "
        if len(head) + k + 1 > self.cut_at:
            head = ""
        pad = "." * (self.cut_at - k - len(head))
        return (head + pad + enc + " | after the cut " + enc).encode("utf-8")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read()
        with self._lock:
            body = self.body(len(self.bodies))
            self.bodies.append(body)
        start_response(self.status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]


def excerpts(value: Any) -> list[str]:
    """Every response excerpt in a JSON document of the emulator or the CLI."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("response_body_excerpt", "response", "excerpt") and isinstance(item, str):
                found.append(item)
            else:
                found.extend(excerpts(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(excerpts(item))
    return found
