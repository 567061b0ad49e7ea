"""Receivers that answer 2xx at once and apply the event later, on a worker thread (the
recommended design), and receivers that lose events on the way to their effect.

* :class:`AsyncReceiver` (correct): verifies, enqueues, answers 200; a worker applies the event
  ``lag_s`` later, deduplicating on the event id; a job that fails is retried by the worker.
* :class:`AsyncNoDedupeReceiver` (broken, idempotency): the same, without deduplication.
* :class:`DedupeBeforeVerifyReceiver` (broken, dedupe-poisoning): records the event id as seen
  *before* verifying, so a forged copy carrying a real event id blocks the genuine delivery.
* :class:`MarkSeenThenWorkReceiver` (broken, retry-after-failure): inserts the event id, then does
  its work; when the work fails (500) the retry hits "duplicate -> 200" and the event is lost.
* :class:`TransactionalReceiver` (correct): the event id is recorded only with the work done.

The work is the method ``apply_effect(event_id)``: ``hookmock.fail_once(app, "apply_effect")``
makes it fail once.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from hookmock.clock import Clock

from .base import WerkzeugReceiver

#: The corpus's asynchronous lag (seconds): short, so that tests stay fast.
LAG_S = 0.05


class AsyncReceiver(WerkzeugReceiver):
    """Correct: answers at once; a worker thread applies the event ``lag_s`` later, once."""

    lag_s = LAG_S
    dedupe = True
    max_tries = 3

    def __init__(self, profile: str = "moda", secret: str = "", clock: Clock | None = None) -> None:
        super().__init__(profile, secret, clock)
        self.jobs: queue.Queue[tuple[float, str, int] | None] = queue.Queue()
        self.worker = threading.Thread(target=self._work, name="async-receiver-worker", daemon=True)
        self.worker.start()

    def close(self) -> None:
        self.jobs.put(None)
        self.worker.join(5)

    def apply_effect(self, event_id: str) -> None:
        if self.dedupe:
            self.store.apply_once(event_id)
        else:
            self.store.apply_always(event_id)

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            due, event_id, tries = job
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                self.apply_effect(event_id)
            except Exception:
                if tries + 1 < self.max_tries:  # a real queue retries a failed job
                    self.jobs.put((time.monotonic() + self.lag_s, event_id, tries + 1))

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        event_id = self.profile.event_id(payload) or ""
        self.jobs.put((time.monotonic() + self.lag_s, event_id, 0))
        return Response("queued", status=202)


class AsyncNoDedupeReceiver(AsyncReceiver):
    """Broken (idempotency): the worker applies every copy."""

    dedupe = False


class DedupeBeforeVerifyReceiver(WerkzeugReceiver):
    """Broken (dedupe-poisoning): "seen" is recorded before the signature or token is checked."""

    def handle(self, request: Request) -> Response:
        body = request.get_data(cache=False)
        try:
            event_id = self.profile.event_id(json.loads(body))
        except (ValueError, TypeError, AttributeError):
            event_id = None
        if event_id:
            with self.store.lock:
                duplicate = event_id in self.store.seen
                self.store.seen.add(event_id)  # the bug: before authenticate()
            if duplicate:
                return Response("duplicate", status=200)
        rejection = self.authenticate(request, body)
        if rejection is not None:
            return rejection
        payload = self.parse(request, body)
        if isinstance(payload, Response):
            return payload
        with self.store.lock:
            self.store.applied[event_id or ""] += 1
        return Response("ok", status=200)


class MarkSeenThenWorkReceiver(WerkzeugReceiver):
    """Broken (retry-after-failure): inserts the event id, then works; a failure loses the event."""

    def apply_effect(self, event_id: str) -> None:
        with self.store.lock:
            self.store.applied[event_id] += 1

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        event_id = self.profile.event_id(payload) or ""
        with self.store.lock:
            if event_id in self.store.seen:
                return Response("duplicate", status=200)
            self.store.seen.add(event_id)
        try:
            self.apply_effect(event_id)
        except Exception:
            return Response("processing failed", status=500)  # the sender retries; the id stays seen
        return Response("ok", status=200)


class TransactionalReceiver(MarkSeenThenWorkReceiver):
    """Correct: the event id is recorded together with the work, so a failed attempt leaves no trace."""

    def apply_effect(self, event_id: str) -> None:
        self.store.applied[event_id] += 1  # the caller holds the store's lock: one transaction

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        event_id = self.profile.event_id(payload) or ""
        with self.store.lock:
            if event_id in self.store.seen:
                return Response("duplicate", status=200)
            try:
                self.apply_effect(event_id)
            except Exception:
                return Response("processing failed", status=500)
            self.store.seen.add(event_id)
        return Response("ok", status=200)
