"""Which processes are sending from a delivery log file, so recovery touches only the dead ones'.

Recovery marks attempts left ``in_flight`` as ``interrupted`` and makes their deliveries due again.
That is right for attempts of a process that died, and wrong for those of a process still sending
from the same file (two ``Sender(log=path)``, a ``hookmock redeliver --db`` next to ``hookmock serve``):
its attempts would be re-sent while in flight, and its results refused afterwards.

Every process that sends from the file holds a *shared* ``flock`` on ``<file>-lock`` for as long as
the log is open; the kernel drops it when the process dies, SIGKILL included.  Recovery first asks
for the lock *exclusively* without waiting: granted, no other live process is sending, and every
attempt in flight is a dead one's; refused, another process is sending, and recovery leaves the
attempts alone (the emulator refuses to start instead: two of them would both send what is pending).

The lock file is separate from the database on purpose: closing any descriptor of the database
file would drop SQLite's own POSIX locks in this process.  Where ``fcntl`` is missing (Windows) or
the lock file cannot be made, there is no lock and recovery behaves as it did before: it assumes
the caller is alone.
"""

from __future__ import annotations

import os
import threading

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["SendLock"]


class SendLock:
    def __init__(self, db_path: str) -> None:
        self.path = db_path + "-lock"
        self._fd: int | None = None
        self._held: str | None = None  # None, "shared" or "exclusive"
        self._lock = threading.Lock()

    def _open(self) -> int | None:
        if self._fd is None and fcntl is not None:
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
            try:
                self._fd = os.open(self.path, flags, 0o600)
            except OSError:
                return None
        return self._fd

    def claim(self) -> bool:
        """True if no other live process sends from this file: then the lock is held exclusively
        (no one starts an attempt meanwhile) until :meth:`share`.  False: held shared."""
        with self._lock:
            fd = self._open()
            if fd is None:
                return True
            assert fcntl is not None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._share(fd)
                return False
            self._held = "exclusive"
            return True

    def share(self) -> None:
        """Hold the lock shared (we are sending from this file; after a recovery, other senders
        may start again); cheap once held."""
        if self._held == "shared":
            return
        with self._lock:
            fd = self._open()
            if fd is not None and self._held != "shared":
                self._share(fd)

    def _share(self, fd: int) -> None:
        assert fcntl is not None
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while another process recovers
        self._held = "shared"

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)  # releases the flock
                self._fd = None
                self._held = None
