"""Callbacks: plain callables that `fit` calls as `callback(event, run)` at fixed points.

    "fit_start"   once, after models, optimizers and any resumed state are ready
    "step_end"    after every generator step (run.stats holds its numbers)
    "epoch_end"   after every epoch, once its samples and checkpoint are saved
    "fit_end"     once, when all epochs are done

A callback ignores the events it does not need; under torchrun only rank 0 calls them. To end
training early (a time budget, a target reached), a callback sets `run.stop = True` at "step_end":
fit then saves a checkpoint (when cfg.checkpoint_dir is set), calls "fit_end" and returns the
History. Any function works:

    def print_epoch(event, run):
        if event == "epoch_end":
            print(run.epoch, run.history.epoch_means("loss_D")[-1])
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .config import TrainConfig
from .games.game import Game
from .history import History
from .precision import Precision
from .step import StepStats

EVENTS = ("fit_start", "step_end", "epoch_end", "fit_end")


@dataclass
class RunState:
    """What a callback can see (and a training loop keeps track of)."""
    G: nn.Module
    D: nn.Module
    opt_G: torch.optim.Optimizer
    opt_D: torch.optim.Optimizer
    cfg: TrainConfig
    history: History
    device: torch.device
    fixed_z: torch.Tensor                # what the sample grid is drawn from: fixed noise, or fixed input images
    epoch: int = 0                       # epochs finished
    step: int = 0                        # generator steps done in all
    stats: StepStats | None = None       # numbers of the last step
    x_real: torch.Tensor | None = None   # the last real batch
    checkpoint: str | None = None        # path of the newest checkpoint saved
    stop: bool = False                   # set by a callback: fit saves, then returns after this step
    G_ema: nn.Module | None = None       # the moving average of G's weights (cfg.ema_decay), else None
    precision: Precision | None = None   # autocast and float16's gradient scalers (cfg.precision)
    rank: int = 0                        # this process's number under torchrun (callbacks run on rank 0 only)
    world_size: int = 1                  # processes training together (1 without torchrun)
    game: Game | None = None             # what a step does (games/; fit's default: the noise game)

    @property
    def G_sample(self) -> nn.Module:
        """The generator to draw pictures with: G_ema when the run keeps one, else G."""
        return self.G if self.G_ema is None else self.G_ema


class SaveSampleGrids:
    """After every epoch, save the fixed-noise samples as `folder/epoch_001.png`, ... When a run resumes,
    first draw again any finished epoch's grid that is missing (a crash between a checkpoint and its grid)."""

    def __init__(self, folder: str | Path, *, nrow: int = 8):
        self.folder, self.nrow = Path(folder), nrow

    def __call__(self, event: str, run: RunState) -> None:
        if event == "fit_start":
            for epoch, samples in enumerate(run.history.samples, start=1):
                if not self._path(epoch).is_file():
                    self._save(samples, epoch)
        elif event == "epoch_end":
            self._save(run.history.samples[-1], run.epoch)

    def _path(self, epoch: int) -> Path:
        return self.folder / f"epoch_{epoch:03d}.png"

    def _save(self, samples: torch.Tensor, epoch: int) -> None:
        from .plotting import save_grid
        save_grid(samples, self._path(epoch), nrow=self.nrow)


class TimeBudget:
    """Stop training `seconds` of wall-clock time after fit starts (checked after every step; fit then saves
    and returns), to compare settings at equal time. `elapsed`: the seconds trained so far. Notebook 07 writes
    it to teach it; `LiveView(time_budget=...)` shows what is left."""

    def __init__(self, seconds: float):
        if not seconds > 0:
            raise ValueError(f"TimeBudget needs a number of seconds above 0, got {seconds}.")
        self.seconds, self.elapsed, self._start = seconds, 0.0, None

    def __call__(self, event: str, run: RunState) -> None:
        if event == "fit_start":
            self._start = time.perf_counter()
        elif event == "step_end":
            self.elapsed = time.perf_counter() - self._start
            if self.elapsed >= self.seconds:
                run.stop = True


class TensorBoardLogger:
    """Log losses, D outputs and real/fake image grids to TensorBoard (needs `pip install tensorboard`).

    Then run `tensorboard --logdir LOG_DIR` (in Colab: `%load_ext tensorboard`, `%tensorboard --logdir LOG_DIR`).
    """

    def __init__(self, log_dir: str | Path, *, every: int = 50):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:  # torch raises ImportError when tensorboard is missing
            raise ImportError("TensorBoardLogger needs tensorboard: pip install tensorboard") from err
        self.writer, self.every = SummaryWriter(str(log_dir)), every

    def __call__(self, event: str, run: RunState) -> None:
        if event == "step_end" and run.step % self.every == 0:
            for name, value in run.stats._asdict().items():
                self.writer.add_scalar(f"train/{name}", value, run.step)
        elif event == "epoch_end":
            from torchvision.utils import make_grid
            self.writer.add_image("fake", make_grid(run.history.samples[-1]), run.step)
            real = run.x_real[: run.cfg.n_samples].detach().cpu()
            self.writer.add_image("real", make_grid(real, normalize=True, value_range=(-1, 1)), run.step)
            self.writer.flush()
        elif event == "fit_end":
            self.writer.close()
