"""The plugin's configuration: marker > command line > ini > default; bad values; -p no:hookmock."""

from __future__ import annotations

import json
import sys

import pytest

# Imported here, in the outer process, so that pytester's in-process runs (which drop the modules
# they import) all share one copy of hookmock's classes and of cryptography's (whose Rust extension
# cannot be imported twice).
import hookmock._util.tls
import hookmock.auditing
import hookmock.pytest_plugin.receiver
import hookmock.pytest_plugin.support
import hookmock.receiver.proxy
import hookmock.sender  # noqa: F401

pytest_plugins = ["pytester"]

REPORT_SETTINGS = """
import json, pathlib, pytest

def _dump(name, settings, secret, profile):
    pathlib.Path(name + ".json").write_text(json.dumps(
        {"profile": settings.profile, "seed": settings.seed, "tls": settings.tls, "secret": secret,
         "profile_obj": profile.name}))

def test_plain(hookmock_settings, hookmock_secret, hookmock_profile):
    _dump("plain", hookmock_settings, hookmock_secret, hookmock_profile)

@pytest.mark.hookmock(profile="modio", seed=7, secret="from-marker", tls=False)
def test_marked(hookmock_settings, hookmock_secret, hookmock_profile):
    _dump("marked", hookmock_settings, hookmock_secret, hookmock_profile)

@pytest.mark.hookmock(seed=99)
class TestClass:
    @pytest.mark.hookmock(seed=5)
    def test_closest_marker_wins(self, hookmock_settings, hookmock_secret, hookmock_profile):
        _dump("closest", hookmock_settings, hookmock_secret, hookmock_profile)
"""


def _read(pytester: pytest.Pytester, name: str) -> dict[str, object]:
    return json.loads((pytester.path / f"{name}.json").read_text())


