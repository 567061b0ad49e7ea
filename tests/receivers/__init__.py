"""A corpus of webhook receivers for testing the audit: correct ones in several styles, and
broken ones, at least one per defect class of ``docs/audit-catalogue.md``.

``CORRECT`` maps a style name to a factory ``(profile, secret, clock) -> WSGI app`` (each app has
``.count(event_id)``, the effect probe).  ``BROKEN`` lists (factory, profiles it applies to, the
check that must catch it, the status that check must give).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import broken as b
from .base import WerkzeugReceiver
from .flask_app import make_flask_receiver

Factory = Callable[..., Any]

CORRECT: dict[str, Factory] = {
    "werkzeug": WerkzeugReceiver,
    "flask": make_flask_receiver,
}


@dataclass(frozen=True)
class Broken:
    factory: Factory
    defect: int
    check: str
    profiles: tuple[str, ...] = ("moda", "modio")
    status: str = "fail"

    @property
    def name(self) -> str:
        return getattr(self.factory, "__name__", str(self.factory))


MODA = ("moda",)
MODIO = ("modio",)

BROKEN: list[Broken] = [
    Broken(b.ReserializingReceiver, 1, "raw-body", MODA),
    Broken(b.AsciiReceiver, 2, "charset"),
    Broken(b.NoSignatureCheckReceiver, 3, "signature", MODA),
    Broken(b.OptionalSignatureReceiver, 3, "signature", MODA),
    Broken(b.PrefixSignatureReceiver, 3, "signature", MODA),
    Broken(b.EffectFirstReceiver, 4, "effect-before-verify"),
    Broken(b.NoReplayCheckReceiver, 5, "replay", MODA),
    Broken(b.OneSidedWindowReceiver, 6, "future-timestamp", MODA),
    Broken(b.StrictWindowReceiver, 7, "clock-skew", MODA),
    Broken(b.IntCrashReceiver, 8, "timestamp-parsing", MODA),
    Broken(b.FloatTimestampReceiver, 8, "timestamp-parsing", MODA),
    Broken(b.NoDedupeReceiver, 10, "idempotency"),
    Broken(b.SignatureDedupeReceiver, 11, "dedupe-key", MODA),
    Broken(b.RacyDedupeReceiver, 12, "concurrent-duplicates"),
    Broken(b.ConflictOnDuplicateReceiver, 13, "duplicate-status"),
    Broken(b.TooSlowReceiver, 14, "deadline"),
    Broken(b.SluggishReceiver, 14, "deadline", status="warn"),
    Broken(b.OnlyFirstEventReceiver, 15, "event-types"),
    Broken(b.OptionalFieldCrashReceiver, 16, "payload-variants"),
    Broken(b.JsonCrashReceiver, 17, "bad-input"),
    Broken(b.NoSignatureCheckReceiver, 18, "token", MODIO),
    Broken(b.PrefixTokenReceiver, 18, "token", MODIO),
    Broken(b.CaseInsensitiveTokenReceiver, 18, "token", MODIO),
    Broken(b.StartsWithTokenReceiver, 18, "token", MODIO),
    Broken(b.OrderingReceiver, 19, "ordering", status="warn"),
]

#: Defect classes a WSGI app cannot have (9: WSGI upper-cases header names for the app; see
#: receivers.rawsocket) or that are not observable over the network (20: advisory skip).
NOT_WSGI = {9: "header-case (receivers.rawsocket)", 20: "constant-time (advisory, never claimed)"}


def build(factory: Factory, profile: str, secret: str, clock: Any = None) -> Any:
    return factory(profile, secret, clock)
