"""`fit`: the training loop every chapter uses, with progress, samples and checkpoints.

Read it as Algorithm 1 of Goodfellow et al. (2014) with the plumbing named: for every epoch,
for every batch of real images, `gan_step` (step.py) updates D, then G; around that, fit keeps
the record (History), draws the fixed-noise samples at each epoch's end, lets callbacks watch,
and saves a checkpoint (checkpoint.py) so that a stopped run can go on exactly where it was.
The step is the game's (games/, TrainConfig.game): gan_step for G(z) against D, or a translation
game's (pix2pix, CycleGAN), whose batches are pairs of images and whose grid shows G's outputs
for fixed input images. Everything around the step is the same for every game.
"""
from __future__ import annotations

import contextlib
import itertools
import math
import re
import shlex
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm.auto import tqdm

from .advice import advise
from .callbacks import RunState
from .checkpoint import (
    Position,
    restore_training_state,
    rng_state,
    save_training_state,
    set_rng_state,
    state_problems,
)
from .config import TrainConfig
from .device import pick_device
from .distributed import Ranks, Shard
from .ema import ema_copy, ema_decay_at, update_ema
from .games import make_game
from .history import History
from .precision import Precision
from .preflight import (
    batch_size_message,
    callback_list,
    check_batches,
    check_device_options,
    check_images,
    check_models,
    check_start,
    too_few_batches,
)
from .runlock import RunLock
from .sampling import sample_images
from .step import StepStats

# How gloo and NCCL say that the other end of an exchange went away (a rank died)
_TRANSPORT = re.compile(r"Connection closed by peer|Connection reset by peer|Broken pipe|NCCL communicator|"
                        r"Timed out|timeout", re.IGNORECASE)


class NonFiniteLossError(FloatingPointError):
    """A loss, the weights or the optimizers' state became NaN or infinite (or the weights exploded);
    training was stopped before anything bad was saved."""