def test_defaults(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(REPORT_SETTINGS)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
    plain = _read(pytester, "plain")
    assert plain["profile"] == "moda" and plain["profile_obj"] == "moda"
    assert plain["seed"] is None and plain["tls"] is False
    assert str(plain["secret"]).startswith("whsec_")
    marked = _read(pytester, "marked")
    assert marked == {
        "profile": "modio",
        "seed": 7,
        "tls": False,
        "secret": "from-marker",
        "profile_obj": "modio",
    }
    assert _read(pytester, "closest")["seed"] == 5


def test_ini_then_command_line_then_marker(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        hookmock_profile = modio
        hookmock_seed = 11
        hookmock_secret = from-ini
        hookmock_tls = true
        """
    )
    pytester.makepyfile(REPORT_SETTINGS)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
    assert _read(pytester, "plain") == {
        "profile": "modio",
        "seed": 11,
        "tls": True,
        "secret": "from-ini",
        "profile_obj": "modio",
    }
    pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "--hookmock-profile=moda",
        "--hookmock-seed=12",
        "--hookmock-secret=from-cli",
        "--hookmock-no-tls",
    ).assert_outcomes(passed=3)
    assert _read(pytester, "plain") == {
        "profile": "moda",
        "seed": 12,
        "tls": False,
        "secret": "from-cli",
        "profile_obj": "moda",
    }
    assert _read(pytester, "marked")["profile"] == "modio"  # the marker still wins
    assert _read(pytester, "marked")["secret"] == "from-marker"


def test_options_are_documented_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "hookmock*",
            "*--hookmock-profile=NAME*",
            "*--hookmock-secret=SECRET*",
            "*--hookmock-seed=N*",
            "*--hookmock-tls*",
            "*--hookmock-no-tls*",
            "*--hookmock-clock-start=WHEN*",
        ]
    )
    for ini in (
        "hookmock_profile",
        "hookmock_secret",
        "hookmock_seed",
        "hookmock_tls",
        "hookmock_clock_start",
    ):
        assert ini in result.stdout.str()
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.hookmock(profile=None, secret=None, seed=None, tls=None, clock_start=None)*"]
    )


def test_a_bad_seed_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("--hookmock-seed=abc")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--hookmock-seed='abc' is not a seed; give an integer*"])


def test_a_bad_ini_tls_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nhookmock_tls = maybe\n")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*hookmock_tls (ini)='maybe' is not a boolean*"])


@pytest.mark.parametrize(
    ("ini", "args", "message"),
    [
        ("", ["--hookmock-profile", "nope"], "*--hookmock-profile: unknown profile 'nope'; choose one of*"),
        ("hookmock_profile = gitlab\n", [], "*hookmock_profile (ini): unknown profile 'gitlab'*"),
    ],
)
def test_a_bad_profile_is_reported_once_at_start_up(
    pytester: pytest.Pytester, ini: str, args: list[str], message: str
) -> None:
    """Not at the set-up of every test: one usage error before anything runs, as for a bad seed."""
    pytester.makeini("[pytest]\n" + ini)
    pytester.makepyfile(
        "def test_a(hookmock_profile):\n    pass\n\ndef test_b(hookmock_profile):\n    pass\n"
    )
    result = pytester.runpytest("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert result.stderr.str().count("unknown profile") == 1
    assert "test_a" not in result.stdout.str()  # nothing ran


def test_marker_errors_are_reported_once_per_test_without_a_chained_traceback(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.hookmock(seed="abc")
        def test_bad_seed(hookmock_settings):
            pass

        @pytest.mark.hookmock(profile="gitlab")
        def test_unknown_profile(hookmock_profile):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    assert "During handling of the above exception" not in out
    # once per test in the error report; the short summary repeats it in full when CI is set
    report = out.split("short test summary info")[0]
    assert report.count("is not a seed; give an integer, e.g.") == 1, out
    assert report.count("unknown profile 'gitlab'; choose one of") == 1, out


def test_bad_marker_arguments_and_unknown_profile_fail_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.hookmock(profil="modio")
        def test_typo(hookmock_settings):
            pass

        @pytest.mark.hookmock(profile="gitlab")
        def test_unknown_profile(hookmock_profile):
            pass

        @pytest.mark.hookmock("modio")
        def test_positional(hookmock_settings):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.hookmock got unknown argument(s) profil; "
            "it accepts profile, secret, seed, tls, clock_start*",
            "*unknown profile 'gitlab'; choose one of*moda*modio*",
            "*takes keyword arguments only*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_p_no_hookmock_disables_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_uses_fixture(hookmock_clock):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:hookmock", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'hookmock_clock' not found*"])
    assert "--hookmock-profile" not in pytester.runpytest("-p", "no:hookmock", "--help").stdout.str()
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_importing_the_plugin_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    result = pytester.run(
        sys.executable,
        "-c",
        "import sys, hookmock.pytest_plugin; "
        "heavy = [m for m in ('werkzeug', 'jsonschema', 'faker', 'hypothesis', 'sqlite3', 'cryptography', "
        "'pytest_httpserver', 'hookmock.sender', 'hookmock.receiver.server', "
        "'hookmock.pytest_plugin.fixtures', 'hookmock.pytest_plugin.settings', 'hookmock.clock') "
        "if m in sys.modules]; "
        "print('HEAVY', heavy)",
    )
    result.stdout.fnmatch_lines(["HEAVY []"])


def test_a_run_that_uses_no_fixture_loads_none_of_their_work(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        import sys

        def test_plain():
            loaded = [m for m in sys.modules if m.startswith("hookmock.") and m != "hookmock._version"]
            assert sorted(loaded) == ["hookmock.pytest_plugin", "hookmock.pytest_plugin.stash"]

        def test_uses_one(hookmock_clock):
            assert "hookmock.pytest_plugin.fixtures" in sys.modules
        """
    )
    # a fresh process (in-process runs share this one's modules), without the other installed plugins
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "hookmock")
    result.assert_outcomes(passed=2)


REPORT_CLOCK = """
import datetime, pathlib, pytest
from hookmock.clock import RealClock

def _dump(name, clock, events):
    real = int(RealClock().time())
    event = events.event("task.succeeded")
    pathlib.Path(name + ".txt").write_text(f"{clock.now_ns()} {real} {event['id'][-16:]} {event['created']}")

def test_default(hookmock_clock, hookmock_events):
    _dump("default", hookmock_clock, hookmock_events)

@pytest.mark.hookmock(clock_start="2026-05-01T00:00:00Z")
def test_iso(hookmock_clock, hookmock_events):
    _dump("iso", hookmock_clock, hookmock_events)

@pytest.mark.hookmock(clock_start=datetime.date(2030, 1, 2))
def test_date(hookmock_clock, hookmock_events):
    _dump("date", hookmock_clock, hookmock_events)

@pytest.mark.hookmock(clock_start="now")
def test_now_wins(hookmock_clock, hookmock_events):
    _dump("now", hookmock_clock, hookmock_events)
"""


