"""Settings of the pytest plugin: marker > command line > ini file > default.

Imported when a test first uses a ``hookmock_*`` fixture (or pytest is given a ``--hookmock-*``
value to check); the options themselves are declared in :mod:`hookmock.pytest_plugin`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_PROFILE", "MARKER_KEYS", "Settings", "check_startup_values", "resolve_settings"]

DEFAULT_PROFILE = "moda"
#: Keyword arguments the ``@pytest.mark.hookmock(...)`` marker accepts.
MARKER_KEYS = ("profile", "secret", "seed", "tls", "clock_start")

#: Unix seconds a pinned ``clock_start`` must stay below (2200-01-01T00:00:00Z, as the emulator).
_LATEST_S = 7_258_118_400
_NS = 1_000_000_000

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A bad option, ini value or marker argument (the message names it and what to do)."""


@dataclass(frozen=True)
class Settings:
    """What one test's hookmock fixtures are bound to.

    ``seed`` is the configured seed, or ``None``: then each test gets a seed derived from its node
    id (stable from run to run, different from test to test), shown as ``effective_seed``.
    ``clock_start`` is where ``hookmock_clock`` starts (ns since the epoch), or ``None``: the
    current real time in whole seconds, so receivers that check freshness against the wall clock
    accept the fixtures' deliveries.
    """

    profile: str
    secret: str | None = field(repr=False)  # never in a repr (reports, tracebacks)
    seed: int | None
    tls: bool
    nodeid: str = ""
    clock_start: int | None = None

    @property
    def effective_seed(self) -> int:
        if self.seed is not None:
            return self.seed
        return zlib.crc32(self.nodeid.encode("utf-8"))

    def describe(self, clock_start_ns: int | None = None) -> str:
        """One line for failure reports; ``clock_start_ns``: where this test's clock started."""
        how = "" if self.seed is not None else " (from the test id)"
        pin = f"seed={self.effective_seed}"
        clock = ""
        if clock_start_ns is not None:
            when = _iso(clock_start_ns)
            clock = f" clock_start={when}{'' if self.clock_start is not None else ' (now)'}"
            pin += f", clock_start={when!r}"
        return (
            f"hookmock: profile={self.profile} seed={self.effective_seed}{how} "
            f"tls={'on' if self.tls else 'off'}{clock}"
            f" -- reproduce with @pytest.mark.hookmock({pin})"
        )


def _iso(ns: int) -> str:
    from datetime import datetime, timezone

    when = datetime.fromtimestamp(ns // _NS, tz=timezone.utc)
    return when.isoformat().replace("+00:00", "Z")


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


def parse_secret(value: object, where: str, *, empty_is_unset: bool = True) -> str | None:
    """A secret from an option or the ini file (empty: not set, so generated), or from a marker
    (``empty_is_unset=False``: ``secret=""`` is refused, as the CLI refuses ``--secret ''``; leave
    ``secret`` out for a generated one).  One line of UTF-8 text, checked as the CLI checks it."""
    from .._util.secret_text import check_secret_text
    from ..errors import UsageError

    if value is None or (value == "" and empty_is_unset):
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{where}: the secret must be a string, not {type(value).__name__}")
    if value == "":
        raise SettingsError(
            f"{where}: the secret is empty; give a non-empty secret, or leave secret out for one "
            "generated from the test's seed"
        )
    try:
        check_secret_text(value, f"{where}: the secret")
    except UsageError as exc:
        raise SettingsError(str(exc)) from None
    return value


def parse_clock_start(value: object, where: str) -> int | None:
    """``now`` (or nothing): ``None``; unix seconds (a number), an ISO 8601 time with a zone, or
    a date (midnight UTC): nanoseconds since the epoch."""
    from datetime import date, datetime, timezone

    hint = "give now, unix seconds (1777593600) or an ISO 8601 time such as 2026-05-01T00:00:00Z"
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "now")):
        return None
    seconds: float | None = None
    if isinstance(value, bool):
        raise SettingsError(f"{where}={value!r} is not a time; {hint}")
    if isinstance(value, (int, float)):
        seconds = value
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text) if text.replace(".", "", 1).isdigit() else None
            if seconds is None:
                if len(text) == 10:  # a date: midnight UTC
                    text += "T00:00:00+00:00"
                moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
        except ValueError:
            raise SettingsError(f"{where}={value!r} is not a time; {hint}") from None
    else:
        raise SettingsError(f"{where}={value!r} is not a time; {hint}")
    if seconds is None:
        if moment.tzinfo is None:
            raise SettingsError(f"{where}={value!r} has no time zone; add one, e.g. Z for UTC")
        seconds = moment.timestamp()
    if not 0 <= seconds < _LATEST_S:
        raise SettingsError(f"{where}={value!r} is out of range (1970 to 2199); {hint}")
    return round(seconds * _NS)


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
        "clock_start": parse_clock_start(ini.get("clock_start"), "hookmock_clock_start (ini)"),
    }
    from_cli = {
        "profile": parse_profile(option.get("profile"), "--hookmock-profile"),
        "secret": parse_secret(option.get("secret"), "--hookmock-secret"),
        "seed": parse_seed(option.get("seed"), "--hookmock-seed"),
        "tls": option.get("tls"),
        "clock_start": parse_clock_start(option.get("clock_start"), "--hookmock-clock-start"),
    }
    merged.update({k: v for k, v in from_cli.items() if v is not None})
    if option.get("clock_start") is not None and from_cli["clock_start"] is None:
        merged["clock_start"] = None  # --hookmock-clock-start now: overrides a start pinned in the ini
    for kwargs in reversed(markers):  # farthest first, so the closest marker wins
        unknown = sorted(set(kwargs) - set(MARKER_KEYS))
        if unknown:
            raise SettingsError(
                f"@pytest.mark.hookmock got unknown argument(s) {', '.join(unknown)}; "
                f"it accepts {', '.join(MARKER_KEYS)}"
            )
        parsers = {
            "profile": lambda v: parse_profile(v, "@pytest.mark.hookmock(profile=...)"),
            "secret": lambda v: parse_secret(v, "@pytest.mark.hookmock(secret=...)", empty_is_unset=False),
            "seed": lambda v: parse_seed(v, "@pytest.mark.hookmock(seed=...)"),
            "tls": lambda v: parse_bool(v, "@pytest.mark.hookmock(tls=...)"),
            "clock_start": lambda v: parse_clock_start(v, "@pytest.mark.hookmock(clock_start=...)"),
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
        clock_start=merged["clock_start"],
    )


