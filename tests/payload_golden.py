"""Golden payloads: what a seeded factory made before the payload builders were rewritten.

A user who pinned a seed (``EventFactory("moda", seed=7)``, ``make_event(..., seed=...)``, the
pytest fixtures' seed, the hypothesis strategies) must keep getting the same bytes.  The digests in
``payload_golden.json`` were made by the code before the fast builders (faker called per field);
``tests/test_payload_identity.py`` checks today's code against them.

Regenerate only on purpose (a deliberate change of generated payloads):
``python tests/payload_golden.py > tests/payload_golden.json``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator

from hookmock import EventFactory, make_event
from hookmock.clock import VirtualClock
from hookmock.profiles import moda

#: how many seeds each profile's digests cover (GitHub and Standard Webhooks build slower)
SEEDS = {"moda": 600, "modio": 600, "github": 120, "standard-webhooks": 120}


def moda_bodies(seed: int) -> Iterator[bytes]:
    """Every Moda event, an unnamed one, each kind and failure flavour, and tasks in every status."""
    factory = EventFactory("moda", seed=seed)
    yield from (factory.body(t) for t in factory.event_types)
    yield factory.body()
    for kind in moda.TASK_KINDS:
        yield factory.body("task.succeeded", data__kind=kind)
        yield factory.body("task.canceled", data__kind=kind)
    yield factory.body("task.failed", data__error__retryable=False)
    yield factory.body("export.failed", data__error__retryable=True)
    now_s = 1_777_593_600 + seed
    for kind in moda.TASK_KINDS:
        for status in moda.TASK_STATUSES:
            task = moda.build_task(kind=kind, status=status, fake=factory.fake, rng=factory.rng, now_s=now_s)
            yield factory.profile.serialize(task)
    yield factory.profile.serialize(make_event("moda", "task.succeeded", seed=seed))
    later = EventFactory("moda", seed=seed, clock=VirtualClock(start=now_s))
    yield later.body("task.succeeded")


def profile_bodies(name: str, seed: int) -> Iterator[bytes]:
    if name == "moda":
        yield from moda_bodies(seed)
        return
    factory = EventFactory(name, seed=seed)
    for _ in range(2):
        yield from (factory.profile.serialize(e) for e in factory.every_event())
    yield factory.body()
    yield factory.profile.serialize(make_event(name, seed=seed))


def digest(name: str, seed: int) -> str:
    h = hashlib.sha256()
    for body in profile_bodies(name, seed):
        h.update(len(body).to_bytes(4, "big"))
        h.update(body)
    return h.hexdigest()[:20]


def main() -> int:
    table = {name: [digest(name, seed) for seed in range(count)] for name, count in SEEDS.items()}
    json.dump(table, sys.stdout, indent=0)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
