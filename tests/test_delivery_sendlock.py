"""Recovery touches only a dead process's attempts: not those of a process still sending from the file.

Two processes sending from one log file (two ``Sender(log=path)``, ``hookmock redeliver --db`` next
to ``hookmock serve``) used to break each other: the second one's recovery marked the first one's
attempt in flight ``interrupted`` and made it due again (a second request for it), and the first
one then failed to record its result.  Two ``hookmock serve`` on one ``--db`` would both send every
pending delivery.  A shared ``flock`` held by every sending process (dropped by the kernel when it
dies) tells recovery who is alive.  flock locks belong to an open file, so two logs in one process
stand for two processes here.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hookmock.clock import SECOND
from hookmock.delivery import machine as m
from hookmock.delivery.log import DeliveryLog
from hookmock.errors import UsageError
from hookmock.profiles import get_profile
from hookmock.transport import AttemptResult

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")

T0 = 1_800_000_000 * SECOND
MODA = m.Rules.from_profile(get_profile("moda"))


def _in_flight(log: DeliveryLog) -> tuple[str, m.DeliveryState]:
    log.create(
        delivery_id="whd_1",
        profile="moda",
        event_id="evt_1",
        event_type="task.succeeded",
        target_url="http://127.0.0.1:9/x",
        body=b"{}",
        created_ns=T0,
    )
    state = m.attempt_started(log.get("whd_1").state, MODA, T0)
    log.start_attempt("whd_1", state, timestamp=T0 // SECOND)
    return "whd_1", state


def test_recovery_leaves_a_live_senders_attempt_alone(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with DeliveryLog(path) as sending:
        delivery_id, state = _in_flight(sending)
        with DeliveryLog(path) as other:
            assert other.recover(T0 + SECOND) == []  # the attempt's process is alive
            with pytest.raises(UsageError, match="in use by another running hookmock process"):
                other.recover(T0 + SECOND, alone=True)
            assert other.in_flight_attempts() == 1
        result = AttemptResult("response", SECOND // 10, 200)
        done = sending.finish_attempt(delivery_id, 1, result, m.complete(state, MODA, result))
        assert done.outcome == "response" and sending.get(delivery_id).status == "succeeded"
        assert [a.outcome for a in sending.attempts(delivery_id)] == ["response"]


def test_recovery_takes_over_once_the_sender_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    sending = DeliveryLog(path)
    delivery_id, _ = _in_flight(sending)
    sending.close()  # the process is gone: the kernel dropped its lock
    with DeliveryLog(path) as again:
        assert again.recover(T0 + SECOND, alone=True) == [delivery_id]
        assert [a.outcome for a in again.attempts(delivery_id)] == ["interrupted"]


def test_a_reader_does_not_count_as_a_sender(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    DeliveryLog(path).close()
    with DeliveryLog(path) as reader:
        reader.list()
        with DeliveryLog(path) as recovering:
            assert recovering.recover(T0, alone=True) == []  # alone: nothing to recover, no error


def test_a_second_emulator_on_the_same_db_is_refused(tmp_path: Path) -> None:
    from hookmock.emulator import Emulator, EmulatorConfig

    db = str(tmp_path / "emu.db")
    refused = pytest.raises(UsageError, match="in use by another running hookmock process")
    with Emulator(EmulatorConfig(port=0, clock="virtual", db_path=db)), refused:
        Emulator(EmulatorConfig(port=0, clock="virtual", db_path=db))
    with Emulator(EmulatorConfig(port=0, clock="virtual", db_path=db)):  # free again once stopped
        pass


def test_serve_on_a_db_another_serve_uses_exits_2(tmp_path: Path) -> None:
    from crash_support import Emu

    db = tmp_path / "emu.db"
    first = Emu(tmp_path, db, get_profile("moda").generate_secret(), None)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "hookmock", "serve", "--port", "0", "--db", str(db), "--clock", "virtual"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2, second.stderr  # (before: it ran until the timeout killed it)
        assert "in use by another running hookmock process" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.proc.send_signal(signal.SIGTERM)
        if first.wait(15) is None:
            first.kill()


def test_a_symbolic_link_to_a_live_log_meets_its_lock(tmp_path: Path) -> None:
    """The lock belongs to the file, not to the name it was opened by: a second process that reaches
    the log through a symbolic link used to take its own ``link.db-lock``, mark the live attempt
    ``interrupted`` and send it again."""
    path = tmp_path / "shared.db"
    link = tmp_path / "link.db"
    with DeliveryLog(path) as sending:
        _in_flight(sending)
        link.symlink_to(path)
        with DeliveryLog(link) as other:
            assert other.recover(T0 + SECOND) == []
            with pytest.raises(UsageError, match="in use by another running hookmock process"):
                other.recover(T0 + SECOND, alone=True)
            assert other.in_flight_attempts() == 1


def test_a_second_emulator_through_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    from hookmock.emulator import Emulator, EmulatorConfig

    db = tmp_path / "emu.db"
    link = tmp_path / "link.db"
    with Emulator(EmulatorConfig(port=0, clock="virtual", db_path=str(db))):
        link.symlink_to(db)
        with pytest.raises(UsageError, match="in use by another running hookmock process"):
            Emulator(EmulatorConfig(port=0, clock="virtual", db_path=str(link)))


def test_a_log_with_several_hard_links_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "one.db"
    DeliveryLog(path).close()
    (tmp_path / "two.db").hardlink_to(path)
    for name in ("one.db", "two.db"):
        with pytest.raises(UsageError, match="has 2 hard links"):
            DeliveryLog(tmp_path / name)


@pytest.mark.realtime
def test_no_attempt_starts_while_another_process_recovers(tmp_path: Path) -> None:
    """Recovery holds the lock exclusively until it is done: a sender starting meanwhile waits
    (else its fresh attempt could be taken for a dead one's and marked interrupted)."""
    import threading

    from hookmock.delivery._sendlock import SendLock

    path = str(tmp_path / "shared.db")
    recovering, starting = SendLock(path), SendLock(path)
    try:
        assert recovering.claim() is True
        started = threading.Event()
        thread = threading.Thread(target=lambda: (starting.share(), started.set()))
        thread.start()
        assert not started.wait(0.2)  # blocked while the recovery runs
        recovering.share()  # recovery done
        assert started.wait(5)
        thread.join(5)
        assert recovering.claim() is False  # another sender is alive now
    finally:
        recovering.close()
        starting.close()
