"""A GAN you can watch: points in the plane drawn from a ring of Gaussians (the toy of Metz et al. 2017).

Eight Gaussians, their centres evenly spaced on a circle. G maps noise to 2-D points, D scores points; the
package's MLP models do it with img_shape=(2,), and gan_step trains them. Everything fits in one scatter
plot, so mode collapse shows by eye (G's points pile onto one or a few of the eight clusters), and
`modes_covered` counts it. A few thousand steps take seconds on a CPU.

    x_real = ring_of_gaussians(256, generator=gen)          # (256, 2), inside (-1, 1) like G's Tanh output
    count = modes_covered(x_fake)                            # count.covered of 8, count.high_quality

The ring has radius 0.8 and each Gaussian a standard deviation of 0.02: the proportions of the usual toy
(radius 2, std 0.02 in Metz et al.) would not fit inside G's Tanh range; these keep the modes well apart
(neighbouring centres 0.61 apart, 30 standard deviations).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

RADIUS, STD, MODES = 0.8, 0.02, 8


def ring_centres(modes: int = MODES, radius: float = RADIUS) -> torch.Tensor:
    """The centres of the Gaussians, (modes, 2), evenly spaced on a circle, the first at angle 0."""
    angles = torch.arange(modes) * (2 * math.pi / modes)
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)


def ring_of_gaussians(n: int, *, modes: int = MODES, radius: float = RADIUS, std: float = STD,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """n points (n, 2): a centre chosen uniformly for each, plus Gaussian noise of standard deviation `std`."""
    which = torch.randint(0, modes, (n,), generator=generator)
    return ring_centres(modes, radius)[which] + std * torch.randn(n, 2, generator=generator)


@dataclass(frozen=True)
class ModeCount:
    """per_mode: the points within 3 standard deviations of each centre; covered: the modes holding at least
    `min_share` of their fair share (n / modes) of the points; high_quality: the fraction of all points that
    lie within 3 standard deviations of some centre."""
    per_mode: tuple[int, ...]
    covered: int
    high_quality: float


def modes_covered(points: torch.Tensor, *, modes: int = MODES, radius: float = RADIUS, std: float = STD,
                  min_share: float = 0.25) -> ModeCount:
    """Count the modes of the ring that G's points (n, 2) cover (the measure of Metz et al., with a threshold)."""
    points = points.detach().float().cpu().reshape(len(points), 2)
    distance = torch.cdist(points, ring_centres(modes, radius))          # (n, modes)
    nearest, which = distance.min(dim=1)
    near = nearest <= 3 * std
    per_mode = torch.bincount(which[near], minlength=modes)
    covered = int((per_mode >= min_share * len(points) / modes).sum())
    return ModeCount(tuple(per_mode.tolist()), covered, near.float().mean().item())
