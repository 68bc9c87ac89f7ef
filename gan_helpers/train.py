"""`fit`: the training loop every chapter uses, with progress, samples and checkpoints.

The per-batch update is `gan_step` (step.py); this module only adds the plumbing around it:
devices, the epoch loop, a progress bar, fixed-noise samples, checkpoints and resuming.
"""
from __future__ import annotations

import itertools
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from .callbacks import RunState
from .checkpoint import (CheckpointError, check_compatible, checkpoint_name, list_checkpoints, load_checkpoint,
                         prune_checkpoints, save_checkpoint)
from .config import TrainConfig
from .data.batches import from_unit_range
from .device import pick_device
from .history import History
from .losses import loss_functions
from .models import balanced_labels, model_spec
from .step import StepStats, gan_step, sample_z


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; training was stopped before anything bad was saved."""


def fit(G: nn.Module, D: nn.Module, data: Iterable, cfg: TrainConfig, *,
        opt_G: torch.optim.Optimizer | None = None, opt_D: torch.optim.Optimizer | None = None,
        callbacks: Iterable[Callable] = (), resume: bool | str | Path = False,
        progress: bool = True) -> History:
    """Train G and D for `cfg.epochs` epochs over `data` and return the History.

    data:     any iterable of batches, re-iterated every epoch: a `TensorBatches`, or a
              `DataLoader` yielding images or (images, labels), images scaled to [-1, 1].
              A conditional G and D (num_classes > 0) need the labels; others ignore them.
    opt_G/D:  default Adam(lr_G / lr_D, betas=(beta1, beta2)) from cfg.
    resume:   True continues from the newest checkpoint in cfg.checkpoint_dir, a path from
              that file; the models and cfg must match the checkpoint (cfg.epochs may grow).

    With cfg.checkpoint_dir set, a checkpoint is written after every epoch and when you
    interrupt (Ctrl-C, or Jupyter's stop button): the step in progress finishes first.
    """
    if not resume and cfg.checkpoint_dir and list_checkpoints(cfg.checkpoint_dir):
        raise CheckpointError(
            f"{cfg.checkpoint_dir} already holds checkpoints of an earlier run. Continue it with "
            "fit(..., resume=True) (--resume on the command line), or choose another checkpoint_dir "
            "to start a new run: nothing is overwritten."
        )
    conditional = _check_models(G, D, cfg)
    d_loss_fn, g_loss_fn = loss_functions(cfg.loss, label_smoothing=cfg.label_smoothing)
    device = pick_device(cfg.device)
    G.to(device), D.to(device)
    betas = (cfg.beta1, cfg.beta2)
    opt_G = opt_G or adam(G.parameters(), lr=cfg.lr_G, betas=betas, device=device)
    opt_D = opt_D or adam(D.parameters(), lr=cfg.lr_D, betas=betas, device=device)
    fixed_z = sample_z(cfg.n_samples, G.latent_dim, generator=torch.Generator().manual_seed(cfg.seed))
    run = RunState(G=G, D=D, opt_G=opt_G, opt_D=opt_D, cfg=cfg, history=History(), device=device,
                   fixed_z=fixed_z.to(device))
    skip, rng_epoch_start = 0, None
    if resume:
        state = load_checkpoint(cfg.checkpoint_dir if resume is True else resume)
        check_compatible(state, G=G, D=D, cfg=cfg)
        for obj, key in ((G, "G"), (D, "D"), (opt_G, "opt_G"), (opt_D, "opt_D")):
            obj.load_state_dict(state[key])
        run.history = History.from_dict(state["history"])
        run.epoch, run.step, run.checkpoint = state["epoch"], state["step"], state["path"]
        skip, rng_epoch_start = state["batch_in_epoch"], state["rng_epoch_start"]
        _set_rng(state["rng"])
    else:
        torch.manual_seed(cfg.seed)
    _notify(callbacks, "fit_start", run)

    with _DeferredInterrupt() as interrupt:
        while run.epoch < cfg.epochs:
            if skip:  # resuming inside an epoch: replay its shuffle and skip the batches done
                rng_now = _get_rng()
                _set_rng(rng_epoch_start)
                batches = _real_batches(iter(data), cfg.d_steps, device, conditional)
                for _ in range(skip):
                    next(batches)
                _set_rng(rng_now)
            else:
                rng_epoch_start = _get_rng()
                batches = _real_batches(iter(data), cfg.d_steps, device, conditional)
            done, skip, start = skip, 0, time.perf_counter()
            steps_left = None if cfg.max_steps_per_epoch is None else max(cfg.max_steps_per_epoch - done, 0)
            with tqdm(total=_steps_per_epoch(data, cfg), initial=done, disable=not progress,
                      desc=f"epoch {run.epoch + 1}/{cfg.epochs}", unit="step") as bar:
                for x_real, labels in itertools.islice(batches, steps_left):
                    run.stats = gan_step(G, D, opt_G, opt_D, x_real, labels=labels, d_loss_fn=d_loss_fn,
                                         g_loss_fn=g_loss_fn, gp_weight=cfg.gp_weight)
                    _check_finite(run)
                    run.history.record_step(run.stats)
                    run.step, done = run.step + 1, done + 1
                    run.x_real = x_real if isinstance(x_real, torch.Tensor) else x_real[-1]
                    bar.update()
                    if run.step % 20 == 0:
                        bar.set_postfix(loss_D=f"{run.stats.loss_D:.3f}", loss_G=f"{run.stats.loss_G:.3f}",
                                        refresh=False)
                    _notify(callbacks, "step_end", run)
                    if interrupt.requested or run.stop:
                        where = _save(run, batch_in_epoch=done, rng_epoch_start=rng_epoch_start)
                        if run.stop:                    # a callback ended the run: resumable like Ctrl-C
                            break
                        raise KeyboardInterrupt(f"Training interrupted in epoch {run.epoch + 1}, step {run.step}. "
                                                + (f"Checkpoint: {where}; continue with fit(..., resume=True)."
                                                   if where else "No checkpoint (cfg.checkpoint_dir is None)."))
            if run.stop:
                break
            if done == 0:
                raise ValueError("The data produced no batches in this epoch: is it empty, or smaller "
                                 "than one batch with drop_last=True?")
            run.epoch += 1
            run.history.epoch_ends.append(run.step)
            run.history.epoch_seconds.append(time.perf_counter() - start)
            run.history.samples.append(sample_images(G, run.fixed_z))
            _save(run, batch_in_epoch=0, rng_epoch_start=None)
            measured = len(run.history.metrics)
            _notify(callbacks, "epoch_end", run)
            if len(run.history.metrics) != measured:            # a MetricsCallback measured this epoch:
                _save(run, batch_in_epoch=0, rng_epoch_start=None)  # keep its numbers in the checkpoint too
    _notify(callbacks, "fit_end", run)
    return run.history


def adam(params, *, lr: float, betas: tuple[float, float], device: torch.device) -> torch.optim.Adam:
    """Adam with its fused kernel (one pass over the weights instead of several) on CPU and CUDA."""
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=fused, foreach=None if fused else True)


@torch.no_grad()
def draw_samples(G: nn.Module, z: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
    """G(z) with G in eval mode, as uint8 images on the CPU; G's mode is restored afterwards.
    z may be on any device: it is moved to G's. A conditional G is called as G(z, labels)."""
    was_training, device = G.training, next(G.parameters()).device
    G.eval()
    try:
        x_fake = G(z.to(device)) if labels is None else G(z.to(device), labels.to(device))
    finally:
        G.train(was_training)
    return from_unit_range(x_fake).cpu()


def sample_images(G: nn.Module, z: torch.Tensor, *, batch_size: int = 500) -> torch.Tensor:
    """draw_samples over many z, `batch_size` at a time, as uint8 images on the CPU. A conditional G
    (num_classes > 0) draws the classes 0, 1, ..., 0, 1, ... in turn: each equally often, and in a
    grid with num_classes columns each column is one class."""
    classes = getattr(G, "num_classes", 0)
    labels = balanced_labels(len(z), classes).split(batch_size) if classes else [None] * len(z.split(batch_size))
    return torch.cat([draw_samples(G, chunk, labels=y) for chunk, y in zip(z.split(batch_size), labels)])


def _check_models(G: nn.Module, D: nn.Module, cfg: TrainConfig) -> bool:
    """ValueError for a pair that cannot train as configured; True when G and D are conditional."""
    classes_G, classes_D = getattr(G, "num_classes", 0), getattr(D, "num_classes", 0)
    if classes_G != classes_D:
        raise ValueError(f"G has num_classes={classes_G} but D has num_classes={classes_D}: a conditional GAN "
                         "needs both conditioned on the same classes (or neither).")
    if cfg.gp_weight and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules()):
        raise ValueError("The gradient penalty needs a per-image gradient, but D has BatchNorm, which mixes the "
                         "images of a batch. Build D without it, e.g. DCGANDiscriminator(norm='layer').")
    return bool(classes_G)


