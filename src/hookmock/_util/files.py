"""Files that hold secrets: the emulator's ``--state-file`` and its ``--db``.

Both are written with mode 0600.  The state file is replaced atomically: a temporary file is
created *exclusively* (``O_CREAT|O_EXCL|O_NOFOLLOW``, so a file or symbolic link planted at its
name is never followed or reused) under a unique name in the target's own folder, written, synced
and renamed over the target.  A target that exists and is not a regular file (a symbolic link,
a device, a FIFO, a socket, a directory) is refused with a message naming it: hookmock never
writes through a link nor replaces a special file.
"""

from __future__ import annotations

import os
import secrets
import stat
from contextlib import suppress

from ..errors import UsageError

__all__ = ["check_regular_or_absent", "create_private", "write_private"]

#: Mode of every file hookmock creates that may hold a secret.
PRIVATE_MODE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_regular_or_absent(path: str, option: str, *, follow: bool = False) -> None:
    """Refuse ``path`` when it exists and is not a regular file.  ``follow``: a symbolic link to
    a regular file is accepted (the file is opened, not replaced); otherwise a link is refused."""
    try:
        info = os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        if follow and os.path.islink(path):  # a dangling link: writing would create its target
            raise UsageError(
                f"{option} {path!r} is a symbolic link to nothing; give the path of a regular file"
            ) from None
        return
    except OSError as exc:
        raise UsageError(f"{option} {path!r} cannot be used: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        what = _kind(info.st_mode)
        if stat.S_ISLNK(info.st_mode):
            what += f" (to {os.readlink(path)!r})"
        elif follow and os.path.islink(path):
            what = f"a symbolic link to {what}"
        raise UsageError(
            f"{option} {path!r} is {what}, not a regular file; hookmock only writes regular files "
            "there, so give the path of a regular file (or of one that does not exist yet)"
        )


def write_private(path: str, data: bytes, *, option: str) -> None:
    """Replace ``path`` atomically with ``data``, mode 0600 (see the module text)."""
    check_regular_or_absent(path, option)
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    while True:
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, flags, PRIVATE_MODE)
            break
        except FileExistsError:  # that name is taken (by anything, a link too): another name
            continue
    try:
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), PRIVATE_MODE)  # exactly 0600, whatever the umask
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def create_private(path: str, option: str) -> None:
    """Make sure ``path`` (a SQLite file) exists with mode 0600 when hookmock creates it: created
    exclusively, never through a link; an existing file is used as it is (a symbolic link to a
    regular file too), anything else is refused.  SQLite gives its ``-wal`` and ``-shm`` files
    the database file's mode."""
    check_regular_or_absent(path, option, follow=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, PRIVATE_MODE)
    except FileExistsError:
        check_regular_or_absent(path, option, follow=True)  # appeared meanwhile: check it again
        return
    except OSError as exc:
        raise UsageError(f"{option} {path!r} cannot be created: {exc.strerror or exc}") from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, PRIVATE_MODE)
    finally:
        os.close(fd)
