"""Locust users that send faithful webhook deliveries (``pip install "hookmock[storm]"``).

In your own locustfile::

    from hookmock.locust import ModaWebhookUser

    class Hooks(ModaWebhookUser):
        host = "http://127.0.0.1:8000"
        path = "/hook"
        secret = "whsec_..."            # or $HOOKMOCK_SECRET
        duplicates = 0.1                # the same options as ``hookmock storm``
        concurrent_duplicates = 0.05

then ``locust -f locustfile.py`` with Locust's own CLI, web UI, master/worker distribution and
reports.  Each task builds one event with the profile's factory and sends it as a provider would:
signed with a fresh timestamp, then (by their shares) a retry with a fresh signature, a second copy
at the same moment, and a stale replay that must be rejected (a replay answered 2xx is a Locust
failure).  Every process records the events it sent; in distributed mode each worker reports them
to the master (message ``hookmock_events``) when it stops, and with ``$HOOKMOCK_STORM_OUT_DIR`` set
every process writes its report there when it quits: ``hookmock storm --workers N`` reads them and
verifies exactly-once after the run.

Importing this module imports Locust, which patches the process for gevent: import it only in a
process that runs Locust.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any, ClassVar

try:
    import gevent
    from locust import HttpUser, constant, events, task
except ModuleNotFoundError as exc:  # a lean install: say which extra brings Locust
    if (exc.name or "").split(".")[0] not in ("gevent", "locust"):
        raise
    raise ModuleNotFoundError(
        f"hookmock.locust needs {exc.name}, which is not installed (a lean install of hookmock leaves "
        'Locust out): pip install "hookmock[storm]"',
        name=exc.name,
    ) from exc

from .clock import RealClock
from .storm.plan import STALE_AGE_S, StormOptions, Unit, UnitSource

__all__ = ["SENT", "ModaWebhookUser", "ModioWebhookUser", "WebhookUser"]

#: What this process sent: event id -> whether a live copy was answered 2xx; and request totals.
SENT: dict[str, Any] = {
    "worker": f"{os.getpid()}@{socket.gethostname()}",
    "events": {},
    "requests": 0,
    "stale": 0,
    "stale_accepted": 0,
}
MESSAGE = "hookmock_events"
_REAL = RealClock()


def _env_share(name: str) -> float:
    return float(os.environ.get(name, "0") or 0)


class WebhookUser(HttpUser):
    """A Locust user whose one task delivers one event, faithfully (see the module docstring)."""

    abstract = True
    wait_time = constant(0)
    profile: ClassVar[str] = "moda"
    path: ClassVar[str | None] = None
    secret: ClassVar[str | None] = None
    mix: ClassVar[str | None] = None
    duplicates: ClassVar[float | None] = None
    concurrent_duplicates: ClassVar[float | None] = None
    stale: ClassVar[float | None] = None

    def on_start(self) -> None:
        cls = type(self)
        env = os.environ
        options = StormOptions(
            profile=cls.profile,
            secret=cls.secret or env.get("HOOKMOCK_SECRET", ""),
            count=0,
            mix=cls.mix if cls.mix is not None else env.get("HOOKMOCK_STORM_MIX") or None,
            duplicates=cls.duplicates
            if cls.duplicates is not None
            else _env_share("HOOKMOCK_STORM_DUPLICATES"),
            concurrent_duplicates=(
                cls.concurrent_duplicates
                if cls.concurrent_duplicates is not None
                else _env_share("HOOKMOCK_STORM_CONCURRENT_DUPLICATES")
            ),
            stale=cls.stale if cls.stale is not None else _env_share("HOOKMOCK_STORM_STALE"),
        ).check()
        self._options = options
        self._profile = options.checked_profile
        self._source = UnitSource(options)
        self._path = cls.path or env.get("HOOKMOCK_STORM_PATH") or "/"
        self._timeout = options.deadline_ns / 1e9

    def _post(self, unit: Unit, kind: str, at: float | None = None) -> bool:
        when = _REAL.time() if at is None else at
        headers = self._profile.delivery_headers(
            unit.body, self._options.secret, when, message_id=unit.event_id
        )
        headers.update(self._profile.event_headers(unit.event_type))
        name = f"{self._profile.name} {kind}"
        with self.client.post(
            self._path, data=unit.body, headers=headers, name=name, timeout=self._timeout,
            catch_response=True, allow_redirects=False,
        ) as response:  # fmt: skip
            accepted = 200 <= (response.status_code or 0) <= 299
            SENT["requests"] += 1
            if kind == "stale":
                SENT["stale"] += 1
                SENT["stale_accepted"] += accepted
                if accepted:
                    response.failure(f"stale replay accepted (HTTP {response.status_code})")
                else:
                    response.success()
            elif not accepted:
                response.failure(f"HTTP {response.status_code}")
        return accepted

    @task
    def deliver(self) -> None:
        unit = self._source.unit()
        events_sent = SENT["events"]
        events_sent.setdefault(unit.event_id, False)
        if unit.concurrent:
            copies = [gevent.spawn(self._post, unit, kind) for kind in ("first", "concurrent")]
            gevent.joinall(copies)
            accepted = any(g.value for g in copies)
        else:
            accepted = self._post(unit, "first")
        if unit.duplicate:
            accepted = self._post(unit, "duplicate") or accepted
        events_sent[unit.event_id] = events_sent[unit.event_id] or accepted
        if unit.stale:
            self._post(unit, "stale", at=_REAL.time() - STALE_AGE_S)


class ModaWebhookUser(WebhookUser):
    """Faithful Moda deliveries (HMAC signature over a fresh timestamp; 30 s deadline)."""

    abstract = True
    profile = "moda"


class ModioWebhookUser(WebhookUser):
    """Faithful mod.io deliveries (the webhook token; no timestamp, so no stale replays)."""

    abstract = True
    profile = "modio"


# -- distributed: workers report what they sent, the master gathers it -------------------------------
#: On the master: each worker's report (what :data:`SENT` was in that worker), by worker id.
GATHERED: dict[str, dict[str, Any]] = {}
#: Where ``hookmock storm --workers`` collects reports: each process writes ``<id>.json`` there.
OUT_DIR_ENV = "HOOKMOCK_STORM_OUT_DIR"


def _snapshot() -> dict[str, Any]:
    return dict(SENT, events=dict(SENT["events"]))


def _write(name: str, data: dict[str, Any]) -> None:
    folder = os.environ.get(OUT_DIR_ENV)
    if folder:
        path = os.path.join(folder, name.replace("/", "_") + ".json")
        with open(path + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(path + ".tmp", path)


def _warm_up() -> None:
    """Load the payload factory (faker) now, not in the first task, then refresh gevent's cached
    loop time: Locust sets its ``--run-time`` timer from that time, and after a slow start-up a
    stale one ends the run early (seen: a 2 s run stopped after 0.3 s)."""
    from .factories import EventFactory

    for name in ("moda", "modio"):
        EventFactory(name).event()
    gevent.get_hub().loop.update_now()


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    from locust.runners import MasterRunner, WorkerRunner

    _warm_up()
    runner = environment.runner
    if isinstance(runner, MasterRunner):

        def gathered(msg: Any, **_: Any) -> None:
            GATHERED[msg.data["worker"]] = msg.data

        runner.register_message(MESSAGE, gathered)
    elif isinstance(runner, WorkerRunner):

        @events.test_stop.add_listener
        def report(environment: Any, **_: Any) -> None:
            runner.send_message(MESSAGE, _snapshot())


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    from locust.runners import MasterRunner, WorkerRunner

    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        _write("worker-" + SENT["worker"], _snapshot())
        return
    total = environment.stats.total
    summary = {
        "requests": total.num_requests,
        "failures": total.num_failures,
        "seconds": max(0.0, (total.last_request_timestamp or 0) - (total.start_time or 0)),
        "latency_ms": {
            q: total.get_response_time_percentile(v) if total.num_requests else None
            for q, v in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
        }
        | {"max": total.max_response_time if total.num_requests else None},
        "errors": {str(e.error): e.occurrences for e in environment.stats.errors.values()},
        "workers": GATHERED if isinstance(runner, MasterRunner) else {SENT["worker"]: _snapshot()},
    }
    _write("master", summary)
