"""Moda gives up on an attempt at its deadline: a slow handler path is retried, and must cope."""

from __future__ import annotations


def test_a_slow_export_times_out_and_the_retry_finds_it_done(
    hookmock_sender, hookmock_profile, shop, shop_target
):
    # A 100-page PDF takes the shop 50 s to render: longer than Moda waits for an answer.
    delivery = hookmock_sender.send(
        shop_target, "export.succeeded", data__result__format="pdf", data__input={"pages": 100}
    )

    first, second = delivery.attempts
    assert first.outcome == "timeout"
    assert first.duration_ns == hookmock_profile.deadline_ns
    # The retry comes at least the first retry delay after the attempt timed out (in-process, the
    # sender also has to wait for the app to return: 50 s on the virtual clock).
    earliest = first.started_ns + hookmock_profile.deadline_ns + hookmock_profile.retry_delays_ns[0]
    assert second.started_ns >= earliest
    assert second.status == 200
    assert delivery.status == "succeeded"
    assert len(shop.effects(delivery.event_id)) == 1


def test_a_small_export_is_answered_in_time(hookmock_sender, shop, shop_target):
    delivery = hookmock_sender.send(
        shop_target, "export.succeeded", data__result__format="pdf", data__input={"pages": 10}
    )

    assert [a.status for a in delivery.attempts] == [200]
    assert len(shop.effects(delivery.event_id)) == 1


def test_over_https_with_a_runtime_ca(hookmock_sender, hookmock_make_receiver, shop, webhook_path):
    """The same shop behind a real HTTPS server (certificates made at test time, trusted by the sender)."""
    server = hookmock_make_receiver(handler=shop, tls=True)
    assert server.url.startswith("https://")

    delivery = hookmock_sender.send(server.url_for(webhook_path), "task.succeeded")

    assert delivery.status == "succeeded", delivery.timeline()
