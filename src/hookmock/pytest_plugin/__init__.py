"""hookmock's pytest plugin (registered under the name ``hookmock`` via the ``pytest11`` entry point;
``-p no:hookmock`` disables it).

Configuration, closest wins: ``@pytest.mark.hookmock(profile=, secret=, seed=, tls=, clock_start=)`` >
command line (``--hookmock-profile``, ``--hookmock-secret``, ``--hookmock-seed``, ``--hookmock-tls`` /
``--hookmock-no-tls``, ``--hookmock-clock-start``) > ini (``hookmock_profile``, ``hookmock_secret``,
``hookmock_seed``, ``hookmock_tls``, ``hookmock_clock_start``) > defaults (profile ``moda``, a secret
and seed derived from the test id, plain HTTP, the clock starting at the real time).

Fixtures: ``hookmock_settings``, ``hookmock_clock``, ``hookmock_profile``, ``hookmock_secret``,
``hookmock_events``, ``hookmock_verify``, ``hookmock_sender``, ``hookmock_make_sender``,
``hookmock_receiver``, ``hookmock_make_receiver``, ``hookmock_proxy``, ``hookmock_audit``,
``hookmock_scenario``, ``hookmock_emulator``.

This module is the plugin as pytest sees it at start-up: hooks, options and fixture declarations.
pytest imports it in every run of every project where hookmock is installed, so it holds only
what start-up needs: the options, the marker, two small report hooks and each fixture's name,
dependencies and documentation.  A fixture's work is in :mod:`hookmock.pytest_plugin.fixtures`, imported
the first time a test uses one (with :mod:`.settings`, :mod:`.support`, :mod:`.receiver`,
:mod:`.emulator`, the clock, the sender...).  Standard library and pytest only here.

pytest itself is the ``pytest`` extra (``pip install "hookmock[pytest]"``): the lean install leaves it
out, and importing this package without it says so.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

try:
    import pytest
except ModuleNotFoundError as _exc:  # a lean install: say which extra to install
    from .._util.extras import missing_extra

    raise missing_extra(_exc, feature="hookmock's pytest plugin", extra="pytest") from _exc

from .stash import STATE

if TYPE_CHECKING:  # pragma: no cover
    from ..clock import VirtualClock
    from ..factories import EventFactory
    from ..profiles import Profile
    from ..sender import Sender
    from .emulator import EmulatorProcess
    from .receiver import PluginReceiver
    from .settings import Settings
    from .support import SessionResources, Verifier

__all__ = [
    "_hookmock_emulator_process",
    "_hookmock_session",
    "hookmock_audit",
    "hookmock_clock",
    "hookmock_emulator",
    "hookmock_events",
    "hookmock_make_receiver",
    "hookmock_make_sender",
    "hookmock_profile",
    "hookmock_proxy",
    "hookmock_receiver",
    "hookmock_scenario",
    "hookmock_secret",
    "hookmock_sender",
    "hookmock_settings",
    "hookmock_verify",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
]

MARKER = (
    "hookmock(profile=None, secret=None, seed=None, tls=None, clock_start=None): configure hookmock's "
    "fixtures for a test (overrides --hookmock-* options and hookmock_* ini settings)"
)


# -- start-up: options, ini settings, marker -----------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's command-line options and ini settings (all documented in ``pytest --help``)."""
    group = parser.getgroup("hookmock", "hookmock (webhook sender, fake receiver and fixtures)")
    option = group.addoption
    option(
        "--hookmock-profile",
        dest="hookmock_profile",
        metavar="NAME",
        help="provider profile of the hookmock_* fixtures: moda (default) or modio. Ini: hookmock_profile.",
    )
    option(
        "--hookmock-secret",
        dest="hookmock_secret",
        metavar="SECRET",
        help="signing secret / webhook token of the fixtures (default: generated from the seed). "
        "Ini: hookmock_secret.",
    )
    option(
        "--hookmock-seed",
        dest="hookmock_seed",
        metavar="N",
        help="seed of generated events and secrets (default: derived from each test's id, so every run "
        "sends the same events). Ini: hookmock_seed.",
    )
    option(
        "--hookmock-tls",
        dest="hookmock_tls",
        action="store_const",
        const=True,
        help="serve hookmock_receiver over HTTPS with a test CA generated at run time. Ini: hookmock_tls.",
    )
    option(
        "--hookmock-no-tls",
        dest="hookmock_tls",
        action="store_const",
        const=False,
        help="serve hookmock_receiver over plain HTTP (the default).",
    )
    option(
        "--hookmock-clock-start",
        dest="hookmock_clock_start",
        metavar="WHEN",
        help="where hookmock_clock starts: now (default: the real time, whole seconds), unix seconds or "
        "an ISO 8601 time such as 2026-05-01T00:00:00Z (byte-identical payloads run to run). "
        "Ini: hookmock_clock_start.",
    )
    ini = parser.addini
    ini(
        "hookmock_profile",
        "default provider profile of the hookmock_* fixtures (moda, modio, standard-webhooks, github, ...)",
    )
    ini("hookmock_secret", "signing secret / webhook token of the hookmock_* fixtures")
    ini("hookmock_seed", "seed of generated events and secrets (integer)")
    ini("hookmock_tls", "true: serve hookmock_receiver over HTTPS with a run-time test CA")
    ini("hookmock_clock_start", "hookmock_clock start: now (default), unix seconds or ISO 8601")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    given = {
        key: (config.getoption(f"hookmock_{key}"), config.getini(f"hookmock_{key}"))
        for key in ("profile", "secret", "seed", "tls", "clock_start")
    }
    if any(value is not None and value != "" for pair in given.values() for value in pair):
        from .settings import check_startup_values

        error = check_startup_values(given)  # bad values: a usage error before anything runs
        if error is not None:
            raise pytest.UsageError(error)


