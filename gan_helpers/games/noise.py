"""The noise game: G(z) against D, Algorithm 1 of Goodfellow et al. (2014), as every chapter up to 10 plays it.

The step is step.py's gan_step with the TrainConfig's losses, penalties and augmentation; the grid is
G drawn at cfg.n_samples fixed points z (seed cfg.seed).
"""
from __future__ import annotations

import torch
from torch import nn

from ..augment import diff_augment
from ..config import TrainConfig
from ..losses import loss_functions
from ..sampling import sample_z
from ..step import WHOLE, StepStats, gan_step
from .game import Game


class NoiseGame(Game):
    """G(z) against D with cfg's loss, gp_weight and diff_augment (gan_step does the arithmetic)."""
    name = "noise"

    def __init__(self, cfg: TrainConfig):
        self.d_loss_fn, self.g_loss_fn = loss_functions(cfg.loss, label_smoothing=cfg.label_smoothing)
        self.gp_weight, self.seed, self.policy = cfg.gp_weight, cfg.seed, cfg.diff_augment

    def check(self, G: nn.Module, D: nn.Module) -> None:
        if not hasattr(G, "latent_dim"):
            raise ValueError(f"The noise game draws G(z), but this {type(G).__name__} has no latent_dim: it is not a "
                             "G of noise. A translator (UNetGenerator, CycleGenerators) trains with "
                             "TrainConfig(game='pix2pix') or game='cyclegan'.")

    def fixed_input(self, G: nn.Module, data, n: int, device: torch.device) -> torch.Tensor:
        return sample_z(n, G.latent_dim, seed=self.seed, device=device)

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.policy)

    def step(self, G, D, opt_G, opt_D, x_real, *, labels=None, r1_weight: float = 0.0, precision=None,
             shard=WHOLE) -> StepStats:
        return gan_step(G, D, opt_G, opt_D, x_real, labels=labels, d_loss_fn=self.d_loss_fn,
                        g_loss_fn=self.g_loss_fn, gp_weight=self.gp_weight, r1_weight=r1_weight,
                        augment=None if self.policy is None else self._augment, precision=precision, shard=shard)
