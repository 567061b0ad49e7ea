"""The one redaction mechanism (``hookmock._util.redact``): every form of a secret, pieces of it, cut
ends, bytes; and the leak paths around it (reprs, URL passwords in messages)."""

from __future__ import annotations

import base64
import json
import logging
import random
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookmock import FakeReceiver, Sender, VirtualClock
from hookmock._util.redact import MARKER, MIN_CUT_PIECE, MIN_PIECE, Redactor, hide_userinfo
from hookmock.auditing import audit
from hookmock.cli import main
from hookmock.emulator import Emulator, EmulatorConfig
from hookmock.emulator.client import EmulatorClient
from hookmock.ids import random_token
from hookmock.profiles import get_profile
from hookmock.transport import EXCERPT_BYTES
from secrets_support import N_CUT, N, Needles, encodings

SPECIAL = '"/+&<\\'
secret_text = st.text(alphabet=string.ascii_letters + string.digits + SPECIAL, min_size=12, max_size=60)
filler = st.text(alphabet=string.ascii_letters + string.digits + " .,:{}[]\"'\n", max_size=80)


@given(secret=secret_text, name=st.sampled_from(sorted(encodings("x"))), before=filler, after=filler)
def test_every_encoding_anywhere_leaves_no_piece(secret: str, name: str, before: str, after: str) -> None:
    text = before + encodings(secret)[name] + after
    out = Redactor([secret]).text(text)
    assert MARKER in out
    assert Needles([(secret, "")]).hits(out) == []


@given(
    secret=secret_text,
    name=st.sampled_from(sorted(encodings("x"))),
    before=filler,
    cut=st.integers(min_value=0, max_value=200),
    data=st.data(),
)
def test_an_excerpt_cut_inside_a_secret_keeps_no_piece_of_it(
    secret: str, name: str, before: str, cut: int, data: Any
) -> None:
    enc = encodings(secret)[name]
    body = (before + enc + " and again " + enc).encode()
    limit = data.draw(st.integers(min_value=1, max_value=len(body)), label="limit")
    out = Redactor([secret]).excerpt(body, limit)
    assert len(out) <= limit
    text = out.decode("utf-8", "replace")
    needles = Needles([(secret, "")])
    assert needles.hits(text) == []
    assert needles.cut_tail(text) is None


def test_base64_at_every_alignment_and_inside_other_base64() -> None:
    secret = random_token(40)
    r = Redactor([secret])
    for lead in ("", "a", "ab", "abc"):
        echoed = base64.b64encode(f'{{"h": "{lead}{secret}"}}'.encode()).decode()
        assert secret[:N] not in (out := r.text(echoed)) and MARKER in out
        assert Needles([(secret, "")]).hits(base64.b64decode(out.split(MARKER)[0] + "==")) == []


def test_public_prefix_is_kept_and_prefixed_base64_is_found_from_its_first_secret_bit() -> None:
    secret = get_profile("moda").generate_secret()
    moda = get_profile("moda")
    assert moda.redact(f"s={secret}.", secret) == f"s=whsec_{MARKER}."
    assert moda.redact(secret.upper(), secret) == f"WHSEC_{MARKER}"
    key = "moda_live_" + random_token(32)
    enc = base64.b64encode(key.encode()).decode()
    out = Redactor([(key, "moda_live_")]).text(enc)
    assert out.startswith(base64.b64encode(b"moda_live")[:12].decode()) and out.endswith(MARKER)
    assert len(out) - len(MARKER) <= 14  # only characters made of the prefix's bits remain


def test_pieces_in_the_middle_and_at_a_cut() -> None:
    secret = random_token(40)
    r = Redactor([secret])
    assert r.text(f"x {secret[5 : 5 + MIN_PIECE]} y") == f"x {MARKER} y"
    assert r.text(f"x {secret[5 : 5 + MIN_PIECE - 1]} y") == f"x {secret[5 : 5 + MIN_PIECE - 1]} y"
    end = "pad " + secret[:MIN_CUT_PIECE]
    assert r.text(end) == end  # not known to be cut: four characters may be anything
    assert r.text(end, cut=True) == "pad " + MARKER
    assert r.text("pad " + secret[: MIN_CUT_PIECE - 1], cut=True).endswith(secret[: MIN_CUT_PIECE - 1])


def test_bytes_keep_what_is_not_a_secret() -> None:
    secret = random_token(30)
    data = b"\xff\xfe head " + secret.lower().encode() + b" \x00 tail \xc3"
    assert Redactor([secret]).data(data) == b"\xff\xfe head " + MARKER.encode() + b" \x00 tail \xc3"


def test_short_secrets_only_whole_and_ordinary_text_untouched() -> None:
    assert Redactor(["whsec_test"]).text("latest whsec_test WHSEC_TEST") == f"latest {MARKER} {MARKER}"
    assert Redactor(["tok"]).text("tok TOK token") == f"{MARKER} TOK {MARKER}en"
    rng = random.Random(7)
    text = (
        "X-Modio-Webhook-Token: webhook-signature v1,"
        + base64.b64encode(rng.randbytes(32)).decode()
        + " sha256 "
        + rng.randbytes(32).hex()
        + ' The quick brown fox jumps over the lazy dog. 2026-11-30T00:00:00Z {"ok": true}'
    )
    for _ in range(200):
        secret = get_profile("moda").generate_secret(rng)
        assert Redactor([(secret, "whsec_"), random_token(40, rng)]).text(text, cut=True) == text


