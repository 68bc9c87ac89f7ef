"""Drawing images from a generator: the noise z, the classes asked of a conditional G, and G(z) as pixels.

    z = sample_z(64, G.latent_dim, seed=1)           # the same 64 points on every machine
    x_fake = draw_samples(G, z)                      # uint8 (64, C, H, W), G in eval mode
    x_fake = draw_samples(G, z, labels=7)            # a conditional G: 64 sevens
    many = sample_images(G, sample_z(5000, G.latent_dim, seed=0))   # 500 at a time

One way to say which classes a conditional G draws, everywhere (`labels=`):
    None        every class equally often: 0, 1, ..., 9, 0, 1, ... (in a grid with num_classes
                columns each column is one class); nothing for an unconditional G
    an int      that class for every z
    a tensor    (or a list) one class per z
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .data.batches import from_unit_range
from .models import balanced_labels

Labels = int | Sequence[int] | torch.Tensor | None


def sample_z(n: int, latent_dim: int, *, seed: int | None = None, device: torch.device | str = "cpu",
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Noise z ~ N(0, I) of shape (n, latent_dim).

    seed: the same z for the same seed on every machine (drawn on the CPU, then moved to `device`),
    without touching the global random numbers. Without a seed (or a `generator`), z comes from
    torch's global generator on `device`, as in a training step.
    """
    if seed is not None:
        if generator is not None:
            raise ValueError("Give sample_z a seed or a generator, not both.")
        return torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(int(seed))).to(device)
    return torch.randn(n, latent_dim, device=device, generator=generator)


def z_from_seed(seed: int, *, latent_dim: int, n: int = 1) -> torch.Tensor:
    """n points z ~ N(0, I), shape (n, latent_dim), the same for the same seed: `sample_z(n, latent_dim, seed=seed)`."""
    return sample_z(n, latent_dim, seed=seed)


def class_labels(G: nn.Module, n: int, labels: Labels = None) -> torch.Tensor | None:
    """The classes to ask G for, one per z, as int64 on the CPU (None for an unconditional G).

    labels: None (every class equally often), one class, or one class per z: see the module doc.
    """
    num_classes = getattr(G, "num_classes", 0)
    if not num_classes:
        if labels is not None:
            raise ValueError(f"labels={_short(labels)} asks an unconditional {type(G).__name__} for a class; "
                             "only a generator built with num_classes > 0 takes labels.")
        return None
    if labels is None:
        return balanced_labels(n, num_classes)
    if isinstance(labels, int):
        chosen = torch.full((n,), labels, dtype=torch.long)
    else:
        chosen = torch.as_tensor(labels).cpu()
        if chosen.ndim != 1 or len(chosen) != n or chosen.is_floating_point():
            raise ValueError(f"labels must be one class per z: {n} whole numbers, got {chosen.dtype} of shape "
                             f"{tuple(chosen.shape)}.")
        chosen = chosen.long()
    bad = chosen[(chosen < 0) | (chosen >= num_classes)]
    if len(bad):
        raise ValueError(f"This generator draws the classes 0 to {num_classes - 1}; labels asks for {bad[0].item()}.")
    return chosen


@torch.no_grad()
def draw_samples(G: nn.Module, z: torch.Tensor, *, labels: Labels = None) -> torch.Tensor:
    """G(z) as uint8 images (N, C, H, W) on the CPU, G in eval mode (BatchNorm uses its running
    averages, so an image depends on its own z only) and without gradients; G's mode is restored.

    z may be on any device: it is moved to G's. labels: the classes of a conditional G (module doc).
    """
    chosen = class_labels(G, len(z), labels)
    was_training, device = G.training, next(G.parameters()).device
    G.eval()
    try:
        x_fake = G(z.to(device)) if chosen is None else G(z.to(device), chosen.to(device))
    finally:
        G.train(was_training)
    return from_unit_range(x_fake).cpu()


def sample_images(G: nn.Module, z: torch.Tensor, *, labels: Labels = None, batch_size: int = 500) -> torch.Tensor:
    """draw_samples over many z, `batch_size` at a time (memory stays small), as uint8 images on the CPU.
    For a translator (pix2pix's U-Net, a CycleGAN) z is its input images in [-1, 1] (to_unit_range(x))."""
    chosen = class_labels(G, len(z), labels)
    parts = [None] * len(z.split(batch_size)) if chosen is None else chosen.split(batch_size)
    return torch.cat([draw_samples(G, chunk, labels=y) for chunk, y in zip(z.split(batch_size), parts, strict=True)])


def _short(labels: Labels) -> str:
    text = repr(labels.tolist() if isinstance(labels, torch.Tensor) else labels)
    return text if len(text) < 40 else text[:37] + "..."


def grid_bytes(G: nn.Module, n: int) -> int:
    """About the memory that drawing n images from G and tiling them into one picture takes (memory.check_fits):
    the noise, the images as floats and bytes, and the grid (floats while it is built, then bytes)."""
    channels, height, width = draw_samples(G, sample_z(1, G.latent_dim, seed=0)).shape[1:]
    return n * (4 * G.latent_dim + 9 * channels * height * width + 12 * 3 * (height + 2) * (width + 2))
