"""The emulator's state in one object: settings, clock, tables, task engine, webhook gateway.

Front ends (the WSGI app, the control API, the page, the CLI) talk to this and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import threading
from typing import Any

from .._util.redact import hide_userinfo
from .._util.sqlite import DatabaseLocked
from ..clock import SECOND, Clock, RealClock, VirtualClock, format_iso
from ..errors import HookmockError, UsageError
from ..ids import random_token
from ..profiles import get_profile
from ..profiles.moda import API_KEY_PREFIX
from ..profiles.modio import register_event
from ..transport.targets import parse_target
from .config import EmulatorConfig
from .cursors import CursorCodec
from .errors import AdvanceLocked, ApiError
from .gateway import Gateway
from .store import Store
from .tasks import TaskEngine

__all__ = ["EmulatorCore"]


def _key_id(api_key: str) -> str:
    return "key_" + hashlib.sha256(api_key.encode()).hexdigest()[:20]


class EmulatorCore:
    def __init__(self, config: EmulatorConfig, *, clock: Clock | None = None) -> None:
        config.check()
        self.config = config
        self._clock_given = clock is not None
        self.clock: Clock = clock if clock is not None else RealClock()
        if config.db_path is None:
            self._tmpdir: tempfile.TemporaryDirectory[str] | None = tempfile.TemporaryDirectory(
                prefix="hookmock-emulator-"
            )
            config.db_path = os.path.join(self._tmpdir.name, "hookmock.db")
        else:
            self._tmpdir = None
        try:
            self.store = Store(config.db_path, durable=self._tmpdir is None)
        except UsageError:  # locked by another process, another program's database: said as is
            raise
        except Exception as exc:  # sqlite3 errors: a path that is not a database, a directory
            raise UsageError(f"--db {config.db_path!r} cannot be used as a SQLite file: {exc}") from None
        if not self._clock_given and config.clock == "virtual":
            # a virtual clock starts at the real time, but never before where it stood last run
            kept = self.store.meta("virtual_now_ns")
            start = max(RealClock().now_ns(), int(kept) if kept else 0)
            self.clock = VirtualClock(start=start // SECOND)
        self.api_key = self._setting("api_key", config.api_key, lambda: API_KEY_PREFIX + random_token(32))
        self.api_key_id = _key_id(self.api_key)
        moda = get_profile("moda")
        self.signing_secret = self._setting("signing_secret", config.signing_secret, moda.generate_secret)
        cursor_key = self._setting("cursor_key", None, lambda: secrets.token_hex(32))
        self.codec = CursorCodec(bytes.fromhex(cursor_key))
        self._wake = threading.Event()
        self._advance_lock = threading.Lock()
        try:
            self.gateway = Gateway(self)
        except BaseException:
            self.store.close()
            raise
        self.engine = TaskEngine(self.store, self.clock, self.gateway.fire_task)
        for event in self._modio_events():  # kept from earlier runs (a restart)
            self._register(event)
        for name in config.modio_events:
            self.register_modio_event(name)
        self.base_url = ""  # set by the server once bound

    def _setting(self, key: str, given: str | None, make: Any) -> str:
        """A fixed value (an option), else the one kept in the db (a restart), else a new one."""
        if given is not None:
            self.store.set_meta(key, given)
            return given
        kept = self.store.meta(key)
        if kept is not None:
            return kept
        value = str(make())
        self.store.set_meta(key, value)
        return value

    # -- mod.io event names --------------------------------------------------------------
    def _modio_events(self) -> list[dict[str, Any]]:
        kept = self.store.meta("modio_events")
        return list(json.loads(kept)) if kept else []

    @staticmethod
    def _register(event: dict[str, Any]) -> None:
        register_event(
            event["event_name"],
            resource_type=event.get("resource_type") or "mod",
            secondary_type=event.get("secondary_type"),
        )

    def register_modio_event(
        self, name: str, *, resource_type: str = "mod", secondary_type: str | None = None
    ) -> None:
        """Add a mod.io event name to the catalogue (``--modio-event``, or the control API); kept in
        the ``--db`` so that a restart knows it too."""
        event = {"event_name": name, "resource_type": resource_type, "secondary_type": secondary_type}
        kept_names = {e["event_name"] for e in self._modio_events()}
        if name in get_profile("modio").event_types and name not in kept_names:
            return  # already in the catalogue: nothing to add
        self._register(event)
        kept = [e for e in self._modio_events() if e["event_name"] != name]
        self.store.set_meta("modio_events", json.dumps([*kept, event]))

    # -- start and stop ----------------------------------------------------------------
    def start(self) -> None:
        """Recover after a restart: webhooks decided but not handed over, deliveries in flight."""
        self.gateway.start()  # attempts left in flight closed first, then every pending one resumed
        self.engine.recover()

    def close(self) -> None:
        self.gateway.close()
        self.store.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()

    # -- auth --------------------------------------------------------------------------
    def key_id_for(self, presented: str) -> str | None:
        if secrets.compare_digest(presented.encode(), self.api_key.encode()):
            return self.api_key_id
        return None

    # -- checks ------------------------------------------------------------------------
    def check_callback_url(self, url: str) -> None:
        """Parse with the one target-URL validator (brackets, port, host syntax, DNS label
        lengths), then Moda's HTTPS rule, then the outbound-safety check."""
        try:
            target = parse_target(url)
        except UsageError as exc:
            raise ApiError(
                "invalid_request",
                "parameter_invalid",
                f"callback_url is not an absolute https:// URL: {exc}",
                details={"parameter": "callback_url"},
            ) from None
        if target.scheme == "http" and not self.config.allow_http_callbacks:
            raise ApiError(
                "invalid_request",
                "callback_url_not_https",
                f"callback_url {hide_userinfo(url)!r} is not HTTPS; Moda only calls HTTPS URLs (start the "
                "emulator with --allow-http-callbacks to allow plain HTTP)",
                details={"parameter": "callback_url"},
            )
        try:
            self.gateway.check_target(url)
        except HookmockError as exc:  # TargetNotAllowed, an unresolvable host
            raise ApiError(
                "invalid_request", "callback_url_not_allowed", str(exc), details={"parameter": "callback_url"}
            ) from None

    def parse_time_param(self, value: str | None, name: str) -> str | None:
        """A ``from``/``to`` filter, checked by the delivery log (a bad one is a 400 there)."""
        return value or None

    # -- time --------------------------------------------------------------------------
    def wake(self) -> None:
        """Tell the real-clock runner that something new is due."""
        self._wake.set()

    def wait(self, timeout_s: float) -> None:
        self._wake.wait(timeout_s)
        self._wake.clear()

    def step(self, *, since: int | None = None) -> bool:
        """Run every task transition due now, then wait for the deliveries it fired; False if some
        attempt due now could not be finished.  ``since``: see :meth:`Gateway.settle`."""
        self.engine.tick()
        return self.gateway.settle(since=since)

    def next_due_ns(self) -> int | None:
        dues = [d for d in (self.engine.next_due_ns(), self.gateway.next_due_ns()) if d is not None]
        return min(dues) if dues else None

    def advance(self, ns: int) -> int:
        """Virtual clock only: move ``ns`` forward, stopping at every task step and delivery
        attempt due on the way, so everything happens in order and at its exact time.

        Another process holding the ``--db`` file's write lock: :class:`DatabaseLocked` after the
        busy wait, the clock unmoved.  A lock taken on the way (a task step or an attempt met it):
        :class:`~.errors.AdvanceLocked`, saying where the clock stopped (what happened up to there
        stays; what was due there is done by the next advance)."""
        clock = self.clock
        if not isinstance(clock, VirtualClock):
            raise ApiError(
                "conflict",
                "clock_not_virtual",
                "the emulator runs on the real clock; start it with --clock virtual to move time by hand",
            )
        with self._advance_lock:
            self.store.check_writable()  # refused before the clock moves: a retry advances once
            mark = self.gateway.locked_mark()
            target = clock.now_ns() + ns
            try:
                settled = self.step(since=mark)
                last = None
                for _ in range(1_000_000):
                    due = self.next_due_ns()
                    if due is None or due > target or (due == last and not settled):
                        break  # nothing more on the way, or an attempt due that did not finish
                    last = due
                    clock.advance_to(max(due, clock.now_ns()))
                    settled = self.step(since=mark)
                clock.advance_to(target)
                self.step(since=mark)
                self.store.set_meta("virtual_now_ns", str(clock.now_ns()))
            except DatabaseLocked as exc:
                raise AdvanceLocked(exc.path, self.now_json()) from None
        return clock.now_ns()

    def now_json(self) -> dict[str, Any]:
        now = self.clock.now_ns()
        return {
            "now": format_iso(now),
            "now_ns": now,
            "clock": "virtual" if self.clock.is_virtual else "real",
        }

    # -- reset -------------------------------------------------------------------------
    def reset(self) -> None:
        self.gateway.reset()  # tasks, games and pending deliveries: one transaction