def _real_batches(batches: Iterator, d_steps: int, device: torch.device, conditional: bool) -> Iterator:
    """(x_real, labels) on `device` per step: one batch each (d_steps == 1) or lists of d_steps batches.
    labels is None unless the models are conditional."""
    group = []
    for batch in batches:
        has_labels = isinstance(batch, (tuple, list))             # DataLoader: (images, labels)
        x_real = batch[0] if has_labels else batch
        if conditional and not has_labels:
            raise ValueError("A conditional G and D need the class of every real image: give batches of "
                             "(images, labels), e.g. TensorBatches(images, labels=labels, batch_size=...).")
        labels = batch[1].to(device, non_blocking=True) if conditional else None
        group.append((x_real.to(device, non_blocking=True), labels))
        if len(group) == d_steps:
            xs, ys = zip(*group)
            yield (xs[0], ys[0]) if d_steps == 1 else (list(xs), None if ys[0] is None else list(ys))
            group = []


def _steps_per_epoch(data: Iterable, cfg: TrainConfig) -> int | None:
    n = len(data) // cfg.d_steps if hasattr(data, "__len__") else None
    return min(n, cfg.max_steps_per_epoch) if n is not None and cfg.max_steps_per_epoch else n


def _check_finite(run: RunState) -> None:
    stats: StepStats = run.stats
    bad = [name for name in ("loss_D", "loss_G") if not math.isfinite(getattr(stats, name))]
    if bad:
        saved = (f"The last good checkpoint is {run.checkpoint}; resume from it with a lower learning rate."
                 if run.checkpoint else "No checkpoint was saved (set TrainConfig.checkpoint_dir to keep one).")
        raise NonFiniteLossError(
            f"{' and '.join(bad)} became {stats.loss_D if 'loss_D' in bad else stats.loss_G} in epoch "
            f"{run.epoch + 1} at step {run.step + 1}, so training stopped; nothing was saved from this step. "
            f"{saved} Usual causes: a learning rate that is too high, data not scaled to [-1, 1], or a "
            "Sigmoid at the end of D (D must return logits)."
        )


