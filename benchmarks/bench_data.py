"""Data for the benchmark suite: every preset's data twice, the course's way and the tutorials' way.

    prepare(name, work, ...) -> PresetData
        .batches   what `fit` gets: the preset's own `data` (uint8 tensor -> TensorBatches)
        .dataset   what the tutorials use: a torchvision data set (MNIST / CIFAR10 / ImageFolder) with
                   ToTensor + Normalize (+ Resize and CenterCrop for the faces, as in PyTorch's DCGAN tutorial)
        .source    where the pixels came from, for the table
        .prep_s    the one-time cost of the fit side's data (reading the files, decoding the faces once)

MNIST comes from the repository's data/MNIST. CIFAR-10 is the shared 10,000-image development subset,
written in CIFAR-10's own file format by `gan_helpers.data.cifar10.write_cifar10_folder`
(cifar-10-batches-py; the tests use it too). The faces are
unpacked from the shared anime_faces_64.zip. When a shared file is absent, random uint8 pixels of the
right shape are written in the same formats instead, and `.source` says so: throughput does not depend
on pixel values, but the table must not pretend to be about real data.
"""
from __future__ import annotations

import gzip
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms

from gan_helpers.config import TrainConfig
from gan_helpers.data import default_data_root, shared_data_dir
from gan_helpers.data.cifar10 import CLASSES, FILES, write_cifar10_folder
from gan_helpers.presets import PRESETS

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = shared_data_dir()


@dataclass
class PresetData:
    batches: object                          # TensorBatches for fit
    dataset: torch.utils.data.Dataset        # torchvision data set for the tutorials' DataLoader
    source: str
    prep_s: float
    real: bool                               # False: random pixels stood in for absent shared data


def _normalize(channels: int) -> transforms.Normalize:
    return transforms.Normalize((0.5,) * channels, (0.5,) * channels)


class TorchvisionCIFAR10(torchvision.datasets.CIFAR10):
    """torchvision's CIFAR10 unchanged, except that it skips the md5 checks of the official files (the
    development copy has other bytes) and the batches.meta file (only class names). Same __getitem__:
    numpy row -> PIL image -> transform, one image at a time."""

    def _check_integrity(self) -> bool:
        return all((Path(self.root) / self.base_folder / name).is_file() for name in FILES[self.train])

    def _load_meta(self) -> None:
        self.classes = list(CLASSES)
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}


def _mnist(work: Path):
    raw = work / "mnist" / "MNIST" / "raw"       # torchvision's layout, unpacked: download=False needs no network
    raw.mkdir(parents=True, exist_ok=True)
    for gz in (default_data_root() / "MNIST" / "raw").glob("*.gz"):
        if (raw / gz.stem).is_file():                         # unpacked for an earlier MNIST preset
            continue
        with gzip.open(gz) as src, open(raw / gz.stem, "wb") as dst:
            shutil.copyfileobj(src, dst)
    tf = transforms.Compose([transforms.ToTensor(), _normalize(1)])
    dataset = torchvision.datasets.MNIST(str(work / "mnist"), train=True, download=False, transform=tf)
    return None, dataset, f"MNIST train, repository data/MNIST ({len(dataset):,})", True


def _cifar10(work: Path):
    npz = SHARED_DATA / "cifar10_train_10k_jpeg75.npz"
    if npz.is_file():
        with np.load(npz) as arrays:
            x, y = arrays["x_train"], arrays["y_train"]
        source, real = f"CIFAR-10 development subset, shared {npz.name} ({len(x):,})", True
    else:
        rng = np.random.default_rng(0)
        x, y = rng.integers(0, 256, (10_000, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 10_000, dtype=np.uint8)
        source, real = f"RANDOM uint8 pixels ({len(x):,}): shared {npz.name} absent", False
    root = work / "cifar10"
    write_cifar10_folder(x, y, root)
    tf = transforms.Compose([transforms.ToTensor(), _normalize(3)])
    return root, TorchvisionCIFAR10(str(root), train=True, download=False, transform=tf), source, real


def _anime(work: Path, limit: int | None):
    archive, root = SHARED_DATA / "anime_faces_64.zip", work / "anime"
    if archive.is_file():
        with zipfile.ZipFile(archive) as zf:
            members = sorted(m for m in zf.namelist() if m.lower().endswith(".jpg"))[:limit]
            zf.extractall(root, members)
        folder = root / Path(members[0]).parent
        source, real = f"anime faces 64x64, shared {archive.name} ({len(members):,} unpacked)", True
    else:
        folder, n = root / "random_faces", limit or 4096
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(folder / f"{i:05d}.jpg")
        source, real = f"RANDOM uint8 pixels as {n:,} JPEG files: shared {archive.name} absent", False
    tf = transforms.Compose([transforms.Resize(64), transforms.CenterCrop(64), transforms.ToTensor(), _normalize(3)])
    return folder, torchvision.datasets.ImageFolder(str(root), transform=tf), source, real


def prepare(name: str, work: Path, *, device: torch.device, anime_limit: int | None = None) -> PresetData:
    """Both forms of preset `name`'s data, files written below `work` (see the module doc)."""
    preset = PRESETS[name]
    kind = name.split("-")[0]
    if kind == "mnist":
        folder, dataset, source, real = _mnist(work)
    elif kind == "cifar10":
        folder, dataset, source, real = _cifar10(work)
    elif kind == "anime":
        folder, dataset, source, real = _anime(work, anime_limit)
    else:
        raise ValueError(f"no benchmark data for preset {name!r}")
    cfg: TrainConfig = preset.config
    start = time.perf_counter()
    batches = preset.data(cfg.batch_size, device, root=folder)   # the preset's own loader (decodes faces once)
    return PresetData(batches, dataset, source, time.perf_counter() - start, real)
