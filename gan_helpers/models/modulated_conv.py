"""The modulated convolution of StyleGAN2 (Karras et al. 2020): a style scales the weights, not the activations.

StyleGAN (2019) injected a style with AdaIN: normalise each channel of x, then scale and shift it by
the style. Normalising each feature map on its own throws away the relative sizes of the maps, and
G learned to smuggle them past the normalisation in one spike of activation: the "droplet" artefacts.
StyleGAN2 moves the style into the weights and replaces the normalisation by its expected effect:

    modulate     w'_ijk  = s_i * w_ijk                          s: the style of input channel i (B, C_in)
    demodulate   w''_ijk = w'_ijk / sqrt(sum_{i,k} w'_ijk^2 + eps)   over the inputs i and taps k of output j

so each output map has unit standard deviation for unit-variance inputs, with no statistic of x
measured at all. Each image of a batch gets its own weights (B, C_out, C_in, k, k). Run as one
convolution: fold the batch into the channels, x (1, B * C_in, H, W), weights (B * C_out, C_in, k, k),
and `groups=B` keeps image b's channels with image b's weights (rosinality's stylegan2-pytorch).

The same numbers, unfused (`fused=False`, what `ModulatedConv2d` runs in training, as NVlabs'
stylegan2-ada-pytorch does): scale x's channels by s, convolve with the shared weights, scale each output
by the demodulation factor 1 / sqrt(sum_i s_i^2 sum_k w_ijk^2 + eps). At low resolution and high width the
per-image weights (B, C_out, C_in, k, k) are far larger than the activations; there this is several times
faster, on a CPU above all. `ModulatedConv2d` uses the grouped convolution in eval mode for small batches
(up to FUSED_MAX_BATCH images: the explorer's one image), the unfused form in training and for large batches.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .equalized import EqualLinear

FUSED_MAX_BATCH = 8   # ModulatedConv2d runs the grouped convolution in eval mode for batches up to this size


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *, demodulate: bool = True,
                     eps: float = 1e-8, fused: bool = True) -> torch.Tensor:
    """x (B, C_in, H, W), weight (C_out, C_in, k, k), styles (B, C_in) -> (B, C_out, H, W), same padding:
    one grouped convolution for the whole batch (fused), or the same numbers from x scaled by the styles
    (fused=False, see the module doc)."""
    B, C_in, H, W = x.shape
    C_out, _, k, _ = weight.shape
    if not fused:
        out = F.conv2d(x * styles[:, :, None, None], weight, padding=k // 2)       # (B, C_out, H, W)
        if demodulate:                        # sum_i s_i^2 sum_k w_ijk^2 = the fused path's sum, per (b, j)
            out = out * torch.rsqrt(styles.square() @ weight.square().sum((2, 3)).T + eps)[:, :, None, None]
        return out
    w = weight[None] * styles[:, None, :, None, None]                     # (B, C_out, C_in, k, k): modulate
    if demodulate:                                                        # unit norm per (image, output channel)
        w = w * torch.rsqrt(w.square().sum(dim=(2, 3, 4), keepdim=True) + eps)
    out = F.conv2d(x.reshape(1, B * C_in, H, W), w.reshape(B * C_out, C_in, k, k), padding=k // 2, groups=B)
    return out.reshape(B, C_out, H, W)                                   # (1, B * C_out, H, W) -> (B, C_out, H, W)


class ModulatedConv2d(nn.Module):
    """A k x k convolution whose weights each image's w modulates (and, by default, demodulates).

    affine: w (B, w_dim) -> styles (B, C_in), starting at 1 (the bias), so at init the layer is a plain conv.
    The weights are equalised (scaled by 1 / sqrt(C_in * k * k) at run time, see equalized.py)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, w_dim: int, demodulate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain, self.demodulate = 1 / math.sqrt(in_channels * kernel_size ** 2), demodulate

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)                                            # (B, C_in)
        fused = not self.training and len(x) <= FUSED_MAX_BATCH   # same numbers either way (module doc)
        out = modulated_conv2d(x, self.weight * self.weight_gain, styles, demodulate=self.demodulate, fused=fused)
        return out + self.bias[None, :, None, None]
