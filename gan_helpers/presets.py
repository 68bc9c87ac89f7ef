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
from .data.mnist_m import mnist_m_domains
from .data.pairs import PairedBatches, UnpairedBatches
from .data.sketch import sketch_pairs
from .models import (
    CycleDiscriminators,
    CycleGenerators,
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    PatchDiscriminator,
    ResidualDiscriminator,
    StyleGenerator,
    UNetGenerator,
)

Images = tuple[torch.Tensor, torch.Tensor | None]   # uint8 (N, C, H, W) and int64 labels (N,), or None


@dataclass(frozen=True)
class Preset:
    """A model pair, its data and its default settings.

        G, D = preset.models()                                # at the preset's width; models(features=32)
        data = preset.data(cfg.batch_size, device, limit=1000, root="data/")
        fit(G, D, data, preset.config)
    """
    description: str
    config: TrainConfig
    build: Callable[[int], tuple[nn.Module, nn.Module]]            # features -> (G, D)
    load: Callable[[str | Path | None, int | None, bool], Images] | None   # (root, limit, progress) -> images, labels
    features: int = 64                                               # the DCGAN/style width (0: none)
    # A translation preset's batches of image pairs, built instead of `load`'s TensorBatches:
    # (root, limit, progress, batch_size, device) -> PairedBatches or UnpairedBatches
    batches: Callable[[str | Path | None, int | None, bool, int, torch.device | str], Iterable] | None = None

    def models(self, features: int | None = None) -> tuple[nn.Module, nn.Module]:
        """A fresh (G, D), `features` wide (default: the preset's width; ignored by the MLP)."""
        return self.build(features or self.features)

    def data(self, batch_size: int, device: torch.device | str = "cpu", *, limit: int | None = None,
             root: str | Path | None = None, progress: bool = True) -> TensorBatches:
        """The preset's data set as batches for fit: the first `limit` images (default all), from `root`
        (default: the data set's usual place, see gan_helpers.data); progress: a bar while images are decoded."""
        if self.batches is not None:                          # a translation preset: pairs of images
            return self.batches(root, limit, progress, batch_size, device)
        images, labels = self.load(root, limit, progress)   # fit passes the labels on to conditional models only
        return TensorBatches(images, labels=labels, batch_size=batch_size, device=device)


def _mnist(root: str | Path | None, limit: int | None, progress: bool) -> Images:
    return load_mnist(root, limit=limit)


def _cifar10(root: str | Path | None, limit: int | None, progress: bool) -> Images:
    return load_cifar10(root, limit=limit)


def _anime_faces(root: str | Path | None, limit: int | None, progress: bool) -> Images:
    folder = load_image_folder(root or default_data_root() / "anime_faces", size=64, progress=progress)
    return (folder.images[:limit] if limit else folder.images), None


def _anime_faces_at(size: int) -> Callable[[str | Path | None, int | None, bool], Images]:
    """A loader of the anime faces at size x size (decoded once per size and cached beside the folder)."""
    def load(root: str | Path | None, limit: int | None, progress: bool) -> Images:
        folder = load_image_folder(root or default_data_root() / "anime_faces", size=size, progress=progress)
        return (folder.images[:limit] if limit else folder.images), None
    return load


def _stylegan(img_size: int) -> Callable[[int], tuple[nn.Module, nn.Module]]:
    """A builder of a style-based G and its residual D (stylegan.py, residual_d.py), `features` wide at img_size."""
    def build(features: int) -> tuple[nn.Module, nn.Module]:
        return (StyleGenerator(img_size=img_size, features=features),
                ResidualDiscriminator(img_size=img_size, features=features))
    return build


# StyleGAN2's optimiser (Adam lr 2e-3, betas (0, 0.99)), the non-saturating logistic loss, lazy R1 every 4th D step
# and an EMA of G; gamma 1 rather than StyleGAN2-ADA's rule of thumb (0.0002 * side^2 / batch * 25 ~ 1 at 64 px).
_STYLE_CONFIG = dict(batch_size=32, lr_G=2e-3, lr_D=2e-3, beta1=0.0, beta2=0.99, r1_gamma=1.0, r1_every=4,
                     ema_decay=0.999)


def _face_sketches(root: str | Path | None, limit: int | None, progress: bool, batch_size: int,
                   device: torch.device | str) -> PairedBatches:
    """The faces as pix2pix pairs: (each face's line drawing, the face) (data/sketch.py)."""
    faces, _ = _anime_faces(root, limit, progress)
    return PairedBatches(*sketch_pairs(faces), batch_size=batch_size, device=device)


def _mnist_and_mnist_m(root: str | Path | None, limit: int | None, progress: bool, batch_size: int,
                       device: torch.device | str) -> UnpairedBatches:
    """Domain A: MNIST digits as grey RGB; domain B: other digits blended onto photos or textures (MNIST-M's
    way, data/mnist_m.py), `limit` of each. Unpaired: no digit is in both. `background_source` says which
    backgrounds were used ("CIFAR-10" when it is found beside MNIST, else "procedural")."""
    digits_a, labels_a, digits_b, labels_b, source = mnist_m_domains(root=root, limit=limit and 2 * limit, rgb=True)
    data = UnpairedBatches(digits_a, digits_b, batch_size=batch_size, device=device, labels_a=labels_a,
                           labels_b=labels_b)
    data.background_source = source
    return data


def _pix2pix(features: int) -> tuple[nn.Module, nn.Module]:
    """pix2pix at 64 px: a U-Net from a line drawing (1 channel) to a colour face, a 34x34 PatchGAN on both."""
    return (UNetGenerator(in_channels=1, out_channels=3, img_size=64, features=features),
            PatchDiscriminator(in_channels=1 + 3, features=features, layers=2))


