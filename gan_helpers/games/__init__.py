"""The games `fit` plays: what one training step does with a batch, and what the sample grid is drawn from.

    "noise"     G(z) against D, every chapter up to 10 (noise.py: step.py's gan_step)
    "pix2pix"   paired translation, x_input -> x_target: a PatchGAN D and an L1 term (pix2pix.py)
    "cyclegan"  unpaired translation, A <-> B: two Gs, two Ds, cycle and identity losses (cycle.py)

TrainConfig.game names one; fit builds it with make_game(cfg). game.py says what a game is.
"""
from __future__ import annotations

from ..config import TrainConfig
from .cycle import CycleGame, cycle_loss
from .game import Game
from .image_pool import ImagePool
from .noise import NoiseGame
from .pix2pix import Pix2PixGame, fit_l1, paired

GAMES: dict[str, type[Game]] = {game.name: game for game in (NoiseGame, Pix2PixGame, CycleGame)}  # config.GAMES


def make_game(cfg: TrainConfig) -> Game:
    """The game cfg.game names, with cfg's losses and weights."""
    return GAMES[cfg.game](cfg)


__all__ = ["GAMES", "Game", "make_game", "NoiseGame", "Pix2PixGame", "CycleGame", "ImagePool", "cycle_loss", "fit_l1",
           "paired"]
