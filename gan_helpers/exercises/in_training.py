"""The learner's gradient penalty inside `fit`: chapter 07's WGAN-GP run trains with the exercise's penalty.

    with penalty_in_fit(gradient_penalty_inline):
        fit(G, D, data, TrainConfig(loss="wasserstein", gp_weight=10, d_steps=5, ...))

Inside the block, every D step of `fit` (gan_step in step.py) adds gp_weight times the learner's
penalty, `gp_fn(D, x_real, x_fake)`, instead of the package's `gradient_penalty`. The fakes reach it
cut off from G (detached), as the package's penalty cuts them, so the penalty trains D only. When the
block ends, the package's penalty is back.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from .. import step


@contextmanager
def penalty_in_fit(gp_fn: Callable[..., torch.Tensor]) -> Iterator[None]:
    """While the block runs, fit's WGAN-GP penalty is gp_fn(D, x_real, x_fake) (unconditional D only)."""
    package = step.gradient_penalty

    def learners_penalty(D, x_real, x_fake, labels=None, **options):
        if labels is not None:
            raise ValueError("penalty_in_fit takes a penalty of an unconditional D (no labels); for a "
                             "conditional GAN, train with the package's penalty (leave out penalty_in_fit).")
        return gp_fn(D, x_real.detach(), x_fake.detach(), **options)

    step.gradient_penalty = learners_penalty
    try:
        yield
    finally:
        step.gradient_penalty = package
