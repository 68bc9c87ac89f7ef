"""Mode coverage: which classes a generator draws, and how evenly.

A GAN that collapses onto a few modes can still make sharp images, so FID alone can hide it.
Classify many generated images, count the classes:

    counts[k]         how many images were classified as class k
    classes_covered   how many classes get at least `threshold` (1%) of the images
    entropy           H(p) / log K of the class frequencies p: 1 when all K classes are equally
                      frequent (as in MNIST, nearly), 0 when every image is the same class
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ModeCoverage:
    """The class histogram of a set of images and two summaries of it (see the module doc)."""
    counts: tuple[int, ...]
    classes_covered: int
    entropy: float

    @property
    def fractions(self) -> list[float]:
        total = sum(self.counts)
        return [c / total for c in self.counts]


def mode_coverage(labels: torch.Tensor, num_classes: int = 10, *, threshold: float = 0.01) -> ModeCoverage:
    """Coverage of predicted class labels (N,) with values in 0 .. num_classes - 1."""
    labels = labels.detach().cpu().long().flatten()
    if len(labels) == 0:
        raise ValueError("mode_coverage got no labels.")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"Labels must lie in 0 .. {num_classes - 1}, "
                         f"got {labels.min().item()} .. {labels.max().item()}.")
    counts = torch.bincount(labels, minlength=num_classes)
    p = counts.double() / len(labels)
    entropy = -(p[p > 0] * p[p > 0].log()).sum().item() / math.log(num_classes)
    return ModeCoverage(counts=tuple(counts.tolist()), classes_covered=int((p >= threshold).sum()),
                        entropy=max(0.0, entropy))  # 0.0, not -0.0, for one class