def check_profile_name(value: object, where: str) -> None:
    """A profile name from the command line, the ini file or a marker must name a profile.

    A profile shipped with hookmock is known by its module's file, without loading the profile
    registry (and with it the profiles' base, redaction, the clock): at start-up, a project whose
    ini names ``hookmock_profile`` pays for it only in the tests that use a fixture."""
    name = parse_profile(value, where)
    if name is None or _shipped_profile(name):
        return
    from ..errors import UsageError
    from ..profiles import get_profile

    try:
        get_profile(name)
    except UsageError as exc:
        raise SettingsError(f"{where}: {exc}") from None


def _shipped_profile(name: str) -> bool:
    """Whether ``name`` is a profile shipped with hookmock (one module of :mod:`hookmock.profiles`,
    ``-`` for ``_``), read from the package's folder without importing it; False when unsure."""
    import importlib.util
    import os

    module_name = name.replace("-", "_")
    if not module_name.isidentifier() or module_name.startswith("_"):
        return False
    try:
        spec = importlib.util.find_spec("hookmock.profiles")
    except (ImportError, ValueError):  # pragma: no cover - hookmock is importable here
        return False
    for folder in (spec.submodule_search_locations or ()) if spec is not None else ():
        if os.path.isfile(os.path.join(folder, module_name + ".py")) or os.path.isfile(
            os.path.join(folder, module_name, "__init__.py")
        ):
            return True
    return False


def check_startup_values(given: dict[str, tuple[Any, Any]]) -> str | None:
    """Why the ``(option, ini)`` values of ``profile``, ``secret``, ``seed``, ``tls`` and
    ``clock_start`` are unusable, or ``None``: checked when pytest starts, so a bad value is one
    usage error before anything runs (not an error at the set-up of every test)."""
    option_profile, ini_profile = given.get("profile", (None, None))
    option_secret, ini_secret = given.get("secret", (None, None))
    try:
        check_profile_name(option_profile, "--hookmock-profile")
        check_profile_name(ini_profile, "hookmock_profile (ini)")
        parse_secret(option_secret, "--hookmock-secret")
        parse_secret(ini_secret, "hookmock_secret (ini)")
    except SettingsError as exc:
        return str(exc)
    option_seed, ini_seed = given.get("seed", (None, None))
    option_start, ini_start = given.get("clock_start", (None, None))
    ini_tls = given.get("tls", (None, None))[1]
    try:
        parse_seed(option_seed, "--hookmock-seed")
        parse_seed(ini_seed, "hookmock_seed (ini)")
        parse_clock_start(option_start, "--hookmock-clock-start")
        parse_clock_start(ini_start, "hookmock_clock_start (ini)")
        if ini_tls:
            parse_bool(ini_tls, "hookmock_tls (ini)")
    except SettingsError as exc:
        return str(exc)
    return None
