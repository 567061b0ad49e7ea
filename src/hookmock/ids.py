"""Identifiers in the providers' formats.

Moda: a prefix (``task_``, ``evt_``, ``cvs_``, ``whd_``…) and 26 Crockford base32 characters
(ULID-like: 48 bits of milliseconds, then 80 random bits).  mod.io: UUID version 4.
Randomness comes from a caller's :class:`random.Random`, so ids are reproducible under a seed.
"""

from __future__ import annotations

import os
import random
import re
import secrets

__all__ = ["CROCKFORD", "crockford_id", "is_crockford_id", "uuid4"]

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ID_RE = re.compile(r"^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}$")

#: Unseeded ids come from a generator seeded from the OS once (and again in a forked child), not
#: from ``os.urandom`` per id: that system call lets go of the GIL, and with hundreds of sender
#: threads busy, getting it back made each id cost milliseconds.  Ids need to be unique, not secret.
_system = random.Random(secrets.randbits(128))
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _system.seed(secrets.randbits(128)))


#: every pair of digits (10 bits at a time: an id is 13 look-ups, not 26 shifts)
_PAIRS = [a + b for a in CROCKFORD for b in CROCKFORD]


def _encode(value: int, length: int) -> str:
    """The last ``length`` base32 digits of ``value``, most significant first."""
    if length == 26:  # every id: the 13 pairs looked up without a loop
        p = _PAIRS
        return (
            p[value >> 120 & 1023]
            + p[value >> 110 & 1023]
            + p[value >> 100 & 1023]
            + p[value >> 90 & 1023]
            + p[value >> 80 & 1023]
            + p[value >> 70 & 1023]
            + p[value >> 60 & 1023]
            + p[value >> 50 & 1023]
            + p[value >> 40 & 1023]
            + p[value >> 30 & 1023]
            + p[value >> 20 & 1023]
            + p[value >> 10 & 1023]
            + p[value & 1023]
        )
    out = []
    for _ in range((length + 1) // 2):
        out.append(_PAIRS[value & 1023])
        value >>= 10
    return "".join(reversed(out))[length & 1 :]


def crockford_id(prefix: str, *, ms: int | None = None, rng: random.Random | None = None) -> str:
    """``prefix_`` + 26 Crockford base32 characters (10 of time, 16 of randomness)."""
    r = rng or _system
    if ms is None:
        t = r.getrandbits(47)
        return f"{prefix}_{_encode((t << 80) | r.getrandbits(80), 26)}"
    # a given time (a generated payload's ids share a few): its 10 characters remembered
    head = _heads.get(ms)
    if head is None:
        if len(_heads) >= 1024:
            _heads.clear()
        head = _heads[ms] = _encode(ms & ((1 << 50) - 1), 10)
    v = r.getrandbits(80)
    p = _PAIRS
    return (
        f"{prefix}_{head}{p[v >> 70 & 1023]}{p[v >> 60 & 1023]}{p[v >> 50 & 1023]}{p[v >> 40 & 1023]}"
        f"{p[v >> 30 & 1023]}{p[v >> 20 & 1023]}{p[v >> 10 & 1023]}{p[v & 1023]}"
    )


_heads: dict[int, str] = {}


def is_crockford_id(value: object, prefix: str | None = None) -> bool:
    if not isinstance(value, str) or not _ID_RE.match(value):
        return False
    return prefix is None or value.startswith(prefix + "_")


def uuid4(rng: random.Random | None = None) -> str:
    """A UUID version 4 string, from ``rng`` when given."""
    import uuid  # here: it imports ``platform``, a few ms of every start-up that makes no UUID

    if rng is None:
        return str(uuid.uuid4())
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def random_token(length: int = 32, rng: random.Random | None = None) -> str:
    """Random letters and digits (for secrets and tokens)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    if rng is None:
        return "".join(secrets.choice(alphabet) for _ in range(length))
    return "".join(rng.choice(alphabet) for _ in range(length))