def fit(G: nn.Module, D: nn.Module, data: Iterable, cfg: TrainConfig, *,
        opt_G: torch.optim.Optimizer | None = None, opt_D: torch.optim.Optimizer | None = None,
        callbacks: Iterable[Callable] = (), resume: bool | str | Path = False,
        progress: bool = True) -> History:
    """Train G and D for `cfg.epochs` epochs over `data` and return the History.

    data:     any iterable of batches of `cfg.batch_size` images, re-iterated every epoch: a
              `TensorBatches`, or a `DataLoader` yielding images or (images, labels), images
              scaled to [-1, 1]. A conditional G and D (num_classes > 0) need the labels. The
              translation games (cfg.game) take `PairedBatches` or `UnpairedBatches`.
    opt_G/D:  default Adam(lr_G / lr_D, betas=(beta1, beta2)) from cfg.
    callbacks: functions called as callback(event, run) (callbacks.py), or one such function.
    resume:   True continues from the newest checkpoint in cfg.checkpoint_dir, a path from
              that file; the models and cfg must match the checkpoint (cfg.epochs, the learning
              rates and max_steps_per_epoch may change: config.RESUMABLE_CHANGES). A path into a
              cfg.checkpoint_dir that holds another run's checkpoints is refused (the runs would mix).

    With cfg.checkpoint_dir set, a checkpoint is written at the end of every epoch, after the
    callbacks (so what they measured is in it), and when you interrupt (Ctrl-C, Jupyter's stop
    button or SIGTERM: the step in progress finishes first, then fit raises KeyboardInterrupt,
    whose `signum` says which signal)
    or a callback sets run.stop. A process killed after an epoch's callbacks but before its save
    resumes from the checkpoint before: it trains the same steps again to the same weights and
    calls the callbacks again. While it trains, fit holds the folder's lock (runlock.py): a second
    run into the same folder is refused. Before every save the weights and the optimizers' state
    are checked: numbers that are not finite, or exploded weights, stop the run with a
    NonFiniteLossError instead, so every checkpoint saved is one that training can go on from.
    A callback that raises ends fit too, but after the training done so far is saved (as Ctrl-C
    would); a GPU that runs out of memory ends it with a GPUMemoryError saying what to lower, the
    last checkpoint kept. What can be checked before training is (preflight.py).
    """
    conditional = check_models(G, D, cfg)
    game = make_game(cfg)                             # what a step does: games/ (G(z) against D, or translation)
    game.check(G, D)
    callbacks = callback_list(callbacks)
    device = pick_device(cfg.device)
    check_device_options(cfg, device)
    precision = Precision(cfg.precision, device)      # float16 on mps: ValueError naming the alternatives
    with Ranks(device, batch_size=cfg.batch_size) as ranks, \
            RunLock(cfg.checkpoint_dir if ranks.main else None) as lock:
        check_start(data, cfg, resume)            # (rank 0 alone holds the folder's lock and writes there)
        if game.pairs and ranks.world_size > 1:
            raise ValueError(f"The {cfg.game} game trains in one process: torchrun is for the noise game.")
        G.to(device), D.to(device)
        _fast_paths(G, D, cfg, device)
        betas = (cfg.beta1, cfg.beta2)
        run = RunState(G=G, D=D, cfg=cfg, history=History(), device=device,
                       opt_G=opt_G or adam(G.parameters(), lr=cfg.lr_G, betas=betas, device=device),
                       opt_D=opt_D or adam(D.parameters(), lr=cfg.lr_D, betas=betas, device=device),
                       fixed_z=game.fixed_input(G, data, cfg.n_samples, device), game=game,
                       G_ema=ema_copy(G) if cfg.ema_decay else None, precision=precision,
                       rank=ranks.rank, world_size=ranks.world_size)
        if resume:
            position = restore_training_state(run, cfg.checkpoint_dir if resume is True else resume)
        else:
            torch.manual_seed(cfg.seed)
            position = Position()
        check_batches(data, cfg)
        G_train, D_train = _for_training(G, cfg, ranks), _for_training(D, cfg, ranks)
        callbacks = callbacks if ranks.main else []       # rank 0 alone watches, draws and writes
        _notify(callbacks, "fit_start", run)

        with _DeferredInterrupt() as interrupt, _ended_by_another_rank(ranks), _out_of_memory(run):
            first = True                                  # the first batch of this call is checked (check_images)
            while run.epoch < cfg.epochs and not run.stop:
                epoch = _Epoch(data, run, position, conditional, ranks.shard, check=first, pairs=game.pairs)
                first = False
                with _progress_bar(run, epoch, enabled=progress and ranks.main) as bar:
                    for x_real, labels in epoch.batches:      # Algorithm 1: k D updates, then one G update
                        stats = game.step(G_train, D_train, run.opt_G, run.opt_D, x_real, labels=labels,
                                          r1_weight=_r1_weight(run), precision=run.precision, shard=ranks.shard)
                        run.stats = StepStats(*ranks.mean(list(stats)))   # over all ranks: the global batch's
                        if run.G_ema is not None:             # then average G's new weights into G_ema
                            update_ema(run.G_ema, G, decay=ema_decay_at(run.step, cfg.ema_decay, warmup=cfg.ema_warmup))
                        _record_step(run, epoch, x_real, bar)
                        with _saved_if_failing(run, lock, batch_in_epoch=epoch.done, rng_epoch_start=epoch.rng_start):
                            _notify(callbacks, "step_end", run)
                        if ranks.any(bool(interrupt.signum) or run.stop):   # every rank stops at the same step
                            run.stop = run.stop or not interrupt.signum
                            _stop_in_epoch(run, epoch, lock, signum=interrupt.signum)
                            break
                if not run.stop:
                    _end_epoch(run, epoch, callbacks, lock)
                position = Position()
        _notify(callbacks, "fit_end", run)
    return run.history


def adam(params, *, lr: float, betas: tuple[float, float], device: torch.device) -> torch.optim.Adam:
    """Adam with its fused kernel (one pass over the weights instead of several) on CPU and CUDA."""
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=fused, foreach=None if fused else True)


