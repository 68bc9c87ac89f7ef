"""The U-Net generator of pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks"), for square images: an encoder down to 1 x 1, a decoder back up, and a skip
connection from every encoder layer to the decoder layer of the same size.

    x (B, C_in, S, S), n = log2(S) halvings; widths w_i = min(features * 2^i, max_features)
    encoder  e_0 = Conv 4x4 s2, LReLU 0.2 (no norm)                     (B, w_0, S/2, S/2)
             e_i = Conv 4x4 s2, BatchNorm, LReLU 0.2   (0 < i < n-1)    (B, w_i, S/2^(i+1), ...)
             e_n-1 = Conv 4x4 s2, ReLU (no norm: 1 x 1)                 (B, w_n-1, 1, 1), the bottleneck
    decoder  d_n-1 = ConvT 4x4 s2, BatchNorm, ReLU, Dropout             (B, w_n-2, 2, 2)
             d_i = cat[d_i+1, e_i] -> ConvT 4x4 s2, BatchNorm, ReLU     (B, 2 w_i, s, s) -> (B, w_i-1, 2s, 2s)
                   (+ Dropout on the first three decoder layers, the innermost ones)
             d_0 = cat[d_1, e_0] -> ConvT 4x4 s2, Tanh                  (B, 2 w_0, S/2, S/2) -> (B, C_out, S, S)

For S = 64 and the defaults: 64 -> 32 -> 16 -> 8 -> 4 -> 2 -> 1 with widths 64, 128, 256, 512, 512, 512.

Why skips: in translation the output shares its layout with the input (a sketch's edges are the face's
edges). Without skips all of it must squeeze through the 1 x 1 bottleneck; with them the fine detail goes
straight across and the bottleneck only carries what must change. Why dropout: pix2pix has no z (the
paper found G learned to ignore it); the only noise is dropout. The paper keeps it at test time too;
here nn.Dropout follows train()/eval(): call G.train() to draw varied outputs, G.eval() for a fixed one.
Convs followed by BatchNorm have no bias (BatchNorm subtracts it again).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .dcgan import dcgan_init

SIZES = (16, 32, 64, 128, 256)
DROPOUT_LAYERS = 3          # the paper's "CD512-CD1024-CD1024": the first three decoder layers


class UNetGenerator(nn.Module):
    """Translate images x (B, in_channels, img_size, img_size) in [-1, 1] into (B, out_channels, img_size,
    img_size) in [-1, 1] (see the module doc). pix2pix's G: G(x), no z."""

    def __init__(self, *, in_channels: int = 1, out_channels: int = 3, img_size: int = 64, features: int = 64,
                 max_features: int = 512, dropout: float = 0.5):
        super().__init__()
        if img_size not in SIZES:
            raise ValueError(f"UNetGenerator supports image sizes {', '.join(map(str, SIZES))} (powers of two), "
                             f"got img_size={img_size}. Resize the images, e.g. to 64.")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout is a probability in [0, 1), got {dropout}.")
        self.hparams = dict(in_channels=in_channels, out_channels=out_channels, img_size=img_size,
                            features=features, max_features=max_features, dropout=dropout)
        self.in_channels, self.out_channels, self.img_size = in_channels, out_channels, img_size
        n = int(math.log2(img_size))
        w = [min(features * 2 ** i, max_features) for i in range(n)]       # encoder widths, outermost first
        self.down = nn.ModuleList()
        for i in range(n):                                                   # (B, w_i-1, s, s) -> (B, w_i, s/2, s/2)
            norm = 0 < i < n - 1
            layers: list[nn.Module] = [nn.Conv2d(w[i - 1] if i else in_channels, w[i], 4, 2, 1, bias=not norm)]
            layers += [nn.BatchNorm2d(w[i])] if norm else []
            layers += [nn.ReLU() if i == n - 1 else nn.LeakyReLU(0.2)]
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for i in range(n):                                                   # up[i]: side S/2^(i+1) -> S/2^i
            c_in = w[i] if i == n - 1 else 2 * w[i]                          # the bottleneck has no skip to join
            if i == 0:
                self.up.append(nn.Sequential(nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1), nn.Tanh()))
                continue
            layers = [nn.ConvTranspose2d(c_in, w[i - 1], 4, 2, 1, bias=False), nn.BatchNorm2d(w[i - 1]), nn.ReLU()]
            layers += [nn.Dropout(dropout)] if i >= n - DROPOUT_LAYERS and dropout > 0 else []
            self.up.append(nn.Sequential(*layers))
        self.apply(dcgan_init)                                               # pix2pix: N(0, 0.02), as DCGAN

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = (self.in_channels, self.img_size, self.img_size)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"UNetGenerator expects images of shape (B, {', '.join(map(str, expected))}), got "
                             f"{tuple(x.shape)}. Resize the data or build G with in_channels/img_size to match.")
        skips = []
        for down in self.down:                  # (B, C_in, S, S) -> ... -> (B, w_n-1, 1, 1)
            x = down(x)
            skips.append(x)
        h = self.up[-1](skips[-1])              # (B, w_n-1, 1, 1) -> (B, w_n-2, 2, 2)
        for i in reversed(range(len(self.up) - 1)):
            h = self.up[i](torch.cat([h, skips[i]], dim=1))   # (B, 2 w_i, s, s) -> (B, w_i-1 or C_out, 2s, 2s)
        return h
