"""The PatchGAN discriminator of pix2pix (Isola et al. 2017), also CycleGAN's D: instead of one logit per
image, a grid of logits, each judging one overlapping patch of the image.

    x (B, C, S, S) -> Conv 4x4 s2, LReLU 0.2 (no norm)                       (B, F, S/2, S/2)
      -> [Conv 4x4 s2, norm, LReLU 0.2] x (layers - 1), width doubling     (B, F 2^k, S/2^(k+1), ...)
      -> Conv 4x4 s1, norm, LReLU 0.2                                        side - 1
      -> Conv 4x4 s1 -> 1 channel of logits, no Sigmoid                      (B, 1, h, w), side - 1 again
    widths: F, 2F, 4F, ..., at most 8F

Each logit sees only the input pixels in its receptive field, a square of side r. Going from one output
logit back towards the input, a layer with kernel k and stride s widens it: r <- (r - 1) * s + k, from
r = 1 (see `receptive_field`). The paper's 70 x 70 PatchGAN is layers=3 (at 256 px). The default here,
layers=2, is a 34 x 34 PatchGAN, chosen for 64 px images: 34 px is about half the side, enough to hold
an eye and its surroundings, and 14 x 14 overlapping patches are judged per image. layers=1 (16 px) is a
quarter of the side like the paper's 70/256, but a 3-conv D, the analogue of the paper's 16 x 16 PatchGAN
that gave tiling artifacts; layers=3 (70 px) sees more than the whole 64 px image in every logit, the
paper's full-image "ImageGAN" case, which it found no better and which has more parameters.

Why patches: L1 already gets the low frequencies right (the blurry average); D only needs to say whether
the texture is sharp and real, which is local. A patch D has fewer parameters, runs on any size, and
models the image as a field of patches that are independent beyond a patch's width.

pix2pix's D is conditional: it judges the pair, the input and the (real or generated) output concatenated
along channels, so build it with in_channels = C_input + C_output and call D(torch.cat([x, y], dim=1)).
The caller concatenates. CycleGAN's D judges one domain's images: in_channels = that domain's channels.
Convs followed by a norm have a bias only with norm="none".
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .dcgan import dcgan_init
from .normalization import norm_layer

NORMS = ("batch", "instance", "none")


def receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    """The side of the square of input pixels that one output value depends on, for a stack of convs given
    as (kernel, stride) pairs from input to output. Start at the output, r = 1 pixel; walking back through
    each layer, the r positions it needs come from (r - 1) * stride + 1 starting points, each reading
    kernel pixels, so r <- (r - 1) * stride + kernel. E.g. [(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]:
    1 -> 4 -> 7 -> 16 -> 34 -> 70. (Padding moves the square; it does not change its size.)"""
    r = 1
    for kernel, stride in reversed(list(layers)):
        r = (r - 1) * stride + kernel
    return r


class PatchDiscriminator(nn.Module):
    """Map images (B, in_channels, S, S) to a grid of logits (B, 1, h, w), one per overlapping patch of
    side `receptive_field` (see the module doc; h = S / 2^layers - 2). in_channels: 3 for one colour image
    (CycleGAN's D); for pix2pix's, the input's and the output's channels together (1 + 3 for faces-pix2pix)."""

    def __init__(self, *, in_channels: int = 3, features: int = 64, layers: int = 2, norm: str = "batch"):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}.")
        if layers < 1:
            raise ValueError(f"layers (the number of stride-2 convs) must be at least 1, got {layers}.")
        self.hparams = dict(in_channels=in_channels, features=features, layers=layers, norm=norm)
        self.in_channels = in_channels
        bias = norm == "none"
        stack: list[nn.Module] = [  # (B, C, S, S) -> (B, F, S/2, S/2); no norm on the input
            nn.Conv2d(in_channels, features, 4, 2, 1), nn.LeakyReLU(0.2)]
        width = features
        for k in range(1, layers + 1):  # k < layers: stride 2, side halves; k = layers: stride 1, side - 1
            out = features * min(2 ** k, 8)
            stack += [nn.Conv2d(width, out, 4, 2 if k < layers else 1, 1, bias=bias), norm_layer(norm, out),
                      nn.LeakyReLU(0.2)]
            width = out
        stack += [nn.Conv2d(width, 1, 4, 1, 1)]    # (B, w, s, s) -> (B, 1, s - 1, s - 1): one logit per patch
        self.net = nn.Sequential(*stack)
        self.apply(dcgan_init)

    def _convs(self) -> list[nn.Conv2d]:
        return [m for m in self.net if isinstance(m, nn.Conv2d)]

    @property
    def receptive_field(self) -> int:
        """The side, in input pixels, of the patch that each output logit judges."""
        return receptive_field([(c.kernel_size[0], c.stride[0]) for c in self._convs()])

    def output_side(self, side: int) -> int:
        """The side of the logit grid for input images of side `side` (< 1: too small)."""
        for c in self._convs():
            side = (side + 2 * c.padding[0] - c.kernel_size[0]) // c.stride[0] + 1
        return side

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"PatchDiscriminator expects images of shape (B, {self.in_channels}, H, W), got "
                             f"{tuple(x.shape)}. For pix2pix pass torch.cat([x, y], dim=1) and build D with "
                             "in_channels = C_input + C_output.")
        if min(self.output_side(x.shape[2]), self.output_side(x.shape[3])) < 1:
            smallest = next(s for s in range(1, 4096) if self.output_side(s) >= 1)
            raise ValueError(f"PatchDiscriminator with layers={self.hparams['layers']} needs images of at least "
                             f"{smallest} x {smallest} pixels, got {tuple(x.shape[2:])}. Use fewer layers.")
        return self.net(x)
