r"""The pix2pix game (Isola et al. 2017): translate paired images, x_input -> x_target.

G (a U-Net, models/unet.py) maps an input image to an output; D (a PatchGAN, models/patchgan.py) sees an
input and an output side by side, as channels, and says for every patch whether the output is the input's
real partner. G's loss adds an L1 term to the adversarial one:

    loss_D = 1/2 [ l_D(D(x_input, x_target), real) + l_D(D(x_input, G(x_input)), fake) ]
    loss_G = l_G(D(x_input, G(x_input)))  +  lambda * E|x_target - G(x_input)|,     lambda = 100

L1 alone learns the average of the outputs that fit an input: where several colours fit, that average is
a blur. The adversarial term punishes blur (D sees it at once); L1 keeps the output near its target, so
D only has to judge the texture of each patch. D's loss is halved, as in the paper, so D learns at
half G's rate. l_D, l_G: TrainConfig.loss (the paper's BCE: "bce"). fit_l1 trains the ablation, L1 alone.
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

from ..config import TrainConfig
from ..losses import loss_functions
from ..precision import Precision
from ..step import WHOLE, StepStats, frozen_weights, step_stats
from .game import Game, fixed_examples


def paired(x_input: torch.Tensor, x_output: torch.Tensor) -> torch.Tensor:
    """What D sees: input and output stacked as channels, (B, C_in + C_out, H, W)."""
    return torch.cat([x_input, x_output], dim=1)


class Pix2PixGame(Game):
    """The game above, with lambda = cfg.l1_weight; batches are (x_input, x_target) (data/pairs.py)."""
    name, pairs = "pix2pix", True

    def __init__(self, cfg: TrainConfig):
        self.d_loss_fn, self.g_loss_fn = loss_functions(cfg.loss, label_smoothing=cfg.label_smoothing)
        self.l1_weight = cfg.l1_weight

    def check(self, G: nn.Module, D: nn.Module) -> None:
        wanted = getattr(G, "in_channels", None), getattr(G, "out_channels", None)
        if None in wanted:
            raise ValueError(f"The pix2pix game translates images: G must be an image-to-image model with in_channels "
                             f"and out_channels (UNetGenerator), not a {type(G).__name__}.")
        if getattr(D, "in_channels", sum(wanted)) != sum(wanted):
            raise ValueError(f"D sees input and output side by side: it needs in_channels = {wanted[0]} + {wanted[1]} "
                             f"= {sum(wanted)}, but has {D.in_channels}. Build PatchDiscriminator(in_channels="
                             f"{sum(wanted)}).")

    def fixed_input(self, G: nn.Module, data, n: int, device: torch.device) -> torch.Tensor:
        return fixed_examples(self, data, n, device)

    def step(self, G, D, opt_G, opt_D, x_real, *, labels=None, r1_weight: float = 0.0,
             precision: Precision | None = None, shard=WHOLE) -> StepStats:
        x_input, x_target = x_real
        amp = precision or Precision()
        G.train(), D.train()
        with amp.autocast():
            x_fake = G(x_input)
            real_logits = D(paired(x_input, x_target)).float()          # one logit per patch
            fake_logits = D(paired(x_input, x_fake.detach())).float()   # detach: no gradient into G
            loss_D = 0.5 * self.d_loss_fn(real_logits, fake_logits)
        amp.step(loss_D, opt_D, "D")
        with frozen_weights(D), amp.autocast():
            loss_G = (self.g_loss_fn(D(paired(x_input, x_fake)).float())
                      + self.l1_weight * F.l1_loss(x_fake.float(), x_target))
        amp.step(loss_G, opt_G, "G")
        return step_stats(loss_D, loss_G, real_logits, fake_logits)


def fit_l1(G: nn.Module, data, *, seconds: float | None = None, steps: int | None = None, lr: float = 2e-4,
           betas: tuple[float, float] = (0.5, 0.999)) -> list[float]:
    """pix2pix's ablation "L1 alone": G trained to minimise E|x_target - G(x_input)| with no D at all (plain
    regression), epoch after epoch over `data` (PairedBatches), until `seconds` of wall-clock time or `steps`
    steps have passed, whichever comes first. Adam as pix2pix's (lr 2e-4, betas (0.5, 0.999)). G's device is
    used. Returns the L1 loss of every step."""
    if seconds is None and steps is None:
        raise ValueError("fit_l1 needs a budget: seconds=..., steps=..., or both.")
    device = next(G.parameters()).device
    opt_G, losses = torch.optim.Adam(G.parameters(), lr=lr, betas=betas), []
    start = time.perf_counter()
    G.train()
    while True:
        for x_input, x_target in data:
            loss = F.l1_loss(G(x_input.to(device)), x_target.to(device))
            opt_G.zero_grad(set_to_none=True)
            loss.backward()
            opt_G.step()
            losses.append(loss.item())
            if len(losses) == steps or (seconds is not None and time.perf_counter() - start >= seconds):
                return losses
