"""Named, ready-to-train set-ups for the command line: models, data and a TrainConfig.

Notebooks build the same things cell by cell; a preset bundles them so that
`python -m gan_helpers train mnist-mlp` needs no code.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .config import TrainConfig
from .data import TensorBatches, default_data_root, load_cifar10, load_image_folder, load_mnist
from .models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator


@dataclass(frozen=True)
class Preset:
    """A model pair, its data and its default settings.

    build_models(features) -> (G, D); `features` is the DCGAN width (ignored by the MLP).
    build_data(cfg, device, limit, data) -> batches; `data` is a folder (None: the default place).
    """
    description: str
    build_models: Callable[[int], tuple[nn.Module, nn.Module]]
    build_data: Callable[[TrainConfig, torch.device, int | None, str | Path | None], Iterable]
    config: TrainConfig
    features: int = 64


def _mnist_batches(cfg: TrainConfig, device: torch.device, limit: int | None, data=None) -> TensorBatches:
    images, labels = load_mnist(data, limit=limit)   # fit passes the labels on to conditional models only
    return TensorBatches(images, labels=labels, batch_size=cfg.batch_size, device=device)


def _cifar10_batches(cfg: TrainConfig, device: torch.device, limit: int | None, data=None) -> TensorBatches:
    images, labels = load_cifar10(data, limit=limit)
    return TensorBatches(images, labels=labels, batch_size=cfg.batch_size, device=device)


def _anime_batches(cfg: TrainConfig, device: torch.device, limit: int | None, data=None) -> TensorBatches:
    folder = load_image_folder(data or default_data_root() / "anime_faces", size=64)
    images = folder.images[:limit] if limit else folder.images
    return TensorBatches(images, batch_size=cfg.batch_size, device=device)


def _mnist_mlp(features: int) -> tuple[nn.Module, nn.Module]:
    return (MLPGenerator(latent_dim=128, hidden_dims=(256, 512), batch_norm=True),
            MLPDiscriminator(hidden_dims=(512, 256)))


def _dcgan(img_size: int, channels: int, *, num_classes: int = 0, **D_options) -> Callable[[int], tuple]:
    """A builder of a DCGAN pair; D_options: norm, spectral_norm (see DCGANDiscriminator)."""
    def build(features: int) -> tuple[nn.Module, nn.Module]:
        return (DCGANGenerator(latent_dim=100, img_size=img_size, channels=channels, features=features,
                               num_classes=num_classes),
                DCGANDiscriminator(img_size=img_size, channels=channels, features=features, num_classes=num_classes,
                                   **D_options))
    return build


PRESETS = {
    "mnist-mlp": Preset(
        description="MLP GAN on MNIST (notebook 01): latent 128, G 256-512, D 512-256",
        build_models=_mnist_mlp, build_data=_mnist_batches, features=0,
        config=TrainConfig(epochs=10, batch_size=64),
    ),
    "mnist-dcgan": Preset(
        description="DCGAN on MNIST (notebook 02): latent 100, G 7x7 -> 14x14 -> 28x28, D mirrored",
        build_models=_dcgan(28, 1), build_data=_mnist_batches, features=32,
        config=TrainConfig(epochs=5, batch_size=128),
    ),
    "cifar10-dcgan": Preset(
        description="DCGAN on CIFAR-10 (notebook 03): latent 100, G 4x4 -> 8x8 -> 16x16 -> 32x32x3, D mirrored",
        build_models=_dcgan(32, 3), build_data=_cifar10_batches, features=64,
        config=TrainConfig(epochs=25, batch_size=128),
    ),
    "anime-dcgan": Preset(
        description="DCGAN on 64x64 anime faces (notebook 04): the paper's G 4x4 -> ... -> 64x64x3; "
                    "--data FOLDER of images (default data/anime_faces)",
        build_models=_dcgan(64, 3), build_data=_anime_batches, features=64,
        config=TrainConfig(epochs=25, batch_size=128),
    ),
    "mnist-wgan-gp": Preset(
        description="WGAN-GP on MNIST (notebook 07): the DCGAN of mnist-dcgan, a LayerNorm critic, 5 critic "
                    "steps per G step, gradient penalty 10, Adam(1e-4, 0, 0.9)",
        build_models=_dcgan(28, 1, norm="layer"), build_data=_mnist_batches, features=32,
        config=TrainConfig(epochs=10, batch_size=64, loss="wasserstein", gp_weight=10.0, d_steps=5, lr_G=1e-4,
                           lr_D=1e-4, beta1=0.0, beta2=0.9),
    ),
    "mnist-sngan": Preset(
        description="Spectrally normalised DCGAN on MNIST (notebook 07): hinge loss, no BatchNorm in D, "
                    "TTUR (lr_D 4e-4, lr_G 1e-4)",
        build_models=_dcgan(28, 1, norm="none", spectral_norm=True), build_data=_mnist_batches, features=32,
        config=TrainConfig(epochs=5, batch_size=128, loss="hinge", lr_G=1e-4, lr_D=4e-4),
    ),
    "mnist-cdcgan": Preset(
        description="Conditional DCGAN on MNIST (notebook 08): G(z, digit), D(x, digit); sample --label 7",
        build_models=_dcgan(28, 1, num_classes=10), build_data=_mnist_batches, features=32,
        config=TrainConfig(epochs=5, batch_size=128, n_samples=100),   # grids of 10 x 10: a column per class
    ),
    "cifar10-cdcgan": Preset(
        description="Conditional DCGAN on CIFAR-10 (notebook 08): G(z, class), D(x, class); sample --label 3",
        build_models=_dcgan(32, 3, num_classes=10), build_data=_cifar10_batches, features=64,
        config=TrainConfig(epochs=25, batch_size=128, n_samples=100),
    ),
}
