"""``hookmock verify``: a received request checked from the command line, for every profile, the
way a receiver in any language should check it; a round trip with ``hookmock sign``."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from hookmock.profiles import builtin_profiles, get_profile

NOW = 1_800_000_000


def _run(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hookmock", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def _secret(profile: str) -> str:
    return get_profile(profile).generate_secret(random.Random(1))


@pytest.mark.parametrize("profile", builtin_profiles())
def test_sign_then_verify_round_trips_and_a_wrong_secret_fails(profile, tmp_path):
    body = tmp_path / "body.json"
    body.write_bytes(b'{"id":"evt_1","type":"task.succeeded","note":"caf\xc3\xa9"}')
    secret = _secret(profile)
    signed = _run(
        "sign", "body.json", "--profile", profile, "--secret", secret, "--timestamp", str(NOW), cwd=tmp_path
    )
    assert signed.returncode == 0, signed.stderr
    (tmp_path / "h.json").write_text(signed.stdout)

    ok = _run(
        "verify",
        "body.json",
        "--profile",
        profile,
        "--secret",
        secret,
        "--headers",
        "h.json",
        "--now",
        str(NOW),
        "--json",
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["ok"] is True

    other = get_profile(profile).generate_secret(random.Random(2))
    bad = _run(
        "verify",
        "body.json",
        "--profile",
        profile,
        "--secret",
        other,
        "--headers",
        "h.json",
        "--now",
        str(NOW),
        cwd=tmp_path,
    )
    assert bad.returncode == 1
    assert bad.stdout.startswith(("bad_signature", "bad_token")), bad.stdout
    assert secret not in bad.stdout + bad.stderr and other not in bad.stdout + bad.stderr


def test_headers_from_h_options_and_a_stale_timestamp(tmp_path):
    (tmp_path / "body.json").write_bytes(b'{"id":"evt_1"}')
    secret = _secret("moda")
    signed = json.loads(
        _run("sign", "body.json", "--secret", secret, "--timestamp", str(NOW), cwd=tmp_path).stdout
    )
    flags = [x for name, value in signed.items() for x in ("-H", f"{name}: {value}")]
    fresh = _run("verify", "body.json", "--secret", secret, *flags, "--now", str(NOW + 300), cwd=tmp_path)
    assert (fresh.returncode, fresh.stdout.strip()) == (0, "valid")
    stale = _run("verify", "body.json", "--secret", secret, *flags, "--now", str(NOW + 301), cwd=tmp_path)
    assert stale.returncode == 1 and stale.stdout.startswith("timestamp_too_old"), stale.stdout
    wider = _run(
        "verify",
        "body.json",
        "--secret",
        secret,
        *flags,
        "--now",
        str(NOW + 301),
        "--tolerance",
        "400",
        cwd=tmp_path,
    )
    assert wider.returncode == 0, wider.stdout


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["-H", "no colon here"], "-H 'no colon here'"),
        ([], "no headers given"),
        (["--headers", "body.json"], "--headers body.json"),
        (["--headers", "missing.json"], "missing.json"),
    ],
)
def test_bad_input_is_a_usage_error_naming_it(extra, named, tmp_path):
    (tmp_path / "body.json").write_text('["not an object"]')
    result = _run("verify", "body.json", "--secret", "whsec_x", *extra, cwd=tmp_path)
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr
