"""Named, ready-to-train set-ups for the command line: models, data and a TrainConfig.

Notebooks build the same things cell by cell; a preset bundles them so that
`python -m gan_helpers train mnist-mlp` needs no code.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
from torch import nn

from .config import TrainConfig
from .data import TensorBatches, load_mnist
from .models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator


@dataclass(frozen=True)
class Preset:
    """A model pair, its data and its default settings."""
    description: str
    build_models: Callable[[], tuple[nn.Module, nn.Module]]
    build_data: Callable[[TrainConfig, torch.device, int | None], Iterable]  # (cfg, device, limit) -> batches
    config: TrainConfig


def _mnist_batches(cfg: TrainConfig, device: torch.device, limit: int | None) -> TensorBatches:
    images, _ = load_mnist(limit=limit)
    return TensorBatches(images, batch_size=cfg.batch_size, device=device)


def _mnist_mlp() -> tuple[nn.Module, nn.Module]:
    return (MLPGenerator(latent_dim=128, hidden_dims=(256, 512), batch_norm=True),
            MLPDiscriminator(hidden_dims=(512, 256)))


def _mnist_dcgan() -> tuple[nn.Module, nn.Module]:
    return (DCGANGenerator(latent_dim=100, img_size=28, channels=1, features=32),
            DCGANDiscriminator(img_size=28, channels=1, features=32))


PRESETS = {
    "mnist-mlp": Preset(
        description="MLP GAN on MNIST (notebook 01): latent 128, G 256-512, D 512-256",
        build_models=_mnist_mlp,
        build_data=_mnist_batches,
        config=TrainConfig(epochs=10, batch_size=64),
    ),
    "mnist-dcgan": Preset(
        description="DCGAN on MNIST (notebook 02): latent 100, G 7x7x64 -> 14x14x32 -> 28x28, D mirrored",
        build_models=_mnist_dcgan,
        build_data=_mnist_batches,
        config=TrainConfig(epochs=5, batch_size=128),
    ),
}
