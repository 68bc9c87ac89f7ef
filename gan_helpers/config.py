"""The settings of a training run, as one plain dataclass that notebooks show in one cell."""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, fields

from .advice import advise
from .augment import parse_policy
from .losses import loss_functions
from .precision import check_precision

FAST_ENV = "GAN_FAST"
GAMES = ("noise", "pix2pix", "cyclegan")   # what a step does (games/: NoiseGame, Pix2PixGame, CycleGame)


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
    the MLP GAN. `batch_size` is the one truth about the batches: build them with it
    (TensorBatches(images, batch_size=cfg.batch_size) or a DataLoader), and fit refuses data
    whose batches have another size, so the checkpoint records the size that was trained.

    The game (losses.py, penalty.py): `loss` is "bce" (the GAN game with the non-saturating
    G loss), "minimax" (the saturating original, to see it fail), "hinge" or "wasserstein";
    `gp_weight` > 0 adds the WGAN-GP gradient penalty (10 in the paper, which pairs it with
    d_steps=5, lr 1e-4, beta1 0, beta2 0.9); `label_smoothing` s trains D towards 1 - s on
    real images. Different lr_G and lr_D are the two time-scale update rule (TTUR).

    Better pictures for the same compute: `ema_decay` keeps G_ema, a moving average of G's
    weights (ema.py), which draws the samples, grids and metrics; `diff_augment` names the
    DiffAugment transforms D sees on real and fake images (augment.py, for small data sets);
    `r1_gamma` adds the R1 penalty (gamma / 2) * E|grad D(x_real)|^2 every `r1_every` D steps.

    Faster, same game (notebook 09): `precision` "bfloat16" or "float16" runs G and D under autocast
    (precision.py); `channels_last` stores images and convolution weights as (N, H, W, C) in memory;
    `compile` runs G and D through torch.compile. Under torchrun (distributed.py) batch_size is the
    global batch, split over the processes, and `sync_batchnorm` shares BatchNorm's statistics (CUDA).
    These may change when a run is resumed.

    Translation (games/, notebook 11): `game` "pix2pix" trains G(x_input) -> x_target on pairs with an
    L1 term weighted `l1_weight`; "cyclegan" trains two Gs and two Ds on unpaired domains with the cycle
    loss (`cycle_weight`), the identity loss (`identity_weight`) and an image history (`pool_size`).
    """
    epochs: int = 10
    batch_size: int = 64
    lr_G: float = 2e-4
    lr_D: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1                        # discriminator updates per generator update (k in Algorithm 1)
    loss: str = "bce"                       # "bce", "minimax", "hinge", "wasserstein", "least-squares" (LOSSES)
    gp_weight: float = 0.0                  # lambda of the gradient penalty (WGAN-GP: 10)
    label_smoothing: float = 0.0            # one-sided: D's target for real images is 1 - label_smoothing
    ema_decay: float | None = None          # G_ema <- decay * G_ema + (1 - decay) * G each step (None: no G_ema)
    ema_warmup: bool = True                 # early on, decay (1 + t) / (10 + t) when smaller (ema.ema_decay_at)
    diff_augment: str | None = None         # e.g. "color,translation,cutout" (augment.POLICIES); None: off
    r1_gamma: float = 0.0                   # R1 penalty weight gamma (0: off; StyleGAN2 uses 0.01 to 10)
    r1_every: int = 1                       # lazy R1: every N-th D step, weighted N times
    seed: int = 0
    n_samples: int = 64                     # images in the fixed-noise grid kept after every epoch
    max_steps_per_epoch: int | None = None  # cut epochs short (fast mode)
    checkpoint_dir: str | None = None       # None: no checkpoints
    keep_checkpoints: int = 2               # newest checkpoints kept on disk
    device: str | None = None               # None: cuda, then mps, then cpu
    precision: str = "float32"              # "float32", "bfloat16" or "float16" (autocast; precision.py)
    channels_last: bool = False             # (N, H, W, C) memory format for the DCGANs' convolutions
    compile: bool = False                   # torch.compile G and D (slow first steps, faster after)
    sync_batchnorm: bool = False            # under torchrun: BatchNorm statistics over all ranks (CUDA only)
    game: str = "noise"                     # "noise": G(z); "pix2pix", "cyclegan": translation (games/, chapter 11)
    l1_weight: float = 100.0                # pix2pix: lambda of the L1 term (the paper's 100)
    cycle_weight: float = 10.0              # CycleGAN: lambda of the cycle loss (the paper's 10)
    identity_weight: float = 0.5            # CycleGAN: the identity loss, as a fraction of cycle_weight (0: none)
    pool_size: int = 50                     # CycleGAN: G's earlier images kept for D (image_pool.py; 0: none)

    def __post_init__(self):
        for f in fields(self):                       # the types first: epochs=2.5 or batch_size="64" fail here
            setattr(self, f.name, _checked_type(f.name, getattr(self, f.name), f.type))
        for name in ("lr_G", "lr_D"):
            if getattr(self, name) < 0:
                raise ValueError(f"TrainConfig.{name} must be 0 or more (2e-4 is usual; 0 freezes the model), got "
                                 f"{getattr(self, name)}.")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be at least 0 and below 1, got {getattr(self, name)}.")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"TrainConfig.seed must be between 0 and 2**63 - 1, got {self.seed}.")
        for name in ("epochs", "batch_size", "d_steps", "n_samples", "keep_checkpoints", "r1_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be at least 1, got {getattr(self, name)}.")
        if self.max_steps_per_epoch is not None and self.max_steps_per_epoch < 1:
            raise ValueError(f"TrainConfig.max_steps_per_epoch must be None or >= 1, got {self.max_steps_per_epoch}.")
        if self.gp_weight < 0:
            raise ValueError(f"TrainConfig.gp_weight must be >= 0, got {self.gp_weight}.")
        if self.loss == "wasserstein" and not self.gp_weight:
            clipping = "Weight clipping, the original WGAN's way, is not implemented."
            raise advise(ValueError(f"loss='wasserstein' needs a 1-Lipschitz critic: set gp_weight (10 in WGAN-GP). "
                                    f"{clipping}"),
                         cli=f"--loss wasserstein needs a 1-Lipschitz critic: add --gp-weight 10 (WGAN-GP), or train "
                             f"the mnist-wgan-gp preset. {clipping}")
        loss_functions(self.loss, label_smoothing=self.label_smoothing)  # ValueError for unknown names, bad s
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise ValueError(f"TrainConfig.ema_decay must be between 0 and 1 (e.g. 0.999) or None, "
                             f"got {self.ema_decay}.")
        if self.r1_gamma < 0:
            raise ValueError(f"TrainConfig.r1_gamma must be >= 0, got {self.r1_gamma}.")
        if self.diff_augment is not None:
            parse_policy(self.diff_augment)                                 # ValueError naming the choices
        check_precision(self.precision)
        self._check_game()

    def _check_game(self) -> None:
        if self.game not in GAMES:
            raise ValueError(f"TrainConfig.game must be one of {', '.join(map(repr, GAMES))}, got {self.game!r}.")
        for name in ("l1_weight", "cycle_weight", "identity_weight", "pool_size"):
            if getattr(self, name) < 0:
                raise ValueError(f"TrainConfig.{name} must be 0 or more, got {getattr(self, name)}.")
        if self.game != "noise":
            unsupported = [f"{name}={getattr(self, name)!r}" for name, default in (
                ("d_steps", 1), ("gp_weight", 0.0), ("r1_gamma", 0.0), ("diff_augment", None))
                if getattr(self, name) != default]
            if unsupported:
                raise ValueError(f"The {self.game} game takes one D step per G step and no penalty or augmentation: "
                                 f"leave out {', '.join(unsupported)}.")


_KINDS = {"int": "a whole number", "float": "a number", "str": "a string", "bool": "True or False"}


def _checked_type(name: str, value, annotation: str):
    """`value` as the plain Python type its field's annotation names ("int", "float | None", ...): numpy's
    numbers become int and float, a Path a str (so a checkpoint holds plain data); a TypeError otherwise."""
    kinds = annotation.split(" | ")
    if value is None and "None" in kinds:
        return value
    if isinstance(value, bool) or isinstance(value, str):
        if type(value).__name__ in kinds:
            return value
    elif isinstance(value, numbers.Integral) and ("int" in kinds or "float" in kinds):
        return int(value) if "int" in kinds else float(value)
    elif isinstance(value, numbers.Real) and "float" in kinds:
        if math.isfinite(value):
            return float(value)
        raise ValueError(f"TrainConfig.{name} must be a finite number, got {value}.")
    elif isinstance(value, os.PathLike) and "str" in kinds:
        return os.fspath(value)
    wanted = " or ".join(_KINDS.get(kind, kind) for kind in kinds)
    raise TypeError(f"TrainConfig.{name} must be {wanted}, got {value!r} of type {type(value).__name__}.")


# Fields that may change when a run is resumed; every other field must match the checkpoint. Lower learning
# rates are the usual fix for a run that diverged (the resumed optimizers take the new ones); a run may be
# made longer, or its epochs shorter or longer; how the arithmetic is done (precision, memory format,
# compilation, BatchNorm across ranks) may change too.
RESUMABLE_CHANGES = frozenset({"epochs", "checkpoint_dir", "keep_checkpoints", "device", "lr_G", "lr_D",
                               "max_steps_per_epoch", "precision", "channels_last", "compile", "sync_batchnorm"})


def config_differences(saved: dict, cfg: TrainConfig) -> list[str]:
    """Names and values of the fields of `cfg` that differ from a saved config and may not."""
    # A field missing from an older checkpoint did not exist then: the run used its default.
    return [f"config.{f.name}: checkpoint has {saved.get(f.name, f.default)!r}, now {getattr(cfg, f.name)!r}"
            for f in fields(cfg)
            if f.name not in RESUMABLE_CHANGES and saved.get(f.name, f.default) != getattr(cfg, f.name)]
