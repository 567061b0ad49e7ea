"""Fixtures of the shop's test suite, on top of hookmock's (hookmock_clock, hookmock_secret, ...)."""

from __future__ import annotations

import pytest
from shopapp import ShopApp

#: The secret of the provider a test is NOT about (never used to sign anything).
OTHER_SECRETS = {"moda": "whsec_not_the_one_under_test_0000000", "modio": "token-not-under-test"}


@pytest.fixture
def shop(tmp_path, hookmock_profile, hookmock_secret, hookmock_clock) -> ShopApp:
    """The shop configured with the test's secret, on the test's virtual clock."""
    secrets = dict(OTHER_SECRETS)
    secrets[hookmock_profile.name] = hookmock_secret
    return ShopApp(
        tmp_path / "shop.sqlite3",
        moda_secret=secrets["moda"],
        modio_token=secrets["modio"],
        now=hookmock_clock.time,
        sleep=hookmock_clock.sleep,
        # A test's database lives for one test: no fsync per commit (several ms each on a real
        # disk, which made every test slow). Transactions and the unique keys work as in production.
        synchronous="OFF",
    )


@pytest.fixture
def webhook_path(hookmock_profile) -> str:
    return f"/webhooks/{hookmock_profile.name}"


@pytest.fixture
def shop_target(shop, webhook_path):
    """Where a sender delivers in-process: the app and the path inside it."""
    return (shop, webhook_path)


@pytest.fixture
def event_type(hookmock_profile) -> str:
    """An event type with a business effect, for whichever provider the test is about."""
    return {"moda": "task.succeeded", "modio": "ADD_MOD_COMMENT"}[hookmock_profile.name]