def _fast_paths(G: nn.Module, D: nn.Module, cfg: TrainConfig, device: torch.device) -> None:
    """The options that change how fast, not what, G and D compute: channels-last weights, and on CUDA
    cuDNN's benchmark mode (it times the convolution algorithms once per shape and keeps the fastest)."""
    if cfg.channels_last:
        G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True


def _for_training(model: nn.Module, cfg: TrainConfig, ranks: Ranks) -> nn.Module:
    """The model as the step calls it: with SyncBatchNorm, compiled, in DDP, as cfg and the launch ask.
    Its weights are the model's own, so checkpoints and samples use `model` itself."""
    if cfg.sync_batchnorm and ranks.world_size > 1:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)   # replaces the BatchNorm layers in place
    if cfg.compile:
        model = torch.compile(model)
    return ranks.wrap(model)


@contextlib.contextmanager
def _ended_by_another_rank(ranks: Ranks):
    """Under torchrun, a failed exchange with the other processes (one died) ends this one with a
    DistributedError that says so, instead of the transport's own message."""
    try:
        yield
    except dist.DistError as err:
        raise ranks.failure(err) from err
    except RuntimeError as err:                      # gloo's transport errors are plain RuntimeErrors
        if ranks.world_size > 1 and _TRANSPORT.search(str(err)):
            raise ranks.failure(err) from err
        raise


class GPUMemoryError(torch.cuda.OutOfMemoryError):
    """The GPU ran out of memory while training: the step was abandoned, the last checkpoint is kept."""


@contextlib.contextmanager
def _out_of_memory(run: RunState):
    """torch's CUDA out-of-memory error becomes one that says what to lower and where to go on from."""
    try:
        yield
    except torch.cuda.OutOfMemoryError as err:
        if isinstance(err, GPUMemoryError):
            raise
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise _memory_error(run) from err


def _memory_error(run: RunState) -> GPUMemoryError:
    cfg, good = run.cfg, run.checkpoint
    what = (f"The GPU ran out of memory in epoch {run.epoch + 1} at step {run.step + 1} (batch size {cfg.batch_size}, "
            f"{cfg.precision}); that step was not saved.")
    lower = "Lower what a step needs: a smaller {batch}, a narrower model ({features}), or {precision}"
    half = "bfloat16 (or float16 on GPUs older than Ampere)"
    python = " " + lower.format(batch="batch_size", features="features=", precision=f"precision={half}") + "."
    cli = " " + lower.format(batch="--batch-size", features="--features", precision=f"--precision {half}") + "."
    if good:
        python += (f" The last checkpoint {good} is kept: fit(..., resume='{good}') goes on from it with another "
                   "precision (batch size and model must stay as they were).")
        cli += (f" The last checkpoint {good} is kept: go on from it with --resume-from {shlex.quote(good)} "
                "--precision bfloat16, or start again with a smaller --batch-size or --features and another --out.")
    else:
        python += " No checkpoint was saved before it."
        cli += " No checkpoint was saved before it: start again with a smaller setting."
    return advise(GPUMemoryError(what + python), cli=what + cli)


@contextlib.contextmanager
def _saved_if_failing(run: RunState, lock: RunLock, **position):
    """A callback that raises ends fit, but not before the training done so far is saved (as Ctrl-C would)."""
    try:
        yield
    except Exception as err:
        if where := _save(run, lock, **position):
            err.add_note(f"fit saved the training up to here first: {where}. Fix the callback, then go on with "
                         "fit(..., resume=True).")
        raise


def _r1_weight(run: RunState) -> float:
    """The R1 term's weight in this step's D loss: gamma / 2, times r1_every on every r1_every-th step
    (lazy regularisation: the same penalty on average, a fraction of the cost), else 0."""
    cfg = run.cfg
    return cfg.r1_gamma / 2 * cfg.r1_every if cfg.r1_gamma and run.step % cfg.r1_every == 0 else 0.0


# ---- one epoch --------------------------------------------------------------------------------------------------

