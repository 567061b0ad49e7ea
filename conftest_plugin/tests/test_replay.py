"""Moda replays: a captured request sent again later is refused once it is older than 300 s."""

from __future__ import annotations

from werkzeug.test import Client


def test_a_stale_replay_is_rejected(hookmock_sender, hookmock_proxy, hookmock_clock, shop, webhook_path):
    proxy = hookmock_proxy(shop)
    delivery = hookmock_sender.send((proxy, webhook_path), "task.succeeded")
    assert delivery.status == "succeeded"

    hookmock_clock.advance(301)  # an attacker replays the captured request, bytes and headers intact
    answer = proxy.replay(proxy.captured[0])

    assert answer.status == 401
    assert len(shop.effects(delivery.event_id)) == 1


def test_a_replay_inside_the_window_is_deduplicated(
    hookmock_sender, hookmock_proxy, hookmock_clock, shop, webhook_path
):
    proxy = hookmock_proxy(shop)
    delivery = hookmock_sender.send((proxy, webhook_path), "task.succeeded")

    hookmock_clock.advance(299)
    answer = proxy.replay(proxy.captured[0])

    assert answer.status == 200
    assert len(shop.effects(delivery.event_id)) == 1


def test_a_timestamp_from_the_future_is_rejected(hookmock_verify, hookmock_clock, shop, webhook_path):
    headers, body = hookmock_verify.signed_request("task.succeeded", timestamp=hookmock_clock.time() + 301)

    response = Client(shop).post(webhook_path, data=body, headers=headers)

    assert response.status_code == 401
    assert shop.effects() == []


def test_a_correct_signature_just_inside_the_window_is_accepted(
    hookmock_verify, hookmock_clock, shop, webhook_path
):
    headers, body = hookmock_verify.signed_request("task.failed", timestamp=hookmock_clock.time() - 300)

    response = Client(shop).post(webhook_path, data=body, headers=headers)

    assert response.status_code == 200
    assert len(shop.effects()) == 1
