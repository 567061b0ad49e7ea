"""The files that hold secrets: ``--state-file`` is replaced atomically through an exclusively
created 0600 temporary file and is never a link or a special file; ``--db`` files (and their
``-wal``/``-shm``) are created 0600 and never through a link.  Every refusal is exit 2 with a
message naming the path.  FIFOs and links to /dev/null live in the test's own directory."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hookmock import Sender, VirtualClock
from hookmock._util.files import write_private
from hookmock.cli import main
from hookmock.emulator import Emulator, EmulatorConfig
from hookmock.errors import UsageError
from hookmock.pytest_plugin.emulator import _shown_log, start_emulator

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes, FIFOs and links")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def serve(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``hookmock serve`` that must refuse to start (bounded: a FIFO opened by mistake would block)."""
    return subprocess.run(
        [sys.executable, "-m", "hookmock", "serve", "--port", "0", "--clock", "virtual", *args],
        cwd=tmp, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_state_file_ignores_a_link_planted_at_the_old_temporary_name(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    victim.chmod(0o644)
    state = tmp_path / "st.json"
    (tmp_path / "st.json.tmp").symlink_to(victim)  # where the old code wrote, following the link
    config = EmulatorConfig(port=0, clock="virtual", db_path=str(tmp_path / "e.db"), state_file=str(state))
    with Emulator(config) as emu:
        written = json.loads(state.read_text())
        assert written["api_key"] == emu.api_key and written["signing_secret"] == emu.signing_secret
        assert stat.S_ISREG(os.lstat(state).st_mode) and mode(state) == 0o600
    assert victim.read_text() == "keep me\n" and mode(victim) == 0o644
    assert os.readlink(tmp_path / "st.json.tmp") == str(victim)
    assert not state.exists()  # removed on exit; the planted link is left alone
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "e.db",
        "e.db-lock",
        "st.json.tmp",
        "victim.txt",
    ]


def test_a_temporary_name_taken_by_a_link_is_skipped_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    names = iter(["taken", "taken", "free"])
    monkeypatch.setattr("hookmock._util.files.secrets.token_hex", lambda n: next(names))
    (tmp_path / ".st.json.taken.tmp").symlink_to(victim)
    old = os.umask(0o200)  # the mode is exactly 0600 whatever the umask (this one drops u+w)
    try:
        write_private(str(tmp_path / "st.json"), b'{"secret": 1}\n', option="--state-file")
    finally:
        os.umask(old)
    assert victim.read_text() == "keep me\n"
    assert (tmp_path / "st.json").read_bytes() == b'{"secret": 1}\n' and mode(tmp_path / "st.json") == 0o600
    assert not (tmp_path / ".st.json.free.tmp").exists()  # renamed into place
    assert os.path.islink(tmp_path / ".st.json.taken.tmp")


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/null", "link to a file", "dangling link"])
def test_state_file_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "state.json"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link to /dev/null":
        path.symlink_to("/dev/null")  # a character device, reached through a link we own
    elif kind == "link to a file":
        path.symlink_to(victim)
    else:
        path.symlink_to(tmp_path / "nowhere")
    before = os.lstat(path)
    done = serve(tmp_path, "--db", str(tmp_path / "e.db"), "--state-file", str(path))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and str(path) in done.stderr
    assert "not a regular file" in done.stderr and done.stdout == ""
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)  # untouched
    assert victim.read_text() == "keep me\n"
    assert not (tmp_path / "e.db").exists()  # refused before anything was created


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/null", "directory"])
def test_db_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "e.db"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path.symlink_to("/dev/null")
    done = serve(tmp_path, "--db", str(path))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and str(path) in done.stderr
    deliveries = subprocess.run(
        [sys.executable, "-m", "hookmock", "deliveries", "--db", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert deliveries.returncode == 2 and str(path) in deliveries.stderr
    assert "Traceback" not in deliveries.stderr


def test_db_files_are_created_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: new files would be 0644
    try:
        db = tmp_path / "e.db"
        config = EmulatorConfig(port=0, clock="virtual", db_path=str(db), state_file=str(tmp_path / "s.json"))
        with Emulator(config):
            files = sorted(p.name for p in tmp_path.iterdir())
            assert {"e.db", "e.db-wal", "e.db-shm", "s.json"} <= set(files)
            assert {name: mode(tmp_path / name) for name in files} == dict.fromkeys(files, 0o600)
        log = tmp_path / "log.db"
        with Sender("moda", clock=VirtualClock(), log=log):
            assert mode(log) == 0o600
    finally:
        os.umask(old)


def test_db_reached_through_a_link_to_a_regular_file_is_used_a_dangling_one_refused(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    link = tmp_path / "link.db"
    link.symlink_to(real)
    with pytest.raises(UsageError, match=r"link\.db.* is a symbolic link to nothing"):
        Sender("moda", clock=VirtualClock(), log=link)  # would create a file wherever it points
    assert not real.exists()
    real.touch()
    with Sender("moda", clock=VirtualClock(), log=link) as sender:
        assert sender.send("http://127.0.0.1:9/", "task.succeeded").status == "failed"  # refused
    assert stat.S_ISREG(os.lstat(real).st_mode) and real.stat().st_size > 0 and os.path.islink(link)


def test_state_file_refusal_comes_from_the_python_api_too(tmp_path: Path) -> None:
    fifo = tmp_path / "state.json"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="FIFO"):
        Emulator(EmulatorConfig(port=0, clock="virtual", state_file=str(fifo)))
    assert main(["serve", "--port", "0", "--state-file", str(fifo)]) == 2


def test_the_plugin_emulator_keeps_its_files_private_and_masks_its_banner(tmp_path: Path) -> None:
    emulator = start_emulator(tmp_path / "emu", ["--clock", "virtual"])
    try:
        files = {p.name: mode(p) for p in (tmp_path / "emu").iterdir()}
        assert {"emulator.log", "state.json", "emulator.sqlite3"} <= set(files)
        assert set(files.values()) == {0o600}, files
        log = tmp_path / "emu" / "emulator.log"
        assert emulator.state["signing_secret"] in log.read_text()  # the banner is in the log...
        shown = _shown_log(log)  # ...and an error message quoting the log masks it
        assert emulator.state["signing_secret"] not in shown and emulator.state["api_key"] not in shown
        assert "signing secret  (hidden)" in shown and "base URL" in shown
    finally:
        emulator.stop()