class _Epoch:
    """One epoch's real batches on the device, as (x_real, labels) per step, from where a resumed run
    stopped; `done` counts the steps taken in it. Resuming mid-epoch replays the epoch's shuffle from
    the random numbers saved at its start and skips the batches already done."""

    def __init__(self, data: Iterable, run: RunState, position: Position, conditional: bool, shard: Shard, *,
                 check: bool = False, pairs: bool = False):
        self.done, self.start = position.batch_in_epoch, time.perf_counter()
        self.total = _steps_per_epoch(data, run.cfg)
        cfg = run.cfg
        if not self.done:
            self.rng_start = rng_state()
            batches = _real_batches(iter(data), cfg, run.device, conditional, shard, check=check, pairs=pairs)
        else:                                            # replay the epoch's shuffle, skip what was done
            now, self.rng_start = rng_state(), position.rng_epoch_start
            set_rng_state(self.rng_start)
            batches = _real_batches(iter(data), cfg, run.device, conditional, shard, check=check, pairs=pairs)
            for skipped in range(self.done):
                if next(batches, None) is None:
                    raise ValueError(f"The checkpoint stopped after {self.done} steps of epoch {run.epoch + 1}, but "
                                     f"the data now gives only {skipped}: resume with the data of that run (same "
                                     "--limit).")
            set_rng_state(now)
        left = None if cfg.max_steps_per_epoch is None else max(cfg.max_steps_per_epoch - self.done, 0)
        self.batches: Iterator = itertools.islice(batches, left)

    def position(self) -> Position:
        return Position(self.done, self.rng_start)


def _real_batches(batches: Iterator, cfg: TrainConfig, device: torch.device, conditional: bool,
                  shard: Shard, *, check: bool = False, pairs: bool = False) -> Iterator:
    """(x_real, labels) on `device` per step: one batch each (d_steps == 1) or lists of d_steps batches;
    under torchrun, this rank's part of each (shard). labels is None unless the models are conditional.
    check: look at the first batch's images (check_images). pairs: every batch is two batches of images,
    (x_a, x_b), and x_real is that pair (a translation game)."""
    if pairs:
        yield from _image_pairs(batches, cfg, device, check=check)
        return
    memory_format = torch.channels_last if cfg.channels_last else torch.preserve_format
    group, first = [], True
    for batch in batches:
        has_labels = isinstance(batch, (tuple, list))             # DataLoader: (images, labels)
        x_real = batch[0] if has_labels else batch
        if conditional and not has_labels:
            raise ValueError("A conditional G and D need the class of every real image: give batches of "
                             "(images, labels), e.g. TensorBatches(images, labels=labels, batch_size=...).")
        if first and len(x_real) != cfg.batch_size:
            raise ValueError(batch_size_message(len(x_real), cfg.batch_size))
        if first and check:
            check_images(x_real)
        first = False
        labels = shard.take(batch[1]).to(device, non_blocking=True) if conditional else None
        group.append((shard.take(x_real).to(device, non_blocking=True, memory_format=memory_format), labels))
        if len(group) == cfg.d_steps:
            xs, ys = zip(*group, strict=True)
            yield (xs[0], ys[0]) if cfg.d_steps == 1 else (list(xs), None if ys[0] is None else list(ys))
            group = []


def _image_pairs(batches: Iterator, cfg: TrainConfig, device: torch.device, *, check: bool = False) -> Iterator:
    """((x_a, x_b), None) on `device` per step, from batches of two images per example (PairedBatches,
    UnpairedBatches). check: look at the first pair's images (check_images)."""
    memory_format = torch.channels_last if cfg.channels_last else torch.preserve_format
    for i, batch in enumerate(batches):
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise ValueError(f"The {cfg.game} game trains on pairs of image batches, (x_a, x_b), but the data gives "
                             f"{type(batch).__name__}s: use PairedBatches (pix2pix) or UnpairedBatches (cyclegan).")
        if i == 0:
            if len(batch[0]) != cfg.batch_size:
                raise ValueError(batch_size_message(len(batch[0]), cfg.batch_size))
            if check:
                check_images(batch[0]), check_images(batch[1])
        yield tuple(x.to(device, non_blocking=True, memory_format=memory_format) for x in batch), None


