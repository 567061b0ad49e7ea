from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import hookmock
import hookmock.profiles as profiles_pkg
from hookmock.clock import SECOND
from hookmock.errors import UnknownProfile

SRC = Path(hookmock.__file__).parent


def test_registry_finds_builtin_profiles():
    assert {"moda", "modio"} <= set(hookmock.available_profiles())
    moda = hookmock.get_profile("moda")
    assert hookmock.get_profile(moda) is moda
    with pytest.raises(UnknownProfile, match=r"choose one of: .*moda.*modio"):
        hookmock.get_profile("stripe")


def test_moda_rules():
    moda = hookmock.get_profile("moda")
    assert moda.deadline_ns == 30 * SECOND
    assert moda.retry_delays_ns == (1 * SECOND, 5 * SECOND, 30 * SECOND)
    assert moda.max_attempts == 4
    assert moda.manual_retry == "new_delivery"
    assert [s for s in (199, 200, 204, 299, 300, 301, 302, 304, 400, 500) if moda.is_success(s)] == [
        200,
        204,
        299,
    ]


def test_modio_rules():
    modio = hookmock.get_profile("modio")
    assert modio.deadline_ns == 5 * SECOND
    assert modio.retry_delays_ns == ()
    assert modio.max_attempts == 1
    assert modio.manual_retry == "same_entry"
    assert modio.is_success(200) and modio.is_success(299) and not modio.is_success(302)


def test_a_third_provider_is_one_new_module(tmp_path, monkeypatch):
    module = tmp_path / "acme.py"
    module.write_text(
        textwrap.dedent(
            """
        from hookmock.profiles.modio import ModioProfile

        class AcmeProfile(ModioProfile):
            name = "acme"
            title = "Acme"

        PROFILE = AcmeProfile()
        """
        )
    )
    monkeypatch.setattr(profiles_pkg, "__path__", [*profiles_pkg.__path__, str(tmp_path)])
    assert "acme" in hookmock.available_profiles()
    assert hookmock.get_profile("acme").title == "Acme"
    profiles_pkg._registry.pop("acme", None)


def test_a_profile_whose_sign_predates_message_id_still_sends_and_verifies():
    """A third-party profile written against the older ``sign(body, secret, timestamp)`` (no
    ``message_id`` keyword) keeps working: the engine's message id is dropped for it."""
    from hookmock.profiles.moda import ModaProfile, sign_request

    class OldStyle(ModaProfile):
        name = "old-style"

        def sign(self, body, secret, timestamp):  # type: ignore[override]
            return sign_request(body, secret, timestamp)

    old = OldStyle()
    body = b'{"id":"evt_1"}'
    headers = old.sign(body, "whsec_x", 1_700_000_000, message_id="msg_ignored")
    assert headers == sign_request(body, "whsec_x", 1_700_000_000)
    sent = hookmock.sign(old, body, "whsec_x", timestamp=1_700_000_000)
    hookmock.verify(old, sent, body, "whsec_x", now=1_700_000_000)  # raises if not authentic


def _sources_outside(folder: str) -> list[Path]:
    return [p for p in SRC.rglob("*.py") if folder not in p.relative_to(SRC).parts]


def test_no_provider_header_names_outside_profiles():
    pattern = re.compile(r"X-Webhook-|X-Modio-|Moda-Version", re.IGNORECASE)
    offenders = [str(p) for p in _sources_outside("profiles") if pattern.search(p.read_text())]
    assert offenders == []


def test_only_the_clock_reads_system_time():
    pattern = re.compile(
        r"\btime\.(time|time_ns|monotonic|monotonic_ns|perf_counter)\(|datetime\.(now|utcnow)\("
    )
    offenders = [str(p) for p in SRC.rglob("*.py") if p.name != "clock.py" and pattern.search(p.read_text())]
    assert offenders == []


@pytest.mark.parametrize("name", ["moda", "modio"])
def test_serialize_sends_utf8_not_ascii_escapes(name: str) -> None:
    """Providers send non-ASCII text as UTF-8 bytes; an escaped body would sign other bytes."""
    body = hookmock.get_profile(name).serialize({"title": "ünïcødé ☃ 🚀", "n": 1})
    assert body == '{"title":"ünïcødé ☃ 🚀","n":1}'.encode()


def test_delivery_headers_floor_a_float_clock_and_sign_that_second() -> None:
    from hookmock.profiles.moda import TIMESTAMP_HEADER

    moda, secret, body = hookmock.get_profile("moda"), "whsec_floor", b'{"id":"evt_1"}'
    headers = moda.delivery_headers(body, secret, 1_700_000_000.9)
    assert headers[TIMESTAMP_HEADER] == "1700000000"
    assert headers["Content-Type"] == "application/json" and headers["User-Agent"].startswith("hookmock/")
    assert moda.verify(headers, body, secret, now=1_700_000_000) == 1_700_000_000


def test_check_uses_the_tolerance_given_and_reads_the_timestamp_back() -> None:
    moda, secret, body = hookmock.get_profile("moda"), "whsec_tol", b"{}"
    headers = moda.sign(body, secret, 1_700_000_000)
    assert moda.check(headers, body, secret, now=1_700_000_020, tolerance=10).fresh is False
    passed = moda.check(headers, body, secret, now=1_700_000_020, tolerance=30)
    assert passed.ok is True and passed.timestamp == 1_700_000_000
