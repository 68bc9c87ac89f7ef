"""The Fréchet distance between two sets of features, each summarised as a Gaussian.

FID (Heusel et al., 2017) feeds real and generated images through a fixed network, fits a
Gaussian N(mu, Sigma) to each set of features, and reports the Fréchet (2-Wasserstein)
distance between the two Gaussians:

    d^2 = ||mu_1 - mu_2||^2 + Tr(Sigma_1 + Sigma_2 - 2 (Sigma_1^1/2 Sigma_2 Sigma_1^1/2)^1/2)

0 means identical statistics; larger is worse. Which network gives the features is up to the
caller: Inception-v3 for photos (`inception.py`), a digit classifier for MNIST (`mnist.py`).
The estimate depends on the number of images (it is biased upwards for small sets), so only
compare FIDs computed with the same feature network and the same numbers of images.

Everything is computed in float64. The matrix square root comes from symmetric eigen-
decompositions, which are stable for the positive semi-definite (often singular) covariances
that ReLU features give.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class FeatureStats:
    """Mean (d,) and covariance (d, d), float64, of n feature vectors."""
    mean: torch.Tensor
    cov: torch.Tensor
    n: int


def feature_stats(features: torch.Tensor) -> FeatureStats:
    """Mean and (unbiased) covariance of features of shape (N, d), N >= 2."""
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"Expected features of shape (N, d) with N >= 2, got {tuple(features.shape)}.")
    x = features.detach().to("cpu", torch.float64)
    mean = x.mean(0)
    centred = x - mean
    return FeatureStats(mean, centred.T @ centred / (len(x) - 1), len(x))


def _sqrtm_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix (tiny negative eigenvalues -> 0)."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(a: torch.Tensor | FeatureStats, b: torch.Tensor | FeatureStats) -> float:
    """Fréchet distance between two feature sets, each given as features (N, d) or as FeatureStats."""
    a = a if isinstance(a, FeatureStats) else feature_stats(a)
    b = b if isinstance(b, FeatureStats) else feature_stats(b)
    if a.mean.shape != b.mean.shape:
        raise ValueError(f"The two feature sets have different dimensions: {a.mean.numel()} and {b.mean.numel()}.")
    return gaussian_frechet_distance(a.mean, a.cov, b.mean, b.cov)


def gaussian_frechet_distance(mean1: torch.Tensor, cov1: torch.Tensor, mean2: torch.Tensor,
                              cov2: torch.Tensor) -> float:
    """The closed form above for N(mean1, cov1) and N(mean2, cov2)."""
    mean1, cov1, mean2, cov2 = (t.to("cpu", torch.float64) for t in (mean1, cov1, mean2, cov2))
    root1 = _sqrtm_psd(cov1)
    middle = root1 @ cov2 @ root1                          # symmetric PSD, same eigenvalues as Sigma_1 Sigma_2
    cross = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()  # Tr(middle^1/2)
    d2 = (mean1 - mean2).square().sum() + cov1.trace() + cov2.trace() - 2 * cross
    return max(d2.item(), 0.0)  # rounding can leave -1e-12 for identical sets
