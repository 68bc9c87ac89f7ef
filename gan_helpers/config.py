"""The settings of a training run, as one plain dataclass that notebooks show in one cell."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields

from .losses import loss_functions

FAST_ENV = "GAN_FAST"


def fast_mode() -> bool:
    """True when the environment variable GAN_FAST is set to 1 (or yes/true; 0, no, false or empty: off).

    Notebooks read it once, in their config cell, to train for a few steps on a small slice
    of the data; CI runs every notebook that way. Nothing else differs.
    """
    return os.environ.get(FAST_ENV, "").strip().lower() not in ("", "0", "no", "false", "off")


@dataclass
class TrainConfig:
    """Everything `fit` needs to know besides the models and the data.

    The defaults are the DCGAN paper's Adam settings (lr 2e-4, beta1 0.5), which also suit
    the MLP GAN. `batch_size` is read by whoever builds the batches (TensorBatches or a
    DataLoader); it is stored here so a checkpoint records it.

    The game (losses.py, penalty.py): `loss` is "bce" (the GAN game with the non-saturating
    G loss), "minimax" (the saturating original, to see it fail), "hinge" or "wasserstein"; `gp_weight` > 0 adds the WGAN-GP gradient penalty (10 in the paper, which
    pairs it with d_steps=5, lr 1e-4, beta1 0, beta2 0.9); `label_smoothing` s trains D towards
    1 - s on real images. Different lr_G and lr_D are the two time-scale update rule (TTUR).
    """
    epochs: int = 10
    batch_size: int = 64
    lr_G: float = 2e-4
    lr_D: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1                        # discriminator updates per generator update (k in Algorithm 1)
    loss: str = "bce"                       # "bce", "minimax", "hinge" or "wasserstein" (losses.LOSSES)
    gp_weight: float = 0.0                  # lambda of the gradient penalty (WGAN-GP: 10)
    label_smoothing: float = 0.0            # one-sided: D's target for real images is 1 - label_smoothing
    seed: int = 0
    n_samples: int = 64                     # images in the fixed-noise grid kept after every epoch
    max_steps_per_epoch: int | None = None  # cut epochs short (fast mode)
    checkpoint_dir: str | None = None       # None: no checkpoints
    keep_checkpoints: int = 2               # newest checkpoints kept on disk
    device: str | None = None               # None: cuda, then mps, then cpu

    def __post_init__(self):
        for name in ("epochs", "batch_size", "d_steps", "n_samples", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be at least 1, got {getattr(self, name)}.")
        if self.max_steps_per_epoch is not None and self.max_steps_per_epoch < 1:
            raise ValueError(f"TrainConfig.max_steps_per_epoch must be None or >= 1, got {self.max_steps_per_epoch}.")
        if self.gp_weight < 0:
            raise ValueError(f"TrainConfig.gp_weight must be >= 0, got {self.gp_weight}.")
        if self.loss == "wasserstein" and not self.gp_weight:
            raise ValueError("loss='wasserstein' needs a 1-Lipschitz critic: set gp_weight (10 in WGAN-GP). "
                             "Weight clipping, the original WGAN's way, is not implemented.")
        loss_functions(self.loss, label_smoothing=self.label_smoothing)  # ValueError for unknown names, bad s


# Fields that may change when a run is resumed; every other field must match the checkpoint.
RESUMABLE_CHANGES = frozenset({"epochs", "checkpoint_dir", "keep_checkpoints", "device"})


def config_differences(saved: dict, cfg: TrainConfig) -> list[str]:
    """Names and values of the fields of `cfg` that differ from a saved config and may not."""
    # A field missing from an older checkpoint did not exist then: the run used its default.
    return [f"config.{f.name}: checkpoint has {saved.get(f.name, f.default)!r}, now {getattr(cfg, f.name)!r}"
            for f in fields(cfg)
            if f.name not in RESUMABLE_CHANGES and saved.get(f.name, f.default) != getattr(cfg, f.name)]
