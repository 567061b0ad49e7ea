"""At-least-once delivery: retries after a lost acknowledgement and duplicates take effect once."""

from __future__ import annotations

import pytest


def test_a_lost_acknowledgement_is_retried_and_applied_once(
    hookmock_sender, hookmock_proxy, shop, webhook_path
):
    proxy = hookmock_proxy(shop)
    proxy.lose_ack(500)  # the shop processes the first attempt, the sender sees a 500

    delivery = hookmock_sender.send((proxy, webhook_path), "task.succeeded")

    assert [a.status for a in delivery.attempts] == [500, 200]
    assert [answer.status for item in proxy.captured for answer in item.upstream] == [200, 200]
    assert len(shop.effects(delivery.event_id)) == 1


def test_an_acknowledgement_lost_to_a_timeout_is_retried_and_applied_once(
    hookmock_sender, hookmock_proxy, hookmock_profile, shop, webhook_path
):
    proxy = hookmock_proxy(shop)
    proxy.lose_ack("timeout")

    delivery = hookmock_sender.send((proxy, webhook_path), "task.succeeded")

    first, second = delivery.attempts
    assert first.outcome == "timeout" and first.duration_ns == hookmock_profile.deadline_ns
    assert second.status == 200
    assert len(shop.effects(delivery.event_id)) == 1


def test_a_lost_acknowledgement_over_a_real_socket(
    hookmock_sender, hookmock_proxy, hookmock_make_receiver, shop, webhook_path
):
    proxy = hookmock_proxy(shop)
    proxy.lose_ack("reset")  # the connection is reset after the shop has processed the delivery
    server = hookmock_make_receiver(handler=proxy)
    server.expect_delivery("task.succeeded")

    delivery = hookmock_sender.send(server.url_for(webhook_path), "task.succeeded")

    assert [a.outcome for a in delivery.attempts] == ["reset", "response"]
    assert len(shop.effects(delivery.event_id)) == 1


@pytest.mark.parametrize("concurrent", [False, True], ids=["one-after-another", "at-once"])
def test_duplicate_deliveries_take_effect_once(
    concurrent, hookmock_sender, hookmock_proxy, shop, webhook_path
):
    proxy = hookmock_proxy(shop)
    proxy.duplicate(5, concurrent=concurrent)

    delivery = hookmock_sender.send((proxy, webhook_path), "task.succeeded")

    assert delivery.status == "succeeded"
    assert len(proxy.captured[0].upstream) == 5
    assert len(shop.effects(delivery.event_id)) == 1


def test_a_redelivery_from_the_dashboard_takes_effect_once(hookmock_sender, shop, shop_target):
    delivery = hookmock_sender.send(shop_target, "task.succeeded")

    again = hookmock_sender.redeliver(delivery.id)  # Moda: a new delivery, same event id

    assert again.replayed_from_id == delivery.id and again.event_id == delivery.event_id
    assert again.status == "succeeded"
    assert len(shop.effects(delivery.event_id)) == 1


@pytest.mark.hookmock(profile="modio")
def test_a_modio_manual_retry_takes_effect_once(hookmock_sender, shop, shop_target):
    delivery = hookmock_sender.send(shop_target, "ADD_MOD_COMMENT")

    retried = hookmock_sender.redeliver(delivery.id)  # mod.io: the same history entry, attempts + 1

    assert retried.id == delivery.id and len(retried.attempts) == 2
    assert len(shop.effects(delivery.event_id)) == 1
