"""The delivery log: every delivery and every attempt, in SQLite.

A file (WAL journal, ``synchronous=FULL``, schema versioned with ``PRAGMA user_version``) or
``":memory:"``.  One connection guarded by a lock, so the log is safe to share between threads.

Durability rule, kept by the drivers: an attempt row is inserted (``outcome = 'in_flight'``)
and committed *before* the request is sent, then completed exactly once; attempt rows are never
deleted or rewritten (triggers refuse it).  :meth:`DeliveryLog.recover` marks attempts left in
flight by a dead process ``interrupted`` and makes their deliveries due again; it leaves them
alone while another live process sends from the same file (see ``_sendlock``).
:meth:`DeliveryLog.cancel_pending` ends pending deliveries for good (``canceled``) without
deleting anything: drivers re-read the log before each attempt, and an attempt in flight at that
moment completes without re-opening its delivery.

An in-memory log (``durable`` is False) survives no crash, so committing rows before the request
buys nothing there: a new delivery, its attempt in flight and its completed attempts are held
beside the database (under the same lock, so every reader sees them: ``get``, ``snapshot`` and
``attempts`` merge them, every other reader and writer writes them to the database first, in one
transaction; ``seq`` is counted here as AUTOINCREMENT would), and at most ``HOLD_MAX`` are held.

The log stores no secret, token or signature header: only the body bytes and what came back.

The parts live in private modules: ``_schema`` (schema, migrations, rows), ``_base`` (connection
state, write transactions with group commit, attempts held in flight), ``_writes`` (the write
path), ``_queries`` (reads, filters, cursor pagination) and ``_recovery`` (recover, cancel).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from .._util.files import check_regular_or_absent, create_private
from .._util.sqlite import DatabaseLocked, busy_timeout_s, is_locked
from ..errors import UsageError
from ._queries import DEFAULT_LIMIT, MAX_LIMIT
from ._queries import STATUSES as STATUSES
from ._queries import Queries as _Queries
from ._recovery import Recovery as _Recovery
from ._schema import MIGRATIONS as MIGRATIONS
from ._schema import SCHEMA_VERSION, index_name, setup
from ._sendlock import SendLock
from ._writes import Writes as _Writes

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "SCHEMA_VERSION", "DeliveryLog"]


def _refuse_hard_links(path: str) -> None:
    """A log file with several hard links has several names, and each name its own ``-wal``,
    ``-shm`` and ``-lock`` files: two processes using two names would neither share a journal nor
    see each other's sends.  SQLite warns against it too; refuse it."""
    try:
        links = os.stat(path).st_nlink
    except OSError:
        return
    if links > 1:
        raise UsageError(
            f"delivery log {path!r} has {links} hard links; hookmock cannot tell which processes send "
            "from it (each name would get its own journal and lock). Use one name: copy the file, or "
            "use a symbolic link instead"
        )


class DeliveryLog(_Writes, _Recovery, _Queries):
    """The SQLite delivery log.  ``DeliveryLog()`` is in memory; ``DeliveryLog(path)`` a file."""

    def __init__(
        self, path: str | os.PathLike[str] = ":memory:", *, create: bool = True, throwaway: bool = False
    ) -> None:
        """``throwaway``: a file its owner removes at exit (the emulator's default database) is not
        synced to disk on each commit; ``--db`` files and every other log stay ``synchronous=FULL``."""
        self.path = str(path)
        self._throwaway = throwaway
        self._lock = threading.RLock()
        self._queue_lock = threading.Lock()
        self._queue = []
        self._flying = {}  # an in-memory log's attempts in flight (see LogBase)
        self._held = {}  # an in-memory log's deliveries not yet written (see LogBase)
        self._last_seq = None
        self._deferred_indexes = {}
        self._alongside = threading.local()
        # The lock is named after the file itself, not the name it was given: a symbolic link to a
        # log another process sends from must meet that process's lock.
        self._sendlock = SendLock(os.path.realpath(self.path)) if self.path != ":memory:" else None
        if self.path != ":memory:":
            p = Path(self.path)
            if p.is_dir():
                raise UsageError(f"delivery log {self.path!r} is a directory; give a file path")
            if not create and not p.exists():
                raise UsageError(f"delivery log {self.path!r} does not exist; check --db")
            if not p.parent.is_dir():
                raise UsageError(
                    f"delivery log {self.path!r}: its folder {str(p.parent)!r} does not exist; create it"
                )
            if create:
                create_private(self.path, "delivery log")  # mode 0600, never through a link
            else:
                check_regular_or_absent(self.path, "delivery log", follow=True)  # no FIFO, device
            _refuse_hard_links(self.path)
        try:
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=busy_timeout_s()
            )
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"delivery log {self.path!r} cannot be opened ({exc})") from None
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if is_locked(exc):  # (a migration, or a missing index, to write while another holds the lock)
                raise DatabaseLocked(self.path) from None
            raise UsageError(f"{self.path!r} is not a hookmock delivery log ({exc})") from None
        except BaseException:
            self._db.close()
            raise

    def _setup(self) -> None:
        deferred: list[str] | None = [] if self.path == ":memory:" else None
        self._cursor_key = setup(
            self._db,
            self.path,
            self._lock,
            throwaway=self._throwaway,
            deferred=deferred,
        )
        self._deferred_indexes = {index_name(sql): sql for sql in deferred or ()}

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._sendlock is not None:
                self._sendlock.close()

    def __enter__(self) -> DeliveryLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DeliveryLog({self.path!r})"
