"""Improved precision and recall (Kynkäänniemi et al. 2019): fidelity and diversity as two numbers.

FID and KID mix two failures into one number: fakes that look wrong, and fakes that are all alike
(mode collapse, one hair colour). Precision and recall separate them. Around every real feature,
draw a ball reaching its k-th nearest real neighbour (k = 3): their union is an estimate of the
real images' manifold. Do the same for the fakes. Then

    precision = the fraction of fakes that fall inside the real manifold   (do fakes look real?)
    recall    = the fraction of reals that fall inside the fake manifold   (is every kind of real drawn?)

Noise or blur lowers precision; a generator that draws only some of the faces (one hair colour)
keeps its precision and loses recall. Both lie in [0, 1]; higher is better. They depend on k and the
number of features: compare only values from the same settings (the paper uses 50,000 of each; the
course uses fewer, and says how many).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PrecisionRecall:
    precision: float
    recall: float


def _kth_neighbour_radii(features: torch.Tensor, k: int, batch_size: int) -> torch.Tensor:
    """Distance from each feature to its k-th nearest other feature of the same set, (N,)."""
    radii = []
    for chunk in features.split(batch_size):
        dist = torch.cdist(chunk, features)                     # (b, N); each row holds its own 0 distance
        radii.append(dist.kthvalue(k + 1, dim=1).values)        # k + 1: skip the point itself
    return torch.cat(radii)


def _inside(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, batch_size: int) -> torch.Tensor:
    """For each query, whether it lies within radii[j] of some centres[j], (N_queries,) bool."""
    hits = [(torch.cdist(chunk, centres) <= radii).any(dim=1) for chunk in queries.split(batch_size)]
    return torch.cat(hits)


def precision_recall(real_features: torch.Tensor, fake_features: torch.Tensor, *, k: int = 3,
                     batch_size: int = 1000) -> PrecisionRecall:
    """Improved precision and recall of fake features (N_f, d) against real features (N_r, d), k-NN balls."""
    if real_features.ndim != 2 or fake_features.ndim != 2 or real_features.shape[1] != fake_features.shape[1]:
        raise ValueError(f"precision_recall needs two feature sets (N, d) of the same d, got "
                         f"{tuple(real_features.shape)} and {tuple(fake_features.shape)}.")
    if min(len(real_features), len(fake_features)) <= k:
        raise ValueError(f"precision_recall with k={k} needs more than {k} features in each set, got "
                         f"{len(real_features)} real and {len(fake_features)} fake.")
    real, fake = (f.detach().to("cpu", torch.float32) for f in (real_features, fake_features))
    real_radii, fake_radii = _kth_neighbour_radii(real, k, batch_size), _kth_neighbour_radii(fake, k, batch_size)
    precision = _inside(fake, real, real_radii, batch_size).float().mean().item()
    recall = _inside(real, fake, fake_radii, batch_size).float().mean().item()
    return PrecisionRecall(precision=precision, recall=recall)
