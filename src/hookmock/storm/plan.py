"""What a storm sends: its options, checked, and the stream of deliveries they make.

A storm is a stream of *units*.  A unit is one new event and the copies of it a provider would
send: the first delivery, a retry with a fresh signature (``duplicates``), a second copy sent at
the very same moment (``concurrent_duplicates``), or a replay of the captured request with its old
timestamp (``stale``, the profile must have a timestamp).  Every body is built once by the
profile's event factory; every copy carries exactly the same bytes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ..clock import SECOND, RealClock
from ..errors import UsageError
from ..profiles import Profile, get_profile

__all__ = ["STALE_AGE_S", "StormOptions", "Unit", "parse_mix"]

#: How old a stale replay's timestamp is: one hour, far past any tolerance.
STALE_AGE_S = 3600
#: Bounds that keep a storm a test, not an attack.
MAX_COUNT = 1_000_000
MAX_DURATION_S = 3600.0
MAX_USERS = 1024
MAX_RATE = 100_000.0


@dataclass(frozen=True)
class Unit:
    """One event and the copies of it to send (see the module docstring)."""

    index: int
    event_id: str
    event_type: str
    body: bytes
    duplicate: bool = False
    concurrent: bool = False
    stale: bool = False


def parse_mix(text: str | Mapping[str, float] | None, profile: Profile) -> dict[str, float]:
    """``"task.completed=3,task.failed=1"`` (or a dict) as normalised shares; None: every type alike."""
    if text is None or text == "":
        return {name: 1 / len(profile.event_types) for name in profile.event_types}
    if isinstance(text, str):
        weights: dict[str, float] = {}
        for part in text.split(","):
            name, sep, value = part.strip().partition("=")
            if not sep:
                raise UsageError(
                    f"--mix {part.strip()!r}: write TYPE=SHARE pairs, e.g. --mix "
                    f"{profile.event_types[0]}=3,{profile.event_types[-1]}=1"
                )
            try:
                weights[name.strip()] = float(value)
            except ValueError:
                raise UsageError(f"--mix {part.strip()!r}: {value!r} is not a number") from None
    else:
        weights = {str(k): float(v) for k, v in text.items()}
    for name, weight in weights.items():
        profile.event_spec(name)  # UnknownEventType names the type and the catalogue
        if not math.isfinite(weight) or weight < 0:
            raise UsageError(f"--mix {name}={weight:g}: a share must be a number >= 0")
    total = sum(weights.values())
    if total <= 0:
        raise UsageError(f"--mix {text!r}: the shares add up to 0; give at least one positive share")
    return {name: weight / total for name, weight in weights.items() if weight > 0}


def _share(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise UsageError(f"{name} {value!r}: give a share from 0 to 1 (e.g. 0.1 for 10%)")
    return float(value)


@dataclass
class StormOptions:
    """Everything a storm is told; :meth:`check` raises a :class:`UsageError` naming a bad value."""

    profile: Profile | str = "moda"
    secret: str = ""
    rate: float | None = None
    users: int | None = None
    count: int | None = None
    duration_s: float | None = None
    mix: str | Mapping[str, float] | None = None
    duplicates: float = 0.0
    concurrent_duplicates: float = 0.0
    stale: float = 0.0
    burst: int = 0
    #: NOT FAITHFUL when set: the response deadline instead of the profile's.
    deadline_s: float | None = None
    seed: int | None = None
    shares: dict[str, float] = field(default_factory=dict)

    def check(self) -> StormOptions:
        self.profile = get_profile(self.profile)
        if not isinstance(self.secret, str) or not self.secret:
            raise UsageError(f"give the {self.profile.secret_name} (--secret S or secret=...)")
        if self.rate is not None and not (0 < self.rate <= MAX_RATE and math.isfinite(self.rate)):
            raise UsageError(f"--rate {self.rate!r}: give deliveries per second from 0 to {MAX_RATE:g}")
        if self.users is not None and not (isinstance(self.users, int) and 1 <= self.users <= MAX_USERS):
            raise UsageError(f"--users {self.users!r}: give a whole number from 1 to {MAX_USERS}")
        if self.count is not None and not (isinstance(self.count, int) and 0 <= self.count <= MAX_COUNT):
            raise UsageError(f"--count {self.count!r}: give a whole number from 0 to {MAX_COUNT}")
        if self.duration_s is not None and not (0 < self.duration_s <= MAX_DURATION_S):
            raise UsageError(f"--duration {self.duration_s!r}: give seconds from 0 to {MAX_DURATION_S:g}")
        if not (isinstance(self.burst, int) and 0 <= self.burst <= MAX_COUNT):
            raise UsageError(f"--burst {self.burst!r}: give a whole number of events from 0 to {MAX_COUNT}")
        if self.count is None and self.duration_s is None and not self.burst:
            raise UsageError("say how long the storm lasts: --count N or --duration SECONDS (or --burst N)")
        if self.deadline_s is not None and not (0 < self.deadline_s <= 3600):
            raise UsageError(f"--deadline {self.deadline_s!r}: give seconds from 0 to 3600")
        self.duplicates = _share("--duplicates", self.duplicates)
        self.concurrent_duplicates = _share("--concurrent-duplicates", self.concurrent_duplicates)
        self.stale = _share("--stale", self.stale)
        if self.stale and not self.profile.has_timestamp:
            raise UsageError(
                f"--stale {self.stale:g}: {self.profile.title} sends no timestamp, so a replay cannot be "
                "told from a retry; leave --stale out for this profile"
            )
        self.shares = parse_mix(self.mix, self.profile)
        return self

    @property
    def checked_profile(self) -> Profile:
        assert isinstance(self.profile, Profile), "call check() first"
        return self.profile

    @property
    def deadline_ns(self) -> int:
        if self.deadline_s is not None:
            return int(self.deadline_s * SECOND)
        return self.checked_profile.deadline_ns

    @property
    def faithful(self) -> bool:
        return self.deadline_s is None


class UnitSource:
    """Makes units one by one (bodies built on demand, so a long storm holds few in memory)."""

    def __init__(self, options: StormOptions) -> None:
        from ..factories import EventFactory

        self.options = options
        self.profile = options.checked_profile
        self.rng = random.Random(options.seed)
        # payload times are real: the receiver judges them against its own clock
        self.factory = EventFactory(self.profile, seed=options.seed, clock=RealClock())
        self._types = list(options.shares)
        self._weights = [options.shares[t] for t in self._types]
        self.made = 0

    def unit(self) -> Unit:
        o = self.options
        event_type = self.rng.choices(self._types, self._weights)[0]
        payload = self.factory.event(event_type)
        body = self.profile.serialize(payload)
        event_id = self.profile.message_id_for(payload, self.rng) or f"unit-{self.made}"
        roll = self.rng.random
        unit = Unit(
            index=self.made,
            event_id=event_id,
            event_type=event_type,
            body=body,
            duplicate=roll() < o.duplicates,
            concurrent=roll() < o.concurrent_duplicates,
            stale=roll() < o.stale,
        )
        self.made += 1
        return unit

    def units(self, limit: int | None) -> Iterator[Unit]:
        while limit is None or self.made < limit:
            yield self.unit()
