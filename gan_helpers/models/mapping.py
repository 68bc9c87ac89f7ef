"""StyleGAN's mapping network z -> w, and the truncation trick in the space W it maps to.

Why a mapping: z is drawn from a fixed Gaussian, so G must warp that round cloud onto whatever shape
the faces take (few faces with both long red hair and glasses, many with dark hair). That warping
entangles z: moving along one axis changes several features at once. An MLP f: z -> w lets G learn
that warp itself; the space W of its outputs need not be Gaussian, and in it features separate better
(Karras et al. 2019, their perceptual path lengths and linear separability).

    z (B, latent_dim) -> normalise to unit mean square -> [Linear, LeakyReLU(0.2) * sqrt(2)] x n_layers
      -> w (B, w_dim)

Its layers learn 100x slower than the rest (lr_mul 0.01, equalized.py), as in StyleGAN.

Truncation (`truncate`): images from rarely drawn w are the worst; pulling w towards the mean w,
w' = w_avg + psi (w - w_avg), trades variety (psi -> 0: every z draws the same average face) for
quality (psi ~ 0.7). G keeps w_avg as a running mean of the w it sees in training.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .equalized import EqualLinear


class MappingNetwork(nn.Module):
    """An MLP z (B, latent_dim) -> w (B, w_dim), n_layers deep, on the normalised z."""

    def __init__(self, *, latent_dim: int, w_dim: int, n_layers: int = 4, lr_mul: float = 0.01):
        super().__init__()
        dims = [latent_dim] + [w_dim] * n_layers
        self.layers = nn.ModuleList(EqualLinear(a, b, lr_mul=lr_mul) for a, b in zip(dims, dims[1:], strict=False))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)   # (B, latent_dim), mean square 1
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2) * math.sqrt(2)                  # (B, w_dim); sqrt(2) keeps the scale
        return x


def truncate(w: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """w_avg + psi (w - w_avg): psi = 1 leaves w alone, psi = 0 gives the mean w for every w."""
    return w_avg + psi * (w - w_avg)
