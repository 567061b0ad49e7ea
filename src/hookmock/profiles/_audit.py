"""How a profile contributes audit checks of its own (defect classes only its format has).

The audit (:mod:`hookmock.auditing`) sits above the profiles and runs the checks; a profile only
describes them: :meth:`Profile.audit_checks` returns :class:`ProfileCheck` objects whose
``probes(kit)`` builds the requests (:class:`ProfileProbe`) from an :class:`AuditKit` (the audit's
context, which signs, times and identifies events exactly as for the generic checks).  Each probe
says what a correct receiver does with it, and the audit judges the answers by the same rules as
every other check (``docs/audit-catalogue.md``).  :attr:`Profile.audit_skips` names generic checks
that do not apply to the provider, with the reason the report shows.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from ._base import Profile

__all__ = ["AuditKit", "ProfileCheck", "ProfileProbe"]

Expect = Literal["accept", "reject", "no_5xx"]


class AuditKit(Protocol):
    """What a profile's check may use to build its requests (the audit's context provides it)."""

    profile: Profile
    #: The secret the receiver under audit is configured with.
    secret: str

    def now(self) -> int:
        """The audit clock, whole unix seconds."""
        ...

    def event(self, event_type: str | None = None, /, **overrides: Any) -> dict[str, Any]:
        """A fresh event payload (a fresh id)."""
        ...

    def event_id(self, payload: dict[str, Any]) -> str | None:
        """The id ``payload`` is sent under (its message id: stable for that payload)."""
        ...

    def headers(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        message_id: str | None = None,
    ) -> dict[str, str]:
        """Every header of a valid delivery of ``body`` (signed with ``secret``, default the audit's)."""
        ...

    @property
    def rng(self) -> random.Random:
        """The audit's random source (seeded when the audit is)."""
        ...


@dataclass(frozen=True)
class ProfileProbe:
    """One request of a profile's check and what a correct receiver does with it.

    ``expect``: ``accept`` (2xx), ``reject`` (4xx) or ``no_5xx``.  ``signed``: only a holder of the
    secret can make it (a crash on it is then repeated with a forged signature).  ``lenient``: why
    acknowledging a request that should be rejected is harmless (a 2xx is then a warning with this
    reason).  ``cause``: what the request damages (``signature``, ``timestamp``, ``body``).
    """

    label: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes
    event_id: str | None
    expect: Expect
    expected: str
    signed: bool = False
    lenient: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class ProfileCheck:
    """A check a profile contributes: its stable name, defect number, title, what a correct
    receiver does, how to build its requests, and when it does not apply (the reason, or None)."""

    name: str
    defect: int
    title: str
    expected: str
    probes: Callable[[AuditKit], Sequence[ProfileProbe]]
    applies: Callable[[AuditKit], str | None] = lambda kit: None
    #: The detail shown when every case passes.
    passed: str = "every case was handled as a correct receiver does"
