"""The two image conventions the metrics accept, as in plotting.py:

    uint8 in [0, 255]   what `draw_samples`, `History.samples` and `load_mnist` give
    float in [-1, 1]    what G's Tanh and `TensorBatches` give

Both of shape (N, C, H, W). Float images in [0, 1] cannot be told apart from dark [-1, 1]
images, so they are not accepted: convert them with `x * 2 - 1` first.
"""
from __future__ import annotations

import torch

from ..data.batches import from_unit_range, to_unit_range


def check_images(images: torch.Tensor, *, shape: tuple[int, ...] | None = None, what: str = "images") -> None:
    """Raise ValueError unless `images` is uint8 or float in [-1, 1] of shape (N, C, H, W) (C, H, W = shape)."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or (shape and tuple(images.shape[1:]) != shape):
        wanted = f"(N, {', '.join(map(str, shape))})" if shape else "(N, C, H, W)"
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{what} must be a tensor of shape {wanted}, got {got}.")
    if images.dtype != torch.uint8:
        if not images.is_floating_point():
            raise ValueError(f"{what} must be uint8 in [0, 255] or float in [-1, 1], got {images.dtype}.")
        low, high = images.min().item(), images.max().item()
        if low < -1.001 or high > 1.001:
            raise ValueError(f"Float {what} must be in [-1, 1] (G's Tanh range), got values in "
                             f"[{low:.3g}, {high:.3g}]. "
                             "Pass 0..255 pixels as uint8; map [0, 1] images with x * 2 - 1.")


def as_unit_range(images: torch.Tensor) -> torch.Tensor:
    """float32 in [-1, 1]."""
    return to_unit_range(images) if images.dtype == torch.uint8 else images.detach().float().clamp(-1, 1)


def as_uint8(images: torch.Tensor) -> torch.Tensor:
    """uint8 in [0, 255]."""
    return images if images.dtype == torch.uint8 else from_unit_range(images)