@pytest.mark.parametrize("profile", ["moda", "modio"])
def test_profiles_redact_every_form(profile: str) -> None:
    """Each profile's redact() removes every encoded form of its secret and keeps the text around it
    (a redact() that dropped or blanked the whole text would hide the secret too)."""
    secret = get_profile(profile).generate_secret()
    body = secret.removeprefix("whsec_")
    for name, form in encodings(secret).items():
        shown = get_profile(profile).redact(f"echo: {form} (end)", secret)
        assert body[10:20].lower() not in shown.lower(), name
        assert shown.startswith("echo: ") and shown.endswith(" (end)") and MARKER in shown, (name, shown)
    assert get_profile(profile).redact("nothing secret here", secret) == "nothing secret here"
    assert get_profile(profile).redact(f"x {secret} y", "") == f"x {secret} y"  # no secret: unchanged


def test_url_passwords_are_never_shown(capsys: pytest.CaptureFixture[str]) -> None:
    assert hide_userinfo("http://u:hunter2@127.0.0.1/x") == f"http://u:{MARKER}@127.0.0.1/x"
    assert hide_userinfo("http://127.0.0.1/a@b") == "http://127.0.0.1/a@b"
    for url in (
        "http://user:hunter2@127.0.0.1:9/x",
        "ftp://user:hunter2@127.0.0.1/x",
        "http://u:hunter2@[::1/x",
    ):
        assert main(["send", url, "--secret", "whsec_abcdefghijklmnop"]) == 2
        err = capsys.readouterr().err
        assert "hunter2" not in err and ("user" in err or "u:" in err)


def test_reprs_never_show_a_secret() -> None:
    token = random_token(40)
    config = EmulatorConfig(api_key="moda_live_" + token, signing_secret="whsec_" + token, admin_token=token)
    assert token not in repr(config)
    with FakeReceiver("modio", None) as rx:  # accepts anything: the token check fails, in detail
        report = audit(rx.url, profile="modio", secret=token, only=["token"])
        assert not report.ok
        assert rx.requests
        shown = repr(rx.requests) + repr(report) + report.text(verbose=True) + json.dumps(report.as_dict())
    assert token[:N] not in shown and token.lower()[:N] not in shown.lower()
    assert Needles([(token, "")]).hits(shown) == [] and N_CUT <= MIN_CUT_PIECE


def test_emulator_log_records_never_show_a_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = get_profile("moda").generate_secret()
    admin = random_token(32)
    config = EmulatorConfig(
        port=0, clock="virtual", db_path=str(tmp_path / "e.db"), signing_secret=secret, admin_token=admin
    )
    with Emulator(config) as emu, caplog.at_level(logging.INFO, logger="hookmock.emulator"):

        def broken(*args: Any, **kwargs: Any) -> None:
            b64 = base64.b64encode(secret.encode()).decode()
            raise RuntimeError(f"could not sign with {secret} ({b64}) as {admin.lower()}")

        monkeypatch.setattr(emu.core.gateway, "list_moda", broken)
        client = EmulatorClient(emu.base_url, emu.api_key)
        status, body, _ = client.call(
            "GET", "/v1/webhook_deliveries", headers={"X-Hookmock-Admin-Token": admin}
        )
        assert status == 500 and body["error"]["code"] == "internal_error"
    shown = caplog.text + "".join(logging.Formatter().format(r) for r in caplog.records)
    assert "could not sign with whsec_" in shown and "Traceback" in shown
    assert Needles([(secret, "whsec_"), (admin, "")]).hits(shown) == []


@pytest.mark.parametrize("at", [EXCERPT_BYTES - 3, EXCERPT_BYTES - 1, EXCERPT_BYTES - 30])
def test_a_secret_across_the_2kb_cut_is_redacted_whole_before_the_cut(tmp_path: Path, at: int) -> None:
    """Over real sockets: not even the 1-3 characters the cut-end rule allows are kept."""
    token = random_token(40)
    body = b"." * at + token.encode() + b" tail"

    def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("500 Internal Server Error", [("Content-Length", str(len(body)))])
        return [body]

    with (
        FakeReceiver("modio", None, handler=echo) as rx,
        Sender("modio", token, clock=VirtualClock(), log=tmp_path / "log.db") as sender,
    ):
        delivery = sender.send(rx.url)
    kept = delivery.attempts[0].excerpt
    assert kept == (b"." * at + MARKER.encode() + b" tail")[:EXCERPT_BYTES]
    assert token[:4].encode() not in (tmp_path / "log.db").read_bytes()


def test_a_receiver_timeline_never_shows_its_secret() -> None:
    token = random_token(40)
    with FakeReceiver("modio", token) as rx, Sender("modio", token, clock=VirtualClock()) as sender:
        sender.send(f"{rx.url}hook?token={token}&t2={token.lower()}")
        shown = rx.record.timeline()
    assert "hook?token=" + MARKER in shown and Needles([(token, "")]).hits(shown) == []
