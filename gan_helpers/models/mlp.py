"""The fully connected GAN of Goodfellow et al. (2014), as in the classic MNIST tutorials.

    G: z (B, latent_dim) -> hidden layers -> (B, C*H*W) -> Tanh -> image (B, C, H, W) in [-1, 1]
    D: image (B, C, H, W) -> flatten -> hidden layers -> one logit per image (B,)

D returns a logit (a real number), not a probability: the losses apply the sigmoid inside
`binary_cross_entropy_with_logits`, which is numerically safe.

With num_classes > 0 both are class-conditional (conditioning.py): G(z, labels), D(x, labels),
the one-hot label concatenated to z and to the flattened image. D(spectral_norm=True) puts
spectral normalisation on every Linear layer (normalization.py). D has no BatchNorm, so it
also serves as a WGAN-GP critic as it is.
"""
from __future__ import annotations

from collections.abc import Sequence
from math import prod

import torch
from torch import nn

from .conditioning import one_hot_labels
from .normalization import add_spectral_norm


def _hidden_stack(in_features: int, hidden_dims: Sequence[int], *, batch_norm: bool = False) -> list[nn.Module]:
    """Linear -> (BatchNorm) -> LeakyReLU(0.2), once per hidden width."""
    layers: list[nn.Module] = []
    for width in hidden_dims:
        layers += [nn.Linear(in_features, width), *([nn.BatchNorm1d(width)] if batch_norm else []),
                   nn.LeakyReLU(0.2)]
        in_features = width
    return layers


class MLPGenerator(nn.Module):
    """Map noise z of shape (B, latent_dim) to images of shape (B, *img_shape) in [-1, 1].

    batch_norm: normalise each hidden layer over the batch. It speeds up learning and removes
    most of the salt-and-pepper noise an MLP generator otherwise draws.
    num_classes: > 0 makes G conditional, called as G(z, labels).
    """

    def __init__(self, *, latent_dim: int = 128, hidden_dims: Sequence[int] = (256, 512),
                 img_shape: Sequence[int] = (1, 28, 28), batch_norm: bool = False, num_classes: int = 0):
        super().__init__()
        self.latent_dim, self.num_classes, self.img_shape = latent_dim, num_classes, tuple(img_shape)
        self.hparams = {"latent_dim": latent_dim, "hidden_dims": list(hidden_dims), "img_shape": list(img_shape),
                        "batch_norm": batch_norm, "num_classes": num_classes}
        n_in = latent_dim + num_classes
        last = hidden_dims[-1] if hidden_dims else n_in
        self.net = nn.Sequential(
            *_hidden_stack(n_in, hidden_dims, batch_norm=batch_norm),  # (B, latent_dim [+ classes]) -> (B, hidden[-1])
            nn.Linear(last, prod(img_shape)),         # -> (B, C*H*W)
            nn.Tanh(),                                # pixels in [-1, 1], like the scaled data
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        y = one_hot_labels(labels, num_classes=self.num_classes, n=len(z), model=type(self).__name__)
        if y is not None:
            z = torch.cat([z, y.to(z)], dim=1)        # (B, latent_dim) -> (B, latent_dim + num_classes)
        return self.net(z).view(-1, *self.img_shape)  # (B, C*H*W) -> (B, C, H, W)


class MLPDiscriminator(nn.Module):
    """Map images of shape (B, *img_shape) to one logit each, shape (B,): high means 'real'.

    spectral_norm: spectral normalisation on every Linear layer.
    num_classes:   > 0 makes D conditional, called as D(x, labels).
    """

    def __init__(self, *, img_shape: Sequence[int] = (1, 28, 28), hidden_dims: Sequence[int] = (512, 256),
                 spectral_norm: bool = False, num_classes: int = 0):
        super().__init__()
        self.img_shape, self.num_classes = tuple(img_shape), num_classes
        self.hparams = {"img_shape": list(img_shape), "hidden_dims": list(hidden_dims),
                        "spectral_norm": spectral_norm, "num_classes": num_classes}
        n_in = prod(img_shape) + num_classes
        last = hidden_dims[-1] if hidden_dims else n_in
        self.net = nn.Sequential(
            nn.Flatten(),                          # (B, C*H*W [+ num_classes]): forward flattens the image first
            *_hidden_stack(n_in, hidden_dims),     # -> (B, hidden_dims[-1])
            nn.Linear(last, 1),                    # -> (B, 1) logit
        )
        if spectral_norm:
            add_spectral_norm(self.net)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.img_shape:
            raise ValueError(
                f"{type(self).__name__} expects images of shape (B, {', '.join(map(str, self.img_shape))}), "
                f"got {tuple(x.shape)}. Resize the data or build D with img_shape={tuple(x.shape[1:])}."
            )
        x = x.flatten(1)                                 # (B, C, H, W) -> (B, C*H*W)
        y = one_hot_labels(labels, num_classes=self.num_classes, n=len(x), model=type(self).__name__)
        if y is not None:
            x = torch.cat([x, y.to(x)], dim=1)           # -> (B, C*H*W + num_classes)
        return self.net(x).squeeze(1)                    # (B, 1) -> (B,)