# -- end-of-test checks and failure reports ------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    state = item.stash.get(STATE, None)
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
    state = item.stash.get(STATE, None)
    if state is not None and report.failed and not state.reported:
        state.reported = True
        report.sections.append(("hookmock timeline", state.failure_text()))
    return report


# -- fixtures: declared here, carried out in .fixtures --------------------------------------------


@pytest.fixture
def hookmock_settings(request: pytest.FixtureRequest) -> Settings:
    """The profile, secret, seed, TLS choice and clock start this test's hookmock fixtures use."""
    from . import fixtures as impl

    return impl.settings(request)


@pytest.fixture
def hookmock_clock(request: pytest.FixtureRequest, hookmock_settings: Settings) -> VirtualClock:
    """A fresh :class:`~hookmock.VirtualClock` shared by this test's sender, receiver and events,
    starting at the current real time (whole seconds) unless ``clock_start`` pins it."""
    from . import fixtures as impl

    return impl.clock(request, hookmock_settings)


@pytest.fixture
def hookmock_profile(hookmock_settings: Settings) -> Profile:
    """The :class:`~hookmock.Profile` chosen for this test (default ``moda``)."""
    from . import fixtures as impl

    return impl.profile(hookmock_settings)


@pytest.fixture
def hookmock_secret(hookmock_settings: Settings, hookmock_profile: Profile) -> str:
    """The signing secret (Moda) / webhook token (mod.io) of this test."""
    from . import fixtures as impl

    return impl.secret(hookmock_settings, hookmock_profile)


@pytest.fixture
def hookmock_events(
    hookmock_settings: Settings, hookmock_profile: Profile, hookmock_clock: VirtualClock
) -> EventFactory:
    """An :class:`~hookmock.EventFactory` seeded for this test, stamped by ``hookmock_clock``."""
    from . import fixtures as impl

    return impl.events(hookmock_settings, hookmock_profile, hookmock_clock)


@pytest.fixture
def hookmock_verify(
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
    hookmock_events: EventFactory,
) -> Verifier:
    """Sign and verify with this test's profile, secret and clock (``sign``, ``signed_request``,
    ``verify``, ``check``, ``assert_valid``, ``assert_rejected``)."""
    from . import fixtures as impl

    return impl.verify(hookmock_profile, hookmock_secret, hookmock_clock, hookmock_events)


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
    from . import fixtures as impl

    yield from impl.make_senders(
        request, hookmock_settings, hookmock_profile, hookmock_secret, hookmock_clock
    )


