"""A small CNN that reads MNIST digits, shipped with trained weights so MNIST metrics work offline.

Its 128 penultimate features are the "Inception features" of MNIST: `mnist_fid` compares their
statistics for generated and real digits. Its predictions name the digit a generator drew, which
is what `mode_coverage` counts. `scripts/train_mnist_classifier.py` trains it on the 60,000
MNIST training images (seeded); the shipped weights reach 99.34% on the 10,000 test images.

    x (B, 1, 28, 28) in [-1, 1]
      -> Conv 3x3 32, BN, ReLU, MaxPool    (B, 32, 14, 14)
      -> Conv 3x3 64, BN, ReLU, MaxPool    (B, 64, 7, 7)
      -> Conv 3x3 128, BN, ReLU, MaxPool   (B, 128, 3, 3)
      -> Linear 1152 -> 128, ReLU          (B, 128)   <- features
      -> Linear 128 -> 10                  (B, 10)    <- logits
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "mnist_cnn.pt"


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class MNISTClassifier(nn.Module):
    """Digit classifier for 28x28 grayscale images in [-1, 1]; `features` gives its 128-d penultimate layer."""

    num_features = 128

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            *_block(1, 32), nn.MaxPool2d(2),     # (B, 32, 14, 14)
            *_block(32, 64), nn.MaxPool2d(2),    # (B, 64, 7, 7)
            *_block(64, 128), nn.MaxPool2d(2),   # (B, 128, 3, 3)
            nn.Flatten(),                        # (B, 1152)
            nn.Linear(128 * 3 * 3, 128), nn.ReLU(inplace=True),  # (B, 128) features
        )
        self.head = nn.Linear(128, 10)           # (B, 10) logits

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class ClassifierWeightsError(FileNotFoundError):
    """The shipped classifier weights are missing or unreadable."""


@lru_cache(maxsize=None)
def _load(device: str) -> MNISTClassifier:
    if not WEIGHTS.is_file():
        raise ClassifierWeightsError(
            f"The MNIST classifier weights {WEIGHTS} are missing. They ship with gan_helpers; in a checkout "
            "without them, run `python scripts/train_mnist_classifier.py` (a few minutes on a CPU) to write them.")
    try:
        state = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
        with torch.random.fork_rng(devices=[]):  # building the layers draws random weights: keep those draws
            model = MNISTClassifier()            # out of the training run's random numbers (MetricsCallback)
        model.load_state_dict(state)
    except Exception as err:  # noqa: BLE001 - damaged file or other architecture: the same advice
        raise ClassifierWeightsError(f"Could not load {WEIGHTS} ({type(err).__name__}: {err}). Rewrite it with "
                                     "`python scripts/train_mnist_classifier.py`.") from err
    return model.requires_grad_(False).eval().to(device)


def load_mnist_classifier(device: str | torch.device = "cpu") -> MNISTClassifier:
    """The trained classifier, in eval mode and frozen, on `device` (loaded once per device and shared:
    do not train it further)."""
    return _load(str(torch.device(device)))


@torch.no_grad()
def classify(images: torch.Tensor, *, device: str | torch.device = "cpu",
             batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Features (N, 128) and logits (N, 10), float32 on the CPU, of MNIST-shaped images
    (N, 1, 28, 28), uint8 in [0, 255] or float in [-1, 1]."""
    from ._images import as_unit_range, check_images

    check_images(images, shape=(1, 28, 28), what="MNIST images")
    model = load_mnist_classifier(device)
    features, logits = [], []
    for i in range(0, len(images), batch_size):
        f = model.features(as_unit_range(images[i:i + batch_size]).to(device))
        features.append(f.cpu())
        logits.append(model.head(f).cpu())
    return torch.cat(features), torch.cat(logits)
