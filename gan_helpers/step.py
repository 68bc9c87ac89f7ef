"""One training step of a GAN: Algorithm 1 of Goodfellow et al. (2014).

    for k steps:
        sample real images x and noise z
        update D by descending  loss_D(D(x), D(G(z)))  [+ lambda * gradient penalty]
    update G by descending  loss_G(D(G(z)))   (z: the last noise batch, see gan_step)

The losses are arguments (losses.py: BCE, hinge, Wasserstein), so the same step trains a DCGAN,
an SNGAN or a WGAN-GP. A conditional G and D (models/conditioning.py) get the labels too. Two
options change what D sees: `augment` (augment.py, DiffAugment) transforms every image D is shown,
real and fake, in both updates; `r1_weight` adds the R1 penalty on the real images (penalty.py).
Two change how it is computed, not what: `precision` (precision.py, mixed precision) and `shard`
(distributed.py, this process's part of the batch when several train together).
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import nn

from .distributed import Shard, unwrap
from .losses import d_loss, g_loss
from .penalty import gradient_penalty, r1_penalty
from .precision import Precision
from .sampling import sample_z


class StepStats(NamedTuple):
    """Plain floats from one step: the two losses and D's mean outputs through a sigmoid.
    (For the hinge and Wasserstein losses D returns scores, not logits: only the ordering
    D_x > D_G_z means something there; look at the losses instead.)"""
    loss_D: float
    loss_G: float
    D_x: float      # mean D(x_real): near 1 means D is sure the real images are real
    D_G_z: float    # mean D(G(z)):   near 0 means D easily spots the fakes


WHOLE = Shard()   # one process trains on the whole batch


def _unchanged(x: torch.Tensor) -> torch.Tensor:
    return x


def _call(model: nn.Module, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    return model(x) if labels is None else model(x, labels)


@contextlib.contextmanager
def frozen_weights(D: nn.Module):
    """Inside the block D's weights ask for no gradient: G's loss flows back through D into G, but the
    work of computing d loss_G / d D's weights, which G's update throws away, is skipped. Restored after."""
    trainable = [p for p in D.parameters() if p.requires_grad]
    for p in trainable:
        p.requires_grad_(False)
    try:
        yield D
    finally:
        for p in trainable:
            p.requires_grad_(True)


def gan_step(G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer,
             x_real: torch.Tensor | Sequence[torch.Tensor], *,
             labels: torch.Tensor | Sequence[torch.Tensor] | None = None,
             d_loss_fn: Callable = d_loss, g_loss_fn: Callable = g_loss, gp_weight: float = 0.0,
             r1_weight: float = 0.0, augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
             precision: Precision | None = None, shard: Shard = WHOLE) -> StepStats:
    """k discriminator updates, then one generator update. Returns the last losses as floats.

    x_real:     one batch of real images (k = 1), or a sequence of k batches, one per D update.
    labels:     for a conditional G and D, the class of every real image (same structure as x_real);
                the fake batch asks G for the same classes, so D sees each class as often in both.
    d_loss_fn:  loss_D(real_logits, fake_logits); g_loss_fn: loss_G(fake_logits) (losses.py).
    gp_weight:  lambda of the WGAN-GP gradient penalty added to loss_D (0: none; 10 in the paper).
    r1_weight:  weight of the R1 penalty on (augmented) real images added to loss_D (0: none; gamma / 2).
    augment:    a differentiable transform of a batch (augment.diff_augment) applied to every image D
                sees, real and fake, in D's and G's update; None: D sees the images as they are.
    precision:  mixed precision (precision.py): G and D run under autocast, D's logits and the losses
                in float32, float16's steps through one gradient scaler each; None: float32.
    shard:      this process's part of the global batch when several train together (distributed.py):
                x_real is that part already; the noise is drawn for the whole batch and sliced.
    G must have a `latent_dim` attribute (G and D may be wrapped in DDP). Both are left in train mode.

    G's update reuses the fake batch of the last D update (fresh noise every step, as in the
    PyTorch DCGAN example) rather than drawing new noise: it saves one pass through G.
    """
    seen, amp = augment or _unchanged, precision or Precision()
    batches = [x_real] if isinstance(x_real, torch.Tensor) else list(x_real)
    classes = [labels] * len(batches) if labels is None or isinstance(labels, torch.Tensor) else list(labels)
    latent_dim = unwrap(G).latent_dim
    G.train(), D.train()
    for i, (x, y) in enumerate(zip(batches, classes, strict=True)):  # k discriminator updates
        z = shard.take(sample_z(len(x) * shard.world_size, latent_dim, device=x.device))
        with torch.set_grad_enabled(i == len(batches) - 1), amp.autocast():
            x_fake = _call(G, z, y)                     # the last one keeps its graph for G's update
        with amp.autocast():
            x_seen = seen(x)
            real_logits = _call(D, x_seen, y).float()   # logits and losses in float32
            fake_logits = _call(D, seen(x_fake.detach()), y).float()  # detach: no gradient into G
            loss_D = d_loss_fn(real_logits, fake_logits)
            if gp_weight:
                loss_D = loss_D + gp_weight * gradient_penalty(D, x, x_fake, y)
            if r1_weight:
                loss_D = loss_D + r1_weight * r1_penalty(D, x_seen, y)
        amp.step(loss_D, opt_D, "D")                    # backward and opt_D.step()

    D_alone = unwrap(D)                                 # no DDP: D's weights are not updated now
    with frozen_weights(D_alone), amp.autocast():       # D has just been updated: ask it again
        loss_G = g_loss_fn(_call(D_alone, seen(x_fake), y).float())
    amp.step(loss_G, opt_G, "G")

    return step_stats(loss_D, loss_G, real_logits, fake_logits)


@torch.no_grad()
def step_stats(loss_D: torch.Tensor, loss_G: torch.Tensor, real_logits: torch.Tensor,
               fake_logits: torch.Tensor) -> StepStats:
    """A step's StepStats from its losses and D's outputs on the real and the fake images, in one transfer."""
    return StepStats(*torch.stack([loss_D.float(), loss_G.float(), torch.sigmoid(real_logits.float()).mean(),
                                   torch.sigmoid(fake_logits.float()).mean()]).tolist())
