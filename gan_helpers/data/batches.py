"""A batch source that keeps a whole uint8 data set on the training device.

The tutorials' way, `DataLoader(MNIST(transform=Compose([ToTensor(), Normalize(...)])))`,
turns every image into a PIL image and back into a tensor in Python, every epoch. For a
data set that fits in memory (MNIST is 47 MB as uint8) it is much faster to hold it once
as one tensor and, per batch, index it and scale it to [-1, 1] in a single tensor op.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch


def to_unit_range(x_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 pixels in [0, 255] -> float32 in [-1, 1], the range of the generator's Tanh."""
    return x_uint8.float().div(127.5).sub_(1.0)  # div makes a new tensor: the input is never changed


def from_unit_range(x: torch.Tensor) -> torch.Tensor:
    """float images in [-1, 1] -> uint8 pixels in [0, 255] (values outside are clipped)."""
    return ((x.detach().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


class TensorBatches:
    """Iterate over shuffled batches of a uint8 image tensor, scaled to [-1, 1].

    Each `iter()` is one epoch. The order is drawn from torch's global (CPU) random number
    generator, as `DataLoader(shuffle=True)` does, so seeding torch makes it reproducible and
    a resumed run sees the same batches.

    images:     uint8 tensor (N, C, H, W), moved once to `device`.
    labels:     optional tensor (N,); then each batch is `(x_real, y)`, else just `x_real`.
    drop_last:  skip the last incomplete batch (every batch has the same size).
    """

    def __init__(self, images: torch.Tensor, *, batch_size: int, labels: torch.Tensor | None = None,
                 device: str | torch.device = "cpu", shuffle: bool = True, drop_last: bool = True):
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(
                f"TensorBatches wants uint8 images of shape (N, C, H, W), got {images.dtype} "
                f"{tuple(images.shape)}. For MNIST use load_mnist(), which returns (N, 1, 28, 28) uint8."
            )
        if len(images) == 0:
            raise ValueError("TensorBatches got an empty image tensor: there is nothing to train on.")
        if batch_size < 1 or (drop_last and batch_size > len(images)):
            raise ValueError(f"batch_size={batch_size} does not fit a data set of {len(images)} images.")
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"{len(labels)} labels for {len(images)} images.")
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device) if labels is not None else None
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last

    def __len__(self) -> int:
        n, b = len(self.images), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[torch.Tensor | tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.images)
        order = torch.randperm(n) if self.shuffle else torch.arange(n)  # CPU generator, see class doc
        order = order.to(self.device)
        for i in range(len(self)):
            idx = order[i * self.batch_size : (i + 1) * self.batch_size]
            x_real = to_unit_range(self.images[idx])
            yield x_real if self.labels is None else (x_real, self.labels[idx])
