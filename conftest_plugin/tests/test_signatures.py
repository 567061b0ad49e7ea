"""Only authentic deliveries take effect; each takes effect once."""

from __future__ import annotations

import pytest

BOTH_PROVIDERS = pytest.mark.parametrize(
    "provider",
    [
        pytest.param("moda", marks=pytest.mark.hookmock(profile="moda")),
        pytest.param("modio", marks=pytest.mark.hookmock(profile="modio")),
    ],
)


@BOTH_PROVIDERS
def test_an_authentic_delivery_takes_effect_once(provider, hookmock_sender, shop, shop_target, event_type):
    delivery = hookmock_sender.send(shop_target, event_type)

    assert delivery.status == "succeeded", delivery.timeline()
    assert len(delivery.attempts) == 1
    assert [e["kind"] for e in shop.effects(delivery.event_id)] == [event_type]


@BOTH_PROVIDERS
def test_a_wrong_secret_is_rejected_on_every_attempt(
    provider, hookmock_make_sender, hookmock_profile, shop, shop_target, event_type
):
    impostor = hookmock_make_sender(secret=hookmock_profile.generate_secret())

    delivery = impostor.send(shop_target, event_type)

    assert delivery.status == "failed"
    assert {a.status for a in delivery.attempts} == {401}
    assert len(delivery.attempts) == hookmock_profile.max_attempts  # Moda retries, mod.io does not
    assert shop.effects() == []


def test_a_tampered_body_is_rejected(hookmock_sender, hookmock_proxy, shop, webhook_path):
    proxy = hookmock_proxy(shop)
    proxy.tamper(body=lambda body: body.replace(b'"succeeded"', b'"canceled"'), times=None)

    delivery = hookmock_sender.send((proxy, webhook_path), "task.succeeded")

    assert [a.status for a in delivery.attempts] == [401, 401, 401, 401]
    assert shop.effects() == []


def test_a_tampered_signature_is_rejected(hookmock_sender, hookmock_proxy, shop, webhook_path):
    proxy = hookmock_proxy(shop)
    proxy.tamper(signature=True)  # the first attempt only

    delivery = hookmock_sender.send((proxy, webhook_path), "task.succeeded")

    assert [a.status for a in delivery.attempts] == [401, 200]
    assert len(shop.effects(delivery.event_id)) == 1


# realtime: over a real socket the audit reads each effect count until it has been stable for a
# settle period on the wall clock (a receiver on the network may apply an event a moment after it
# answered; that lag is what the effect checks measure), and holds concurrent copies together for
# a real pause so the shop's handler threads race: about 120 requests, each effect read >= 20 ms.
@pytest.mark.realtime
@BOTH_PROVIDERS
def test_the_shop_passes_hookmocks_receiver_audit(
    provider, hookmock_audit, hookmock_make_receiver, shop, webhook_path
):
    """Every known receiver defect probed, over a real loopback socket, effects counted in SQLite."""
    server = hookmock_make_receiver(handler=shop)

    report = hookmock_audit(server.url_for(webhook_path), probe=lambda event_id: len(shop.effects(event_id)))

    assert report.ok
