"""An exponential moving average of G's weights: a calmer generator to draw pictures with.

G's weights move every step, and in a GAN they oscillate: D and G chase each other, so the samples
of consecutive epochs can be better and worse in turn. Averaging G's weights over the recent past
(Karras et al. 2018, Yazıcı et al. 2019) smooths that out at no cost to training:

    G_ema <- decay * G_ema + (1 - decay) * G         after every generator step
    decay_t = min(decay, (1 + t) / (10 + t))         warm-up: early on, follow G closely

With decay 0.999 the average spans about 1 / (1 - 0.999) = 1,000 steps. BatchNorm's running
statistics are copied, not averaged (they are estimates of G's current activations). G_ema is
never trained: it is only used to draw samples, grids, metrics and the explorer.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


def ema_copy(G: nn.Module) -> nn.Module:
    """A frozen copy of G (same weights, eval mode, no gradients) to average into."""
    return copy.deepcopy(G).eval().requires_grad_(False)


def ema_decay_at(step: int, decay: float, *, warmup: bool = True) -> float:
    """The decay used after `step` generator steps (0-based): `decay`, or less early on with warmup."""
    return min(decay, (1 + step) / (10 + step)) if warmup else decay


@torch.no_grad()
def update_ema(G_ema: nn.Module, G: nn.Module, *, decay: float) -> None:
    """G_ema <- decay * G_ema + (1 - decay) * G for the weights; BatchNorm buffers copied from G."""
    for p_ema, p in zip(G_ema.parameters(), G.parameters(), strict=True):
        p_ema.lerp_(p.detach(), 1.0 - decay)
    for b_ema, b in zip(G_ema.buffers(), G.buffers(), strict=True):
        b_ema.copy_(b)
