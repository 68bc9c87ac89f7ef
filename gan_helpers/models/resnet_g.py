"""The ResNet generator of CycleGAN (Zhu et al. 2017), after Johnson et al. (2016)'s style-transfer network:
down twice, transform with residual blocks at a quarter of the side, up twice. Fully convolutional: any
side divisible by 4 (and at least 8), e.g. MNIST's 28 (28 -> 14 -> 7 -> 14 -> 28), 32 or 64.

    x (B, C_in, S, S) -> ReflectionPad 3, Conv 7x7, norm, ReLU                      (B, F, S, S)
      -> Conv 3x3 s2, norm, ReLU                                                  (B, 2F, S/2, S/2)
      -> Conv 3x3 s2, norm, ReLU                                                  (B, 4F, S/4, S/4)
      -> ResBlock x blocks: x + [ReflectionPad 1, Conv 3x3, norm, ReLU,
                                 ReflectionPad 1, Conv 3x3, norm](x)              (B, 4F, S/4, S/4)
      -> ConvT 3x3 s2 (output_padding 1), norm, ReLU                              (B, 2F, S/2, S/2)
      -> ConvT 3x3 s2 (output_padding 1), norm, ReLU                              (B, F, S, S)
      -> ReflectionPad 3, Conv 7x7, Tanh                                          (B, C_out, S, S)

Unlike the U-Net (unet.py) there are no skips across the network: every output pixel is made from the
transformed features, which suits translations that change texture and colour more than layout (horses
to zebras). The residual blocks start near the identity, so G begins close to "copy the structure".
Reflection padding keeps the borders free of the dark frame that zero padding draws. InstanceNorm (the
default) normalises each image on its own: style transfer's choice, and batch-size free.
Convs followed by a norm have a bias only with norm="none".
"""
from __future__ import annotations

import torch
from torch import nn

from .dcgan import dcgan_init
from .normalization import norm_layer

NORMS = ("batch", "instance", "none")


class ResnetBlock(nn.Module):
    """x + two (reflection pad 1, 3x3 conv, norm) layers with a ReLU between; (B, c, s, s) -> same shape."""

    def __init__(self, channels: int, norm: str):
        super().__init__()
        bias = norm == "none"
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Translate images (B, in_channels, S, S) in [-1, 1] into (B, out_channels, S, S) in [-1, 1], S
    divisible by 4 (see the module doc). CycleGAN's G: G(x), no z."""

    def __init__(self, *, in_channels: int = 3, out_channels: int = 3, features: int = 64, blocks: int = 6,
                 norm: str = "instance"):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}.")
        self.hparams = dict(in_channels=in_channels, out_channels=out_channels, features=features, blocks=blocks,
                            norm=norm)
        self.in_channels, self.out_channels = in_channels, out_channels
        bias, F = norm == "none", features
        self.net = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(in_channels, F, 7, bias=bias), norm_layer(norm, F), nn.ReLU(),  # S
            nn.Conv2d(F, 2 * F, 3, 2, 1, bias=bias), norm_layer(norm, 2 * F), nn.ReLU(),                    # S/2
            nn.Conv2d(2 * F, 4 * F, 3, 2, 1, bias=bias), norm_layer(norm, 4 * F), nn.ReLU(),                # S/4
            *(ResnetBlock(4 * F, norm) for _ in range(blocks)),                                             # S/4
            nn.ConvTranspose2d(4 * F, 2 * F, 3, 2, 1, output_padding=1, bias=bias), norm_layer(norm, 2 * F),
            nn.ReLU(),                                                                                      # S/2
            nn.ConvTranspose2d(2 * F, F, 3, 2, 1, output_padding=1, bias=bias), norm_layer(norm, F), nn.ReLU(),
            nn.ReflectionPad2d(3), nn.Conv2d(F, out_channels, 7), nn.Tanh())                                # S
        self.apply(dcgan_init)                                      # CycleGAN: N(0, 0.02), as DCGAN

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ResnetGenerator expects images of shape (B, {self.in_channels}, H, W), got "
                             f"{tuple(x.shape)}. Build G with in_channels={x.shape[1] if x.dim() == 4 else '?'} "
                             "or convert the images.")
        H, W = x.shape[2:]
        if H % 4 or W % 4 or min(H, W) < 8:
            raise ValueError(f"ResnetGenerator needs a height and width divisible by 4 and at least 8 (it halves "
                             f"them twice and doubles them back), got {H} x {W}. Resize or crop the images, "
                             "e.g. to 28, 32 or 64.")
        return self.net(x)
