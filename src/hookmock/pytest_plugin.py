"""hookmock's pytest plugin (registered under the name ``hookmock`` via the ``pytest11`` entry point;
``-p no:hookmock`` disables it).

It must stay cheap to import: pytest loads it in every run of every project where hookmock is
installed.  Only the standard library and pytest are imported here; everything else is imported
inside the fixtures that need it.

Configuration, closest wins: ``@pytest.mark.hookmock(profile=, secret=, seed=, tls=, clock_start=)`` >
command line (``--hookmock-profile``, ``--hookmock-secret``, ``--hookmock-seed``, ``--hookmock-tls`` /
``--hookmock-no-tls``, ``--hookmock-clock-start``) > ini (``hookmock_profile``, ``hookmock_secret``,
``hookmock_seed``, ``hookmock_tls``, ``hookmock_clock_start``) > defaults (profile ``moda``, a secret
and seed derived from the test id, plain HTTP, the clock starting at the real time).

Fixtures: ``hookmock_settings``, ``hookmock_clock``, ``hookmock_profile``, ``hookmock_secret``,
``hookmock_events``, ``hookmock_verify``, ``hookmock_sender``, ``hookmock_make_sender``,
``hookmock_receiver``, ``hookmock_make_receiver`` (and, where their modules are installed,
``hookmock_proxy``, ``hookmock_audit``, ``hookmock_scenario``, ``hookmock_emulator``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ._plugin_settings import (
    MARKER_KEYS,
    Settings,
    SettingsError,
    add_options,
    parse_bool,
    parse_clock_start,
    parse_seed,
    resolve_settings,
)

if TYPE_CHECKING:  # pragma: no cover
    from ._plugin_receiver import PluginReceiver
    from ._plugin_support import SessionResources, TestState, Verifier
    from .clock import VirtualClock
    from .factories import EventFactory
    from .profiles import Profile
    from .sender import Sender

_STATE = pytest.StashKey["TestState"]()
_INI = ("profile", "secret", "seed", "tls", "clock_start")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "hookmock(profile=None, secret=None, seed=None, tls=None, clock_start=None): configure hookmock's "
        "fixtures for a test "
        "(overrides --hookmock-* options and hookmock_* ini settings)",
    )
    try:  # bad option or ini values: a usage error before anything runs
        parse_seed(config.getoption("hookmock_seed"), "--hookmock-seed")
        parse_seed(config.getini("hookmock_seed"), "hookmock_seed (ini)")
        parse_clock_start(config.getoption("hookmock_clock_start"), "--hookmock-clock-start")
        parse_clock_start(config.getini("hookmock_clock_start"), "hookmock_clock_start (ini)")
        if config.getini("hookmock_tls"):
            parse_bool(config.getini("hookmock_tls"), "hookmock_tls (ini)")
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None


# -- end-of-test checks and failure reports ------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    state = item.stash.get(_STATE, None)
    if state is not None:
        problem = state.problem_after_call()
        if problem is not None:
            pytest.fail(problem, pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = item.stash.get(_STATE, None)
    if state is not None and report.failed and not state.reported:
        state.reported = True
        report.sections.append(("hookmock timeline", state.failure_text()))
    return report


# -- configuration fixtures ----------------------------------------------------------------------


@pytest.fixture
def hookmock_settings(request: pytest.FixtureRequest) -> Settings:
    """The profile, secret, seed and TLS choice this test's hookmock fixtures use."""
    config = request.config
    markers = [dict(m.kwargs) for m in request.node.iter_markers("hookmock")]
    for marker in request.node.iter_markers("hookmock"):
        if marker.args:
            pytest.fail(
                f"@pytest.mark.hookmock takes keyword arguments only ({', '.join(MARKER_KEYS)}), "
                f"got positional {marker.args!r}",
                pytrace=False,
            )
    try:
        settings = resolve_settings(
            option={k: config.getoption(f"hookmock_{k}") for k in _INI},
            ini={k: config.getini(f"hookmock_{k}") for k in _INI},
            markers=markers,
            nodeid=request.node.nodeid,
        )
    except SettingsError as exc:
        pytest.fail(str(exc), pytrace=False)
    if _STATE not in request.node.stash:
        from ._plugin_support import TestState

        request.node.stash[_STATE] = TestState(settings)
    return settings


def _state(request: pytest.FixtureRequest) -> TestState:
    request.getfixturevalue("hookmock_settings")
    return request.node.stash[_STATE]


