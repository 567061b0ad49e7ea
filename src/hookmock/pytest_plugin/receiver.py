"""The fake receiver as the pytest plugin hands it out: a :class:`FakeReceiver` that also keeps
*expectations* ("two ``task.succeeded`` deliveries will arrive") checked when the test ends.

Imported by the plugin's fixtures only (it pulls in werkzeug and pytest-httpserver).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..receiver.record import Record
from ..receiver.server import FakeReceiver

__all__ = ["Expectation", "PluginReceiver"]


@dataclass(frozen=True)
class Expectation:
    """``count`` distinct events (retries of one event count once) matching ``event_type`` and/or
    ``event_id`` are to arrive before the test ends."""

    count: int
    event_type: str | None = None
    event_id: str | None = None

    def describe(self) -> str:
        args = [f"{k}={v!r}" for k, v in (("event_type", self.event_type), ("event_id", self.event_id)) if v]
        args.append(f"count={self.count}")
        return f"expect_delivery({', '.join(args)})"

    def arrived(self, record: Record) -> list[str | None]:
        """Distinct event ids (in arrival order) of the requests this expectation matches."""
        seen: dict[str | None, None] = {}
        for item in record.requests:
            if self.event_type is not None and item.event_type != self.event_type:
                continue
            if self.event_id is not None and item.event_id != self.event_id:
                continue
            seen.setdefault(item.event_id, None)
        return list(seen)

    def problem(self, record: Record) -> str | None:
        got = len(self.arrived(record))
        if got == self.count:
            return None
        if got < self.count:
            missing = self.count - got
            return (
                f"{self.describe()}: {got} of {self.count} expected deliveries arrived; "
                f"{missing} expected deliver{'y was' if missing == 1 else 'ies were'} left unconsumed"
            )
        return f"{self.describe()}: {got} deliveries arrived, {got - self.count} more than expected"


class PluginReceiver(FakeReceiver):
    """A :class:`~hookmock.receiver.server.FakeReceiver` with :meth:`expect_delivery`.

    The plugin's ``hookmock_receiver`` is one of these per session (per xdist worker), cleared and
    re-bound to the test's profile, secret and clock before each test.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._expectations: list[Expectation] = []
        super().__init__(*args, **kwargs)

    def expect_delivery(
        self, event_type: str | None = None, *, count: int = 1, event_id: str | None = None
    ) -> Expectation:
        """Declare that ``count`` distinct events (of ``event_type`` / with ``event_id``) will arrive.

        Checked when the test ends: fewer (an expected delivery left unconsumed) or more fails the
        test with the receiver's timeline.  Call :meth:`assert_expectations` to check earlier.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise UsageError(f"count={count!r}: give the number of expected deliveries (an integer >= 0)")
        if event_type is not None and event_type not in self.profile.event_types:
            raise UsageError(
                f"event_type={event_type!r} is not a {self.profile.name} event; "
                f"choose one of {', '.join(self.profile.event_types)}"
            )
        expectation = Expectation(count, event_type, event_id)
        self._expectations.append(expectation)
        return expectation

    @property
    def expectations(self) -> tuple[Expectation, ...]:
        return tuple(self._expectations)

    def unmet_expectations(self) -> list[str]:
        self.wait_idle(timeout=2.0)
        return [p for p in (e.problem(self.record) for e in self._expectations) if p is not None]

    def assert_expectations(self) -> None:
        """Raise ``AssertionError`` (with the timeline) unless every expectation is met."""
        problems = self.unmet_expectations()
        if problems:
            raise AssertionError("\n".join(problems) + "\n\n" + self.timeline())

    def clear(self) -> None:
        super().clear()
        self._expectations = []
