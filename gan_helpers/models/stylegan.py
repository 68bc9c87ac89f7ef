"""A style-based generator (StyleGAN2, Karras et al. 2020) small enough for a CPU, in plain PyTorch.

    z (B, latent_dim) -> mapping (mapping.py) -> w (B, w_dim), one copy per layer: ws (B, num_ws, w_dim)
    a learned constant (1, C_4, 4, 4), repeated for the batch
      4 x 4:   ModConv 3x3 (ws[:, 0]) + noise, LReLU          toRGB (ws[:, 1])          -> rgb 4 x 4
      each next side s = 4 * 2^i = 8, 16, ..., img_size:
               upsample x2, ModConv 3x3 (ws[:, 2i-1]) + noise, LReLU, ModConv 3x3 (ws[:, 2i]) + noise, LReLU
               rgb <- upsample(rgb) + toRGB (ws[:, 2i+1])                                -> rgb s x s
    (a toRGB shares its w with the next side's first conv, as in rosinality's stylegan2-pytorch)
    image = rgb (B, 3, img_size, img_size), no Tanh (as StyleGAN2: the loss keeps it near [-1, 1])

Each ModConv is a modulated, demodulated convolution (modulated_conv.py), run as one grouped
convolution. Noise: one Gaussian value per pixel, the same for all channels, times a learned strength per
layer (starting at 0): it draws the stochastic detail (strands of hair) so that w need not. toRGB skips:
every resolution adds its own colours to the upsampled picture so far, so coarse layers set the layout
and fine ones the detail. Widths: `features` channels at img_size, doubling at every halving of the side,
at most `max_features`.

Style mixing regularisation (training only, probability `mixing_prob`): the batch takes its layers
before a random crossover from w1 = f(z1) and after it from w2 = f(z2), so neighbouring layers cannot
rely on sharing one w: styles localise to layers. G keeps `w_avg`, the running mean of the w it draws in
training (a buffer, so checkpoints carry it), the centre that truncation (psi < 1) pulls towards.

    G(z)                         training: random noise, mixing; eval: no mixing
    G(z, psi=0.7)                truncated towards w_avg
    G.synthesis(ws, noise=...)   from ws (B, num_ws, w_dim), e.g. mixed or edited in W
    noise: "random" (default), "const" (fixed per-layer noise buffers: an explorer's frames do not shimmer),
           "none"
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .mapping import MappingNetwork, truncate
from .modulated_conv import ModulatedConv2d

SIZES = (16, 32, 64, 128, 256)
NOISE_MODES = ("random", "const", "none")


class NoisyModConv(nn.Module):
    """ModConv 3x3, plus per-pixel noise times a learned strength, plus bias, then LeakyReLU(0.2) * sqrt(2)."""

    def __init__(self, in_channels: int, out_channels: int, *, w_dim: int, side: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim=w_dim)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(1, 1, side, side))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: str) -> torch.Tensor:
        x = self.conv(x, w)                                                   # (B, C_out, s, s)
        if noise == "random":
            x = x + self.noise_strength * torch.randn(len(x), 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        elif noise == "const":
            x = x + self.noise_strength * self.noise_const
        return F.leaky_relu(x, 0.2) * math.sqrt(2)


class StyleGenerator(nn.Module):
    """Map z (B, latent_dim) to images (B, channels, img_size, img_size) through w (see the module doc)."""

    def __init__(self, *, latent_dim: int = 128, w_dim: int = 128, img_size: int = 64, channels: int = 3,
                 features: int = 16, max_features: int = 128, mapping_layers: int = 4, mixing_prob: float = 0.9,
                 w_avg_beta: float = 0.995):
        super().__init__()
        if img_size not in SIZES or channels not in (1, 3):
            raise ValueError(f"StyleGenerator supports image sizes {', '.join(map(str, SIZES))} and 1 or 3 channels, "
                             f"got img_size={img_size}, channels={channels}.")
        if not 0 <= mixing_prob <= 1:
            raise ValueError(f"mixing_prob is a probability in [0, 1], got {mixing_prob}.")
        self.hparams = {"latent_dim": latent_dim, "w_dim": w_dim, "img_size": img_size, "channels": channels,
                        "features": features, "max_features": max_features, "mapping_layers": mapping_layers,
                        "mixing_prob": mixing_prob, "w_avg_beta": w_avg_beta}
        self.latent_dim, self.w_dim, self.num_classes = latent_dim, w_dim, 0
        self.img_shape, self.mixing_prob, self.w_avg_beta = (channels, img_size, img_size), mixing_prob, w_avg_beta
        self.sides = [4 * 2 ** i for i in range(int(math.log2(img_size)) - 1)]   # 4, 8, ..., img_size
        width = {s: min(max_features, features * img_size // s) for s in self.sides}
        self.mapping = MappingNetwork(latent_dim=latent_dim, w_dim=w_dim, n_layers=mapping_layers)
        self.const = nn.Parameter(torch.randn(1, width[4], 4, 4))
        self.convs = nn.ModuleList([NoisyModConv(width[4], width[4], w_dim=w_dim, side=4)])
        self.to_rgbs = nn.ModuleList([ModulatedConv2d(width[4], channels, 1, w_dim=w_dim, demodulate=False)])
        for prev, side in zip(self.sides, self.sides[1:], strict=False):
            self.convs.extend([NoisyModConv(width[prev], width[side], w_dim=w_dim, side=side),
                               NoisyModConv(width[side], width[side], w_dim=w_dim, side=side)])
            self.to_rgbs.append(ModulatedConv2d(width[side], channels, 1, w_dim=w_dim, demodulate=False))
        self.num_ws = len(self.convs) + 1          # one w per conv, and the last toRGB's; toRGB i shares conv 2i+1's
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def layer_ranges(self) -> dict[str, range]:
        """Which w indices drive the coarse (4-8 px), middle (16 px up to below 64 px, or below img_size when
        that is smaller) and fine (64 px and up, or the last side) layers."""
        # ws index of the first conv at each side: 0 for 4 px, then 1, 3, 5, ... (2 convs per side)
        first = {side: 0 if i == 0 else 2 * i - 1 for i, side in enumerate(self.sides)}
        coarse_end = first[16]
        middle_end = first[min(64, self.sides[-1])]
        return {"coarse": range(0, coarse_end), "middle": range(coarse_end, middle_end),
                "fine": range(middle_end, self.num_ws)}

    def mean_w(self) -> torch.Tensor:
        """The running mean of w in training, (w_dim,)."""
        return self.w_avg

    def ws_from_z(self, z: torch.Tensor, *, psi: float = 1.0) -> torch.Tensor:
        """ws (B, num_ws, w_dim): f(z), truncated with psi, the same w for every layer."""
        w = self.mapping(z)
        if psi != 1:
            w = truncate(w, self.w_avg, psi)
        return w[:, None].expand(-1, self.num_ws, -1)

    def mix(self, ws1: torch.Tensor, ws2: torch.Tensor, crossover: int) -> torch.Tensor:
        """ws1's styles for layers [0, crossover), ws2's for [crossover, num_ws)."""
        if not 0 <= crossover <= self.num_ws:
            raise ValueError(f"crossover must lie in 0 .. {self.num_ws} (num_ws), got {crossover}.")
        return torch.cat([ws1[:, :crossover], ws2[:, crossover:]], dim=1)

    def synthesis(self, ws: torch.Tensor, *, noise: str = "random") -> torch.Tensor:
        """Images (B, channels, img_size, img_size) from ws (B, num_ws, w_dim)."""
        if noise not in NOISE_MODES:
            raise ValueError(f"noise must be one of {NOISE_MODES}, got {noise!r}.")
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must have shape (B, {self.num_ws}, {self.w_dim}) (num_ws, w_dim), "
                             f"got {tuple(ws.shape)}.")
        x = self.const.expand(len(ws), -1, -1, -1)                            # (B, C_4, 4, 4)
        x = self.convs[0](x, ws[:, 0], noise)
        rgb = self.to_rgbs[0](x, ws[:, 1])                                    # (B, C, 4, 4)
        for i in range(1, len(self.sides)):                                   # side 4 * 2^i
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = self.convs[2 * i - 1](x, ws[:, 2 * i - 1], noise)            # (B, C_s, s, s)
            x = self.convs[2 * i](x, ws[:, 2 * i], noise)
            rgb = F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False) \
                + self.to_rgbs[i](x, ws[:, 2 * i + 1])                        # skip: coarse colours + this side's
        return rgb

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None, *, psi: float = 1.0,
                noise: str = "random") -> torch.Tensor:
        if labels is not None:
            raise ValueError("StyleGenerator is not conditional: call G(z) without labels.")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (B, {self.latent_dim}) (latent_dim), got {tuple(z.shape)}.")
        w = self.mapping(z)                                                   # (B, w_dim)
        if self.training:                                                     # track the mean w for truncation
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(0).to(self.w_avg.dtype), 1 - self.w_avg_beta)
        if psi != 1:
            w = truncate(w, self.w_avg, psi)
        ws = w[:, None].expand(-1, self.num_ws, -1)                           # (B, num_ws, w_dim)
        if self.training and self.mixing_prob > 0 and torch.rand(()) < self.mixing_prob:
            crossover = int(torch.randint(1, self.num_ws, ()))               # style mixing regularisation
            ws2 = self.mapping(torch.randn_like(z))[:, None].expand(-1, self.num_ws, -1)
            ws = self.mix(ws, ws2, crossover)
        return self.synthesis(ws, noise=noise)
