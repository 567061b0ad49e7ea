"""What the pytest plugin's fixtures do.  The fixtures themselves (names, dependencies, docstrings)
are declared in :mod:`hookmock.pytest_plugin`, which pytest loads at start-up; each one calls the
function of the same role here, so this module (and what it imports) is loaded only once a test
uses a ``hookmock_*`` fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..clock import SECOND, Clock, RealClock, VirtualClock
from .settings import MARKER_KEYS, Settings, SettingsError, resolve_settings
from .stash import STATE
from .support import SessionResources, TestState, Verifier, default_secret, make_sender, profile_named

if TYPE_CHECKING:  # pragma: no cover
    from ..factories import EventFactory
    from ..profiles import Profile
    from ..sender import Sender
    from .emulator import EmulatorProcess
    from .receiver import PluginReceiver

#: The settings' names: ``--hookmock-<name>`` (dest ``hookmock_<name>``) and ini ``hookmock_<name>``.
KEYS = ("profile", "secret", "seed", "tls", "clock_start")


# -- configuration -------------------------------------------------------------------------------


def settings(request: pytest.FixtureRequest) -> Settings:
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
        resolved = resolve_settings(
            option={k: config.getoption(f"hookmock_{k}") for k in KEYS},
            ini={k: config.getini(f"hookmock_{k}") for k in KEYS},
            markers=markers,
            nodeid=request.node.nodeid,
        )
        problem = None
    except SettingsError as exc:
        problem = str(exc)
    if problem is not None:  # failed outside the except: no chained "During handling..." traceback
        pytest.fail(problem, pytrace=False)
    if STATE not in request.node.stash:
        request.node.stash[STATE] = TestState(resolved)
    return resolved


def state(request: pytest.FixtureRequest) -> TestState:
    request.getfixturevalue("hookmock_settings")
    return request.node.stash[STATE]


def clock(request: pytest.FixtureRequest, hookmock_settings: Settings) -> VirtualClock:
    start = hookmock_settings.clock_start
    if start is None:
        start = RealClock().now_ns() // SECOND * SECOND
    state(request).clock_start_ns = start
    made = VirtualClock(start=start // SECOND)
    made.advance_to(start)  # a pinned start may have a fraction of a second
    return made


def profile(hookmock_settings: Settings) -> Profile:
    from ..errors import UsageError
    from ..profiles import get_profile

    try:
        return get_profile(hookmock_settings.profile)
    except UsageError as exc:
        problem = f"hookmock profile: {exc}"
    pytest.fail(problem, pytrace=False)  # outside the except: no chained traceback


def secret(hookmock_settings: Settings, hookmock_profile: Profile) -> str:
    return default_secret(hookmock_profile, hookmock_settings)


def events(
    hookmock_settings: Settings, hookmock_profile: Profile, hookmock_clock: VirtualClock
) -> EventFactory:
    from ..factories import EventFactory

    return EventFactory(hookmock_profile, seed=hookmock_settings.effective_seed, clock=hookmock_clock)


def verify(
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
    hookmock_events: EventFactory,
) -> Verifier:
    return Verifier(hookmock_profile, hookmock_secret, hookmock_clock, hookmock_events)


# -- sender --------------------------------------------------------------------------------------


def make_senders(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Iterator[Callable[..., Sender]]:
    test = state(request)
    made: list[Sender] = []
    seed = hookmock_settings.effective_seed

    def make(
        profile: str | Profile | None = None,
        secret: str | None = None,
        *,
        clock: Clock | None = None,
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
        session(request).trust(sender)  # trusts every HTTPS receiver the plugin starts
        made.append(sender)
        test.senders.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close()


# -- fake receivers ------------------------------------------------------------------------------


def session_resources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionResources]:
    resources = SessionResources(tmp_path_factory.mktemp("hookmock"))
    yield resources
    resources.close()


def session(request: pytest.FixtureRequest) -> SessionResources:
    resources: SessionResources = request.getfixturevalue("_hookmock_session")
    return resources


def receiver(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Iterator[PluginReceiver]:
    shared = session(request).shared_receiver(hookmock_settings.tls)
    shared.rebind(
        profile=hookmock_profile, secret=hookmock_secret, clock=hookmock_clock, handler=None, on_request=None
    )
    state(request).receivers.append(shared)
    yield shared
    shared.wait_idle(timeout=2.0)


def make_receivers(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Iterator[Callable[..., PluginReceiver]]:
    test = state(request)
    resources = session(request)
    made: list[PluginReceiver] = []

    def make(
        profile: str | Profile | None = None,
        secret: str | None = None,
        *,
        clock: Clock | None = None,
        tls: bool | None = None,
        **options: Any,
    ) -> PluginReceiver:
        chosen = hookmock_profile if profile is None else profile_named(profile)
        if secret is None and chosen.name == hookmock_profile.name:
            secret = hookmock_secret
        started = resources.new_receiver(
            chosen,
            secret,
            clock=hookmock_clock if clock is None else clock,
            tls=hookmock_settings.tls if tls is None else tls,
            **options,
        )
        made.append(started)
        test.receivers.append(started)
        return started

    yield make
    for started in made:
        started.wait_idle(timeout=2.0)
        started.stop()
        resources.started.remove(started)


# -- fault proxy, audit, scenario, emulator ------------------------------------------------------


def proxy(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_clock: VirtualClock,
) -> Callable[..., Any]:
    from ..receiver.proxy import FaultProxy

    test = state(request)

    def make(
        upstream: Any, profile: str | Profile | None = None, *, clock: Clock | None = None, **options: Any
    ) -> FaultProxy:
        if hookmock_settings.tls and isinstance(upstream, str):
            options.setdefault("ca_file", session(request).ca_file)
        made = FaultProxy(
            upstream,
            hookmock_profile if profile is None else profile_named(profile),
            clock=hookmock_clock if clock is None else clock,
            **options,
        )
        test.proxies.append(made)
        return made

    return make


def audit(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_profile: Profile,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Callable[..., Any]:
    from ..auditing import AuditReport
    from ..auditing import audit as run_audit

    def run(target: Any, *, check: bool = True, **options: Any) -> AuditReport:
        options.setdefault("profile", hookmock_profile)
        options.setdefault("secret", hookmock_secret)
        options.setdefault("clock", hookmock_clock)
        options.setdefault("seed", hookmock_settings.effective_seed)
        if hookmock_settings.tls and isinstance(target, str):
            options.setdefault("ca_file", session(request).ca_file)
        report = run_audit(target, **options)
        if report.files_dir is None:  # curl files under pytest's temporary folders, cleaned up by it
            report.files_dir = str(request.getfixturevalue("tmp_path_factory").mktemp("hookmock-audit"))
        if check and not report.ok:
            pytest.fail(f"the receiver audit found problems:\n\n{report.text()}", pytrace=False)
        return report

    return run


def scenario(
    request: pytest.FixtureRequest,
    hookmock_settings: Settings,
    hookmock_secret: str,
    hookmock_clock: VirtualClock,
) -> Callable[..., Any]:
    from ..scenarios import run_scenario
    from .support import find_scenario

    def run(scenario: Any, target: Any, *, check: bool = True, **options: Any) -> Any:
        options.setdefault("secret", hookmock_secret)
        options.setdefault("clock", hookmock_clock)
        if hookmock_settings.tls and isinstance(target, str):
            options.setdefault("ca_file", session(request).ca_file)
        result = run_scenario(find_scenario(scenario), target, **options)
        if check and not result.ok:
            pytest.fail(f"the scenario failed:\n\n{result.text()}", pytrace=False)
        return result

    return run


def emulator_process(
    tmp_path_factory: pytest.TempPathFactory, _hookmock_session: SessionResources
) -> Iterator[EmulatorProcess]:
    from .emulator import start_emulator

    args = ["--clock", "virtual", "--allow-http-callbacks", "--ca-file", _hookmock_session.ca_file]
    workdir: Path = tmp_path_factory.mktemp("hookmock-emulator")
    try:
        started = start_emulator(workdir, args)
        problem = None
    except RuntimeError as exc:
        problem = str(exc)
    if problem is not None:  # outside the except: no chained traceback
        pytest.fail(problem, pytrace=False)
    yield started
    started.stop()


def emulator(
    request: pytest.FixtureRequest, hookmock_settings: Settings, _hookmock_emulator_process: EmulatorProcess
) -> Iterator[EmulatorProcess]:
    process = _hookmock_emulator_process
    if not process.alive():
        pytest.fail("the hookmock emulator process has exited; see " + str(process.workdir), pytrace=False)
    process.reset()
    callbacks = session(request).emulator_receiver(hookmock_settings.tls, process.clock)
    callbacks.rebind(
        profile="moda", secret=process.signing_secret, clock=process.clock, handler=None, on_request=None
    )
    process.receiver = callbacks
    state(request).receivers.append(callbacks)
    yield process
    callbacks.wait_idle(timeout=2.0)
