"""The one place where the emulator fires webhooks: an adapter onto :class:`hookmock.Sender`.

One Moda sender (the emulator's signing secret) and one mod.io sender per game token share the
emulator's clock and its delivery log (the ``--db`` file).  Deliveries are *submitted* (the
sender's concurrent driver runs them); on a virtual clock the driver runs off the clock's
timers, so :meth:`EmulatorCore.advance` drives them and :meth:`Gateway.settle` waits for the
attempts that came due to finish.  Everything shown to a client is redacted of secrets.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .._util.redact import Redactor, hide_userinfo
from .._util.sqlite import DatabaseLocked
from ..clock import MS, RealClock, VirtualClock, unix_s
from ..delivery import crashpoint
from ..delivery.cursor import InvalidCursor
from ..delivery.log import DeliveryLog
from ..delivery.machine import Phase
from ..delivery.records import DeliveryRecord, Page
from ..errors import HookmockError, UnknownEventType, UsageError
from ..factories import EventFactory
from ..profiles import DEFAULT_TOLERANCE_S, get_profile
from ..profiles.moda import API_KEY_PREFIX, SECRET_PREFIX
from ..sender import Sender
from ..transport.http import HTTPTransport
from .errors import ApiError, bad_cursor
from .events import check_faithful, endpoint, flat_overrides
from .store import write_delivery_game, write_reset

if TYPE_CHECKING:  # pragma: no cover
    from ..clock import Clock
    from .config import EmulatorConfig
    from .store import Store, TaskRow

__all__ = ["Gateway", "GatewayHost"]


#: How long (real seconds) :meth:`Gateway.settle` waits for due attempts before moving on.
SETTLE_TIMEOUT_S = 5.0


class GatewayHost(Protocol):
    """What the gateway needs from the emulator core that builds it: its settings, clock and
    tables, the Moda credentials (signing secret, API key and its id), and ``wake()`` for the
    core's loop.  A protocol, so the gateway does not import the core that imports it."""

    @property
    def config(self) -> EmulatorConfig: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def store(self) -> Store: ...
    @property
    def signing_secret(self) -> str: ...
    @property
    def api_key(self) -> str: ...
    @property
    def api_key_id(self) -> str: ...
    def wake(self) -> None: ...