@pytest.fixture
def hookmock_sender(hookmock_make_sender: Callable[..., Sender]) -> Sender:
    """A :class:`~hookmock.Sender` bound to this test's profile, secret and ``hookmock_clock``:
    ``send(url_or_wsgi_app, event_type, **overrides) -> Delivery``."""
    return hookmock_make_sender()


@pytest.fixture(scope="session")
def _hookmock_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionResources]:
    from . import fixtures as impl

    yield from impl.session_resources(tmp_path_factory)


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
    from . import fixtures as impl

    yield from impl.receiver(request, hookmock_settings, hookmock_profile, hookmock_secret, hookmock_clock)


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
    from . import fixtures as impl

    yield from impl.make_receivers(
        request, hookmock_settings, hookmock_profile, hookmock_secret, hookmock_clock
    )


@pytest.fixture
def hookmock_proxy(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_clock: VirtualClock,
) -> Callable[..., Any]:
    """``make(upstream, profile=None, *, clock=None, **options) -> FaultProxy``: a fault proxy in front
    of an app (WSGI or ASGI, or ``(app, "/path")``; or an upstream URL) on this test's profile and
    clock.  Give the proxy to a sender as its target: ``lose_ack()``, ``duplicate()``,
    ``tamper()``, ``replay(captured)``."""
    from . import fixtures as impl

    return impl.proxy(request, hookmock_settings, hookmock_profile, hookmock_clock)


@pytest.fixture
def hookmock_audit(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Callable[..., Any]:
    """``run(target, *, probe=None, check=True, **audit_options) -> AuditReport``: the receiver audit
    against a URL, a WSGI or ASGI app, or ``(app, "/path")``, with this test's profile, secret,
    seed and clock; with ``check=True`` a failed check fails the test with the report."""
    from . import fixtures as impl

    return impl.audit(request, hookmock_settings, hookmock_profile, hookmock_secret, hookmock_clock)


@pytest.fixture
def hookmock_scenario(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Callable[..., Any]:
    """``run(scenario, target, *, probe=None, check=True, **options) -> ScenarioResult``: a scenario
    file (a path, or the name of an example shipped with hookmock such as ``"moda-lost-ack"``)
    against an app (WSGI or ASGI), ``(app, "/path")`` or URL, with this test's secret and clock; a
    failed step fails the test."""
    from . import fixtures as impl

    return impl.scenario(request, hookmock_settings, hookmock_secret, hookmock_clock)


@pytest.fixture(scope="session")
def _hookmock_emulator_process(
    tmp_path_factory: pytest.TempPathFactory, _hookmock_session: SessionResources
) -> Iterator[EmulatorProcess]:
    from . import fixtures as impl

    yield from impl.emulator_process(tmp_path_factory, _hookmock_session)


@pytest.fixture
def hookmock_emulator(
    request: pytest.FixtureRequest, hookmock_settings: Settings, _hookmock_emulator_process: EmulatorProcess
) -> Iterator[EmulatorProcess]:
    """The session's ``hookmock serve`` process (one per worker; virtual clock; accepts http://
    callbacks), reset before each test.  Gives ``base_url``, ``api_key``, ``signing_secret``,
    ``request()``, ``control()``, ``advance()``, ``clock`` (reads the emulator's clock) and
    ``receiver``: a fake receiver for its callbacks, bound to its signing secret and clock."""
    from . import fixtures as impl

    yield from impl.emulator(request, hookmock_settings, _hookmock_emulator_process)


# -- the fixtures' types, for annotations --------------------------------------------------------

#: ``def test_x(hookmock_receiver: PluginReceiver)``: the types the fixtures give, importable from
#: here and loaded on first use (with their module), so start-up stays as light as before.
FIXTURE_TYPES = {
    "EmulatorProcess": ".emulator",
    "PluginReceiver": ".receiver",
    "Settings": ".settings",
    "Verifier": ".support",
}


def __getattr__(name: str) -> Any:
    module = FIXTURE_TYPES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)
