"""Settings of the pytest plugin: marker > command line > ini file > default.

Standard library and pytest only: the plugin imports this module at start-up.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["DEFAULT_PROFILE", "MARKER_KEYS", "Settings", "add_options", "resolve_settings"]

DEFAULT_PROFILE = "moda"
#: Keyword arguments the ``@pytest.mark.hookmock(...)`` marker accepts.
MARKER_KEYS = ("profile", "secret", "seed", "tls")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A bad option, ini value or marker argument (the message names it and what to do)."""


@dataclass(frozen=True)
class Settings:
    """What one test's hookmock fixtures are bound to.

    ``seed`` is the configured seed, or ``None``: then each test gets a seed derived from its node
    id (stable from run to run, different from test to test), shown as ``effective_seed``.
    """

    profile: str
    secret: str | None
    seed: int | None
    tls: bool
    nodeid: str = ""

    @property
    def effective_seed(self) -> int:
        if self.seed is not None:
            return self.seed
        return zlib.crc32(self.nodeid.encode("utf-8"))

    def describe(self) -> str:
        how = "" if self.seed is not None else " (from the test id)"
        return (
            f"hookmock: profile={self.profile} seed={self.effective_seed}{how} "
            f"tls={'on' if self.tls else 'off'}"
            f" -- reproduce with @pytest.mark.hookmock(seed={self.effective_seed})"
        )


def parse_bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{where}={value!r} is not a boolean; use true/false (or on/off, 1/0)")


def parse_seed(value: object, where: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise SettingsError(f"{where}={value!r} is not a seed; give an integer")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip(), 0)
    except ValueError:
        raise SettingsError(f"{where}={value!r} is not a seed; give an integer, e.g. {where}=1234") from None


def parse_secret(value: object, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{where}: the secret must be a string, not {type(value).__name__}")
    return value


def parse_profile(value: object, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{where}={value!r}: give a profile name such as 'moda' or 'modio'")
    return value.strip()


def resolve_settings(
    *,
    option: dict[str, Any],
    ini: dict[str, Any],
    markers: list[dict[str, Any]],
    nodeid: str = "",
) -> Settings:
    """Merge the sources; ``markers`` are ordered closest first (function, class, module)."""
    merged: dict[str, Any] = {
        "profile": parse_profile(ini.get("profile"), "hookmock_profile (ini)"),
        "secret": parse_secret(ini.get("secret"), "hookmock_secret (ini)"),
        "seed": parse_seed(ini.get("seed"), "hookmock_seed (ini)"),
        "tls": None if ini.get("tls") in (None, "") else parse_bool(ini["tls"], "hookmock_tls (ini)"),
    }
    from_cli = {
        "profile": parse_profile(option.get("profile"), "--hookmock-profile"),
        "secret": parse_secret(option.get("secret"), "--hookmock-secret"),
        "seed": parse_seed(option.get("seed"), "--hookmock-seed"),
        "tls": option.get("tls"),
    }
    merged.update({k: v for k, v in from_cli.items() if v is not None})
    for kwargs in reversed(markers):  # farthest first, so the closest marker wins
        unknown = sorted(set(kwargs) - set(MARKER_KEYS))
        if unknown:
            raise SettingsError(
                f"@pytest.mark.hookmock got unknown argument(s) {', '.join(unknown)}; "
                f"it accepts {', '.join(MARKER_KEYS)}"
            )
        parsers = {
            "profile": lambda v: parse_profile(v, "@pytest.mark.hookmock(profile=...)"),
            "secret": lambda v: parse_secret(v, "@pytest.mark.hookmock(secret=...)"),
            "seed": lambda v: parse_seed(v, "@pytest.mark.hookmock(seed=...)"),
            "tls": lambda v: parse_bool(v, "@pytest.mark.hookmock(tls=...)"),
        }
        for key, value in kwargs.items():
            if value is not None:
                merged[key] = parsers[key](value)
    return Settings(
        profile=merged["profile"] or DEFAULT_PROFILE,
        secret=merged["secret"],
        seed=merged["seed"],
        tls=bool(merged["tls"]),
        nodeid=nodeid,
    )


def add_options(parser: pytest.Parser) -> None:
    """The plugin's command-line options and ini settings (all documented in ``pytest --help``)."""
    group = parser.getgroup("hookmock", "hookmock (webhook sender, fake receiver and fixtures)")
    group.addoption(
        "--hookmock-profile",
        dest="hookmock_profile",
        metavar="NAME",
        default=None,
        help="provider profile of the hookmock_* fixtures: moda (default) or modio. Ini: hookmock_profile.",
    )
    group.addoption(
        "--hookmock-secret",
        dest="hookmock_secret",
        metavar="SECRET",
        default=None,
        help="signing secret / webhook token of the fixtures (default: generated from the seed). "
        "Ini: hookmock_secret.",
    )
    group.addoption(
        "--hookmock-seed",
        dest="hookmock_seed",
        metavar="N",
        default=None,
        help="seed of generated events and secrets (default: derived from each test's id, so every run "
        "sends the same events). Ini: hookmock_seed.",
    )
    group.addoption(
        "--hookmock-tls",
        dest="hookmock_tls",
        action="store_const",
        const=True,
        default=None,
        help="serve hookmock_receiver over HTTPS with a test CA generated at run time. Ini: hookmock_tls.",
    )
    group.addoption(
        "--hookmock-no-tls",
        dest="hookmock_tls",
        action="store_const",
        const=False,
        help="serve hookmock_receiver over plain HTTP (the default).",
    )
    parser.addini("hookmock_profile", "default provider profile of the hookmock_* fixtures (moda, modio)")
    parser.addini("hookmock_secret", "signing secret / webhook token of the hookmock_* fixtures")
    parser.addini("hookmock_seed", "seed of generated events and secrets (integer)")
    parser.addini("hookmock_tls", "true: serve hookmock_receiver over HTTPS with a run-time test CA")
