"""The command line: `python -m gan_helpers train PRESET` and `python -m gan_helpers sample CHECKPOINT`."""
from __future__ import annotations

import argparse
import math
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from .callbacks import SaveSampleGrids
from .checkpoint import CheckpointError, load_checkpoint
from .data import IDXFormatError
from .device import pick_device
from .losses import LOSSES
from .models import balanced_labels, build_model
from .plotting import plot_history, save_gif, save_grid
from .presets import PRESETS
from .step import sample_z
from .train import NonFiniteLossError, draw_samples, fit

# Errors with a message that says what to do: printed without a traceback. (The data sets'
# not-found errors, a missing image folder: all FileNotFoundError.)
EXPECTED_ERRORS = (CheckpointError, FileNotFoundError, IDXFormatError, NonFiniteLossError, ValueError)


def train(args: argparse.Namespace) -> Path:
    """Train a preset and write samples/, losses.png, training.gif, samples.png and checkpoints/ to --out."""
    preset = PRESETS[args.preset]
    out = Path(args.out or f"runs/{args.preset}")
    overrides = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("seed", args.seed),
                                   ("max_steps_per_epoch", args.max_steps), ("loss", args.loss),
                                   ("gp_weight", args.gp_weight), ("label_smoothing", args.label_smoothing),
                                   ("lr_G", args.lr_G), ("lr_D", args.lr_D), ("d_steps", args.d_steps))
                 if v is not None}
    cfg = replace(preset.config, **overrides, checkpoint_dir=str(out / "checkpoints"), device=args.device)
    torch.manual_seed(cfg.seed)
    features = args.features or preset.features
    G, D = preset.build_models(features)
    device = pick_device(cfg.device)
    data = preset.build_data(cfg, device, args.limit, args.data)
    width = f", features={features}" if features else ""
    print(f"Training {args.preset} ({preset.description}{width}) on {device} for {cfg.epochs} epochs, "
          f"{len(data)} batches of {cfg.batch_size} per epoch. Output: {out}/")
    start = time.perf_counter()
    nrow = G.num_classes or 8                      # a conditional G's grids: one column per class
    history = fit(G, D, data, cfg, callbacks=[SaveSampleGrids(out / "samples", nrow=nrow)], resume=args.resume,
                  progress=not args.quiet)
    plot_history(history, path=out / "losses.png")
    save_gif(history.samples, out / "training.gif", nrow=nrow)
    save_grid(history.samples[-1], out / "samples.png", nrow=nrow)
    print(f"Done in {time.perf_counter() - start:.0f} s. Wrote {out}/samples.png, samples/, losses.png, "
          f"training.gif and checkpoints/. Draw new images with:\n"
          f"  python -m gan_helpers sample {out}/checkpoints --out {out}/new.png")
    return out


def sample(args: argparse.Namespace) -> Path:
    """Draw --n new images from a checkpoint's generator into one grid picture.
    A conditional generator draws class --label, or, without it, one column per class."""
    state = load_checkpoint(args.checkpoint)
    G = build_model(state["models"]["G"])
    G.load_state_dict(state["G"])
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    z = sample_z(args.n, G.latent_dim, generator=torch.Generator().manual_seed(seed))
    labels, nrow, what = None, math.ceil(math.sqrt(args.n)), ""
    if G.num_classes and args.label is None:
        labels, nrow, what = balanced_labels(args.n, G.num_classes), G.num_classes, ", one column per class"
    elif args.label is not None:
        if not G.num_classes:
            raise ValueError(f"--label needs a conditional generator; {state['path']} holds an unconditional "
                             f"{state['models']['G']['class']}. Train one with a conditional preset, e.g. mnist-cdcgan.")
        if not 0 <= args.label < G.num_classes:
            raise ValueError(f"--label must be between 0 and {G.num_classes - 1} for this generator, got {args.label}.")
        labels, what = torch.full((args.n,), args.label), f", class {args.label}"
    path = save_grid(draw_samples(G, z, labels=labels), args.out, nrow=nrow)
    print(f"Wrote {args.n} images from {state['path']} (epoch {state['epoch']}, seed {seed}{what}) to {path}.")
    return path


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gan_helpers", description="Train GANs and draw samples.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a preset on its data set")
    t.add_argument("preset", choices=sorted(PRESETS))
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--seed", type=int)
    t.add_argument("--out", help="output folder (default runs/PRESET)")
    t.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in OUT/checkpoints")
    t.add_argument("--data", help="data folder: MNIST/CIFAR-10 root, or the image folder (default: data/)")
    t.add_argument("--features", type=int, help="DCGAN width (default: the preset's; 32 trains ~4x faster)")
    t.add_argument("--limit", type=int, help="train on the first LIMIT images only (quick tries)")
    t.add_argument("--max-steps", type=int, help="at most this many steps per epoch (quick tries)")
    t.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    t.add_argument("--loss", choices=sorted(LOSSES), help="the game: bce (default), minimax, hinge or wasserstein")
    t.add_argument("--gp-weight", type=float, help="WGAN-GP gradient penalty weight (10 in the paper)")
    t.add_argument("--label-smoothing", type=float, help="one-sided: D's target for real images is 1 - S")
    t.add_argument("--lr-G", dest="lr_G", type=float, help="G's learning rate (TTUR: differ from --lr-D)")
    t.add_argument("--lr-D", dest="lr_D", type=float, help="D's learning rate")
    t.add_argument("--d-steps", type=int, help="D updates per G update")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    s = sub.add_parser("sample", help="draw new images from a trained checkpoint")
    s.add_argument("checkpoint", help="a checkpoint file, or a folder (its newest checkpoint)")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--seed", type=int, help="default: a random seed, printed so you can repeat it")
    s.add_argument("--label", type=int, help="the class to draw (conditional generators; default: every class)")
    s.add_argument("--out", default="samples.png")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        (train if args.command == "train" else sample)(args)
    except KeyboardInterrupt as stop:
        print(f"\nStopped. {stop}", file=sys.stderr)
        return 130
    except EXPECTED_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0