def _save(run: RunState, *, batch_in_epoch: int, rng_epoch_start: dict | None) -> str | None:
    cfg = run.cfg
    if cfg.checkpoint_dir is None:
        return None
    state = {
        "models": {"G": model_spec(run.G), "D": model_spec(run.D)},
        "G": run.G.state_dict(), "D": run.D.state_dict(),
        "opt_G": run.opt_G.state_dict(), "opt_D": run.opt_D.state_dict(),
        "epoch": run.epoch, "step": run.step, "batch_in_epoch": batch_in_epoch,
        "rng": _get_rng(), "rng_epoch_start": rng_epoch_start,
        "config": asdict(cfg), "history": run.history.to_dict(), "torch_version": str(torch.__version__),
    }
    path = save_checkpoint(state, Path(cfg.checkpoint_dir) / checkpoint_name(run.epoch, run.step))
    prune_checkpoints(cfg.checkpoint_dir, keep=cfg.keep_checkpoints)
    run.checkpoint = str(path)
    return run.checkpoint


def _get_rng() -> dict:
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def _set_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def _notify(callbacks: Iterable[Callable], event: str, run: RunState) -> None:
    for callback in callbacks:
        callback(event, run)


class _DeferredInterrupt:
    """Note Ctrl-C during a step and let the loop stop after it, so the checkpoint it saves is
    consistent. A second Ctrl-C stops at once. Only possible in the main thread."""

    def __enter__(self):
        self.requested, self._previous = False, None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT) or signal.SIG_DFL
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
