"""The ``openssl`` command line as an independent HMAC implementation for signature tests."""

from __future__ import annotations

import shutil
import subprocess

import pytest


def openssl_hmac(digest: str, secret: str, body: bytes) -> str:
    """``openssl dgst -DIGEST -hmac SECRET`` over ``body``: the hex digest (skips without openssl)."""
    openssl = shutil.which("openssl")
    if openssl is None:  # pragma: no cover - the CI image has openssl
        pytest.skip("openssl is not installed")
    out = subprocess.run(
        [openssl, "dgst", f"-{digest}", "-hmac", secret],
        input=body,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout.decode()
    return out.strip().rsplit(" ", 1)[-1]  # "HMAC-SHA2-256(stdin)= <hex>"
