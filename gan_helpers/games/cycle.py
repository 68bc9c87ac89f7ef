r"""The CycleGAN game (Zhu et al. 2017): translate between two domains A and B without pairs.

Two generators, G_AB: A -> B and G_BA: B -> A (models/cycle.py's CycleGenerators, `a_to_b` and `b_to_a`),
and two discriminators, D_A and D_B (CycleDiscriminators, `d_a` and `d_b`), each telling its domain's real
images from translated ones. With no pairs, nothing ties an output to its input but the cycle: a digit
taken to B and back must come back as itself.

    loss_G = l_G(D_B(G_AB(a))) + l_G(D_A(G_BA(b)))                                  look like the other domain
           + lambda_cyc * ( |G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b| )             come back (L1 means)
           + lambda_cyc * lambda_id * ( |G_AB(b) - b| + |G_BA(a) - a| )             leave the target domain alone
    loss_D = l_D(D_B(b), D_B(pool_B(G_AB(a)))) + l_D(D_A(a), D_A(pool_A(G_BA(b))))

lambda_cyc = 10, lambda_id = 0.5 and the least-squares loss (losses.py) are the paper's; the identity term
needs both domains to have the same channels. D sees its fakes through an image history (image_pool.py). The
cycle can be passed by cheating: G_AB may hide what G_BA needs in patterns too faint to see (notebook 11).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import TrainConfig
from ..losses import loss_functions
from ..precision import Precision
from ..step import WHOLE, StepStats, frozen_weights, step_stats
from .game import Game, fixed_examples
from .image_pool import ImagePool


def cycle_loss(G_AB: nn.Module, G_BA: nn.Module, x_a: torch.Tensor, x_b: torch.Tensor, *,
               fake_b: torch.Tensor | None = None, fake_a: torch.Tensor | None = None) -> torch.Tensor:
    """|G_BA(G_AB(x_a)) - x_a| + |G_AB(G_BA(x_b)) - x_b|, each an L1 mean (Zhu et al. 2017, eq. 2).
    fake_b, fake_a: G_AB(x_a) and G_BA(x_b) when already computed (the game has them: one pass saved)."""
    fake_b = G_AB(x_a) if fake_b is None else fake_b
    fake_a = G_BA(x_b) if fake_a is None else fake_a
    return F.l1_loss(G_BA(fake_b).float(), x_a) + F.l1_loss(G_AB(fake_a).float(), x_b)


class CycleGame(Game):
    """The game above, with cfg.cycle_weight, cfg.identity_weight, cfg.pool_size and cfg.loss ("least-squares")."""
    name, pairs = "cyclegan", True

    def __init__(self, cfg: TrainConfig):
        self.d_loss_fn, self.g_loss_fn = loss_functions(cfg.loss, label_smoothing=cfg.label_smoothing)
        self.cycle_weight, self.identity_weight = cfg.cycle_weight, cfg.identity_weight
        self.pool_a, self.pool_b = ImagePool(cfg.pool_size), ImagePool(cfg.pool_size)

    def check(self, G: nn.Module, D: nn.Module) -> None:
        for model, parts, cls in ((G, ("a_to_b", "b_to_a"), "CycleGenerators"), (D, ("d_a", "d_b"),
                                                                                   "CycleDiscriminators")):
            if not all(hasattr(model, part) for part in parts):
                raise ValueError(f"The cyclegan game trains two generators and two discriminators: G must be a "
                                 f"CycleGenerators and D a CycleDiscriminators; this one is a {type(model).__name__} "
                                 f"(expected {cls}, with {' and '.join(parts)}).")
        channels = G.hparams.get("channels_a"), G.hparams.get("channels_b")
        if self.identity_weight and channels[0] != channels[1]:
            raise ValueError(f"The identity loss feeds B's images to G_AB, which takes A's: it needs the same channels "
                             f"in both domains, not {channels[0]} and {channels[1]}. Set identity_weight=0.")

    def fixed_input(self, G: nn.Module, data, n: int, device: torch.device) -> torch.Tensor:
        return fixed_examples(self, data, n, device)       # A's images: the grid shows G_AB(a)

    def step(self, G, D, opt_G, opt_D, x_real, *, labels=None, r1_weight: float = 0.0,
             precision: Precision | None = None, shard=WHOLE) -> StepStats:
        x_a, x_b = x_real
        amp = precision or Precision()
        G.train(), D.train()
        with amp.autocast():                                              # G_AB and G_BA first, as the paper's code
            fake_b, fake_a = G.a_to_b(x_a), G.b_to_a(x_b)
            with frozen_weights(D):
                loss_G = (self.g_loss_fn(D.d_b(fake_b).float()) + self.g_loss_fn(D.d_a(fake_a).float())
                          + self.cycle_weight * cycle_loss(G.a_to_b, G.b_to_a, x_a, x_b, fake_b=fake_b, fake_a=fake_a))
            if self.identity_weight:
                loss_G = loss_G + self.cycle_weight * self.identity_weight * (
                    F.l1_loss(G.a_to_b(x_b).float(), x_b) + F.l1_loss(G.b_to_a(x_a).float(), x_a))
        amp.step(loss_G, opt_G, "G")
        with amp.autocast():                                              # then D_A and D_B, on pooled fakes
            real_b, pooled_b = D.d_b(x_b).float(), D.d_b(self.pool_b(fake_b)).float()
            real_a, pooled_a = D.d_a(x_a).float(), D.d_a(self.pool_a(fake_a)).float()
            loss_D = self.d_loss_fn(real_b, pooled_b) + self.d_loss_fn(real_a, pooled_a)
        amp.step(loss_D, opt_D, "D")
        return step_stats(loss_D, loss_G, real_b, pooled_b)             # D_x, D_G_z: domain B's D

    def state_dict(self) -> dict:
        return {"pool_a": self.pool_a.state_dict(), "pool_b": self.pool_b.state_dict()}

    def load_state_dict(self, state: dict | None) -> None:
        if state:
            self.pool_a.load_state_dict(state["pool_a"]), self.pool_b.load_state_dict(state["pool_b"])
