"""One training per run folder: the lock that `fit` holds on its checkpoint folder while it trains.

Two trainings writing checkpoints into one folder overwrite each other's files, and one of the runs
is lost without a word. So `fit` holds `RunLock(cfg.checkpoint_dir)`: a file `.lock` in the folder,
locked with the operating system's advisory lock (fcntl.flock) and holding the owner's process id and
host, so that a second run is refused with a message that names the first. The operating system
releases the lock when its process ends in any way, kill -9 included: the file a killed run leaves
behind is stale and the next run simply takes it over (pid reuse cannot fool it). Holding the lock,
fit also deletes the half-written temporary files that a killed owner left (data.files.remove_leftovers).

Linux and macOS (Colab and its Drive folders included). Where Python has no fcntl (Windows), or a file
system refuses locks (some network mounts: a warning says so), the folder is not locked.
"""
from __future__ import annotations

import os
import socket
import warnings
from pathlib import Path

from .advice import advise
from .checkpoint import CheckpointError
from .data.files import remove_leftovers, writable_folder

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_NAME = ".lock"


class FolderInUseError(CheckpointError):
    """Another process is training into this checkpoint folder."""


class RunLock:
    """`with RunLock(folder):` this process alone writes checkpoints to `folder` (None: no folder, no lock)."""

    def __init__(self, folder: str | Path | None):
        self.path = None if folder is None else Path(folder) / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        if self.path is not None:
            writable_folder(self.path.parent)            # a read-only --out is said now, before any training
            if fcntl is not None:
                self._fd = _take(self.path)
            if self._fd is not None:
                remove_leftovers(self.path.parent)
        return self

    def keep(self) -> None:
        """Before every write into the folder: make sure this process still holds it. A lock file deleted
        while the run trains (the folder removed, or only `.lock`) is created and locked again, so that a second
        run is still refused; when another run has taken the folder meanwhile, a FolderInUseError says so and
        nothing of this run is written over its files."""
        if self._fd is None or _still_there(self._fd, self.path):
            return
        writable_folder(self.path.parent)
        try:
            fd = _take(self.path)
        except FolderInUseError as err:
            raise FolderInUseError(f"{self.path.parent} (or its lock file) was deleted while this run trained, and "
                                   f"another training ({err.owner}) has taken the folder since: this run stops "
                                   "without writing there, so as not to overwrite that run's checkpoints.") from None
        os.close(self._fd)
        self._fd = fd
        if fd is not None:
            warnings.warn(f"{self.path.parent} or its lock file was deleted while this run trained: the folder is "
                          "locked again (its earlier checkpoints are gone unless you moved them).", stacklevel=3)

    def __exit__(self, *exc_info) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)            # while still locked: whoever opened it sees it gone
            os.close(self._fd)
            self._fd = None


def _take(path: Path) -> int | None:
    """Open and lock `path` (a file whose owner died is taken over), write who holds it; the descriptor
    (None where the file system has no locks)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 200).decode(errors="replace").strip() or "a process that is starting"
            os.close(fd)
            raise _in_use(path.parent, owner) from None
        except OSError as err:
            os.close(fd)
            warnings.warn(f"Cannot lock {path.parent} ({err}): a second run into it would not be stopped.",
                          stacklevel=4)
            return None
        if _still_there(fd, path):                       # not a file that its owner removed as we locked it
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
    return fd


def _still_there(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _in_use(folder: Path, owner: str) -> FolderInUseError:
    what = (f"Another training ({owner}) is writing checkpoints to {folder}: two runs in one folder would "
            "overwrite each other. Wait for it to end (or stop it)")
    err = advise(FolderInUseError(f"{what}, or give this run another checkpoint_dir."),
                 cli=f"{what}, or give this run another --out.")
    err.owner = owner
    return err
