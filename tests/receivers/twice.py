"""Receivers that apply an event exactly twice where it must be applied once.

The receivers of :mod:`receivers.broken` that redeliver-apply do it three or more times (no dedupe
at all), so they cannot tell the audit's "applied exactly once" from "applied at most twice".  Each
receiver here gets the count wrong by exactly one, in one place:

- :class:`ThirdCopyDedupeReceiver`: the seen-marker is written by the second copy only, so dedupe
  starts working from the third copy (``idempotency``, ``dedupe-key``, ``concurrent-duplicates``);
- :class:`TrailingNewlineTwiceReceiver`: one delivery applied twice when its body ends in a newline
  (``raw-body``);
- :class:`ApplyThenVerifyTwiceReceiver`: applies before verifying and deduplicates only verified
  copies, so a forged copy plus the genuine one make two (``dedupe-poisoning``);
- :class:`NonTransactionalReceiver`: the effect stays when a later step of the work fails, and the
  retry applies it again (``retry-after-failure``).
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from .base import WerkzeugReceiver


class ThirdCopyDedupeReceiver(WerkzeugReceiver):
    """Marks an event seen only when a copy arrives that was already applied: copies 1 and 2 apply."""

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        event_id = self.profile.event_id(payload) or ""
        with self.store.lock:
            if self.store.applied[event_id] < 2:
                self.store.applied[event_id] += 1
        return Response("ok", status=200)


class TrailingNewlineTwiceReceiver(WerkzeugReceiver):
    """Reads the body as newline-delimited documents plus the whole: a body ending in a newline is
    applied twice (compact bodies, as the baseline sends, once)."""

    def parse(self, request: Request, body: bytes) -> dict[str, Any] | Response:
        payload = super().parse(request, body)
        if isinstance(payload, Response):
            return payload
        event_id = self.profile.event_id(payload) or ""
        self.store.apply_always(event_id)
        if body.endswith(b"\n"):
            self.store.apply_always(event_id)
        return Response("ok", status=200)


class ApplyThenVerifyTwiceReceiver(WerkzeugReceiver):
    """Applies every copy that parses before verifying it; verified copies are deduplicated."""

    def handle(self, request: Request) -> Response:
        body = request.get_data(cache=False)
        try:
            event_id = self.profile.event_id(json.loads(body)) or ""
        except (ValueError, TypeError, AttributeError):
            event_id = ""
        rejection = self.authenticate(request, body)
        if rejection is not None:
            if event_id:
                with self.store.lock:  # the effect of the forged copy (not recorded as seen)
                    self.store.applied[event_id] += 1
            return rejection
        if event_id:
            self.store.apply_once(event_id)
        return Response("ok", status=200)


class NonTransactionalReceiver(WerkzeugReceiver):
    """Applies, then notifies; a failed notification answers 500 but leaves the effect in place,
    and the event unmarked, so the provider's retry applies it a second time."""

    def notify(self, event_id: str) -> None:
        """The second step of the work (the audit's ``fail_once`` target)."""

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        event_id = self.profile.event_id(payload) or ""
        with self.store.lock:
            if event_id in self.store.seen:
                return Response("duplicate", status=200)
            self.store.applied[event_id] += 1
        try:
            self.notify(event_id)
        except Exception:
            return Response("notification failed", status=500)
        with self.store.lock:
            self.store.seen.add(event_id)
        return Response("ok", status=200)


#: (receiver, the checks that must fail on it): each applies the event exactly twice there.
TWICE: list[tuple[type[WerkzeugReceiver], tuple[str, ...]]] = [
    (ThirdCopyDedupeReceiver, ("idempotency", "dedupe-key", "concurrent-duplicates")),
    (TrailingNewlineTwiceReceiver, ("raw-body",)),
    (ApplyThenVerifyTwiceReceiver, ("dedupe-poisoning",)),
    (NonTransactionalReceiver, ("retry-after-failure",)),
]