def _steps_per_epoch(data: Iterable, cfg: TrainConfig) -> int | None:
    n = len(data) // cfg.d_steps if hasattr(data, "__len__") else None
    return min(n, cfg.max_steps_per_epoch) if n is not None and cfg.max_steps_per_epoch else n


def _progress_bar(run: RunState, epoch: _Epoch, *, enabled: bool) -> tqdm:
    return tqdm(total=epoch.total, initial=epoch.done, disable=not enabled,
                desc=f"epoch {run.epoch + 1}/{run.cfg.epochs}", unit="step")


def _record_step(run: RunState, epoch: _Epoch, x_real, bar: tqdm) -> None:
    """Stop on a NaN loss; else count the step and keep its numbers."""
    _check_finite(run)
    run.history.record_step(run.stats)
    run.step, epoch.done = run.step + 1, epoch.done + 1
    run.x_real = x_real if isinstance(x_real, torch.Tensor) else x_real[-1]
    bar.update()
    if run.step % 20 == 0:
        bar.set_postfix(loss_D=f"{run.stats.loss_D:.3f}", loss_G=f"{run.stats.loss_G:.3f}", refresh=False)


def _check_finite(run: RunState) -> None:
    stats = run.stats
    bad = [name for name in ("loss_D", "loss_G") if not math.isfinite(getattr(stats, name))]
    if bad:
        raise _diverged(run, f"{' and '.join(bad)} became {stats.loss_D if 'loss_D' in bad else stats.loss_G} in "
                             f"epoch {run.epoch + 1} at step {run.step + 1}, so training stopped; nothing was saved "
                             "from this step.")


def _diverged(run: RunState, what: str) -> NonFiniteLossError:
    """The stop of a run whose numbers went bad: what happened, and the last good checkpoint to go on from."""
    cfg, good = run.cfg, run.checkpoint
    causes = (" Usual causes: a learning rate that is too high, data not scaled to [-1, 1], or a Sigmoid at the end "
              "of D (D must return logits).")
    rates = f"(now lr_G {cfg.lr_G:g}, lr_D {cfg.lr_D:g})"
    if good:
        python = (f" The last good checkpoint is {good}: resume from it with lower learning rates {rates}, "
                  f"fit(..., resume='{good}') with a smaller cfg.lr_G or cfg.lr_D.")
        cli = (f" The last good checkpoint is {good}: resume from it with lower learning rates {rates}: "
               f"--resume-from {shlex.quote(good)} --lr-G LR --lr-D LR.")
    elif cfg.checkpoint_dir:
        python = f" No checkpoint was saved before it: start again with lower learning rates {rates}."
        cli = f" No checkpoint was saved before it: start again with a lower --lr-G or --lr-D {rates}."
    else:
        python = cli = " No checkpoint was kept (cfg.checkpoint_dir is None)."
    for name, flag, value in (("r1_gamma", "--r1-gamma", cfg.r1_gamma), ("gp_weight", "--gp-weight", cfg.gp_weight)):
        if value:                                    # a penalty's weight: a suspect too, which cannot change on resume
            python += f" The penalty weight {name}={value:g} is a suspect too: try a smaller one in a new run."
            cli += f" The penalty weight {flag} {value:g} is a suspect too: try a smaller one (with another --out)."
    if cfg.precision != "float32":                   # mixed precision: its own suspect, named
        largest = "65504, beyond which values overflow to inf" if cfg.precision == "float16" else "3.4e38"
        said = f" The run computes under autocast in {cfg.precision} (largest number {largest}): to see whether"
        others = ("bfloat16", "float32") if cfg.precision == "float16" else ("float32",)
        python += f"{said} the precision is the cause, try precision={' or '.join(map(repr, others))}."
        cli += f"{said} the precision is the cause, try --precision {' or '.join(others)}."
    return advise(NonFiniteLossError(what + python + causes), cli=what + cli + causes)


