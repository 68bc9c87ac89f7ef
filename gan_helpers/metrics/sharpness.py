"""How sharp images are: the mean absolute Laplacian of their luminance (the energy of their finest detail).

    L = x[i-1, j] + x[i+1, j] + x[i, j-1] + x[i, j+1] - 4 x[i, j]        (on the grey image, 0-255)

A blur averages neighbours, and the Laplacian of an average is small: a blurred picture scores lower than
the original, noise higher. Compare a translator's outputs with the real targets (`sharpness_ratio`): 1 is as
sharp as real, below 1 blurred (L1 alone), far above 1 speckled. It says nothing about whether the detail is
right: read it beside the faces metric.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ._images import as_unit_range, check_images

_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)


def laplacian_energy(images: torch.Tensor) -> float:
    """The mean |Laplacian| of images (N, C, H, W), uint8 or float in [-1, 1], on their grey mean, in grey
    levels (0-255 scale)."""
    check_images(images, what="images")
    grey = (as_unit_range(images).float().mean(dim=1, keepdim=True) + 1) * 127.5      # (N, 1, H, W), 0-255
    return F.conv2d(grey, _LAPLACIAN.to(grey.device)).abs().mean().item()


def sharpness_ratio(images: torch.Tensor, reference: torch.Tensor) -> float:
    """laplacian_energy(images) / laplacian_energy(reference): 1 as sharp as the reference, < 1 blurred."""
    return laplacian_energy(images) / laplacian_energy(reference)
