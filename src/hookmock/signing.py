"""Profile-generic signing and verification, for integrators' receivers and tests: ``hookmock.sign``,
``hookmock.verify`` and ``hookmock.check`` are the functions of this module."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ._util.headers import HeadersLike
from .clock import Clock, RealClock, unix_s
from .errors import UsageError
from .profiles import DEFAULT_TOLERANCE_S, Profile, Verdict, get_profile

__all__ = ["check", "sign", "verify"]


#: the clock of a call that names none (one instance, not one per call: verify is a hot path)
_REAL = RealClock()


def _now(now: float | None, clock: Clock | None) -> int:
    """Whole unix seconds: ``now`` (an int, or a float such as ``clock.time() + 301``, floored)."""
    if now is not None:
        if isinstance(now, bool) or not isinstance(now, (int, float)):
            raise UsageError(f"a time must be unix seconds (int or float), not {now!r}")
        return math.floor(now)
    return unix_s(clock or _REAL)


def sign(
    profile: str | Profile,
    body: bytes,
    secret: str,
    *,
    timestamp: float | None = None,
    clock: Clock | None = None,
    message_id: str | None = None,
    extra_secrets: Sequence[str] = (),
    event_type: str | None = None,
) -> dict[str, str]:
    """The headers a provider sends with ``body``: signature and timestamp (Moda) or token (mod.io).

    ``timestamp`` defaults to ``clock.time()`` (the real clock when none is given).
    ``message_id``: the message id of a provider that sends one in a header (see
    :meth:`Profile.new_message_id`; a new one when not given); ``extra_secrets``: more secrets to
    sign with (key rotation); ``event_type``: the event's name, for a provider that sends it in a
    header (see :meth:`Profile.event_headers`).
    """
    if isinstance(extra_secrets, str):
        raise UsageError(f"extra_secrets={extra_secrets!r}: give a list of secrets, not one string")
    chosen = get_profile(profile)
    for key in (secret, *extra_secrets):
        chosen.check_secret(key)
    headers = chosen.delivery_headers(
        bytes(body), secret, _now(timestamp, clock), message_id=message_id, extra_secrets=tuple(extra_secrets)
    )
    if event_type is not None:
        headers.update(chosen.event_headers(event_type))
    return headers


def verify(
    profile: str | Profile,
    headers: HeadersLike,
    body: bytes,
    secret: str,
    *,
    now: float | None = None,
    clock: Clock | None = None,
    tolerance: int = DEFAULT_TOLERANCE_S,
) -> None:
    """Raise a :class:`~hookmock.VerificationError` subclass unless the request is authentic and fresh.

    Header names are matched case-insensitively; comparisons are constant-time.  ``now`` is unix
    seconds (default: ``clock.time()``, the real clock when none is given).
    """
    get_profile(profile).verify(headers, bytes(body), secret, now=_now(now, clock), tolerance=tolerance)


def check(
    profile: str | Profile,
    headers: HeadersLike,
    body: bytes,
    secret: str,
    *,
    now: float | None = None,
    clock: Clock | None = None,
    tolerance: int = DEFAULT_TOLERANCE_S,
) -> Verdict:
    """Like :func:`verify` but returns a :class:`~hookmock.Verdict` instead of raising."""
    return get_profile(profile).check(headers, bytes(body), secret, now=_now(now, clock), tolerance=tolerance)
