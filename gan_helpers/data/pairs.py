"""Batch sources for image-to-image translation: paired (pix2pix) and unpaired (CycleGAN) domains.

Like TensorBatches, both keep the uint8 images once on the training device, and each `iter()` is one
epoch of full batches scaled to [-1, 1], its order drawn from torch's global (CPU) generator, so that
seeding torch makes it reproducible and a resumed run sees the same batches.

    PairedBatches:   (x_input, x_target), one shuffled index for both: row i of each is the same pair.
    UnpairedBatches: (x_a, x_b), each domain shuffled on its own: row i of x_a has nothing to do with x_b's.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch

from .batches import to_unit_range

Pair = tuple[torch.Tensor, torch.Tensor]


def _check_images(images: torch.Tensor, name: str, where: str) -> None:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{where} wants {name} as uint8 images of shape (N, C, H, W), got {got}.")
    if len(images) == 0:
        raise ValueError(f"{where} got no {name} (an empty tensor): there is nothing to train on.")


def _check_batch_size(batch_size: int, n: int, where: str) -> None:
    if batch_size < 1 or batch_size > n:
        raise ValueError(f"{where}: batch_size={batch_size} does not fit {n} images; choose 1 to {n}.")


def _first(images: torch.Tensor, n: int, name: str) -> torch.Tensor:
    if not 1 <= n <= len(images):
        raise ValueError(f"examples(n={n}): n must be between 1 and the {len(images)} {name}.")
    return to_unit_range(images[:n])


class PairedBatches:
    """Shuffled batches of aligned pairs (x_input, x_target), both float in [-1, 1] (pix2pix).

    inputs:  uint8 (N, Ci, H, W), for example line drawings (N, 1, 64, 64).
    targets: uint8 (N, Ct, H, W), the same N, H and W, for example the colour faces (N, 3, 64, 64).
    shuffle: one torch.randperm per epoch, used for both; else the stored order. The last
             incomplete batch is dropped: len() = N // batch_size.
    """

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor, *, batch_size: int,
                 device: str | torch.device = "cpu", shuffle: bool = True):
        _check_images(inputs, "inputs", "PairedBatches")
        _check_images(targets, "targets", "PairedBatches")
        if len(inputs) != len(targets):
            raise ValueError(f"PairedBatches got {len(inputs)} inputs but {len(targets)} targets: each input "
                             "needs its target.")
        if inputs.shape[2:] != targets.shape[2:]:
            raise ValueError(f"PairedBatches wants inputs and targets of the same size H x W, got "
                             f"{tuple(inputs.shape[2:])} and {tuple(targets.shape[2:])}.")
        _check_batch_size(batch_size, len(inputs), "PairedBatches")
        self.device = torch.device(device)
        self.inputs = inputs.to(self.device)
        self.targets = targets.to(self.device)
        self.batch_size, self.shuffle = batch_size, shuffle

    def __len__(self) -> int:
        return len(self.inputs) // self.batch_size

    def __iter__(self) -> Iterator[Pair]:
        n = len(self.inputs)
        order = torch.randperm(n) if self.shuffle else torch.arange(n)   # CPU generator, see the module doc
        order = order.to(self.device)
        for i in range(len(self)):
            idx = order[i * self.batch_size : (i + 1) * self.batch_size]
            yield to_unit_range(self.inputs[idx]), to_unit_range(self.targets[idx])

    def examples(self, n: int) -> Pair:
        """The first n pairs, unshuffled, as (x_input, x_target) in [-1, 1]: a fixed set to picture."""
        return _first(self.inputs, n, "pairs"), _first(self.targets, n, "pairs")


class UnpairedBatches:
    """Batches (x_a, x_b), float in [-1, 1], from two domains shuffled independently (CycleGAN).

    images_a, images_b: uint8 (Na, Ca, H, W) and (Nb, Cb, H', W'); the counts, channels and sizes may differ.
    labels_a, labels_b: optional (Na,) and (Nb,), kept as attributes to measure with, never yielded.
    Each epoch draws torch.randperm(Na), then torch.randperm(Nb), and yields min(Na, Nb) // batch_size
    full batches: the rest of the larger domain waits for a later epoch's draw.
    """

    def __init__(self, images_a: torch.Tensor, images_b: torch.Tensor, *, batch_size: int,
                 device: str | torch.device = "cpu", labels_a: torch.Tensor | None = None,
                 labels_b: torch.Tensor | None = None):
        _check_images(images_a, "images_a", "UnpairedBatches")
        _check_images(images_b, "images_b", "UnpairedBatches")
        for labels, images, name in ((labels_a, images_a, "a"), (labels_b, images_b, "b")):
            if labels is not None and len(labels) != len(images):
                raise ValueError(f"UnpairedBatches got {len(labels)} labels_{name} for {len(images)} images_{name}.")
        _check_batch_size(batch_size, min(len(images_a), len(images_b)), "UnpairedBatches")
        self.device = torch.device(device)
        self.images_a = images_a.to(self.device)
        self.images_b = images_b.to(self.device)
        self.labels_a = labels_a.to(self.device) if labels_a is not None else None
        self.labels_b = labels_b.to(self.device) if labels_b is not None else None
        self.batch_size = batch_size

    def __len__(self) -> int:
        return min(len(self.images_a), len(self.images_b)) // self.batch_size

    def __iter__(self) -> Iterator[Pair]:
        order_a = torch.randperm(len(self.images_a)).to(self.device)    # a first, then b: one order to resume
        order_b = torch.randperm(len(self.images_b)).to(self.device)
        for i in range(len(self)):
            batch = slice(i * self.batch_size, (i + 1) * self.batch_size)
            yield to_unit_range(self.images_a[order_a[batch]]), to_unit_range(self.images_b[order_b[batch]])

    def examples(self, n: int) -> Pair:
        """The first n images of each domain, unshuffled, as (x_a, x_b) in [-1, 1]."""
        return _first(self.images_a, n, "images_a"), _first(self.images_b, n, "images_b")
