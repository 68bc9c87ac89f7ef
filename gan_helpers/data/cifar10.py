"""CIFAR-10 as two uint8 tensors, read from the data set's own files (its "python version").

Look-up order, in `ROOT` (default: the repository's `data/` folder):

1. `ROOT/cifar-10-batches-py/`, the unpacked archive (data_batch_1 ... data_batch_5, test_batch);
2. `ROOT/cifar-10-python.tar.gz`, unpacked there once;
3. torchvision's download into `ROOT` (170 MB, needs internet);
4. an error that says which file to put where.

The batch files are Python pickles. They are read with an unpickler that only accepts the NumPy
arrays a CIFAR batch is made of, so a tampered file cannot run code.
"""
from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np
import torch

from .files import atomic_write, default_data_root

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FOLDER, ARCHIVE = "cifar-10-batches-py", "cifar-10-python.tar.gz"
FILES = {True: tuple(f"data_batch_{i}" for i in range(1, 6)), False: ("test_batch",)}
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class CIFAR10NotFoundError(FileNotFoundError):
    """The CIFAR-10 files are neither on disk nor downloadable."""


class _ArraysOnly(pickle.Unpickler):
    """Rebuilds NumPy arrays and nothing else (no functions, no other classes)."""
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"a CIFAR-10 batch holds only NumPy arrays, not {module}.{name}")
        return super().find_class(module, name)


def read_cifar_batch(path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch file as images uint8 (N, 3, 32, 32) and labels int64 (N,)."""
    try:
        with open(path, "rb") as f:
            batch = _ArraysOnly(f, encoding="bytes").load()
        data, labels = np.asarray(batch[b"data"], dtype=np.uint8), np.asarray(batch[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path} is not a CIFAR-10 batch file ({type(err).__name__}: {err}). Delete the "
                         f"{FOLDER} folder and unpack {ARCHIVE} again, or download it anew.") from err
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(labels):
        raise ValueError(f"{path}: expected data of shape (N, 3072) and N labels, got {data.shape} "
                         f"and {labels.shape}. Is it a CIFAR-100 file?")
    return torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()), torch.from_numpy(labels.copy())


def _download(root: Path) -> None:
    from torchvision.datasets import CIFAR10  # downloads, checks the md5 and unpacks into root

    CIFAR10(str(root), train=True, download=True)


def load_cifar10(root: str | Path | None = None, *, train: bool = True, download: bool = True,
                 limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return CIFAR-10 images, shape (N, 3, 32, 32) uint8 in [0, 255], and labels (N,) int64 0-9.

    root:     folder that holds `cifar-10-batches-py/` or `cifar-10-python.tar.gz`
              (default: the repository's `data/` folder, or `./data`).
    train:    the 50,000 training images, or the 10,000 test images.
    download: when the files are missing, download them with torchvision into `root`.
    limit:    keep only the first `limit` images. `CLASSES[label]` names a label.
    """
    root = Path(root) if root is not None else default_data_root()
    folder, archive = root / FOLDER, root / ARCHIVE
    names = FILES[train]
    reason = " (download=False)"
    if not all((folder / name).is_file() for name in names):
        if archive.is_file():
            try:
                with tarfile.open(archive) as tar:
                    tar.extractall(root, filter="data")  # "data": no absolute paths or links out of root
            except (tarfile.TarError, EOFError, OSError) as err:
                raise ValueError(f"{archive} is damaged ({type(err).__name__}: {err}). Delete it and download "
                                 f"{URL} again.") from err
        elif download:
            try:
                _download(root)
                reason = ""
            except Exception as err:  # noqa: BLE001 - any download failure ends in the same advice
                reason = f" (the download failed: {type(err).__name__}: {err})"
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise CIFAR10NotFoundError(
            f"CIFAR-10 files {', '.join(missing)} not found in {folder.resolve()}{reason}. Download {URL} "
            f"on a machine with internet and put {ARCHIVE} in {root.resolve()} (it is unpacked on first "
            "use), or call load_cifar10(root, download=True) where there is internet."
        )
    parts = [read_cifar_batch(folder / name) for name in names]
    images, labels = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images, labels


def write_cifar10_folder(x: np.ndarray, y: np.ndarray, root: str | Path) -> Path:
    """The inverse of load_cifar10: x uint8 (N, 32, 32, 3), y (N,) as `root/cifar-10-batches-py/data_batch_1..5`,
    the archive's layout, readable by load_cifar10 and torchvision alike (tests, benchmarks, stand-in data)."""
    data = x.transpose(0, 3, 1, 2).reshape(len(x), -1)      # CIFAR rows: R plane, G plane, B plane
    folder = Path(root) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(len(x)), 5)):
        rows, labels = data[part], y[part].tolist()
        # The official files are Python 2 pickles: their keys read as bytes with encoding="bytes" (gan_helpers)
        # and as str with encoding="latin1" (torchvision). Both spellings, one stored copy (pickle's memo).
        batch = {b"batch_label": f"training batch {i + 1} of 5".encode(), b"data": rows, b"labels": labels,
                 "batch_label": f"training batch {i + 1} of 5", "data": rows, "labels": labels}
        atomic_write(folder / f"data_batch_{i + 1}", lambda f, batch=batch: pickle.dump(batch, f))
    return folder
