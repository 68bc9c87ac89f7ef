"""Class conditioning (Mirza and Osindero 2014, "Conditional Generative Adversarial Nets").

Both players are told the class y: G draws x = G(z, y), and D judges the pair, D(x, y). Here y
enters as a one-hot vector: G sees [z, one_hot(y)] (latent_dim + num_classes numbers), an MLP D
sees the flattened image next to one_hot(y), and a convolutional D gets one extra constant
input plane per class (plane y is all ones, the others zero). A D that knows the label can
reject a perfect "7" drawn when a "3" was asked for, so G must obey the label to win.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def one_hot_labels(labels: torch.Tensor | None, *, num_classes: int, n: int, model: str) -> torch.Tensor | None:
    """Check `labels` for a model with `num_classes` classes (0: unconditional) and return them as
    float one-hot rows (n, num_classes), or None for an unconditional model."""
    if num_classes == 0:
        if labels is not None:
            raise ValueError(f"{model} is unconditional (num_classes=0) and takes no labels; build it with "
                             "num_classes=... to condition it on a class.")
        return None
    if labels is None:
        raise ValueError(f"{model} is conditional (num_classes={num_classes}): call it with labels, "
                         f"e.g. G(z, labels) or D(x, labels), labels a LongTensor of shape ({n},).")
    labels = torch.as_tensor(labels)
    if labels.shape != (n,) or labels.dtype.is_floating_point:
        raise ValueError(f"{model} wants one integer label per image, shape ({n},), got {labels.dtype} "
                         f"{tuple(labels.shape)}.")
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{model} has classes 0..{num_classes - 1}, got labels from {int(labels.min())} "
                         f"to {int(labels.max())}.")
    return F.one_hot(labels.long(), num_classes).float()


def balanced_labels(n: int, num_classes: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """0, 1, ..., num_classes - 1, 0, 1, ...: n labels with every class (nearly) equally often.
    In a grid with num_classes columns, each column is one class."""
    return torch.arange(n, device=device) % num_classes
