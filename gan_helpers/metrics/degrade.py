"""Controlled damage to real images, to check that a metric ranks what it should (faces_metric evidence).

    blur(x, sigma)              Gaussian blur, sigma in pixels
    add_noise(x, std, seed)     Gaussian pixel noise, std in units of the [0, 1] range
    colour_shift(x, d)          red up by d, blue down by d (units of the [0, 1] range): a warm cast
    shuffle_patches(x, grid)    each image cut into grid x grid patches, put back in a random order
    top_colour_clusters(x, k)   k-means on the mean colour of each image's top quarter (where the hair is)

All take and give uint8 images (N, C, H, W). A good metric scores a real set worse the stronger the damage.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _to_uint8(x: torch.Tensor) -> torch.Tensor:
    return x.round().clamp(0, 255).to(torch.uint8)


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-t ** 2 / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    C = images.shape[1]
    x = F.pad(images.float(), (radius,) * 4, mode="reflect")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(C, 1, 1, -1), groups=C)       # along the rows
    x = F.conv2d(x, kernel.view(1, 1, -1, 1).expand(C, 1, -1, 1), groups=C)       # along the columns
    return _to_uint8(x)


def add_noise(images: torch.Tensor, std: float, *, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return _to_uint8(images.float() + 255 * std * torch.randn(images.shape, generator=g))


def colour_shift(images: torch.Tensor, d: float) -> torch.Tensor:
    shift = torch.tensor([d, 0.0, -d])[:, None, None] * 255
    return _to_uint8(images.float() + shift)


def shuffle_patches(images: torch.Tensor, grid: int, *, seed: int = 0) -> torch.Tensor:
    N, C, H, W = images.shape
    p = H // grid
    g = torch.Generator().manual_seed(seed)
    patches = images.reshape(N, C, grid, p, grid, p).permute(0, 2, 4, 1, 3, 5).reshape(N, grid * grid, C, p, p)
    order = torch.argsort(torch.rand(N, grid * grid, generator=g), dim=1)
    patches = patches[torch.arange(N)[:, None], order]
    return patches.reshape(N, grid, grid, C, p, p).permute(0, 3, 1, 4, 2, 5).reshape(N, C, H, W)


def top_colour_clusters(images: torch.Tensor, k: int, *, seed: int = 0, iterations: int = 20) -> torch.Tensor:
    """A cluster index (N,) per image: k-means (k-means++-free, seeded) on the mean RGB of the top quarter."""
    colours = images[:, :, : images.shape[2] // 4].float().mean((2, 3))        # (N, 3)
    g = torch.Generator().manual_seed(seed)
    centres = colours[torch.randperm(len(colours), generator=g)[:k]].clone()
    for _ in range(iterations):
        labels = torch.cdist(colours, centres).argmin(1)
        for j in range(k):
            if (labels == j).any():
                centres[j] = colours[labels == j].mean(0)
    return torch.cdist(colours, centres).argmin(1)
