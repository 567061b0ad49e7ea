"""Event factories: realistic, schema-valid payloads for every event of a profile.

>>> factory = EventFactory("moda", seed=7)
>>> event = factory.event("task.failed", data__error__retryable=False)
>>> event["data"]["error"]["retryable"]
False

Built with faker (imported on first use); the text the built-in profiles draw (sentences, words,
URLs, user names) comes from :mod:`hookmock.profiles._text`, which reads faker's tables once and
draws from the same random numbers as faker would.  With a seed, the same calls give the same
payloads.
Payload times come from the clock given (default: a :class:`~hookmock.clock.VirtualClock`
when seeded, so the output is fully reproducible; the real clock otherwise).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .clock import Clock, RealClock, VirtualClock, unix_s
from .profiles import Profile, get_profile

if TYPE_CHECKING:  # pragma: no cover
    from faker import Faker

__all__ = ["EventFactory", "make_event"]


class EventFactory:
    """Makes payloads for one profile.

    ``event(type, **overrides)`` gives a dict; ``body(...)`` the exact bytes a sender sends;
    ``every_event()`` one payload of each type in the catalogue.  Overrides use ``a__b`` for
    nested fields and :data:`hookmock.ABSENT` to drop one.
    """

    def __init__(
        self,
        profile: str | Profile = "moda",
        *,
        seed: int | None = None,
        clock: Clock | None = None,
        locale: str = "en_US",
    ) -> None:
        self.profile = get_profile(profile)
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock: Clock = clock or (VirtualClock() if seed is not None else RealClock())
        self._locale = locale
        self._fake: Faker | None = None

    @property
    def fake(self) -> Faker:
        if self._fake is None:
            from faker import Faker

            fake = Faker(self._locale)
            fake.seed_instance(self.rng.getrandbits(64))
            self._fake = fake
        return self._fake

    @property
    def event_types(self) -> tuple[str, ...]:
        return self.profile.event_types

    def event(self, event_type: str | None = None, /, **overrides: Any) -> dict[str, Any]:
        """One payload; a random event type of the catalogue when none is named."""
        if event_type is None:
            event_type = self.rng.choice(self.profile.event_types)
        fake = self.fake
        return self.profile.build_payload(
            event_type, fake=fake, rng=self.rng, now_s=unix_s(self.clock), overrides=overrides
        )

    def body(self, event_type: str | None = None, /, **overrides: Any) -> bytes:
        """The bytes a sender would send for one new payload."""
        return self.profile.serialize(self.event(event_type, **overrides))

    def every_event(self, **overrides: Any) -> Iterator[dict[str, Any]]:
        for event_type in self.profile.event_types:
            yield self.event(event_type, **overrides)

    def secret(self) -> str:
        return self.profile.generate_secret(self.rng)


def make_event(
    profile: str | Profile, event_type: str | None = None, /, *, seed: int | None = None, **overrides: Any
) -> dict[str, Any]:
    """One payload, without keeping a factory around."""
    return EventFactory(profile, seed=seed).event(event_type, **overrides)