def _cyclegan(features: int) -> tuple[nn.Module, nn.Module]:
    """CycleGAN at 28 px: ResNet generators both ways, 16x16 PatchGANs (layers=1: 28 px digits are small)."""
    return (CycleGenerators(channels_a=3, channels_b=3, features=features, blocks=6),
            CycleDiscriminators(channels_a=3, channels_b=3, features=features, layers=1))


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
        build=_mnist_mlp, load=_mnist, features=0,
        config=TrainConfig(epochs=10, batch_size=64),
    ),
    "mnist-dcgan": Preset(
        description="DCGAN on MNIST (notebook 02): latent 100, G 7x7 -> 14x14 -> 28x28, D mirrored; Adam lr 3.2e-3 "
                    "(16x the paper's) at batch 64",
        build=_dcgan(28, 1), load=_mnist, features=32,
        # Measured (README): over three seeds, in slightly less training time, these settings halve the MNIST FID
        # of the paper's (lr 2e-4, batch 128, 5 epochs), this preset's first defaults. An EMA of G (decay 0.999)
        # made no measurable difference in these short runs, so the preset does not keep one.
        config=TrainConfig(epochs=4, batch_size=64, lr_G=3.2e-3, lr_D=3.2e-3),
    ),
    "cifar10-dcgan": Preset(
        description="DCGAN on CIFAR-10 (notebook 03): latent 100, G 4x4 -> 8x8 -> 16x16 -> 32x32x3, D mirrored",
        build=_dcgan(32, 3), load=_cifar10, features=64,
        config=TrainConfig(epochs=25, batch_size=128),
    ),
    "anime-dcgan": Preset(
        description="DCGAN on 64x64 anime faces (notebook 04): the paper's G 4x4 -> ... -> 64x64x3; "
                    "--data FOLDER of images (default data/anime_faces)",
        build=_dcgan(64, 3), load=_anime_faces, features=64,
        # G_ema draws the pictures: on 5 CPU epochs at features 32 it removed G's speckled textures (README).
        config=TrainConfig(epochs=25, batch_size=128, ema_decay=0.999),
    ),
    "anime-stylegan": Preset(
        description="Style-based G (StyleGAN2: mapping, modulated convs, noise, mixing) and a residual D on 64x64 "
                    "anime faces (notebook 10); --data FOLDER of images (default data/anime_faces)",
        build=_stylegan(64), load=_anime_faces, features=16,
        config=TrainConfig(epochs=25, **_STYLE_CONFIG),
    ),
    "anime-stylegan-32": Preset(
        description="anime-stylegan at 32x32 (the faces downsized): about 1/3 of the compute, for a CPU",
        build=_stylegan(32), load=_anime_faces_at(32), features=16,
        config=TrainConfig(epochs=25, **_STYLE_CONFIG),
    ),
    "faces-pix2pix": Preset(
        description="pix2pix (notebook 11): a U-Net draws the colour face from its line drawing (XDoG), a 34x34 "
                    "PatchGAN judges (drawing, face) pairs, loss BCE + 100 L1; --data FOLDER of faces",
        build=_pix2pix, load=None, batches=_face_sketches, features=64,
        config=TrainConfig(epochs=10, batch_size=16, game="pix2pix", l1_weight=100.0),
    ),
    "mnist-cyclegan": Preset(
        description="CycleGAN (notebook 11): MNIST <-> MNIST-M-style digits (other digits blended onto CIFAR-10 "
                    "photos, or textures without them), unpaired; least squares, cycle 10, identity 0.5, pool 50",
        build=_cyclegan, load=None, batches=_mnist_and_mnist_m, features=32,
        config=TrainConfig(epochs=5, batch_size=16, game="cyclegan", loss="least-squares", cycle_weight=10.0,
                           identity_weight=0.5, pool_size=50),
    ),
    "mnist-wgan-gp": Preset(
        description="WGAN-GP on MNIST (notebook 07): the DCGAN of mnist-dcgan, a LayerNorm critic, 5 critic "
                    "steps per G step, gradient penalty 10, Adam(1e-4, 0, 0.9)",
        build=_dcgan(28, 1, norm="layer"), load=_mnist, features=32,
        config=TrainConfig(epochs=10, batch_size=64, loss="wasserstein", gp_weight=10.0, d_steps=5, lr_G=1e-4,
                           lr_D=1e-4, beta1=0.0, beta2=0.9),
    ),
    "mnist-sngan": Preset(
        description="Spectrally normalised DCGAN on MNIST (notebook 07): hinge loss, no BatchNorm in D but a "
                    "bias in every conv, Adam(2e-4, 0.5, 0.999) for both (the SNGAN paper's setting C)",
        build=_dcgan(28, 1, norm="none", spectral_norm=True, bias=True), load=_mnist, features=32,
        config=TrainConfig(epochs=5, batch_size=128, loss="hinge"),
    ),
    "mnist-cdcgan": Preset(
        description="Conditional DCGAN on MNIST (notebook 08): G(z, digit), D(x, digit); sample --label 7",
        build=_dcgan(28, 1, num_classes=10), load=_mnist, features=32,
        config=TrainConfig(epochs=5, batch_size=128, n_samples=100),   # grids of 10 x 10: a column per class
    ),
    "cifar10-cdcgan": Preset(
        description="Conditional DCGAN on CIFAR-10 (notebook 08): G(z, class), D(x, class); sample --label 3",
        build=_dcgan(32, 3, num_classes=10), load=_cifar10, features=64,
        config=TrainConfig(epochs=25, batch_size=128, n_samples=100),
    ),
}
