"""CycleGAN's two generators and two discriminators (Zhu et al. 2017), each pair as one module, so that a
checkpoint, `build_model` and `fit` handle a CycleGAN's G and D like any other model's.

    CycleGenerators:     a_to_b = ResnetGenerator  (B, C_a, S, S) -> (B, C_b, S, S)     G   in the paper
                         b_to_a = ResnetGenerator  (B, C_b, S, S) -> (B, C_a, S, S)     F   in the paper
    CycleDiscriminators: d_a = PatchDiscriminator  (B, C_a, S, S) -> (B, 1, h, w)       D_X in the paper
                         d_b = PatchDiscriminator  (B, C_b, S, S) -> (B, 1, h, w)       D_Y in the paper

Unpaired data gives no target for G(x_a); two constraints stand in for it. Each D makes its domain's
fakes look real, and the cycle loss makes b_to_a(a_to_b(x_a)) ~ x_a and a_to_b(b_to_a(x_b)) ~ x_b, so
each G must keep enough of its input to undo the translation. The game uses all four parts directly.
"""
from __future__ import annotations

import torch
from torch import nn

from .patchgan import PatchDiscriminator
from .resnet_g import ResnetGenerator


class CycleGenerators(nn.Module):
    """The two translators of a CycleGAN, `a_to_b` and `b_to_a` (ResnetGenerators, instance norm).
    Calling it translates A to B, so drawing from it (as from any G) gives domain-B images."""

    def __init__(self, *, channels_a: int = 1, channels_b: int = 3, features: int = 32, blocks: int = 6):
        super().__init__()
        self.hparams = dict(channels_a=channels_a, channels_b=channels_b, features=features, blocks=blocks)
        self.channels_a, self.channels_b = channels_a, channels_b
        self.a_to_b = ResnetGenerator(in_channels=channels_a, out_channels=channels_b, features=features,
                                      blocks=blocks)
        self.b_to_a = ResnetGenerator(in_channels=channels_b, out_channels=channels_a, features=features,
                                      blocks=blocks)

    def forward(self, x_a: torch.Tensor) -> torch.Tensor:
        """x_a (B, channels_a, S, S) -> a_to_b(x_a) (B, channels_b, S, S); use b_to_a for the other way."""
        return self.a_to_b(x_a)


class CycleDiscriminators(nn.Module):
    """The two PatchGAN discriminators of a CycleGAN: `d_a` judges domain A's images, `d_b` domain B's.
    The game calls d_a and d_b directly; calling the pair itself is d_b (the judge of a_to_b's output)."""

    def __init__(self, *, channels_a: int = 1, channels_b: int = 3, features: int = 32, layers: int = 2,
                 norm: str = "instance"):
        super().__init__()
        self.hparams = dict(channels_a=channels_a, channels_b=channels_b, features=features, layers=layers,
                            norm=norm)
        self.channels_a, self.channels_b = channels_a, channels_b
        self.d_a = PatchDiscriminator(in_channels=channels_a, features=features, layers=layers, norm=norm)
        self.d_b = PatchDiscriminator(in_channels=channels_b, features=features, layers=layers, norm=norm)

    def forward(self, x_b: torch.Tensor) -> torch.Tensor:
        """x_b (B, channels_b, S, S) -> d_b(x_b), logits (B, 1, h, w)."""
        return self.d_b(x_b)
