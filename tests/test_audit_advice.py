"""The audit's constant-time advice serves receivers written in any language, not only Python."""

from __future__ import annotations

import pytest

from hookmock.auditing import CATALOGUE, audit
from hookmock.clock import VirtualClock
from hookmock.profiles import get_profile
from receivers import CORRECT, build

LANGUAGES = ("hmac.compare_digest", "crypto.timingSafeEqual", "hmac.Equal", "MessageDigest.isEqual")


@pytest.mark.parametrize("profile", ["moda", "modio"])
def test_the_constant_time_advice_names_python_node_go_and_java(profile: str) -> None:
    clock = VirtualClock()
    secret = get_profile(profile).generate_secret()
    app = build(CORRECT[sorted(CORRECT)[0]], profile, secret, clock)
    report = audit(app, profile=profile, secret=secret, probe=app.count, clock=clock, only=["constant-time"])
    detail = report["constant-time"].detail
    assert all(name in detail for name in LANGUAGES), detail
    [check] = [c for c in CATALOGUE if c.name == "constant-time"]
    assert all(name in check.expected for name in LANGUAGES), check.expected
