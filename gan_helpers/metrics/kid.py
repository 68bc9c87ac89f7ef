"""The kernel inception distance (KID, Bińkowski et al. 2018): an unbiased distance between two sets of features.

FID fits one Gaussian to each set, so it sees only means and covariances, and its estimate is biased
upwards for small sets (two samples of the same distribution get FID > 0, more so the fewer images).
KID compares the sets themselves: the squared maximum mean discrepancy (MMD^2) with the polynomial
kernel k(a, b) = (a . b / d + 1)^3,

    MMD^2 = mean k(x_i, x_j) + mean k(y_i, y_j) - 2 mean k(x_i, y_j)     (i != j in the first two)

an unbiased estimate: near 0 for two samples of one distribution at any size (it can be slightly
negative), larger when they differ. It is averaged over `subsets` random subsets of `subset_size`
features each, as in the paper's reference code, and reported with its standard deviation over them.
The features can come from any network: the MNIST classifier, the faces encoder, Inception.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class KID:
    """KID's mean over the subsets and its standard deviation."""
    mean: float
    std: float


def _mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    d = x.shape[1]
    k_xx, k_yy, k_xy = ((a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    m, n = len(x), len(y)
    return ((k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1)) + (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
            - 2 * k_xy.mean())


def kernel_inception_distance(features_a: torch.Tensor, features_b: torch.Tensor, *, subsets: int = 50,
                              subset_size: int = 1000, seed: int = 0) -> KID:
    """KID between two feature sets (N_a, d) and (N_b, d): the unbiased MMD^2 above, averaged over `subsets`
    random subsets of min(subset_size, N_a, N_b) features of each (drawn with `seed`, so it is repeatable)."""
    if features_a.ndim != 2 or features_b.ndim != 2 or features_a.shape[1] != features_b.shape[1]:
        raise ValueError(f"KID needs two feature sets (N, d) of the same d, got {tuple(features_a.shape)} and "
                         f"{tuple(features_b.shape)}.")
    size = min(subset_size, len(features_a), len(features_b))
    if size < 2:
        raise ValueError(f"KID needs at least 2 features in each set, got {len(features_a)} and {len(features_b)}.")
    a, b = (f.detach().to("cpu", torch.float64) for f in (features_a, features_b))
    generator = torch.Generator().manual_seed(seed)
    values = torch.stack([_mmd2_unbiased(a[torch.randperm(len(a), generator=generator)[:size]],
                                         b[torch.randperm(len(b), generator=generator)[:size]])
                          for _ in range(subsets)])
    return KID(mean=values.mean().item(), std=values.std().item() if subsets > 1 else 0.0)
