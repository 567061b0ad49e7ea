""":class:`Delivery`: what a user gets back from the sender (a snapshot of one log row)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..clock import MS, SECOND, format_iso
from .machine import Phase
from .records import AttemptRecord, DeliveryRecord

__all__ = ["Delivery"]


@dataclass(frozen=True)
class Delivery:
    """One delivery and its attempts, as they stood when the snapshot was taken."""

    id: str
    profile: str
    event_id: str | None
    event_type: str
    status: str
    target: str
    body: bytes
    attempts: tuple[AttemptRecord, ...]
    created_ns: int
    next_due_ns: int | None = None
    api_key_id: str | None = None
    replayed_from_id: str | None = None
    record: DeliveryRecord | None = None

    @classmethod
    def from_record(cls, record: DeliveryRecord, attempts: list[AttemptRecord]) -> Delivery:
        # what ``cls(id=..., ...)`` makes, without the frozen __init__'s object.__setattr__ per
        # field (a snapshot is returned by every send; tests/test_perf_inproc.py checks the two agree)
        state = record.state
        status = state.phase.status
        snapshot = object.__new__(cls)
        fields = snapshot.__dict__
        fields["id"] = record.id
        fields["profile"] = record.profile
        fields["event_id"] = record.event_id
        fields["event_type"] = record.event_type
        fields["status"] = status
        fields["target"] = record.target_url
        fields["body"] = record.body
        fields["attempts"] = tuple(attempts)
        fields["created_ns"] = record.created_ns
        fields["next_due_ns"] = state.next_due_ns if status == "pending" else None
        fields["api_key_id"] = record.api_key_id
        fields["replayed_from_id"] = record.replayed_from_id
        fields["record"] = record
        return snapshot

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def finished(self) -> bool:
        return self.status != "pending"

    @property
    def canceled(self) -> bool:
        """Ended by a cancel (e.g. the emulator's reset) rather than by its attempts; its
        ``status`` is ``failed``, as the providers' views show it."""
        return self.record is not None and self.record.state.phase is Phase.CANCELED

    @property
    def last_attempt(self) -> AttemptRecord | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    def attempt_times(self) -> list[int]:
        """Start of each attempt in ns after the delivery was created (handy in assertions)."""
        return [a.started_ns - self.created_ns for a in self.attempts]

    def row(self) -> dict[str, Any]:
        """The provider's view of this delivery (Moda row or mod.io history entry)."""
        if self.record is None:
            raise ValueError("this Delivery was not built from a log record")
        return self.record.view()

    def timeline(self) -> str:
        """A readable table of the attempts, for assertion messages and the CLI."""
        head = (
            f"delivery {self.id} ({self.profile}) event {self.event_id} {self.event_type} -> {self.target}: "
            f"{self.status}, {len(self.attempts)} attempt(s), created {format_iso(self.created_ns)}"
        )
        if self.replayed_from_id:
            head += f", replayed from {self.replayed_from_id}"
        lines = [head, "  #  start      duration    outcome       status  detail"]
        for a in self.attempts:
            start = (a.started_ns - self.created_ns) / SECOND
            duration = "-" if a.duration_ns is None else f"{a.duration_ns / MS:.1f} ms"
            status = "-" if a.status is None else str(a.status)
            detail = a.detail if a.outcome != "response" else a.excerpt_text[:60].replace("\n", " ")
            lines.append(
                f"  {a.number:<2} +{start:<9.3f} {duration:>11} {a.outcome:<13} {status:<7} {detail}"
            )
        if self.canceled:
            lines.append("  canceled: no further attempts are made")
        if self.next_due_ns is not None:
            lines.append(f"  next attempt due at +{(self.next_due_ns - self.created_ns) / SECOND:.3f} s")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.timeline()

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.event_type} {self.status} attempts={len(self.attempts)}>"
