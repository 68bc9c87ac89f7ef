"""Where data lives, and writing a file so that a crash never leaves half of it behind.

The ground floor of the package: the data loaders, the image cache and the checkpoints all
stand on these, and they import nothing of the package.
"""
from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import torch

DATA_ENV = "GAN_DATA_DIR"              # where the data sets are (default: the repository's data/)
SHARED_DATA_ENV = "GAN_SHARED_DATA"    # the course's development copies of CIFAR-10 and the faces
REPO = Path(__file__).resolve().parents[2]


def default_data_root() -> Path:
    """Where the data sets live: the folder named by the environment variable GAN_DATA_DIR when it
    is set, else the repository's `data/` folder when running from a checkout, else `./data`."""
    if root := env_path(DATA_ENV):
        return root
    repo_data = REPO / "data"
    if (repo_data / "MNIST" / "raw").is_dir():
        return repo_data
    return Path("data")


def shared_data_dir() -> Path:
    """The course's shared development data (real CIFAR-10 and anime-face samples), used by the
    tests and the benchmarks when present: GAN_SHARED_DATA, else `../shared/data` beside the checkout."""
    return env_path(SHARED_DATA_ENV) or REPO.parent / "shared" / "data"


def env_path(name: str) -> Path | None:
    """The path in the environment variable `name`, `~` expanded; None when it is unset or empty. A ValueError
    that names the variable when its `~user` is no user of this machine (Path.expanduser's RuntimeError)."""
    value = os.environ.get(name, "")
    if not value:
        return None
    try:
        return Path(value).expanduser()
    except RuntimeError:
        raise ValueError(f"The environment variable {name}={value!r} starts with a ~user that does not exist on "
                         "this machine: set it to a full path, or unset it.") from None


_TEMPORARY = re.compile(r"^\..+\.(\d+-[0-9a-f]{8}\.)?tmp$")   # atomic_save's (and older versions') temporary names


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Write a file atomically: `write(f)` fills a temporary file of a name no other process uses, which
    is then fsynced and renamed to `path`. A crash, a full disk or an error in `write` leaves the previous
    file (if any) untouched, and two processes writing one path at once leave one of their files whole.
    Every file the package writes goes through here: checkpoints, pictures, plots, GIFs, caches."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # only left over when writing failed
    return path


def atomic_save(obj, path: str | Path) -> Path:
    """torch.save `obj` to `path` atomically (atomic_write); a full disk is an OSError (torch itself
    reports it as a RuntimeError)."""
    return atomic_write(path, lambda f: _torch_save(obj, f, Path(path)))


def _torch_save(obj, f, path: Path) -> None:
    """torch.save into the open file f, with a failed write raised as what it is: torch wraps the OSError of
    a full disk, and the KeyboardInterrupt of a Ctrl-C that arrives while it writes, in a RuntimeError."""
    try:
        torch.save(obj, f)
    except RuntimeError as err:
        cause = err.__context__
        if isinstance(cause, OSError):
            raise OSError(cause.errno, cause.strerror, str(path)) from err
        if isinstance(cause, KeyboardInterrupt):
            raise cause from None
        raise


def remove_leftovers(folder: str | Path) -> list[Path]:
    """Delete the temporary files that atomic_save left in `folder` when its process was killed while
    writing; return them. Only for a folder that no other process is writing to (fit holds its lock)."""
    folder = Path(folder)
    leftovers = [p for p in folder.iterdir() if _TEMPORARY.match(p.name)] if folder.is_dir() else []
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


def writable_folder(folder: str | Path) -> Path:
    """Create `folder` if needed and check that a file can be written in it, so that a read-only or
    mistyped place is reported before any work is done (an OSError that names the folder)."""
    folder = Path(folder)
    if blocker := next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None):
        raise NotADirectoryError(f"Cannot write to the folder {folder}: {blocker} is a file, not a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise type(err)(f"Cannot write to the folder {folder}: {err.strerror or err}. Choose a folder you can "
                        "write to.") from err
    return folder
