"""A gate for truly concurrent copies of one request (the audit's ``concurrent-duplicates`` check).

Starting N threads together is not enough to make N requests race inside a receiver: on a loaded
machine the threads reach the receiver one after another, each a few milliseconds apart, and a
check-then-insert window of a few milliseconds is then missed.  Whether the race shows would
depend on the scheduler.  So each copy is held at the last moment before the receiver can act on
it, and all are released together once every copy is there:

* over a socket, the connection is open and every byte of the request but the last is written;
  the receiver's handler has its headers and is waiting for the end of the body ("last-byte
  synchronisation", as in PortSwigger's "Smashing the state machine", 2023);
* in-process (WSGI), the handler is running and is reading its body: the read blocks;
* in-process (ASGI), the handler is running and has asked ``receive()`` for its body.

A copy that never reaches its gate (the handler answered without reading its body, the
connection failed) calls :meth:`Gate.abandon`, which lets the others go at once; the gate also
opens after ``timeout_s`` whatever happens, so a receiver that serialises its requests (a lock
around the whole handler) costs that timeout, never a deadlock.
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any

__all__ = ["Gate", "GatedBody"]


class Gate:
    """Hold ``parties`` copies until all are at their gate, then release them together."""

    def __init__(self, parties: int, *, timeout_s: float = 2.0, pause_s: float = 0.0) -> None:
        # ``pause_s``: once every copy is there, wait this long before releasing them (over
        # sockets, so that the receiver's handlers have read what was written and are waiting)
        self._pause_s = pause_s
        self._barrier = threading.Barrier(parties, action=self._all_here, timeout=timeout_s)
        #: True once every copy was held and released together
        self.together = False

    def _all_here(self) -> None:
        self.together = True
        if self._pause_s > 0:
            time.sleep(self._pause_s)

    def wait(self) -> bool:
        """Block until every copy is here (True), or the gate was abandoned or timed out (False)."""
        try:
            self._barrier.wait()
        except threading.BrokenBarrierError:
            return False
        return True

    def abandon(self) -> None:
        """A copy will never reach the gate: release the others now (a no-op once it opened)."""
        if not self.together:
            self._barrier.abort()


class GatedBody(io.BytesIO):
    """A WSGI ``wsgi.input`` whose first read waits at ``gate``: the handler is running and is
    reading its body, so every copy is inside its handler when the copies are released."""

    def __init__(self, body: bytes, gate: Gate) -> None:
        super().__init__(body)
        self._gate: Gate | None = gate

    def _arrive(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.wait()

    def release(self) -> None:
        """The handler returned: if it never read its body, the other copies need not wait for it."""
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.abandon()

    def read(self, size: int | None = -1, /) -> bytes:
        self._arrive()
        return super().read(size)

    def read1(self, size: int | None = -1, /) -> bytes:
        self._arrive()
        return super().read1(size)

    def readinto(self, buffer: Any, /) -> int:
        self._arrive()
        return super().readinto(buffer)

    def readline(self, size: int | None = -1, /) -> bytes:
        self._arrive()
        return super().readline(size)

    def readlines(self, hint: int | None = -1, /) -> list[bytes]:
        self._arrive()
        return super().readlines(hint)

    def __next__(self) -> bytes:
        self._arrive()
        return super().__next__()
