"""Stopping a fake receiver does not wait for its serving loop's next poll.

The loop looked for a stop request every 50 ms when no connection woke it: every test with a real
receiver paid up to 50 ms at teardown.  ``stop()`` now wakes the loop itself (its listening socket
shut down), so it returns at once however long the poll interval is; a receiver still serves until
then, and accepts nothing after.
"""

from __future__ import annotations

import http.client
import socket
import time

import pytest

from hookmock.receiver.server import FakeReceiver


class SlowPollingReceiver(FakeReceiver):
    POLL_INTERVAL_S = 30.0  # without the wake-up, stop() would wait for this


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_stop_wakes_the_serving_loop_instead_of_waiting_for_its_poll(tls: bool) -> None:
    receiver = SlowPollingReceiver("moda", "whsec_stop_test_000000000000", tls=tls)
    receiver.start()
    port = receiver.port
    if not tls:  # it serves until stopped
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/webhook", body=b"{}", headers={"Content-Type": "application/json"})
        assert conn.getresponse().status in (200, 400, 401)
        conn.close()

    started = time.monotonic()
    receiver.stop()
    took = time.monotonic() - started

    assert took < 10, f"stop() took {took:.1f} s: it waited for the 30 s poll"
    assert not receiver.is_running()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2) as late:
        late.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        if not late.recv(1):  # a closed listener: refused, or reset/EOF at once
            raise ConnectionResetError("closed")
    assert len(receiver.requests) == (0 if tls else 1)
