"""The equalised learning rate of Karras et al. (2018), used by the style-based G and its D.

Adam divides each step by the gradient's running size, so a weight's step is about lr whatever its
scale; layers with many inputs (whose weights He init makes small) then change relatively faster.
Equalised layers store weights drawn from N(0, 1) / lr_mul and multiply them by
lr_mul / sqrt(fan_in) in every forward pass: the output is He-initialised, and every layer learns
at the same relative speed. lr_mul < 1 slows a layer down (StyleGAN's mapping network: 0.01).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class EqualLinear(nn.Module):
    """y = x (W * lr_mul / sqrt(in_features))^T + b * lr_mul, W ~ N(0, 1) / lr_mul; bias starts at `bias_init`."""

    def __init__(self, in_features: int, out_features: int, *, bias_init: float = 0.0, lr_mul: float = 1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul))
        self.weight_gain, self.lr_mul = lr_mul / math.sqrt(in_features), lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.weight_gain, self.bias * self.lr_mul)


class EqualConv2d(nn.Module):
    """A same-padded k x k convolution with the weights scaled by 1 / sqrt(in_channels * k * k) at run time."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain, self.padding = 1 / math.sqrt(in_channels * kernel_size ** 2), kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=self.padding)