def _clock(pytester: pytest.Pytester, name: str) -> tuple[int, int, str, str]:
    now_ns, real, event_id, created = (pytester.path / f"{name}.txt").read_text().split()
    return int(now_ns), int(real), event_id, created


def test_the_clock_starts_at_the_real_time_unless_pinned(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(REPORT_CLOCK)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)
    now_ns, real, first_id, _ = _clock(pytester, "default")
    assert now_ns % 10**9 == 0 and real - 5 <= now_ns // 10**9 <= real  # whole seconds, the real time
    assert _clock(pytester, "iso")[0] == 1_777_593_600 * 10**9
    assert _clock(pytester, "iso")[3].startswith("2026-05-01T00:00:00")
    assert _clock(pytester, "date")[0] == 1_893_542_400 * 10**9  # midnight UTC
    assert abs(_clock(pytester, "now")[0] // 10**9 - real) <= 5

    # the seed still makes the payloads reproducible (the random part of ids); pinned, the same bytes
    pytester.runpytest("-p", "no:cacheprovider", "--hookmock-clock-start=1700000000").assert_outcomes(
        passed=4
    )
    assert (
        _clock(pytester, "default")[0] == 1_700_000_000 * 10**9 and _clock(pytester, "default")[2] == first_id
    )
    assert _clock(pytester, "iso")[0] == 1_777_593_600 * 10**9  # the marker wins over the option
    assert abs(_clock(pytester, "now")[0] // 10**9 - real) <= 60

    pytester.makeini("[pytest]\nhookmock_clock_start = 2026-05-01\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)
    assert _clock(pytester, "default")[0] == 1_777_593_600 * 10**9
    pytester.runpytest("-p", "no:cacheprovider", "--hookmock-clock-start=now").assert_outcomes(passed=4)
    assert abs(_clock(pytester, "default")[0] // 10**9 - real) <= 60  # now on the command line beats the ini


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (
            ["--hookmock-clock-start=yesterday"],
            "",
            "*--hookmock-clock-start='yesterday' is not a time; give now,*",
        ),
        ([], "hookmock_clock_start = 2026-05-01T00:00:00", "*hookmock_clock_start (ini)=* has no time zone*"),
        (["--hookmock-clock-start=99999999999"], "", "*is out of range (1970 to 2199)*"),
    ],
)
def test_a_bad_clock_start_is_a_usage_error(
    pytester: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()


def test_a_bad_clock_start_marker_fails_the_test_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.hookmock(clock_start=True)
        def test_x(hookmock_clock):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.hookmock(clock_start=...)=True is not a time*"])


def test_a_marker_secret_that_is_empty_or_not_one_line_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """As the CLI refuses ``--secret ''`` and a secret with a line break (same check): an empty
    marker secret is not silently replaced by a generated one."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.hookmock(secret="")
        def test_empty(hookmock_secret):
            pass

        @pytest.mark.hookmock(secret="a\\nb")
        def test_line_break(hookmock_secret):
            pass

        @pytest.mark.hookmock(secret="x\\x00y")
        def test_nul(hookmock_secret):
            pass

        @pytest.mark.hookmock(secret="fine")
        def test_fine(hookmock_secret):
            assert hookmock_secret == "fine"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=3)
    result.stdout.fnmatch_lines_random(
        [
            "*@pytest.mark.hookmock(secret=...): the secret is empty; give a non-empty secret, "
            "or leave secret out*",
            "*@pytest.mark.hookmock(secret=...): the secret has a line break at position 1; "
            "give it on one line*",
            "*@pytest.mark.hookmock(secret=...): the secret has a NUL at position 1; give it on one line*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "a\\nb" not in result.stdout.str()  # the message names where, never the secret itself


def test_an_option_or_ini_secret_with_a_line_break_is_refused_at_start(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(hookmock_secret):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--hookmock-secret=a\nb")
    assert result.ret != 0
    assert (
        "--hookmock-secret: the secret has a line break at position 1"
        in result.stderr.str() + result.stdout.str()
    )
