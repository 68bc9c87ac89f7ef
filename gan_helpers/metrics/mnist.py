"""MNIST-domain metrics from the shipped digit classifier: MNIST FID and mode coverage.

    mnist_fid(images)             FID in the classifier's 128-d feature space against the
                                  10,000 MNIST test images (0 = same statistics)
    mnist_mode_coverage(images)   histogram of the digits the classifier reads, classes with
                                  >= 1% of the images, normalised entropy
    mnist_metrics(images)         all three numbers as a dict, what `MetricsCallback` records

Images are (N, 1, 28, 28), uint8 in [0, 255] (draw_samples) or float in [-1, 1] (G's output).
Use the same number of images whenever you compare FIDs (5,000 is a good default): the estimate
is biased upwards for small sets. MNIST FID is not comparable with Inception FIDs in papers.
"""
from __future__ import annotations

from functools import lru_cache

import torch

from ..data.mnist import load_mnist
from .coverage import ModeCoverage, mode_coverage
from .frechet import FeatureStats, feature_stats, frechet_distance
from .mnist_classifier import classify


@lru_cache(maxsize=None)
def _classified(train: bool, device: str) -> tuple[torch.Tensor, torch.Tensor, FeatureStats]:
    features, logits = classify(load_mnist(train=train)[0], device=device)
    return features, logits, feature_stats(features)


def classify_mnist(*, train: bool = False, device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N, 128) and logits (N, 10) of the real MNIST test set (or training set); computed once, then
    cached (do not modify them). Compare `logits.argmax(1)` with load_mnist's labels for the accuracy."""
    features, logits, _ = _classified(train, str(torch.device(device)))
    return features, logits


def mnist_reference_stats(*, train: bool = False, device: str | torch.device = "cpu") -> FeatureStats:
    """Classifier-feature statistics of the MNIST test set (or the training set); computed once, then cached."""
    return _classified(train, str(torch.device(device)))[2]


def mnist_fid(images: torch.Tensor, reference: torch.Tensor | FeatureStats | None = None, *,
              device: str | torch.device = "cpu") -> float:
    """FID between `images` and `reference` (default: the MNIST test set) in the classifier's features.
    `reference` may be images (N, 1, 28, 28) or FeatureStats."""
    features, _ = classify(images, device=device)
    if reference is None:
        reference = mnist_reference_stats(device=device)
    elif not isinstance(reference, FeatureStats):
        reference = classify(reference, device=device)[0]
    return frechet_distance(features, reference)


def mnist_mode_coverage(images: torch.Tensor, *, threshold: float = 0.01,
                        device: str | torch.device = "cpu") -> ModeCoverage:
    """Which digits the classifier reads in `images`, and how evenly (see coverage.py)."""
    _, logits = classify(images, device=device)
    return mode_coverage(logits.argmax(1), 10, threshold=threshold)


def mnist_metrics(images: torch.Tensor, *, device: str | torch.device = "cpu") -> dict[str, float]:
    """{'mnist_fid', 'classes_covered', 'class_entropy'} of `images`, from one pass of the classifier."""
    features, logits = classify(images, device=device)
    coverage = mode_coverage(logits.argmax(1), 10)
    return {"mnist_fid": frechet_distance(features, mnist_reference_stats(device=device)),
            "classes_covered": coverage.classes_covered, "class_entropy": coverage.entropy}
