"""Webhook storms: many faithful deliveries at once, and a verdict on exactly-once.

>>> report = storm("http://127.0.0.1:8000/hook", profile="moda", secret=SECRET, count=500,
...                users=16, concurrent_duplicates=0.2, stale=0.05,
...                probe="http://127.0.0.1:8000/effects/{event_id}")      # doctest: +SKIP
>>> report.ok, report.applied                                              # doctest: +SKIP

``target`` is a URL (sent over real HTTP, loopback unless ``allow_targets``) or an application
(WSGI/ASGI, sent in-process).  ``probe`` is the audit's effect probe (a callable ``probe(event_id)
-> int`` or a URL template).  :func:`assert_exactly_once` runs a short storm and raises
:class:`StormFailed` unless every accepted event was applied exactly once and no replay was
accepted: for a unit test that catches dedupe races.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import UsageError
from .plan import StormOptions
from .report import StormFailed, StormReport

__all__ = ["StormFailed", "StormOptions", "StormReport", "assert_exactly_once", "run_storm", "storm"]


def _transport(target: object, allow_targets: tuple[str, ...], ca_file: str | None) -> Any:
    if isinstance(target, str):
        from ..transport.http import HTTPTransport

        transport = HTTPTransport(allow_targets=allow_targets, ca_file=ca_file)
        transport.check_target(target)  # a refused target fails before the storm
        return transport
    from ..transport.inprocess import InProcessTransport

    return InProcessTransport()


def storm(
    target: object,
    *,
    profile: str = "moda",
    secret: str,
    count: int | None = None,
    duration: float | None = None,
    rate: float | None = None,
    users: int | None = None,
    mix: str | Mapping[str, float] | None = None,
    duplicates: float = 0.0,
    concurrent_duplicates: float = 0.0,
    stale: float = 0.0,
    burst: int = 0,
    probe: Callable[[str], int] | str | None = None,
    settle: float | None = None,
    max_p99_ms: float | None = None,
    max_errors: int | None = None,
    deadline_s: float | None = None,
    seed: int | None = None,
    allow_targets: tuple[str, ...] | list[str] = (),
    ca_file: str | None = None,
    on_progress: Callable[[Any], None] | None = None,
) -> StormReport:
    """Send a storm to ``target`` and return its :class:`StormReport` (see the module docstring).

    ``deadline_s`` is NOT FAITHFUL: it replaces the profile's response deadline.
    """
    from ..auditing.effect import effect_probe
    from .runner import send_storm
    from .verify import count_applied

    options = StormOptions(
        profile=profile,
        secret=secret,
        rate=rate,
        users=users,
        count=count,
        duration_s=duration,
        mix=mix,
        duplicates=duplicates,
        concurrent_duplicates=concurrent_duplicates,
        stale=stale,
        burst=burst,
        deadline_s=deadline_s,
        seed=seed,
    ).check()
    allowed = tuple(allow_targets)
    transport = _transport(target, allowed, ca_file)
    checked_probe = effect_probe(probe, allow_targets=allowed, ca_file=ca_file)
    run = send_storm(
        options, target, transport, on_progress=on_progress, keep_events=checked_probe is not None
    )
    applied = None
    if checked_probe is not None:
        accepted, rejected = run.tally.by_acceptance()
        applied = count_applied(checked_probe, accepted, rejected, settle)
    return StormReport.build(
        run,
        profile=options.checked_profile.name,
        target=target if isinstance(target, str) else type(target).__name__,
        deadline_ns=options.deadline_ns,
        faithful=options.faithful,
        applied=applied,
        max_p99_ms=max_p99_ms,
        max_errors=max_errors,
    )


#: The name exported as ``hookmock.run_storm`` (``hookmock.storm`` is this package).
run_storm = storm


def assert_exactly_once(
    target: object,
    *,
    probe: Callable[[str], int] | str,
    profile: str = "moda",
    secret: str,
    count: int = 100,
    users: int = 8,
    concurrent_duplicates: float = 0.3,
    duplicates: float = 0.2,
    **kwargs: Any,
) -> StormReport:
    """Run a short storm with concurrent and retried duplicates and raise :class:`StormFailed` unless
    every accepted event was applied exactly once (and no stale replay was accepted, when
    ``stale=`` is given).  Returns the report."""
    if probe is None:
        raise UsageError("assert_exactly_once needs probe=: a callable probe(event_id) -> int or a URL")
    report = storm(
        target,
        probe=probe,
        profile=profile,
        secret=secret,
        count=count,
        users=users,
        concurrent_duplicates=concurrent_duplicates,
        duplicates=duplicates,
        **kwargs,
    )
    report.assert_ok()
    return report
