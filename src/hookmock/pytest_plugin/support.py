"""What the pytest plugin's fixtures build: verification helpers, the per-session resources (one
fake receiver per worker, one test CA) and the per-test state used for readable failures.

Imported lazily by the plugin's fixtures; nothing here is loaded when hookmock is unused.
"""

from __future__ import annotations

import contextlib
import random
import traceback
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import signing
from .._util.headers import HeadersLike
from ..clock import Clock, VirtualClock
from ..factories import EventFactory
from ..profiles import DEFAULT_TOLERANCE_S, Profile, Verdict, get_profile
from .settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from ..receiver.proxy import FaultProxy
    from ..sender import Sender
    from .receiver import PluginReceiver

__all__ = ["SessionResources", "TestState", "Verifier", "default_secret"]

#: How many deliveries per sender a failure report shows.
MAX_DELIVERIES_SHOWN = 10


def default_secret(profile: Profile, settings: Settings) -> str:
    """The configured secret, or one generated from the test's seed (same every run)."""
    if settings.secret is not None:
        return settings.secret
    return profile.generate_secret(random.Random(settings.effective_seed))


class Verifier:
    """Signing and verification bound to one profile, secret and clock (``hookmock_verify``).

    >>> headers = verifier.sign(body)                 # doctest: +SKIP
    >>> verifier.verify(headers, body)                # raises a VerificationError if not valid
    """

    def __init__(self, profile: Profile, secret: str, clock: Clock, events: EventFactory) -> None:
        self.profile = profile
        self.secret = secret
        self.clock = clock
        self.events = events

    def __repr__(self) -> str:  # never shows the secret
        return f"<hookmock_verify {self.profile.name} clock={self.clock!r}>"

    def sign(
        self, body: bytes, *, timestamp: float | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """Every header the provider sends with ``body`` now (or at ``timestamp``, unix seconds)."""
        return signing.sign(
            self.profile,
            body,
            self.secret if secret is None else secret,
            timestamp=timestamp,
            clock=self.clock,
        )

    def signed_request(
        self, event_type: str | None = None, /, *, timestamp: float | None = None, **overrides: Any
    ) -> tuple[dict[str, str], bytes]:
        """A fresh event as ``(headers, body)``: post it to the receiver under test yourself."""
        body = self.events.body(event_type, **overrides)
        return self.sign(body, timestamp=timestamp), body

    def verify(
        self,
        headers: HeadersLike,
        body: bytes,
        *,
        now: float | None = None,
        tolerance: int = DEFAULT_TOLERANCE_S,
    ) -> None:
        """Raise a :class:`~hookmock.VerificationError` unless authentic and fresh at ``now``."""
        signing.verify(
            self.profile, headers, body, self.secret, now=now, clock=self.clock, tolerance=tolerance
        )

    def check(
        self,
        headers: HeadersLike,
        body: bytes,
        *,
        now: float | None = None,
        tolerance: int = DEFAULT_TOLERANCE_S,
    ) -> Verdict:
        return signing.check(
            self.profile, headers, body, self.secret, now=now, clock=self.clock, tolerance=tolerance
        )

    def assert_valid(self, headers: HeadersLike, body: bytes, *, now: float | None = None) -> None:
        """``AssertionError`` naming the reason unless the request verifies."""
        verdict = self.check(headers, body, now=now)
        if not verdict.ok:
            raise AssertionError(f"the request does not verify as {self.profile.name}: {verdict.describe()}")

    def assert_rejected(self, headers: HeadersLike, body: bytes, *, now: float | None = None) -> Verdict:
        verdict = self.check(headers, body, now=now)
        if verdict.ok:
            raise AssertionError(f"the request verifies as {self.profile.name}, expected it to be rejected")
        return verdict


class SessionResources:
    """Per session (per xdist worker): the shared receivers (one HTTP, one HTTPS, made on first use)
    and the test CA that every HTTPS receiver of the plugin serves with."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self._receivers: dict[tuple[str, bool], PluginReceiver] = {}
        self._tls: Any = None
        self._senders: weakref.WeakSet[Sender] = weakref.WeakSet()
        self.started: list[PluginReceiver] = []

    def trust(self, sender: Sender) -> None:
        """Make ``sender`` trust the session's test CA (now, or as soon as it exists).

        The CA is made on first use of TLS only (it costs a key generation): a sender made before
        that is updated when it is."""
        if sender.ca_file is not None:
            return  # the user chose a CA
        if self._tls is not None:
            sender.ca_file = self.ca_file
        else:
            self._senders.add(sender)

    def _trust_waiting_senders(self) -> None:
        for sender in list(self._senders):
            if sender.ca_file is None:
                sender.ca_file = self.ca_file  # its next HTTPS attempt trusts the CA
        self._senders.clear()

    @property
    def ca_file(self) -> str:
        """The CA certificate file trusting every HTTPS receiver the plugin starts."""
        return str(self.tls_files().ca_file)

    def tls_files(self) -> Any:
        if self._tls is None:
            from .._util.tls import make_tls_files

            directory = self.base_dir / "tls"
            directory.mkdir(parents=True, exist_ok=True)
            self._tls = make_tls_files(directory, ["localhost", "127.0.0.1", "::1"])
            self._trust_waiting_senders()
        return self._tls

    def new_receiver(
        self, profile: str | Profile, secret: str | None, *, clock: Clock, tls: bool, **kw: Any
    ) -> PluginReceiver:
        from .receiver import PluginReceiver

        receiver = PluginReceiver(profile, secret, clock=clock, tls=tls, **kw)
        if tls:
            import ssl

            files = self.tls_files()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(files.cert_file, files.key_file)
            receiver.ssl_context = context
            receiver.ca_file = str(files.ca_file)
        receiver.start()
        self.started.append(receiver)
        return receiver

    def shared_receiver(self, tls: bool, *, role: str = "test", clock: Clock | None = None) -> PluginReceiver:
        """The session's receiver for ``role`` (made on first use, then re-bound by each test):
        ``test`` is ``hookmock_receiver``, ``emulator`` the one for the emulator's callbacks."""
        receiver = self._receivers.get((role, tls))
        if receiver is None:
            receiver = self.new_receiver("moda", None, clock=clock or VirtualClock(), tls=tls)
            self._receivers[(role, tls)] = receiver
        return receiver

    def emulator_receiver(self, tls: bool, clock: Clock) -> PluginReceiver:
        return self.shared_receiver(tls, role="emulator", clock=clock)

    def close(self) -> None:
        for receiver in self.started:
            with contextlib.suppress(Exception):
                receiver.stop()
        self.started.clear()
        self._receivers.clear()


class TestState:
    """One test's hookmock objects, for the end-of-test checks and the failure report."""

    __test__ = False  # not a test class

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.receivers: list[PluginReceiver] = []
        self.senders: list[Sender] = []
        self.proxies: list[FaultProxy] = []
        self.extra_sections: list[Callable[[], str]] = []
        self.reported = False
        #: Where ``hookmock_clock`` started (ns), once the test used it.
        self.clock_start_ns: int | None = None

    # -- end-of-test checks ------------------------------------------------------------
    def problem_after_call(self) -> str | None:
        """Why the test must fail although its body passed: an exception raised in a receiver's
        server thread (with its traceback), or an unmet ``expect_delivery``."""
        for receiver in self.receivers:
            receiver.wait_idle(timeout=2.0)
            errors = list(receiver.handler_errors)
            if errors:
                first = errors[0]
                more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
                trace = "".join(traceback.format_exception(type(first), first, first.__traceback__))
                return (
                    f"the fake receiver's server thread raised {type(first).__name__}: {first}{more}\n\n"
                    f"{trace}\n{receiver.timeline()}"
                )
            try:
                receiver.check_assertions()
                receiver.assert_expectations()
            except AssertionError as exc:
                return str(exc)
        return None

    # -- failure report ----------------------------------------------------------------
    def failure_text(self) -> str:
        parts = [self.settings.describe(self.clock_start_ns)]
        for sender in self.senders:
            with contextlib.suppress(Exception):
                parts.extend(_sender_timelines(sender))
        for receiver in self.receivers:
            if receiver.requests:
                parts.append(f"fake receiver {receiver.url}:\n{receiver.timeline()}")
            for exc in receiver.handler_errors:
                parts.append(f"server-thread error: {type(exc).__name__}: {exc}")
        for proxy in self.proxies:
            if proxy.captured:
                parts.append(_proxy_text(proxy))
        for section in self.extra_sections:
            with contextlib.suppress(Exception):
                text = section()
                if text:
                    parts.append(text)
        return "\n\n".join(parts)


def _sender_timelines(sender: Sender) -> list[str]:
    page = sender.deliveries(limit=MAX_DELIVERIES_SHOWN)
    return [sender.get(record.id).timeline() for record in reversed(page.records)]


def _proxy_text(proxy: FaultProxy) -> str:
    from ..transport.apps import describe_target

    lines = [f"fault proxy in front of {describe_target(proxy.upstream)}:"]
    for n, item in enumerate(proxy.captured, start=1):
        upstream = ", ".join(
            f"HTTP {a.status}" if a.status is not None else f"{a.outcome} {a.detail}".strip()
            for a in item.upstream
        )
        lines.append(
            f"  #{n} {item.method} {item.path} event {item.event_id}: handler answered [{upstream or '-'}]; "
            f"sender got {item.answered or '-'}"
        )
    return "\n".join(lines)


def make_sender(
    profile: Profile,
    secret: str,
    clock: Clock,
    seed: int,
    kwargs: Mapping[str, Any],
) -> Sender:
    from ..sender import Sender

    options = dict(kwargs)
    options.setdefault("seed", seed)  # the same test sends the same events on every run
    return Sender(profile, secret, clock=clock, **options)


def profile_named(name: str | Profile) -> Profile:
    return get_profile(name)


def find_scenario(scenario: Any) -> Any:
    """A scenario object or path as given, or the path of the shipped example of that name."""
    if not isinstance(scenario, str) or scenario.endswith(".toml") or "/" in scenario or "\\" in scenario:
        return scenario
    from ..errors import UsageError
    from ..scenarios import example_paths

    examples = {path.stem: path for path in example_paths()}
    if scenario in examples:
        return examples[scenario]
    raise UsageError(
        f"scenario {scenario!r} is neither a .toml file nor a shipped example; "
        f"examples: {', '.join(sorted(examples))}"
    )
