"""The plugin's surface: one list of its fixtures and hooks, and the fixtures' types importable for
annotations without loading them at start-up."""

from __future__ import annotations

import pytest
from _pytest.fixtures import getfixturemarker

import hookmock.pytest_plugin as plugin

pytest_plugins = ["pytester"]


def test_each_fixture_type_is_the_class_its_fixture_gives() -> None:
    from hookmock.pytest_plugin.emulator import EmulatorProcess
    from hookmock.pytest_plugin.receiver import PluginReceiver
    from hookmock.pytest_plugin.settings import Settings
    from hookmock.pytest_plugin.support import Verifier

    assert plugin.PluginReceiver is PluginReceiver
    assert plugin.Verifier is Verifier
    assert plugin.Settings is Settings
    assert plugin.EmulatorProcess is EmulatorProcess
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        plugin.Nothing  # noqa: B018


def test_annotations_with_the_types_work_in_a_user_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        import sys

        from hookmock.pytest_plugin import PluginReceiver, Settings, Verifier

        def test_typed(hookmock_receiver: PluginReceiver, hookmock_verify: Verifier,
                       hookmock_settings: Settings):
            assert isinstance(hookmock_receiver, PluginReceiver)
            assert isinstance(hookmock_verify, Verifier)
            assert isinstance(hookmock_settings, Settings)
        """
    )
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "hookmock")
    result.assert_outcomes(passed=1)


def test_all_lists_exactly_the_fixtures_and_hooks_the_plugin_defines() -> None:
    fixtures = {name for name in dir(plugin) if getfixturemarker(getattr(plugin, name)) is not None}
    hooks = {name for name in dir(plugin) if name.startswith("pytest_") and callable(getattr(plugin, name))}
    assert plugin.__all__ == sorted(plugin.__all__)
    assert set(plugin.__all__) == fixtures | hooks


def test_the_docstring_names_every_public_fixture() -> None:
    public = [name for name in plugin.__all__ if name.startswith("hookmock_")]
    doc = plugin.__doc__ or ""
    assert [name for name in public if f"``{name}``" not in doc] == []
