"""What a game is to `fit`: the part of training that changes from one kind of GAN to another.

fit (train.py) owns everything around a step: the epochs, the batches, the record, the pictures, the
checkpoints, the interruptions. A game owns the step itself and what the sample grid is drawn from:

    game.check(G, D)                           a pair this game cannot train: a ValueError saying why
    game.fixed_input(G, data, n, device)       the fixed noise, or the fixed input images, of the grid
    game.step(G, D, opt_G, opt_D, x_real, ...) one update of D and of G; the numbers as StepStats
    game.state_dict(), load_state_dict(state)  what the game keeps from step to step (saved in checkpoints)

`pairs` says what a batch is: images (with labels for a conditional pair) when False; two images of
each example, (x_a, x_b), when True: an input and its target (pix2pix) or one image of each domain (CycleGAN).
"""
from __future__ import annotations

import torch
from torch import nn

from ..step import StepStats


class Game:
    """The interface above; a game that keeps no state between steps inherits state_dict and load_state_dict."""
    name = ""
    pairs = False

    def check(self, G: nn.Module, D: nn.Module) -> None:
        """Nothing to check by default."""

    def fixed_input(self, G: nn.Module, data, n: int, device: torch.device) -> torch.Tensor:
        raise NotImplementedError

    def step(self, G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer,
             x_real, **options) -> StepStats:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict | None) -> None:
        """Nothing to restore by default."""


def fixed_examples(game: Game, data, n: int, device: torch.device) -> torch.Tensor:
    """The first n inputs of `data` (unshuffled: the same every epoch and after a resume), for a game whose
    grid shows what G makes of fixed input images: data.examples(n)[0] (PairedBatches, UnpairedBatches)."""
    if not hasattr(data, "examples"):
        raise ValueError(f"The {game.name} game draws its sample grid from fixed input images: give data with an "
                         "examples(n) method, PairedBatches(inputs, targets, ...) or UnpairedBatches(images_a, "
                         f"images_b, ...), not {type(data).__name__}.")
    x_input, _ = data.examples(min(n, len(data) * getattr(data, "batch_size", n)))   # a small set: all it has
    return x_input.to(device)
