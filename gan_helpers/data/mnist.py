"""MNIST as two uint8 tensors, read from the files committed in this repository.

Look-up order: `ROOT/MNIST/raw/*.gz` (or the unpacked files), then torchvision's download
into the same folder, then an error that says which files to put where.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import torch

from .files import default_data_root
from .idx import read_idx

FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class MNISTNotFoundError(FileNotFoundError):
    """The MNIST files are neither on disk nor downloadable."""


def _find(raw: Path, name: str) -> Path | None:
    for candidate in (raw / f"{name}.gz", raw / name):
        if candidate.is_file():
            return candidate
    return None


def _download(root: Path, train: bool) -> None:
    """torchvision's download into root/MNIST/raw, without its messages (the error says what failed); a failed
    download leaves no empty folders behind in the learner's root."""
    from torchvision.datasets import MNIST  # only needed when the files are missing

    created = [p for p in (root / "MNIST" / "raw", root / "MNIST", root) if not p.exists()]
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            MNIST(str(root), train=train, download=True)
    except BaseException:
        for folder in created:                       # innermost first
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise


def load_mnist(root: str | Path | None = None, *, train: bool = True, download: bool = True,
               limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return MNIST images, shape (N, 1, 28, 28) uint8 in [0, 255], and labels, shape (N,) int64 (torch.long,
    so they index tensors and feed nn.Embedding or F.one_hot as they are).

    root:     folder that holds `MNIST/raw/` (default: the repository's `data/` folder).
    train:    the 60,000 training images, or the 10,000 test images.
    download: when the files are missing, try torchvision's download into `root`.
    limit:    keep only the first `limit` images (fast mode, quick experiments).
    """
    root = Path(root) if root is not None else default_data_root()
    raw = root / "MNIST" / "raw"
    names = FILES[train]
    paths = [_find(raw, name) for name in names]
    reason = " (download=False)"
    if None in paths and download:
        try:
            _download(root, train)
            reason = ""
        except Exception as err:  # noqa: BLE001 - any download failure ends in the same advice
            said = " ".join(str(err).split())        # torchvision's message spans lines: one line, shortened
            reason = f" (the download failed: {type(err).__name__}: {said[:160] + '...' if len(said) > 160 else said})"
        paths = [_find(raw, name) for name in names]
    if None in paths:
        wanted = ", ".join(f"{name}.gz" for name in names)
        what = f"MNIST files not found in {raw.resolve()}{reason}. Put {wanted} there: they are in this repository's "
        err = MNISTNotFoundError(f"{what}data/MNIST/raw/ folder, or on any machine with internet call "
                                 "load_mnist(root, download=True).")
        err.cli_message = f"{what}data/MNIST/raw/ folder; or give --data the folder that holds MNIST/raw/."
        raise err
    images, labels = (read_idx(path) for path in paths)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{paths[0]} and {paths[1]} do not fit together: images {tuple(images.shape)}, "
            f"labels {tuple(labels.shape)}. Are the image and label files swapped?"
        )
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images.unsqueeze(1), labels.long()  # (N, 28, 28) -> (N, 1, 28, 28); labels uint8 in the file