@pytest.fixture
def hookmock_clock(request: pytest.FixtureRequest, hookmock_settings: Settings) -> VirtualClock:
    """A fresh :class:`~hookmock.VirtualClock` shared by this test's sender, receiver and events,
    starting at the current real time (whole seconds) unless ``clock_start`` pins it."""
    from .clock import SECOND, RealClock, VirtualClock

    start = hookmock_settings.clock_start
    if start is None:
        start = RealClock().time() * SECOND
    _state(request).clock_start_ns = start
    clock = VirtualClock(start=start // SECOND)
    clock.advance_to(start)  # a pinned start may have a fraction of a second
    return clock


@pytest.fixture
def hookmock_profile(hookmock_settings: Settings) -> Profile:
    """The :class:`~hookmock.Profile` chosen for this test (default ``moda``)."""
    from .errors import UsageError
    from .profiles import get_profile

    try:
        return get_profile(hookmock_settings.profile)
    except UsageError as exc:
        pytest.fail(f"hookmock profile: {exc}", pytrace=False)


@pytest.fixture
def hookmock_secret(hookmock_settings: Settings, hookmock_profile: Profile) -> str:
    """The signing secret (Moda) / webhook token (mod.io) of this test."""
    from ._plugin_support import default_secret

    return default_secret(hookmock_profile, hookmock_settings)


@pytest.fixture
def hookmock_events(
    hookmock_settings: Settings, hookmock_profile: Profile, hookmock_clock: VirtualClock
) -> EventFactory:
    """An :class:`~hookmock.EventFactory` seeded for this test, stamped by ``hookmock_clock``."""
    from .factories import EventFactory

    return EventFactory(hookmock_profile, seed=hookmock_settings.effective_seed, clock=hookmock_clock)


@pytest.fixture
def hookmock_verify(
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
    hookmock_events: EventFactory,
) -> Verifier:
    """Sign and verify with this test's profile, secret and clock (``sign``, ``signed_request``,
    ``verify``, ``check``, ``assert_valid``, ``assert_rejected``)."""
    from ._plugin_support import Verifier

    return Verifier(hookmock_profile, hookmock_secret, hookmock_clock, hookmock_events)


# -- sender ---------------------------------------------------------------------------------------


@pytest.fixture
def hookmock_make_sender(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Iterator[Callable[..., Sender]]:
    """``make(profile=None, secret=None, *, clock=None, **sender_options) -> Sender``: more senders,
    defaulting to this test's profile, secret and clock; closed when the test ends."""
    from ._plugin_support import make_sender, profile_named

    state = _state(request)
    made: list[Sender] = []
    seed = hookmock_settings.effective_seed

    def make(
        profile: str | Profile | None = None,
        secret: str | None = None,
        *,
        clock: Any = None,
        **options: Any,
    ) -> Sender:
        chosen = hookmock_profile if profile is None else profile_named(profile)
        if secret is None:
            secret = hookmock_secret if chosen.name == hookmock_profile.name else None
        sender = make_sender(
            chosen,
            secret if secret is not None else chosen.generate_secret(),
            hookmock_clock if clock is None else clock,
            seed + len(made),
            options,
        )
        _session(request).trust(sender)  # trusts every HTTPS receiver the plugin starts
        made.append(sender)
        state.senders.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close()


@pytest.fixture
def hookmock_sender(hookmock_make_sender: Callable[..., Sender]) -> Sender:
    """A :class:`~hookmock.Sender` bound to this test's profile, secret and ``hookmock_clock``:
    ``send(url_or_wsgi_app, event_type, **overrides) -> Delivery``."""
    return hookmock_make_sender()


# -- fake receiver -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _hookmock_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionResources]:
    from ._plugin_support import SessionResources

    resources = SessionResources(tmp_path_factory.mktemp("hookmock"))
    yield resources
    resources.close()


def _session(request: pytest.FixtureRequest) -> SessionResources:
    resources: SessionResources = request.getfixturevalue("_hookmock_session")
    return resources


@pytest.fixture
def hookmock_receiver(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Iterator[PluginReceiver]:
    """The session's fake receiver (one server per worker), cleared and bound to this test's
    profile, secret and clock.  ``expect_delivery(event_type, count=)`` is checked when the test ends;
    errors raised in its server threads fail the test."""
    receiver = _session(request).shared_receiver(hookmock_settings.tls)
    receiver.rebind(
        profile=hookmock_profile, secret=hookmock_secret, clock=hookmock_clock, handler=None, on_request=None
    )
    _state(request).receivers.append(receiver)
    yield receiver
    receiver.wait_idle(timeout=2.0)


@pytest.fixture
def hookmock_make_receiver(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Iterator[Callable[..., PluginReceiver]]:
    """``make(profile=None, secret=None, *, clock=None, tls=None, **receiver_options)``: more fake
    receivers (started, stopped when the test ends), defaulting to this test's settings."""
    from ._plugin_support import profile_named

    state = _state(request)
    resources = _session(request)
    made: list[PluginReceiver] = []

    def make(
        profile: str | Profile | None = None,
        secret: str | None = None,
        *,
        clock: Any = None,
        tls: bool | None = None,
        **options: Any,
    ) -> PluginReceiver:
        chosen = hookmock_profile if profile is None else profile_named(profile)
        if secret is None and chosen.name == hookmock_profile.name:
            secret = hookmock_secret
        receiver = resources.new_receiver(
            chosen,
            secret,
            clock=hookmock_clock if clock is None else clock,
            tls=hookmock_settings.tls if tls is None else tls,
            **options,
        )
        made.append(receiver)
        state.receivers.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.wait_idle(timeout=2.0)
        receiver.stop()
        resources.started.remove(receiver)


# -- fault proxy, audit, emulator ----------------------------------------------------------------


@pytest.fixture
def hookmock_proxy(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_clock: VirtualClock,
) -> Callable[..., Any]:
    """``make(upstream, profile=None, *, clock=None, **options) -> FaultProxy``: a fault proxy in front
    of a WSGI app (or an upstream URL) on this test's profile and clock.  Give the proxy to a sender
    as its target: ``lose_ack()``, ``duplicate()``, ``tamper()``, ``replay(captured)``."""
    from ._plugin_support import profile_named
    from .receiver.proxy import FaultProxy

    state = _state(request)

    def make(
        upstream: Any, profile: str | Profile | None = None, *, clock: Any = None, **options: Any
    ) -> Any:
        if hookmock_settings.tls and isinstance(upstream, str):
            options.setdefault("ca_file", _session(request).ca_file)
        proxy = FaultProxy(
            upstream,
            hookmock_profile if profile is None else profile_named(profile),
            clock=hookmock_clock if clock is None else clock,
            **options,
        )
        state.proxies.append(proxy)
        return proxy

    return make


@pytest.fixture
def hookmock_audit(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Callable[..., Any]:
    """``run(target, *, probe=None, check=True, **audit_options) -> AuditReport``: the receiver audit
    against a URL or WSGI app with this test's profile, secret and clock; with ``check=True`` a
    failed check fails the test with the report."""
    from .auditing import audit

    def run(target: Any, *, check: bool = True, **options: Any) -> Any:
        options.setdefault("profile", hookmock_profile)
        options.setdefault("secret", hookmock_secret)
        options.setdefault("clock", hookmock_clock)
        options.setdefault("seed", hookmock_settings.effective_seed)
        if hookmock_settings.tls and isinstance(target, str):
            options.setdefault("ca_file", _session(request).ca_file)
        report = audit(target, **options)
        if check and not report.ok:
            pytest.fail(f"the receiver audit found problems:\n\n{report.text()}", pytrace=False)
        return report

    return run


@pytest.fixture(scope="session")
def _hookmock_emulator_process(
    tmp_path_factory: pytest.TempPathFactory, _hookmock_session: SessionResources
) -> Iterator[Any]:
    from ._plugin_emulator import start_emulator

    args = ["--clock", "virtual", "--allow-http-callbacks", "--ca-file", _hookmock_session.ca_file]
    try:
        emulator = start_emulator(tmp_path_factory.mktemp("hookmock-emulator"), args)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield emulator
    emulator.stop()


@pytest.fixture
def hookmock_emulator(
    request: pytest.FixtureRequest, hookmock_settings: Settings, _hookmock_emulator_process: Any
) -> Iterator[Any]:
    """The session's ``hookmock serve`` process (one per worker; virtual clock; accepts http://
    callbacks), reset before each test.  Gives ``base_url``, ``api_key``, ``signing_secret``,
    ``request()``, ``control()``, ``advance()``, ``clock`` (reads the emulator's clock) and
    ``receiver``: a fake receiver for its callbacks, bound to its signing secret and clock."""
    emulator = _hookmock_emulator_process
    if not emulator.alive():
        pytest.fail("the hookmock emulator process has exited; see " + str(emulator.workdir), pytrace=False)
    emulator.reset()
    receiver = _session(request).emulator_receiver(hookmock_settings.tls, emulator.clock)
    receiver.rebind(
        profile="moda", secret=emulator.signing_secret, clock=emulator.clock, handler=None, on_request=None
    )
    emulator.receiver = receiver
    _state(request).receivers.append(receiver)
    yield emulator
    receiver.wait_idle(timeout=2.0)


@pytest.fixture
def hookmock_scenario(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Callable[..., Any]:
    """``run(scenario, target, *, probe=None, check=True, **options) -> ScenarioResult``: a scenario
    file (a path, or the name of an example shipped with hookmock such as ``"moda-lost-ack"``)
    against a WSGI app or URL, with this test's secret and clock; a failed step fails the test."""
    from ._plugin_support import find_scenario
    from .scenarios import run_scenario

    def run(scenario: Any, target: Any, *, check: bool = True, **options: Any) -> Any:
        options.setdefault("secret", hookmock_secret)
        options.setdefault("clock", hookmock_clock)
        if hookmock_settings.tls and isinstance(target, str):
            options.setdefault("ca_file", _session(request).ca_file)
        result = run_scenario(find_scenario(scenario), target, **options)
        if check and not result.ok:
            pytest.fail(f"the scenario failed:\n\n{result.text()}", pytrace=False)
        return result

    return run