def _save(run: RunState, lock: RunLock, **position) -> str | None:
    """save_training_state, unless the weights or the optimizers' state went bad: then stop with
    NonFiniteLossError, so that run.checkpoint always names a checkpoint that training can go on from.
    The folder's lock is checked first (RunLock.keep): a deleted folder is locked again, not written unlocked."""
    if problems := state_problems(run):           # every rank checks (their weights are the same), rank 0 writes
        raise _diverged(run, f"After step {run.step}, {' and '.join(problems)}: training diverged, so this state "
                             "was not saved.")
    if run.rank != 0:
        return None
    lock.keep()
    return save_training_state(run, **position)


def _stop_in_epoch(run: RunState, epoch: _Epoch, lock: RunLock, *, signum: int | None) -> None:
    """Save where the run stands inside the epoch; a signal (Ctrl-C, SIGTERM) then ends fit with
    KeyboardInterrupt, a callback's run.stop lets fit return normally."""
    where = _save(run, lock, batch_in_epoch=epoch.done, rng_epoch_start=epoch.rng_start)
    if signum:
        run.stop = True
        what = f"Training interrupted ({signal.Signals(signum).name}) in epoch {run.epoch + 1}, step {run.step}."
        if run.rank != 0:                            # under torchrun: rank 0 writes, and torchrun stops the others
            raise advise(_interrupted(f"{what} This is rank {run.rank} of {run.world_size}, which writes no "
                                      "checkpoints: rank 0 does (see its lines). If a rank failed, its error is "
                                      "above; continue with fit(..., resume=True).", signum),
                         cli=f"{what} This is rank {run.rank} of {run.world_size}: rank 0 writes the checkpoints "
                             "(see its lines), and torchrun stops every rank when one fails (its error: above). "
                             "Continue with the same command and --resume.")
        if not where:
            raise _interrupted(f"{what} No checkpoint (cfg.checkpoint_dir is None).", signum)
        raise advise(_interrupted(f"{what} Checkpoint: {where}; continue with fit(..., resume=True).", signum),
                     cli=f"{what} Checkpoint: {where}; continue with the same command and --resume.")


def _interrupted(message: str, signum: int) -> KeyboardInterrupt:
    """The KeyboardInterrupt that ends fit after a signal; its `signum` says which (the CLI exits with 128 + it)."""
    stop = KeyboardInterrupt(message)
    stop.signum = signum
    return stop


def _end_epoch(run: RunState, epoch: _Epoch, callbacks: Iterable[Callable], lock: RunLock) -> None:
    """Count the epoch, draw the fixed-noise samples, call the callbacks, then save one checkpoint (also when
    a callback fails: then fit raises its error after the save)."""
    if epoch.done == 0:
        raise too_few_batches(0, run.cfg) if run.cfg.d_steps == 1 else ValueError(
            f"The data produced no batches in this epoch: is it empty, or smaller than the {run.cfg.d_steps} batches "
            "one generator step takes (d_steps)?")
    run.epoch += 1
    run.history.epoch_ends.append(run.step)
    run.history.epoch_seconds.append(time.perf_counter() - epoch.start)
    run.history.samples.append(sample_images(run.G_sample, run.fixed_z))  # G_ema if kept; every class in turn
    if run.rank == 0:
        lock.keep()                                  # callbacks write into the folder too (best.pt)
    with _saved_if_failing(run, lock):
        _notify(callbacks, "epoch_end", run)
    _save(run, lock)


def _notify(callbacks: Iterable[Callable], event: str, run: RunState) -> None:
    for callback in callbacks:
        callback(event, run)


class _DeferredInterrupt:
    """Note Ctrl-C (SIGINT) or SIGTERM (what Colab and job schedulers send) during a step in `signum`,
    and let the loop stop after it, so the checkpoint it saves is consistent. A second signal stops
    at once, even in the middle of that save (the checkpoints before it stay intact). Only possible
    in the main thread."""
    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self):
        self.signum, self._previous = None, {}
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.getsignal(signum) or signal.SIG_DFL
                signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.signum:
            raise _interrupted(f"{signal.Signals(signum).name} again: stopped at once. The checkpoints saved "
                               "before are intact.", signum)
        self.signum = signum

    def __exit__(self, *exc_info):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
