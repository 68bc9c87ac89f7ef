"""What keeps a discriminator in check: the normalisation layer between its convolutions, and
spectral normalisation of its weights.

BatchNorm (DCGAN's choice) normalises each channel over the batch, so one image's output depends
on the other images in the batch. That breaks WGAN-GP, whose penalty is a gradient per image:
Gulrajani et al. (2017) use LayerNorm in the critic instead. InstanceNorm normalises each image
and channel on its own; "none" leaves the layer out.

Spectral normalisation (Miyato et al. 2018) divides each weight matrix W by its largest singular
value sigma(W), estimated by one step of power iteration per forward pass in training mode, so
every layer is 1-Lipschitz (for a conv: its weight reshaped to (out, in * k * k)), and D cannot
react arbitrarily sharply to small changes in its input.
"""
from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

NORMS = ("batch", "layer", "instance", "none")


def norm_layer(kind: str, channels: int) -> nn.Module:
    """A normalisation layer for feature maps (B, channels, H, W): one of NORMS."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":        # normalise over (C, H, W) of each image: LayerNorm for feature maps
        return nn.GroupNorm(1, channels)
    if kind == "instance":     # normalise over (H, W) of each image and channel
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {kind!r}.")


def add_spectral_norm(model: nn.Module) -> nn.Module:
    """Wrap the weight of every Linear and conv layer of `model` in spectral normalisation (in place).

    Call it after the weights are initialised: the parametrisation keeps the initial weight as
    `weight.original` and divides it by its largest singular value on every forward pass.
    """
    for layer in list(model.modules()):
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            spectral_norm(layer)
    return model