class Gateway:
    def __init__(self, core: GatewayHost) -> None:
        self.core = core
        cfg = core.config
        assert cfg.db_path is not None
        self.log = DeliveryLog(cfg.db_path, throwaway=not core.store.durable)
        # One transport for every sender: the outbound-safety check runs at each attempt, and a
        # host that stops resolving is a failed attempt (``dns_error``), retried on the profile's
        # schedule, never a refusal to accept (or to recover) a webhook already decided.  Where a
        # client hands over a URL, the routes check it first (``check_target``).
        self._http = HTTPTransport(ca_file=cfg.ca_file, allow_targets=tuple(cfg.allow_targets))
        self._opts: dict[str, Any] = {
            "clock": core.clock,
            "log": self.log,
            "transport": self._http,
            "deadline_s": cfg.deadline_s,  # None: the profile's own (faithful)
        }
        #: Every secret of the emulator (signing secret, API key, admin token, each game's token),
        #: removed from every response excerpt and detail before it is stored, from everything
        #: shown, and from its log records.
        self.redactor = Redactor([(core.signing_secret, SECRET_PREFIX), (core.api_key, API_KEY_PREFIX)])
        self.redactor.add(cfg.admin_token)
        for game in core.store.games():  # known from the start: any delivery may meet them
            self.redactor.add(game["token"])
        self.moda = Sender(
            "moda", core.signing_secret, api_key_id=core.api_key_id, recover=False, **self._opts
        )
        self.moda.engine.redactor = self.redactor
        self._modio: dict[str, Sender] = {}
        self._lock = threading.Lock()
        #: Payload generators of the control API's events (the overrides are checked first).
        self._factories = {
            name: EventFactory(get_profile(name), clock=core.clock) for name in ("moda", "modio")
        }
        # attempts a killed emulator left in flight are closed as interrupted (due again at start);
        # a --db another live process is sending from is refused: both would send what is pending
        try:
            self.log.recover(core.clock.now_ns(), alone=True)
        except UsageError:
            self.log.close()
            raise
        self.modio_profile = get_profile("modio")

    # -- life --------------------------------------------------------------------------
    def start(self) -> None:
        """After a restart: every unfinished delivery (those left in flight were made due again
        when the gateway was made) is handed back to a driver (nothing is lost).  A mod.io entry
        whose game no longer has a webhook (no URL, no token) cannot be sent: it is canceled."""
        self.moda.start()
        orphans = []
        for record in self.log.unfinished(profile="modio"):
            game_id = self.core.store.delivery_game(record.id)
            game = self.core.store.game(game_id) if game_id else None
            if game is not None:
                self._modio_sender(game["token"]).schedule(record.id)
            else:
                orphans.append(record.id)
        if orphans:
            self.log.cancel_pending(self.core.clock.now_ns(), delivery_ids=orphans)

    def close(self) -> None:
        for sender in [self.moda, *self._modio.values()]:
            sender.close()
        self.log.close()

    def reset(self) -> None:
        """Cancel every pending delivery (none is sent again), forget tasks and games, and hide
        the rows so far (the log is append-only: a watermark, lists show what comes after it).
        One transaction: a crash leaves the emulator reset or not, never half of it."""
        canceled = self.log.cancel_pending(self.core.clock.now_ns(), alongside=write_reset)
        with self._lock:
            senders = [self.moda, *self._modio.values()]
        for sender in senders:
            if sender.pool is not None:
                sender.pool.release(canceled)

    def _since(self) -> int | None:
        """The ``after_seq`` watermark of the last reset (None: never reset)."""
        value = self.core.store.meta("reset_seq")
        return int(value) if value else None

    # -- checks ------------------------------------------------------------------------
    def check_target(self, url: str) -> None:
        self._http.check_target(url)

    def check_modio_url(self, url: str) -> None:
        if not url.lower().startswith(("http://", "https://")):
            raise ApiError(
                "invalid_request",
                "parameter_invalid",
                f"url {hide_userinfo(url)!r} is not an http(s) URL",
                details={"parameter": "url"},
            )
        try:
            self._http.check_target(url)
        except HookmockError as exc:  # not allowed, unparsable, or a host that does not resolve
            raise ApiError(
                "invalid_request", "url_not_allowed", str(exc), details={"parameter": "url"}
            ) from None

    # -- firing ------------------------------------------------------------------------
    def fire_task(
        self,
        row: TaskRow,
        event_type: str,
        envelope: dict[str, Any],
        commit: Callable[[sqlite3.Connection, str], None],
    ) -> str | None:
        """Create a task's webhook delivery; ``commit`` (the task's new state and its
        ``delivery_id``) runs in the same transaction (one SQLite file), so no crash can leave a
        delivery the task does not know about (a restart would fire the event a second time)."""
        assert row.callback_url is not None
        with self.log.alongside(commit):
            delivery = self.moda.submit(row.callback_url, event_type, payload=envelope, agent_job_id=row.id)
        crashpoint.reached("after_delivery_accepted")
        return delivery.id

    def fire_moda_event(
        self, event_type: str, url: str, overrides: dict[str, Any], *, unfaithful: bool = False
    ) -> dict[str, Any]:
        """Any Moda event, generated with ``overrides``; an override of a field that defines the
        event (its type, version, id, the task's kind or status) only with ``unfaithful``.  The
        log's row is made from what is sent, so it names the type the receiver got."""
        try:
            payload = self._generate("moda", event_type, overrides, unfaithful)
        except UnknownEventType as exc:
            raise ApiError("invalid_request", "unknown_event_type", str(exc)) from None
        delivery = self.moda.submit(url, payload=payload)
        crashpoint.reached("after_delivery_accepted")
        return self._moda_row(self.log.get(delivery.id))

    def _generate(self, profile: str, event_type: str, overrides: dict[str, Any], unfaithful: bool) -> Any:
        flat = flat_overrides(overrides)
        if not unfaithful:
            check_faithful(profile, flat)
        with self._lock:
            return self._factories[profile].event(event_type, **flat)

    def fire_modio(
        self,
        game: dict[str, str],
        event_name: str,
        overrides: dict[str, Any],
        *,
        unfaithful: bool = False,
    ) -> dict[str, Any]:
        """A mod.io event: the history entry and its link to the game (which holds the token it is
        sent with) are committed together; an entry without its game could never be sent."""
        sender = self._modio_sender(game["token"])

        def link(db: sqlite3.Connection, delivery_id: str) -> None:
            write_delivery_game(db, delivery_id, game["game_id"])

        try:
            payload = self._generate("modio", event_name, overrides, unfaithful)
        except UnknownEventType:
            raise ApiError(
                "invalid_request",
                "unknown_event_type",
                f"{event_name!r} is not a mod.io event name the emulator knows "
                f"({', '.join(self.modio_profile.event_types)}); register it with "
                f'POST /_hookmock/modio/event-names {{"event_name": "{event_name}"}}, or start the '
                f"emulator with --modio-event {event_name}",
                details={"parameter": "event_name", "event_name": event_name},
            ) from None
        with self.log.alongside(link):
            delivery = sender.submit(game["url"], payload=payload)  # its type: what is sent
        crashpoint.reached("after_delivery_accepted")
        self.core.wake()
        return self._modio_entry(self.log.get(delivery.id))

    def _modio_sender(self, token: str) -> Sender:
        with self._lock:
            sender = self._modio.get(token)
            if sender is None:
                self.redactor.add(token)
                sender = Sender("modio", token, recover=False, **self._opts)
                sender.engine.redactor = self.redactor
                self._modio[token] = sender
            return sender

    # -- retries -----------------------------------------------------------------------
    def _record(self, delivery_id: str, profile: str | None = None) -> DeliveryRecord:
        try:
            record = self.log.get(delivery_id)
        except UsageError:
            record = None
        if record is None or (profile is not None and record.profile != profile):
            raise ApiError(
                "not_found",
                "delivery_not_found",
                f"no delivery with id {delivery_id!r}",
                details={"id": delivery_id},
            )
        return record

    def redeliver(self, delivery_id: str) -> dict[str, Any]:
        self._record(delivery_id, "moda")
        new = self.moda.redeliver(delivery_id, wait=False)
        crashpoint.reached("after_delivery_accepted")
        self.core.wake()
        return {"id": new.id, "replayed_from_id": delivery_id, "status": "pending"}

    def retry_modio(self, delivery_id: str) -> dict[str, Any]:
        record = self._record(delivery_id, "modio")
        game_id = self.core.store.delivery_game(delivery_id)
        game = self.core.store.game(game_id) if game_id else None
        if game is None:
            raise ApiError(
                "conflict",
                "webhook_not_configured",
                f"the game of history entry {delivery_id} no longer has a webhook; configure it again",
            )
        if record.status == "pending":
            raise ApiError(
                "conflict",
                "delivery_pending",
                f"history entry {delivery_id} is still being sent; retry it afterwards",
            )
        self._modio_sender(game["token"]).redeliver(delivery_id, wait=False)
        self.core.wake()
        return self._modio_entry(self.log.get(delivery_id))

    def retry_any(self, delivery_id: str) -> None:
        record = self._record(delivery_id)
        if record.profile == "modio":
            self.retry_modio(delivery_id)
        else:
            self.redeliver(delivery_id)

    # -- reading -----------------------------------------------------------------------
    def _redact(self, text: str | None) -> str | None:
        """``text`` (a response excerpt or detail, perhaps cut) without any secret."""
        if text is None:
            return None
        for game in self.core.store.games():
            self.redactor.add(game["token"])
        return self.redactor.text(text, cut=True)

    def _moda_row(self, record: DeliveryRecord) -> dict[str, Any]:
        row = record.moda_row()
        row["response_body_excerpt"] = self._redact(row["response_body_excerpt"])
        return row

    def _modio_entry(self, record: DeliveryRecord) -> dict[str, Any]:
        entry = record.modio_entry()
        entry["response"] = self._redact(entry["response"])
        game_id = self.core.store.delivery_game(record.id)
        game = self.core.store.game(game_id) if game_id else None
        entry["ruleset_uuid"] = game["ruleset_uuid"] if game else None
        entry["endpoint"] = endpoint(entry["payload"])
        return entry

    def list_moda(self, filters: dict[str, Any], *, limit: int, cursor: str | None) -> dict[str, Any]:
        page = self._page(
            profile="moda",
            event_type=filters.get("event_type"),
            status=filters.get("status"),
            api_key_id=filters.get("api_key_id"),
            created_from=filters.get("from"),
            created_to=filters.get("to"),
            limit=limit,
            cursor=cursor,
            after_seq=self._since(),
        )
        return {"data": [self._moda_row(r) for r in page.records], "next_cursor": page.next_cursor}

    def list_modio(self, *, limit: int, cursor: str | None) -> dict[str, Any]:
        page = self._page(profile="modio", after_seq=self._since(), limit=limit, cursor=cursor)
        return {"data": [self._modio_entry(r) for r in page.records], "next_cursor": page.next_cursor}

    def _page(self, **query: Any) -> Page:
        """A page of the log; a cursor it did not hand out gets the one bad-cursor error."""
        try:
            return self.log.list(**query)
        except InvalidCursor:
            raise bad_cursor() from None

    def detail(self, delivery_id: str, *, profile: str | None) -> dict[str, Any]:
        record = self._record(delivery_id, profile)
        view = self._moda_row(record) if record.profile == "moda" else self._modio_entry(record)
        view["profile"] = record.profile
        view["payload"] = record.payload()
        timeline = []
        for attempt in self.log.attempts(delivery_id):
            item = attempt.to_dict()
            item["response_body_excerpt"] = self._redact(item["response_body_excerpt"])
            item["detail"] = self._redact(item["detail"])
            item["response_headers"] = [[n, self._redact(v) or ""] for n, v in item["response_headers"]]
            timeline.append(item)
        view["attempt_timeline"] = timeline
        return view

    def ui_rows(self, profile: str, *, limit: int) -> list[dict[str, Any]]:
        page = self.log.list(profile=profile, after_seq=self._since(), limit=limit)
        rows = []
        for r in page.records:
            rows.append(
                {
                    "id": r.id,
                    "profile": r.profile,
                    "date": r.moda_row()["created_at"],
                    "name": r.event_type,
                    "http_status": r.response_status_code,
                    "response": self._redact(
                        None
                        if r.response_body_excerpt is None
                        else r.response_body_excerpt.decode("utf-8", "replace")
                    ),
                    "duration_ms": None if r.last_duration_ns is None else r.last_duration_ns // MS,
                    "attempts": r.attempts,
                    "status": r.status,
                }
            )
        return rows

    # -- driving (virtual clock) ---------------------------------------------------------
    def pump(self) -> int:
        """Nothing to do: the senders' drivers run deliveries off the clock's timers."""
        return 0

    def next_due_ns(self) -> int | None:
        """The soonest of the clock's timers and the log's due retries (a driver may not have
        registered the timer of an attempt that has just finished yet)."""
        clock = self.core.clock
        dues = [clock.next_due()] if isinstance(clock, VirtualClock) else []
        dues += [r.state.next_due_ns for r in self.log.unfinished() if r.state.phase == Phase.SCHEDULED]
        found = [d for d in dues if d is not None]
        return min(found) if found else None

    def locked_mark(self) -> int:
        """How many attempts so far met the ``--db`` file locked by another process (each sender's
        driver keeps such a delivery and tries it again): compare with :meth:`settle`'s ``since``."""
        with self._lock:
            senders = [self.moda, *self._modio.values()]
        return sum(s.pool.locked[0] for s in senders if s.pool is not None)

    def settle(self, timeout_s: float = SETTLE_TIMEOUT_S, *, since: int | None = None) -> bool:
        """Wait (really) until no attempt is due now or in flight; False if some still are.

        ``since``: a :meth:`locked_mark` taken before; an attempt that met the file locked after
        it raises :class:`DatabaseLocked` at once (waiting longer would not get it sent).

        Every pending delivery in the log has a driver: one that could never be sent (a mod.io
        entry whose game lost its webhook) is canceled at start and at reset, so it cannot hold
        the clock up here.  The log, not the drivers, is asked, so a delivery just written and
        not yet handed to a driver is waited for too."""
        clock = self.core.clock
        waiter = threading.Event()
        wall = RealClock()
        end = wall.monotonic_ns() + round(timeout_s * 1e9)
        while wall.monotonic_ns() < end:  # real time: a read waiting for the file's lock counts too
            if since is not None and self.locked_mark() != since:
                raise DatabaseLocked(self.log.path)
            now = clock.now_ns()
            busy = any(
                r.state.phase == Phase.IN_FLIGHT
                or (r.state.next_due_ns is not None and r.state.next_due_ns <= now)
                for r in self.log.unfinished()
            )
            if not busy:
                return True
            if isinstance(clock, VirtualClock):
                clock.advance_to(now)  # run timers a driver registered for a time already reached
            waiter.wait(0.002)
        return False

    # -- drills --------------------------------------------------------------------------
    def drill(self, mode: str, ids: list[str], *, copies: int) -> list[dict[str, Any]]:
        records = [self._record(i) for i in ids]
        profile = get_profile(records[0].profile)
        if any(r.profile != profile.name for r in records):
            raise ApiError("invalid_request", "parameter_invalid", "all delivery_ids must be of one provider")
        if mode == "stale" and not profile.has_timestamp:
            raise ApiError(
                "invalid_request",
                "drill_not_applicable",
                f"{profile.title} requests carry no timestamp, so there is nothing to make stale; "
                "use duplicate",
            )
        secret = self._secret_for(records[0])
        now = unix_s(self.core.clock)
        plan: list[tuple[DeliveryRecord, str, int]] = []
        if mode == "duplicate":
            plan = [(records[0], secret, now), (records[0], secret, now)]
        elif mode == "concurrent":
            plan = [(records[0], secret, now)] * copies
        elif mode == "stale":  # stale by the receiver's clock too: wall time, when the virtual one is ahead
            oldest = min(now, unix_s(RealClock()))
            plan = [(records[0], secret, oldest - DEFAULT_TOLERANCE_S - 1)]
        elif mode == "bad_signature":
            plan = [(records[0], profile.generate_secret(), now)]
        elif mode == "out_of_order":
            plan = [(r, self._secret_for(r), now) for r in reversed(records)]
        if mode == "concurrent":
            from concurrent.futures import ThreadPoolExecutor  # here: only this drill needs it

            with ThreadPoolExecutor(max_workers=len(plan)) as pool:
                return list(pool.map(lambda p: self._raw_send(profile, *p), plan))
        return [self._raw_send(profile, *p) for p in plan]

    def _secret_for(self, record: DeliveryRecord) -> str:
        if record.profile == "moda":
            return self.moda.secret
        game_id = self.core.store.delivery_game(record.id)
        game = self.core.store.game(game_id) if game_id else None
        if game is None:
            raise ApiError(
                "conflict", "webhook_not_configured", "the game of this history entry has no webhook"
            )
        return game["token"]

    def _raw_send(self, profile: Any, record: DeliveryRecord, secret: str, ts: int) -> dict[str, Any]:
        headers = profile.delivery_headers(record.body, secret, ts)
        result = self._http.send(
            record.target_url, headers, record.body, deadline_ns=profile.deadline_ns, clock=self.core.clock
        )
        return {
            "delivery_id": record.id,
            "event_id": record.event_id,
            "timestamp": ts if profile.has_timestamp else None,
            "outcome": result.outcome,
            "status_code": result.status,
            "duration_ms": result.duration_ns // MS,
            "response_body_excerpt": self._redact(result.excerpt_text),
        }
