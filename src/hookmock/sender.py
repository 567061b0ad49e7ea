"""The sender: faithful webhook deliveries with the profile's deadline, retries and log.

>>> sender = Sender("moda", clock=VirtualClock())          # doctest: +SKIP
>>> delivery = sender.send("http://127.0.0.1:8000/hooks", "task.succeeded")   # doctest: +SKIP
>>> delivery.status, [a.describe() for a in delivery.attempts]                # doctest: +SKIP

* ``send`` runs one delivery to completion (on a virtual clock: at once, jumping the clock to
  each retry; on the real clock: really waiting) and returns a :class:`Delivery`.
* ``submit`` hands it to the concurrent driver and returns at once; ``wait`` joins it.
* ``redeliver`` follows the profile: a new delivery replaying the original body (Moda) or a
  manual retry of the same history entry (mod.io).
* The body is serialized once, stored, and the stored bytes are signed afresh and sent on every
  attempt; the event id never changes.  The secret is held here only, never logged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .clock import MS, SECOND, Clock, RealClock
from .delivery.engine import AttemptEvent, Engine, run_inline
from .delivery.log import DeliveryLog
from .delivery.machine import Rules, manual_retry
from .delivery.pool import DEFAULT_WORKERS, PoolDriver
from .delivery.records import DeliveryRecord, Page
from .delivery.result import Delivery
from .errors import UsageError
from .ids import crockford_id
from .profiles import Profile, get_profile
from .transport.routes import WSGI_SCHEME, Routes

if TYPE_CHECKING:  # pragma: no cover
    from .factories import EventFactory
    from .transport import Transport

__all__ = ["WSGI_SCHEME", "Delivery", "DeliveryLog", "Sender"]


class Sender:
    """Sends deliveries for one profile with one secret.

    ``deadline_s`` and ``retry_delays_s`` replace the profile's deadline and retry schedule: they
    are *not faithful* and exist for benchmarks and impatient experiments only.

    ``seed`` makes the events ``send(target, event_type)`` generates reproducible (the same ids and
    field values on every run; their times follow ``clock``); without it they are random.
    ``ca_file`` may be changed later (``sender.ca_file = path``): the next HTTPS attempt trusts it.
    ``extra_secrets``: more secrets every attempt is signed with as well, for a profile that sends
    several signatures during key rotation (:attr:`Profile.multi_signature`); others refuse them.
    """

    def __init__(
        self,
        profile: str | Profile = "moda",
        secret: str | None = None,
        *,
        clock: Clock | None = None,
        log: DeliveryLog | str | os.PathLike[str] | None = None,
        transport: Transport | None = None,
        allow_targets: tuple[str, ...] | list[str] = (),
        ca_file: str | os.PathLike[str] | None = None,
        api_key_id: str | None = None,
        deadline_s: float | None = None,
        retry_delays_s: tuple[float, ...] | list[float] | None = None,
        max_workers: int = DEFAULT_WORKERS,
        recover: bool | None = None,
        on_attempt: Callable[[AttemptEvent], object] | None = None,
        on_wait: Callable[[str, int], object] | None = None,
        seed: int | None = None,
        extra_secrets: tuple[str, ...] | list[str] = (),
    ) -> None:
        self.profile = get_profile(profile)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise UsageError(f"seed={seed!r}: give an integer (or None for random events)")
        if secret is not None and (not isinstance(secret, str) or not secret):
            raise UsageError(
                f"the {self.profile.secret_name} must be a non-empty string (or None to generate one)"
            )
        self._secret = secret if secret is not None else self.profile.generate_secret()
        self.profile.check_secret(self._secret)
        if isinstance(extra_secrets, str) or any(not isinstance(s, str) or not s for s in extra_secrets):
            raise UsageError(
                f"extra_secrets={extra_secrets!r}: give a list of non-empty {self.profile.secret_name}s "
                "to sign with as well (key rotation)"
            )
        for extra in extra_secrets:
            self.profile.check_secret(extra)
        if extra_secrets:  # refused now, not on the first attempt, when the format has one signature
            self.profile.sign_rotated(b"", [self._secret, *extra_secrets], 0)
        self._extra_secrets = tuple(extra_secrets)
        self.clock: Clock = clock if clock is not None else RealClock()
        self._own_log = not isinstance(log, DeliveryLog)
        self.log = log if isinstance(log, DeliveryLog) else DeliveryLog(":memory:" if log is None else log)
        self.api_key_id = api_key_id
        self.allow_targets = tuple(allow_targets)
        self.routes = Routes(transport=transport, allow_targets=self.allow_targets, ca_file=ca_file)
        self.max_workers = max_workers
        self.on_wait = on_wait
        self.seed = seed
        self._factory: EventFactory | None = None
        self._pool: PoolDriver | None = None
        self.rules = Rules.from_profile(
            self.profile,
            deadline_ns=None if deadline_s is None else _seconds_ns(deadline_s, "deadline_s"),
            retry_delays_ns=None
            if retry_delays_s is None
            else tuple(_seconds_ns(d, "retry_delays_s", zero_ok=True) for d in retry_delays_s),
        )
        listeners = [on_attempt] if on_attempt is not None else []
        self.engine = Engine(
            profile=self.profile,
            rules=self.rules,
            secret=self._secret,
            clock=self.clock,
            log=self.log,
            resolve=self.routes.resolve,
            listeners=listeners,
            extra_secrets=self._extra_secrets,
        )
        #: Deliveries whose in-flight attempt was marked interrupted when this sender started.
        self.recovered: list[str] = []
        if recover if recover is not None else (self._own_log and self.log.path != ":memory:"):
            self.recovered = self.log.recover(self.clock.now_ns(), profile=self.profile.name)

    # -- properties ----------------------------------------------------------------------
    @property
    def secret(self) -> str:
        """The signing secret / webhook token (give it to the receiver under test)."""
        return self._secret

    @property
    def ca_file(self) -> str | os.PathLike[str] | None:
        """The CA certificate file HTTPS targets are verified with (None: the system's CAs)."""
        return self.routes.ca_file

    @ca_file.setter
    def ca_file(self, value: str | os.PathLike[str] | None) -> None:
        self.routes.ca_file = value  # the next HTTPS attempt trusts it

    def __repr__(self) -> str:  # never shows the secret
        return f"<Sender {self.profile.name} log={self.log.path!r} clock={self.clock!r}>"

    def add_listener(self, listener: Callable[[AttemptEvent], object]) -> None:
        """Call ``listener(event)`` after every attempt completes."""
        self.engine.listeners.append(listener)

    # -- sending -------------------------------------------------------------------------
    def send(
        self,
        target: object,
        event_type: str | None = None,
        /,
        *,
        payload: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        agent_job_id: str | None = None,
        message_id: str | None = None,
        **overrides: Any,
    ) -> Delivery:
        """Deliver one event to ``target`` (a URL, a WSGI or ASGI app, or ``(app, "/path")``) and run
        it to completion.  ``message_id``: the id to send the message under, for a provider that
        sends one in a header (:meth:`Profile.new_message_id`; a new one when not given)."""
        record = self._accept_record(target, event_type, payload, body, agent_job_id, overrides, message_id)
        # a delivery just accepted is due at once (see new_delivery): its first attempt is made
        # here, and run_inline drives the rest (retries, waits), reading the log afresh
        event = self.engine.attempt(record)
        if event is None or event.state.status == "pending":
            run_inline(self.engine, [record.id], on_wait=self.on_wait)
        return self.get(record.id)

    def accept(
        self,
        target: object,
        event_type: str | None = None,
        /,
        *,
        payload: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        agent_job_id: str | None = None,
        message_id: str | None = None,
        **overrides: Any,
    ) -> Delivery:
        """Record one delivery as pending without sending it (``run`` or ``start`` sends it)."""
        record = self._accept_record(target, event_type, payload, body, agent_job_id, overrides, message_id)
        # the snapshot of the row just written, not read back: nothing else knows its id yet,
        # so it has no attempt and its state is the one it was created with
        return Delivery.from_record(record, [])

    def run(self, delivery: Delivery | str) -> Delivery:
        """Run one accepted delivery to completion in this thread."""
        delivery_id = delivery.id if isinstance(delivery, Delivery) else delivery
        run_inline(self.engine, [delivery_id], on_wait=self.on_wait)
        return self.get(delivery_id)

    def submit(
        self,
        target: object,
        event_type: str | None = None,
        /,
        *,
        payload: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        agent_job_id: str | None = None,
        message_id: str | None = None,
        **overrides: Any,
    ) -> Delivery:
        """Accept one delivery and send it in the background; returns the pending delivery."""
        delivery_id = self._accept(target, event_type, payload, body, agent_job_id, overrides, message_id)
        self._driver().schedule(delivery_id)
        return self.get(delivery_id)

    def redeliver(self, delivery_id: str, *, wait: bool = True) -> Delivery:
        """Redeliver as the provider does; ``wait=False`` returns at once (sent in the background).

        Moda: a new delivery row (``replayed_from_id`` set) with the original body bytes and event
        id, re-signed at send time, on the full retry schedule.  mod.io: Retry re-sends the same
        payload on the same history entry and increments its attempts.
        """
        original = self.log.get(delivery_id)
        if original.profile != self.profile.name:
            raise UsageError(
                f"delivery {delivery_id} was sent with profile {original.profile!r}; "
                f"redeliver it with a {original.profile!r} sender"
            )
        self.routes.resolve(original.target_url)  # refuse before accepting anything
        if self.profile.manual_retry == "new_delivery":
            target_id = self._new_id()
            self.log.create(
                delivery_id=target_id,
                profile=self.profile.name,
                event_id=original.event_id,
                event_type=original.event_type,
                target_url=original.target_url,
                body=original.body,
                created_ns=self.clock.now_ns(),
                api_key_id=original.api_key_id,
                replayed_from_id=original.id,
                agent_job_id=original.agent_job_id,
            )
        else:
            if original.status == "pending":
                raise UsageError(f"delivery {delivery_id} is still pending; retry it once it has finished")
            target_id = original.id
            self.log.set_state(target_id, manual_retry(original.state, self.clock.now_ns()))
        if wait:
            run_inline(self.engine, [target_id], on_wait=self.on_wait)
        else:
            self._driver().schedule(target_id)
        return self.get(target_id)

    def resume(self) -> list[Delivery]:
        """Run every unfinished delivery of this profile in the log to completion (inline)."""
        ids = [r.id for r in self.log.unfinished(profile=self.profile.name)]
        run_inline(self.engine, ids, on_wait=self.on_wait)
        return [self.get(i) for i in ids]

    def schedule(self, delivery: Delivery | str) -> Delivery:
        """Hand one pending delivery of the log (accepted earlier, or left by a previous run) to
        the concurrent driver; returns at once (``wait`` joins it).  A finished one is left alone."""
        delivery_id = delivery.id if isinstance(delivery, Delivery) else delivery
        record = self.log.get(delivery_id)
        if record.profile != self.profile.name:
            raise UsageError(
                f"delivery {delivery_id} belongs to profile {record.profile!r}; "
                f"schedule it with a {record.profile!r} sender"
            )
        if record.status == "pending":
            self._driver().schedule(delivery_id)
        return self.get(delivery_id)

    def cancel_pending(self, delivery_ids: list[str] | tuple[str, ...] | None = None) -> list[str]:
        """End this profile's pending deliveries in the log (or only ``delivery_ids``) for good:
        none is sent again (see :meth:`DeliveryLog.cancel_pending`).  Returns the ids canceled."""
        ids = self.log.cancel_pending(
            self.clock.now_ns(),
            profile=self.profile.name,
            delivery_ids=None if delivery_ids is None else list(delivery_ids),
        )
        if self._pool is not None:
            self._pool.release(ids)
        return ids

    def start(self) -> None:
        """Start the concurrent driver and hand it every unfinished delivery in the log."""
        driver = self._driver()
        driver.schedule_all(self.log.unfinished(profile=self.profile.name))

    def wait(self, delivery: Delivery | str, timeout: float | None = None) -> Delivery:
        """Block until a submitted delivery is finished (``timeout`` in real seconds)."""
        delivery_id = delivery.id if isinstance(delivery, Delivery) else delivery
        if self._pool is not None:
            self._pool.wait(delivery_id, timeout)
        return self.get(delivery_id)

    def wait_all(self, timeout: float | None = None) -> bool:
        return True if self._pool is None else self._pool.wait_all(timeout)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
        if self._own_log:
            self.log.close()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------
    def get(self, delivery_id: str) -> Delivery:
        return Delivery.from_record(*self.log.snapshot(delivery_id))

    def deliveries(self, **filters: Any) -> Page:
        """One page of the log (see :meth:`DeliveryLog.list` for the filters)."""
        return self.log.list(**filters)

    @property
    def pool(self) -> PoolDriver | None:
        return self._pool

    # -- internals -----------------------------------------------------------------------
    def _driver(self) -> PoolDriver:
        if self._pool is None:
            self._pool = PoolDriver(self.engine, max_workers=self.max_workers)
        return self._pool

    def _new_id(self) -> str:
        return crockford_id("whd", ms=self.clock.now_ns() // MS)

    def _accept(
        self,
        target: object,
        event_type: str | None,
        payload: Mapping[str, Any] | None,
        body: bytes | None,
        agent_job_id: str | None,
        overrides: Mapping[str, Any],
        message_id: str | None = None,
    ) -> str:
        return self._accept_record(target, event_type, payload, body, agent_job_id, overrides, message_id).id

    def _accept_record(
        self,
        target: object,
        event_type: str | None,
        payload: Mapping[str, Any] | None,
        body: bytes | None,
        agent_job_id: str | None,
        overrides: Mapping[str, Any],
        message_id: str | None = None,
    ) -> DeliveryRecord:
        if message_id is not None and (
            not isinstance(message_id, str) or not message_id or self.profile.new_message_id() is None
        ):
            raise UsageError(
                f"message_id={message_id!r}: "
                + (
                    f"{self.profile.title} carries the event id in the payload; set it there"
                    if self.profile.new_message_id() is None
                    else "give a non-empty string"
                )
            )
        target_url = self.routes.register(target)
        if payload is not None and body is not None:
            raise UsageError("give payload= or body=, not both")
        if overrides and (payload is not None or body is not None):
            raise UsageError(
                f"field overrides ({', '.join(overrides)}) only apply to generated payloads; "
                "edit the payload you pass instead"
            )
        parsed: Any
        if body is not None:
            if not isinstance(body, (bytes, bytearray, memoryview)):
                raise UsageError(f"body= must be bytes, not {type(body).__name__}; use payload= for a dict")
            data = bytes(body)
            parsed = _parse_json(data)
        elif payload is not None:
            if not isinstance(payload, Mapping):
                raise UsageError(f"payload= must be a JSON object (a dict), not {type(payload).__name__}")
            parsed = payload
            data = self.profile.serialize(payload)
        else:
            parsed = self._events().event(event_type, **overrides)
            data = self.profile.serialize(parsed)
        payload_obj = parsed if isinstance(parsed, Mapping) else {}
        event_type = event_type or self.profile.event_type_of(payload_obj)
        if not event_type:
            raise UsageError("cannot tell the event type of this body; pass it as the second argument")
        return self.log.create(
            delivery_id=self._new_id(),
            profile=self.profile.name,
            # the payload's own id, or a new message id for a provider that sends one in a header
            event_id=self.profile.event_id(payload_obj)
            or message_id
            or self.profile.message_id_for(payload_obj),
            event_type=event_type,
            target_url=target_url,
            body=data,
            created_ns=self.clock.now_ns(),
            api_key_id=self.api_key_id,
            agent_job_id=agent_job_id,
        )

    def _events(self) -> EventFactory:
        if self._factory is None:
            from .factories import EventFactory

            self._factory = EventFactory(self.profile, seed=self.seed, clock=self.clock)
        return self._factory


#: what ``json.loads`` decodes a text with (its default decoder, made once here)
_DECODER = json.JSONDecoder()


def _parse_json(data: bytes) -> Any:
    """``json.loads(data)``, or None for a body that is not JSON.  A UTF-8 body (nearly every one)
    is decoded and parsed directly, without ``json.loads``'s look for another encoding; anything
    that fails that way gets ``json.loads`` itself (a BOM, UTF-16 or -32, lone surrogates), so the
    answer is the same for every body."""
    try:
        return _DECODER.decode(data.decode())
    except ValueError:  # (UnicodeDecodeError is one)
        pass
    try:
        return json.loads(data)
    except ValueError:
        return None


def _seconds_ns(value: float, name: str, *, zero_ok: bool = False) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value < 0
        or (value == 0 and not zero_ok)
    ):
        raise UsageError(f"{name}={value!r} must be a positive number of seconds")
    return round(value * SECOND)
