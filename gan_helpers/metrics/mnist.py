"""MNIST-domain metrics from the shipped digit classifier: MNIST FID and mode coverage.

    mnist_fid(images)             FID in the classifier's 128-d feature space against the
                                  10,000 MNIST test images (0 = same statistics)
    mnist_mode_coverage(images)   histogram of the digits the classifier reads, classes with
                                  >= 1% of the images, normalised entropy
    mnist_metrics(images)         all three numbers as a dict, what `MetricsCallback` records
    mnist_kid(images)             KID (kid.py) against the test set: unbiased, so usable with few images
    mnist_precision_recall(images)  improved precision and recall (precision_recall.py), k = 3

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
from .kid import KID, kernel_inception_distance
from .mnist_classifier import classify
from .precision_recall import PrecisionRecall, precision_recall


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


def mnist_accuracy(images: torch.Tensor, labels: torch.Tensor, *, device: str | torch.device = "cpu") -> float:
    """The fraction of digits (N, 1 or 3, 28, 28), uint8 or float in [-1, 1], that the classifier reads as their
    `labels`; colour digits (a translator's, MNIST-M's) are read as the mean of their channels."""
    from ._images import as_unit_range

    grey = as_unit_range(images).mean(dim=1, keepdim=True) if images.shape[1] == 3 else images
    _, logits = classify(grey, device=device)
    return (logits.argmax(1) == torch.as_tensor(labels).cpu()).float().mean().item()


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


def _reference_features(reference: torch.Tensor | None, device: str | torch.device) -> torch.Tensor:
    return classify_mnist(device=device)[0] if reference is None else classify(reference, device=device)[0]


def mnist_kid(images: torch.Tensor, reference: torch.Tensor | None = None, *, subset_size: int = 1000,
              device: str | torch.device = "cpu") -> KID:
    """KID between `images` and `reference` digits (default: the MNIST test set) in the classifier's features
    (kid.py): near 0 for real digits, at any number of images."""
    features, _ = classify(images, device=device)
    return kernel_inception_distance(_reference_features(reference, device), features, subset_size=subset_size)


def mnist_precision_recall(images: torch.Tensor, reference: torch.Tensor | None = None, *, k: int = 3,
                           device: str | torch.device = "cpu") -> PrecisionRecall:
    """Precision (do the digits look real?) and recall (is every kind of real digit drawn?) of `images`
    against `reference` digits (default: the 10,000 test digits), in the classifier's features
    (precision_recall.py). Use as many images as reference digits: both numbers depend on the counts."""
    features, _ = classify(images, device=device)
    return precision_recall(_reference_features(reference, device), features, k=k)
