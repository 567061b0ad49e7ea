"""hookmock's shipped failure drills (scenario files), run against the shop."""

from __future__ import annotations

import pytest

DRILLS = [
    pytest.param(name, marks=pytest.mark.hookmock(profile=name.split("-")[0]), id=name)
    for name in (
        "moda-lost-ack",
        "moda-timeout-after-processing",
        "moda-replays-and-races",
        "moda-outage-and-redelivery",
        "modio-retry-and-duplicates",
    )
]


# realtime: each step's effect count is read over a real socket until it has been stable for a
# settle period (>= 20 ms) on the wall clock: the receiver's real lag after answering is checked.
@pytest.mark.realtime
@pytest.mark.parametrize("drill", DRILLS)
def test_the_shop_survives_the_drill(drill, hookmock_scenario, hookmock_make_receiver, shop, webhook_path):
    server = hookmock_make_receiver(handler=shop)  # the shop on a real loopback socket

    result = hookmock_scenario(
        drill, server.url_for(webhook_path), probe=lambda event_id: len(shop.effects(event_id))
    )

    assert result.ok
