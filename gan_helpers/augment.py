"""Differentiable augmentation (DiffAugment, Zhao et al. 2020): D sees shifted, cut-out, recoloured images.

With a small data set, D soon memorises the training images: its output on them drifts away from
its output on real images it has never seen, and G is then pushed towards copies of the training
set or towards nothing useful. Showing D randomly transformed images makes memorising harder.

The transform must be applied to BOTH the real and the generated images, in BOTH updates, and it
must be differentiable, so that G's gradient flows back through it:

    loss_D = d_loss(D(T(x_real)), D(T(G(z))))        loss_G = g_loss(D(T(G(z))))

Augmenting only the real images (the textbook data augmentation) teaches D that shifted, cut-out
images are real, and G then learns to draw them: the augmentation "leaks" into the samples. With
both sides augmented, D can tell real from fake only by what the transform keeps, and G is still
trained to match the un-augmented data.

Images are (B, C, H, W) in [-1, 1]; each image gets its own random transform.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


def brightness(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Add one random number in [-0.5, 0.5) to every pixel of an image."""
    return x + (_rand(x, generator) - 0.5)


def saturation(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Scale each pixel's distance from its grey value by a random factor in [0, 2)."""
    grey = x.mean(dim=1, keepdim=True)                               # (B, 1, H, W)
    return (x - grey) * (_rand(x, generator) * 2) + grey


def contrast(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Scale each image's distance from its mean by a random factor in [0.5, 1.5)."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)                       # (B, 1, 1, 1)
    return (x - mean) * (_rand(x, generator) + 0.5) + mean


def translation(x: torch.Tensor, ratio: float = 0.125, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image by up to ratio * size pixels in each direction, filling with zeros."""
    B, C, H, W = x.shape
    s = max(1, round(H * ratio))
    dy, dx = torch.randint(-s, s + 1, (2, B, 1), generator=generator).to(x.device)
    padded = F.pad(x, (s, s, s, s))                                  # (B, C, H + 2s, W + 2s)
    rows = (torch.arange(H, device=x.device) + s + dy).view(B, 1, H, 1).expand(B, C, H, W + 2 * s)
    x = padded.gather(2, rows)                                       # (B, C, H, W + 2s)
    cols = (torch.arange(W, device=x.device) + s + dx).view(B, 1, 1, W).expand(B, C, H, W)
    return x.gather(3, cols)                                         # (B, C, H, W)


def cutout(x: torch.Tensor, ratio: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """Set a random square of ratio * size pixels in each image to 0 (mid-grey in [-1, 1])."""
    B, _, H, W = x.shape
    h, w = max(1, round(H * ratio)), max(1, round(W * ratio))
    top = torch.randint(0, H - h + 1, (B, 1, 1), generator=generator).to(x.device)
    left = torch.randint(0, W - w + 1, (B, 1, 1), generator=generator).to(x.device)
    ys = torch.arange(H, device=x.device).view(1, H, 1)
    xs = torch.arange(W, device=x.device).view(1, 1, W)
    inside = (ys >= top) & (ys < top + h) & (xs >= left) & (xs < left + w)   # (B, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


POLICIES: dict[str, tuple[Callable, ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def diff_augment(x: torch.Tensor, policy: str = "color,translation,cutout", *,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply the transforms named in `policy` (comma-separated keys of POLICIES), in that order."""
    for name in parse_policy(policy):
        for transform in POLICIES[name]:
            x = transform(x, generator=generator)
    return x


def parse_policy(policy: str) -> list[str]:
    """The names in a policy string; ValueError naming the choices for an unknown one."""
    names = [name.strip() for name in policy.split(",") if name.strip()]
    unknown = [name for name in names if name not in POLICIES]
    if unknown or not names:
        raise ValueError(f"Unknown DiffAugment policy {policy!r}: use a comma-separated list of {sorted(POLICIES)}, "
                         "e.g. 'color,translation,cutout' (or 'translation,cutout' for grey images).")
    return names


def _rand(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One uniform number per image, shaped (B, 1, 1, 1) to broadcast over C, H, W."""
    return torch.rand(len(x), 1, 1, 1, generator=generator).to(device=x.device, dtype=x.dtype)
