"""The convolutional GAN of Radford, Metz and Chintala (2015), "DCGAN", for square images.

    G: z (B, latent_dim) -> (B, latent_dim, 1, 1) -> ConvTranspose to (start x start)
       -> [ConvTranspose stride 2, BatchNorm, ReLU] x n -> ConvTranspose stride 2 -> Tanh -> (B, C, S, S)
    D: (B, C, S, S) -> Conv stride 2, LeakyReLU -> [Conv stride 2, BatchNorm, LeakyReLU] x n
       -> Conv (start x start) -> one logit per image (B,)

Every stride-2 layer doubles (G) or halves (D) the side, so S = start * 2^k. The start is 4
for powers of two (16, 32, 64, 128, 256) and 7 for MNIST's 28. Widths double towards the
small end: for S = 64 and features=64, G goes 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x64 -> 64x64xC.

Options for the stable-training and conditional chapters (defaults: the paper's DCGAN):
    D(norm="layer" | "instance" | "none")   another normalisation than BatchNorm (WGAN-GP's critic)
    D(spectral_norm=True)                    spectral normalisation of every conv (SNGAN)
    D(bias=True)                             a bias in every conv (DCGAN leaves it out: BatchNorm cancels it)
    G(num_classes=10), D(num_classes=10)     class-conditional: G(z, labels), D(x, labels)
"""
from __future__ import annotations

import torch
from torch import nn

from .conditioning import one_hot_labels
from .normalization import add_spectral_norm, norm_layer

SIZES = (28, 16, 32, 64, 128, 256)
CHANNELS = (1, 3)


def _plan(img_size: int, channels: int) -> tuple[int, int]:
    """(start side, number of stride-2 layers) for a supported size; ValueError otherwise."""
    if img_size not in SIZES or channels not in CHANNELS:
        raise ValueError(
            f"DCGAN supports image sizes {', '.join(map(str, SIZES))} and {' or '.join(map(str, CHANNELS))} "
            f"channels, got img_size={img_size}, channels={channels}. Resize the images (e.g. to 64) or pick "
            "another size."
        )
    start = 7 if img_size == 28 else 4
    return start, (img_size // start).bit_length() - 1


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: conv weights ~ N(0, 0.02); BatchNorm scale ~ N(1, 0.02),
    shift 0. Use as `model.apply(dcgan_init)`; the DCGAN models do it themselves."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    """Map noise z of shape (B, latent_dim) to images (B, channels, img_size, img_size) in [-1, 1].
    With num_classes > 0 it is conditional and is called as G(z, labels)."""

    def __init__(self, *, latent_dim: int = 100, img_size: int = 64, channels: int = 3, features: int = 64,
                 num_classes: int = 0):
        super().__init__()
        start, n_up = _plan(img_size, channels)
        self.latent_dim, self.num_classes, self.img_shape = latent_dim, num_classes, (channels, img_size, img_size)
        self.hparams = {"latent_dim": latent_dim, "img_size": img_size, "channels": channels, "features": features,
                        "num_classes": num_classes}
        width, n_in = features * 2 ** (n_up - 1), latent_dim + num_classes
        layers: list[nn.Module] = [  # (B, latent_dim [+ num_classes], 1, 1) -> (B, width, start, start)
            nn.ConvTranspose2d(n_in, width, start, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
        for _ in range(n_up - 1):    # each block: (B, w, s, s) -> (B, w/2, 2s, 2s)
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2),
                       nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False),  # -> (B, C, S, S)
                   nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        y = one_hot_labels(labels, num_classes=self.num_classes, n=len(z), model=type(self).__name__)
        if y is not None:
            z = torch.cat([z, y.to(z)], dim=1)          # (B, latent_dim) -> (B, latent_dim + num_classes)
        return self.net(z.view(len(z), -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    """Map images (B, channels, img_size, img_size) to one logit each, shape (B,).

    norm:           the layer after each inner conv: "batch" (DCGAN), "layer", "instance" or "none".
    spectral_norm:  spectral normalisation on every conv.
    bias:           a bias in every conv. DCGAN has none (BatchNorm subtracts each channel's mean, so a
                    bias before it does nothing); without normalisation D needs it (SNGAN: with norm="none"
                    and no bias, the course's mnist-sngan collapsed to one digit).
    num_classes:    > 0 makes D conditional: D(x, labels), the label as num_classes extra input planes.
    """

    def __init__(self, *, img_size: int = 64, channels: int = 3, features: int = 64, norm: str = "batch",
                 spectral_norm: bool = False, num_classes: int = 0, bias: bool = False):
        super().__init__()
        start, n_down = _plan(img_size, channels)
        self.img_shape, self.num_classes = (channels, img_size, img_size), num_classes
        self.hparams = {"img_size": img_size, "channels": channels, "features": features, "norm": norm,
                        "spectral_norm": spectral_norm, "num_classes": num_classes, "bias": bias}
        layers: list[nn.Module] = [  # (B, C [+ num_classes], S, S) -> (B, features, S/2, S/2); no norm on the input
            nn.Conv2d(channels + num_classes, features, 4, 2, 1, bias=bias), nn.LeakyReLU(0.2, True)]
        width = features
        for _ in range(n_down - 1):  # each block: (B, w, s, s) -> (B, 2w, s/2, s/2)
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=bias), norm_layer(norm, width * 2),
                       nn.LeakyReLU(0.2, True)]
            width *= 2
        layers += [nn.Conv2d(width, 1, start, 1, 0, bias=bias)]   # (B, w, start, start) -> (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)
        if spectral_norm:
            add_spectral_norm(self.net)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.img_shape:
            raise ValueError(
                f"{type(self).__name__} expects images of shape (B, {', '.join(map(str, self.img_shape))}), "
                f"got {tuple(x.shape)}. Resize the data or build D with img_size/channels to match."
            )
        y = one_hot_labels(labels, num_classes=self.num_classes, n=len(x), model=type(self).__name__)
        if y is not None:            # (B, C, S, S) -> (B, C + num_classes, S, S): plane y is all ones
            x = torch.cat([x, y.to(x)[:, :, None, None].expand(-1, -1, *x.shape[2:])], dim=1)
        return self.net(x).flatten()  # (B, 1, 1, 1) -> (B,)
