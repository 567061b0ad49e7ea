"""The fixtures' types are importable from the plugin for annotations, without loading them at start-up."""

from __future__ import annotations

import pytest

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
