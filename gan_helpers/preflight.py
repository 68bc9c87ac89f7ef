"""What `fit` checks before it trains, so that a mistake is said before it costs a run (or a learner's files).

    check_models(G, D, cfg)          G and D against the config: classes, BatchNorm with penalties or
                                     batches of one, a Sigmoid at the end of D (a warning)
    check_device_options(cfg, dev)   options this device cannot run
    check_start(data, cfg, resume)   the checkpoint folder (an earlier run, or another run than the one
                                     resumed), the batches' size
    check_batches(data, cfg)         enough batches for one generator step (after a resume's checks)
    check_images(x_real)             the first real batch: floats in [-1, 1], as G's Tanh draws
    callback_list(callbacks)         one callback or several, as objects rather than classes

Each raises an error that says what to do, in Python's words and (advice.py) the command line's.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn

from .advice import advise
from .checkpoint import CheckpointError, list_checkpoints
from .config import TrainConfig


def callback_list(callbacks) -> list[Callable]:
    """fit's callbacks as a list: one callback alone is a list of one; a class instead of an instance, or
    something that is not callable, is a TypeError that says what to write."""
    items = [callbacks] if callable(callbacks) and not isinstance(callbacks, type) else callbacks
    try:
        items = list(items)
    except TypeError:
        items = [items]
    for item in items:
        if isinstance(item, type):
            raise TypeError(f"callbacks holds the class {item.__name__}, not one of its objects: write "
                            f"callbacks=[{item.__name__}(...)].")
        if not callable(item):
            raise TypeError(f"callbacks holds {item!r}, which is not a function: every callback is called as "
                            "callback(event, run) (see gan_helpers.callbacks).")
    return items


def check_models(G: nn.Module, D: nn.Module, cfg: TrainConfig) -> bool:
    """ValueError for a pair that cannot train as configured; True when G and D are conditional."""
    classes_G, classes_D = getattr(G, "num_classes", 0), getattr(D, "num_classes", 0)
    if classes_G != classes_D:
        raise ValueError(f"G has num_classes={classes_G} but D has num_classes={classes_D}: a conditional GAN "
                         "needs both conditioned on the same classes (or neither).")
    if (cfg.gp_weight or cfg.r1_gamma) and _has_batchnorm(D):
        what = ("The gradient penalty needs a per-image gradient, but D has BatchNorm, which mixes the images of a "
                "batch.")
        raise advise(ValueError(f"{what} Build D without it, e.g. DCGANDiscriminator(norm='layer')."),
                     cli=f"{what} Train the mnist-wgan-gp preset (its critic has norm='layer'), or leave out "
                         "--gp-weight.")
    if cfg.batch_size < 2 and (_has_batchnorm(G) or _has_batchnorm(D)):
        raise ValueError(f"{'G' if _has_batchnorm(G) else 'D'} has BatchNorm, which normalises over the images of a "
                         "batch and so needs batches of 2 or more; the batch size is 1.")
    if isinstance(_last_layer(D), nn.Sigmoid):
        warnings.warn(f"D ends in a Sigmoid, but the {cfg.loss!r} loss takes D's raw scores (logits) and applies "
                      "the sigmoid itself: D's outputs are squashed twice and its gradients vanish. Remove D's last "
                      "nn.Sigmoid().", stacklevel=3)
    return bool(classes_G)


def _last_layer(model: nn.Module) -> nn.Module | None:
    """The last module without children, in the order they were defined (a Sequential's last layer)."""
    return next((m for m in reversed(list(model.modules())) if not list(m.children())), None)


def check_device_options(cfg: TrainConfig, device: torch.device) -> None:
    """ValueError for an option this device cannot run, before anything is changed."""
    if cfg.sync_batchnorm and device.type != "cuda":
        what = ("needs CUDA GPUs (PyTorch's SyncBatchNorm runs on GPUs only); on CPU processes each rank's "
                "BatchNorm normalises over its own images.")
        raise advise(ValueError(f"sync_batchnorm=True {what}"), cli=f"--sync-batchnorm {what}")


def _has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def check_start(data: Iterable, cfg: TrainConfig, resume: bool | str | Path) -> None:
    """Refuse to train over an earlier run (resumed from elsewhere or not), or on batches of another size than
    cfg.batch_size."""
    if resume is True and not cfg.checkpoint_dir:
        raise ValueError("fit(..., resume=True) continues from the newest checkpoint in cfg.checkpoint_dir, which is "
                         "None: set TrainConfig(checkpoint_dir=...), or give the checkpoint: resume='path/to/file.pt'.")
    held = cfg.checkpoint_dir and list_checkpoints(cfg.checkpoint_dir)
    if held and not resume:
        what = f"{cfg.checkpoint_dir} already holds checkpoints of an earlier run, and nothing is overwritten."
        raise advise(CheckpointError(f"{what} Continue it with fit(..., resume=True), or choose another "
                                     "checkpoint_dir to start a new run."),
                     cli=f"{what} Continue it with --resume, or choose another --out to start a new run.")
    if held and resume is not True and _checkpoint_folder(resume) != Path(cfg.checkpoint_dir).resolve():
        what = (f"{cfg.checkpoint_dir} already holds the checkpoints of another run than {resume}: resuming into it "
                "would mix the two runs and delete some of their checkpoints.")
        raise advise(CheckpointError(f"{what} Give the resumed run a checkpoint_dir of its own, or resume from a "
                                     f"checkpoint in {cfg.checkpoint_dir}."),
                     cli=f"{what} Give the resumed run an --out of its own (an empty or new folder); to go on with "
                         "the run in that folder, use --resume.")
    size = getattr(data, "batch_size", None)   # TensorBatches and DataLoader say it; other iterables: first batch
    if size is not None and size != cfg.batch_size:
        raise ValueError(batch_size_message(size, cfg.batch_size))


def check_batches(data: Iterable, cfg: TrainConfig) -> None:
    """Data that says its length must give at least the d_steps batches of one generator step."""
    if hasattr(data, "__len__") and len(data) < cfg.d_steps:
        raise too_few_batches(len(data), cfg)


def _checkpoint_folder(source: str | Path) -> Path:
    """The folder of the checkpoints that load_checkpoint(source) reads."""
    source = Path(source)
    if source.is_dir():
        return (source if list_checkpoints(source) or not (source / "checkpoints").is_dir()
                else source / "checkpoints").resolve()
    return source.parent.resolve()


def too_few_batches(batches: int, cfg: TrainConfig) -> ValueError:
    if batches == 0:
        what = f"The data gives no batches of {cfg.batch_size} images: it is empty, or holds fewer images than one"
        return advise(ValueError(f"{what} (with drop_last=True). Give more images or a smaller batch_size."),
                      cli=f"{what}. Give more images (a larger --limit) or a smaller --batch-size.")
    what = f"takes {cfg.d_steps} batches for every generator step, but the data gives only {batches} per epoch"
    return advise(ValueError(f"d_steps={cfg.d_steps} {what}: lower d_steps or give more images."),
                  cli=f"--d-steps {cfg.d_steps} {what}: lower --d-steps or give more images (--limit).")


def batch_size_message(data_size: int, cfg_size: int) -> str:
    return (f"The data gives batches of {data_size} images but cfg.batch_size is {cfg_size}: the checkpoint would "
            f"record the wrong one. Build the batches with cfg.batch_size (TensorBatches(images, batch_size="
            f"cfg.batch_size)), or set TrainConfig(batch_size={data_size}).")


def check_images(x_real: torch.Tensor) -> None:
    """The commonest beginner's mistake with data, said before it costs a run: images not scaled to [-1, 1]
    (the range of G's Tanh), as whole numbers (a TypeError in D) or as floats in [0, 255] (a warning)."""
    scale = ("scale them to [-1, 1] with to_unit_range(images) (TensorBatches does it), or in a DataLoader with "
             "transforms.Normalize((0.5,), (0.5,)) after ToTensor()")
    if not x_real.is_floating_point():
        raise TypeError(f"The data gives images of dtype {x_real.dtype}, but G draws floats in [-1, 1] (a Tanh) and "
                        f"D compares both: {scale}.")
    low, high = x_real.min().item(), x_real.max().item()
    if high > 1.5 or low < -1.5:
        warnings.warn(f"The first batch of real images lies in [{low:g}, {high:g}], but G draws in [-1, 1] (a Tanh): "
                      f"D tells them apart by their range alone. To train, {scale}.", stacklevel=2)
