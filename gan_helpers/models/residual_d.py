"""The discriminator of StyleGAN2 (Karras et al. 2020, "resnet" D): residual blocks, no BatchNorm, and a
minibatch standard deviation layer.

    x (B, C, S, S) -> fromRGB 1x1, LReLU                                      (B, F_S, S, S)
      -> ResBlock down x log2(S / 4):                                         (B, F_s, s, s) -> (B, F_s/2, s/2, s/2)
             main: Conv 3x3, LReLU, Conv 3x3, LReLU, avg-pool 2
             skip: avg-pool 2, Conv 1x1 (no bias);   out = (main + skip) / sqrt(2)
      -> minibatch stddev: + 1 channel, the spread of the features across a group of images  (B, F_4 + 1, 4, 4)
      -> Conv 3x3, LReLU, Flatten, Linear -> F_4, LReLU, Linear -> 1          (B,)

No BatchNorm: it mixes the images of a batch, which breaks the per-image gradient that R1 needs and
lets D judge a batch rather than an image. The minibatch stddev layer gives D one honest batch
statistic instead: a G that collapses to a few faces makes a batch with little spread, which D sees
(Karras et al. 2018). Widths mirror the StyleGenerator's: `features` at S, doubling at each halving,
at most `max_features`. Every layer has an equalised learning rate (equalized.py).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .equalized import EqualConv2d, EqualLinear
from .stylegan import SIZES


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2) * math.sqrt(2)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """x (B, C, H, W) -> (B, C + 1, H, W): the extra channel is, for each group of images, the mean over
    C, H, W of the features' standard deviation across the group (the largest group <= group_size that
    divides B)."""
    B, C, H, W = x.shape
    group = max(g for g in range(1, min(group_size, B) + 1) if B % g == 0)
    y = x.reshape(group, B // group, C, H, W)                         # image b is in group b % (B // group)
    y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()                  # (B // group, C, H, W)
    y = y.mean(dim=(1, 2, 3)).reshape(1, B // group, 1, 1, 1).expand(group, -1, 1, H, W).reshape(B, 1, H, W)
    return torch.cat([x, y], dim=1)


class ResBlockDown(nn.Module):
    """Two 3x3 convs and a 2x average pool, with a 1x1 skip; (B, c_in, s, s) -> (B, c_out, s/2, s/2)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1, self.conv2 = EqualConv2d(c_in, c_in, 3), EqualConv2d(c_in, c_out, 3)
        self.skip = EqualConv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = F.avg_pool2d(_lrelu(self.conv2(_lrelu(self.conv1(x)))), 2)
        return (main + self.skip(F.avg_pool2d(x, 2))) / math.sqrt(2)


class ResidualDiscriminator(nn.Module):
    """Map images (B, channels, img_size, img_size) to one logit each, shape (B,) (see the module doc)."""

    def __init__(self, *, img_size: int = 64, channels: int = 3, features: int = 16, max_features: int = 128,
                 stddev_group: int = 4):
        super().__init__()
        if img_size not in SIZES or channels not in (1, 3):
            raise ValueError(f"ResidualDiscriminator supports image sizes {', '.join(map(str, SIZES))} and 1 or 3 "
                             f"channels, got img_size={img_size}, channels={channels}.")
        self.hparams = {"img_size": img_size, "channels": channels, "features": features,
                        "max_features": max_features, "stddev_group": stddev_group}
        self.img_shape, self.num_classes, self.stddev_group = (channels, img_size, img_size), 0, stddev_group
        sides = [img_size // 2 ** i for i in range(int(math.log2(img_size)) - 1)]   # img_size, ..., 4
        width = {s: min(max_features, features * img_size // s) for s in sides}
        self.from_rgb = EqualConv2d(channels, width[img_size], 1)
        self.blocks = nn.Sequential(*(ResBlockDown(width[s], width[s // 2]) for s in sides[:-1]))
        self.conv = EqualConv2d(width[4] + 1, width[4], 3)
        self.fc = EqualLinear(width[4] * 16, width[4])
        self.out = EqualLinear(width[4], 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.img_shape:
            shape = ", ".join(map(str, self.img_shape))
            raise ValueError(f"{type(self).__name__} expects images of shape (B, {shape}), got {tuple(x.shape)}. "
                             "Resize the data or build D with img_size/channels to match.")
        if labels is not None:
            raise ValueError("ResidualDiscriminator is not conditional: call D(x) without labels.")
        h = self.blocks(_lrelu(self.from_rgb(x)))                       # (B, F_4, 4, 4)
        h = _lrelu(self.conv(minibatch_stddev(h, self.stddev_group)))   # (B, F_4 + 1, 4, 4) -> (B, F_4, 4, 4)
        return self.out(_lrelu(self.fc(h.flatten(1)))).flatten()        # (B, F_4 * 16) -> (B, F_4) -> (B,)
