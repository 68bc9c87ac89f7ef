"""The command line: `python -m gan_helpers train PRESET`, `python -m gan_helpers sample CHECKPOINT`,
`python -m gan_helpers translate CHECKPOINT IMAGE... --out FOLDER` (pix2pix, CycleGAN: translate.py) and
`python -m gan_helpers check NOTEBOOK` (a learner's exercises, checked from outside: exercises/grading.py).

Several processes train one run with `torchrun --standalone --nproc-per-node N -m gan_helpers train PRESET`
(distributed.py): --batch-size is then the global batch, and rank 0 alone prints and writes.

A failure ends the command with one line, `error: ...` on stderr, in the words of the command line
(flags, not Python), and exit code 1; argparse's own usage errors exit with 2. Ctrl-C while training
saves a checkpoint and exits with 130, SIGTERM (what Colab and job schedulers send) with 143.
"""
from __future__ import annotations

import argparse
import math
import random
import shlex
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from . import __version__
from .advice import cli_wording

# torch and the package's training modules are imported by the commands that use them, not here:
# `--help`, `--version` and `sample --help` answer at once, without loading torch (seconds).


class Choices(Sequence):
    """The choices of an argument, read from the package only when argparse needs them: to check a `train`
    command's value, or to print `train --help` (they name presets, losses, precisions: modules with torch)."""

    def __init__(self, load: Callable[[], Sequence[str]]):
        self._load, self._names = load, None

    def _all(self) -> tuple[str, ...]:
        if self._names is None:
            self._names = tuple(self._load())
        return self._names

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())


def _presets() -> list[str]:
    from .presets import PRESETS

    return sorted(PRESETS)


def _losses() -> list[str]:
    from .losses import LOSSES

    return sorted(LOSSES)


def _precisions() -> tuple[str, ...]:
    from .precision import PRECISIONS

    return PRECISIONS


def expected_errors() -> tuple[type[Exception], ...]:
    """Errors with a message that says what to do: printed without a traceback. (The data sets'
    not-found errors, a missing image folder, an unwritable --out, a full disk: all OSError.)"""
    from .checkpoint import CheckpointError
    from .data import IDXFormatError
    from .distributed import DistributedError
    from .train import GPUMemoryError, NonFiniteLossError

    return (CheckpointError, DistributedError, GPUMemoryError, IDXFormatError, MemoryError, NonFiniteLossError,
            OSError, ValueError)


def train(args: argparse.Namespace) -> Path:
    """Train a preset and write samples/, losses.png, training.gif, samples.png and checkpoints/ to --out."""
    import torch

    from .callbacks import SaveSampleGrids
    from .data.files import writable_folder
    from .device import pick_device
    from .distributed import launched_rank, launched_world_size
    from .memory import check_fits, model_bytes
    from .plotting import plot_history, save_gif, save_grid
    from .presets import PRESETS
    from .train import fit

    preset = PRESETS[args.preset]
    out = Path(args.out or f"runs/{args.preset}")
    overrides = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("seed", args.seed),
                                   ("max_steps_per_epoch", args.max_steps), ("loss", args.loss),
                                   ("gp_weight", args.gp_weight), ("label_smoothing", args.label_smoothing),
                                   ("lr_G", args.lr_G), ("lr_D", args.lr_D), ("d_steps", args.d_steps),
                                   ("ema_decay", args.ema_decay), ("diff_augment", args.diff_augment),
                                   ("r1_gamma", args.r1_gamma), ("r1_every", args.r1_every),
                                   ("precision", args.precision), ("channels_last", args.channels_last or None),
                                   ("compile", args.compile or None), ("sync_batchnorm", args.sync_batchnorm or None))
                 if v is not None}
    if args.ema_decay == 0:                        # --ema-decay 0: no G_ema (a run of a preset that keeps one)
        overrides["ema_decay"] = None
    cfg = replace(preset.config, **overrides, checkpoint_dir=str(out / "checkpoints"), device=args.device)
    features = args.features or preset.features
    check_fits(5 * model_bytes(lambda: preset.models(features)),       # weights, gradients, Adam's two moments, G_ema
               what=f"Training {args.preset} with --features {features}",
               fix=f"Use a smaller --features (the preset's is {preset.features}; each halving needs 1/4 of it).")
    torch.manual_seed(cfg.seed)
    G, D = preset.models(features)
    device = pick_device(cfg.device)
    writable_folder(out)                           # a read-only or mistyped --out: said now, not after an epoch
    main, ranks = launched_rank() == 0, launched_world_size()   # under torchrun: rank 0 alone speaks and writes
    data = preset.data(cfg.batch_size, device, limit=args.limit, root=args.data, progress=not args.quiet and main)
    width = f", features={features}" if features else ""
    where = (f"{ranks} processes ({device.type}), {len(data)} batches of {cfg.batch_size} per epoch, "
             f"{cfg.batch_size // ranks} images per process" if ranks > 1
             else f"{device}, {len(data)} batches of {cfg.batch_size} per epoch")
    if main:
        print(f"Training {args.preset} ({preset.description}{width}) for {cfg.epochs} epochs on {where}. "
              f"Output: {out}/")
    start = time.perf_counter()
    nrow = getattr(G, "num_classes", 0) or 8                     # a conditional G's grids: one column per class
    history = fit(G, D, data, cfg, callbacks=[SaveSampleGrids(out / "samples", nrow=nrow)],
                  resume=args.resume_from or args.resume, progress=not args.quiet)
    if not main:
        return out
    plot_history(history, path=out / "losses.png")
    save_gif(history.samples, out / "training.gif", nrow=nrow)
    save_grid(history.samples[-1], out / "samples.png", nrow=nrow)
    print(f"Done in {time.perf_counter() - start:.0f} s. Wrote {out}/samples.png, samples/, losses.png, "
          f"training.gif and checkpoints/. {_next_command(cfg, out)}")
    return out


def _next_command(cfg, out: Path) -> str:
    """What to run after training: draw new images, or translate some (a translation game)."""
    checkpoints = shlex.quote(str(out / "checkpoints"))
    if cfg.game == "noise":
        return f"Draw new images with:\n  python -m gan_helpers sample {checkpoints} --out " \
               f"{shlex.quote(str(out / 'new.png'))}"
    return f"Translate images with:\n  python -m gan_helpers translate {checkpoints} IMAGE... --out " \
           f"{shlex.quote(str(out / 'translated'))}"


def sample(args: argparse.Namespace) -> Path:
    """Draw --n new images from a checkpoint's generator into one grid picture.
    A conditional generator draws class --label, or, without it, one column per class."""
    import torch

    from .checkpoint import load_generator
    from .data.files import writable_folder
    from .memory import check_fits
    from .plotting import save_grid
    from .sampling import grid_bytes, sample_images, sample_z

    _check_image_name(args.out)
    writable_folder(Path(args.out).parent)
    G = load_generator(args.checkpoint)
    if not hasattr(G, "latent_dim"):               # a pix2pix or CycleGAN translator: it needs images, not noise
        raise ValueError(f"{G.checkpoint['path']} holds a {type(G).__name__}, which translates images rather than "
                         "drawing them from noise: use `python -m gan_helpers translate "
                         f"{shlex.quote(args.checkpoint)} IMAGE... --out FOLDER`.")
    check_fits(grid_bytes(G, args.n), what=f"A grid of --n {args.n} images",
               fix="Draw fewer (--n 64), or several grids with different --seed.")
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    z = sample_z(args.n, G.latent_dim, seed=seed)
    labels, nrow, what = args.label, math.ceil(math.sqrt(args.n)), f", class {args.label}"
    if args.label is None:
        nrow, what = (G.num_classes, ", one column per class") if G.num_classes else (nrow, "")
    elif not G.num_classes:
        raise ValueError(f"--label needs a conditional generator; {G.checkpoint['path']} holds an unconditional "
                         f"{type(G).__name__}. Train one with a conditional preset, e.g. mnist-cdcgan.")
    elif not 0 <= args.label < G.num_classes:
        raise ValueError(f"--label must be between 0 and {G.num_classes - 1} for this generator, got {args.label}.")
    try:
        images = sample_images(G, z, labels=labels)       # 500 at a time
    except torch.cuda.OutOfMemoryError as err:
        raise MemoryError(f"The GPU ran out of memory drawing --n {args.n} images: draw fewer.") from err
    try:
        path = save_grid(images, args.out, nrow=nrow)
    except OSError as err:                         # a read-only place, a path under a file
        raise OSError(f"Cannot write --out {args.out}: {err.strerror or err}.") from err
    print(f"Wrote {args.n} images from {G.checkpoint['path']} (epoch {G.checkpoint['epoch']}, seed {seed}{what}) "
          f"to {path}.")
    return path


def translate(args: argparse.Namespace) -> list[Path]:
    """Translate each IMAGE (files, or folders of them) with the checkpoint's G into --out/NAME.png."""
    from .checkpoint import load_generator
    from .translate import translate_files

    G = load_generator(args.checkpoint)
    paths = translate_files(G, args.images, args.out, reverse=args.reverse, sketch=args.sketch)
    print(f"Translated {len(paths)} image{'s' * (len(paths) != 1)} with {G.checkpoint['path']} (epoch "
          f"{G.checkpoint['epoch']}{', B -> A' if args.reverse else ''}) into {args.out}/.")
    return paths


def _check_image_name(out: str) -> None:
    """--out must name an image file of a format Pillow writes (.png, .jpg, ...), not a folder."""
    from .plotting import image_format

    if Path(out).is_dir():
        raise ValueError(f"--out {out} is a folder: name the image file, e.g. --out {Path(out) / 'samples.png'}.")
    try:
        image_format(out)
    except ValueError:
        raise ValueError(f"--out {out}: name an image file ending in .png or .jpg (Pillow cannot write RGB "
                         f"pictures as '{Path(out).suffix or 'no extension'}').") from None


def _at_least(low: int):
    """An argparse type: a whole number >= low."""
    def whole_number(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more, got {value}")
        return value
    return whole_number


def _positive(text: str) -> float:
    """An argparse type for learning rates: a number > 0."""
    value = float(text)
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a number of 0 or more, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1 (0.1 is usual), got {text}")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**63 - 1, got {value}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gan_helpers", description="Train GANs and draw samples.")
    p.add_argument("--version", action="version", version=f"gan_helpers {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a preset on its data set")
    t.add_argument("preset", metavar="preset", choices=Choices(_presets), help="one of %(choices)s")
    t.add_argument("--epochs", type=_at_least(1))
    t.add_argument("--batch-size", type=_at_least(1))
    t.add_argument("--seed", type=_seed)
    t.add_argument("--out", help="output folder (default runs/PRESET)")
    t.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in OUT/checkpoints")
    t.add_argument("--resume-from", metavar="CHECKPOINT",
                   help="continue from this checkpoint file (e.g. an older one when the newest is damaged)")
    t.add_argument("--data", help="data folder: MNIST/CIFAR-10 root, or the image folder (default: data/)")
    t.add_argument("--features", type=_at_least(1), help="DCGAN width (default: the preset's; 32 trains ~4x faster)")
    t.add_argument("--limit", type=_at_least(1), help="train on the first LIMIT images only (quick tries)")
    t.add_argument("--max-steps", type=_at_least(1), help="at most this many steps per epoch (quick tries)")
    t.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    t.add_argument("--loss", metavar="LOSS", choices=Choices(_losses),
                   help="the game: bce (default), minimax, hinge or wasserstein")
    t.add_argument("--gp-weight", type=_non_negative, help="WGAN-GP gradient penalty weight (10 in the paper)")
    t.add_argument("--label-smoothing", type=_fraction, help="one-sided: D's target for real images is 1 - S")
    t.add_argument("--lr-G", dest="lr_G", type=_positive, help="G's learning rate (TTUR: differ from --lr-D); may "
                   "change on --resume")
    t.add_argument("--lr-D", dest="lr_D", type=_positive, help="D's learning rate; may change on --resume")
    t.add_argument("--d-steps", type=_at_least(1), help="D updates per G update")
    t.add_argument("--ema-decay", type=_fraction, help="keep G_ema, a moving average of G's weights, for the "
                   "pictures (0.999 is usual; 0: none, e.g. to resume a run made without one)")
    t.add_argument("--diff-augment", metavar="POLICY", help="DiffAugment on real and fake images for D, e.g. "
                   "color,translation,cutout (small data sets)")
    t.add_argument("--r1-gamma", type=_non_negative, help="R1 penalty weight on real images (zero-centred)")
    t.add_argument("--r1-every", type=_at_least(1), help="lazy R1: every N-th D step (default 1)")
    t.add_argument("--precision", metavar="PRECISION", choices=Choices(_precisions),
                   help="autocast G and D to bfloat16 (recent GPUs and CPUs) or float16 (older GPUs, with gradient "
                        "scaling); default float32")
    t.add_argument("--channels-last", action="store_true", help="(N, H, W, C) memory format for the convolutions")
    t.add_argument("--compile", action="store_true", help="torch.compile G and D (a slow start, faster steps)")
    t.add_argument("--sync-batchnorm", action="store_true", help="under torchrun on GPUs: BatchNorm statistics over "
                   "all processes")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    s = sub.add_parser("sample", help="draw new images from a trained checkpoint")
    s.add_argument("checkpoint", help="a checkpoint file, or a folder (its newest checkpoint)")
    s.add_argument("--n", type=_at_least(1), default=64)
    s.add_argument("--seed", type=_seed, help="default: a random seed, printed so you can repeat it")
    s.add_argument("--label", type=int, help="the class to draw (conditional generators; default: every class)")
    s.add_argument("--out", default="samples.png")
    r = sub.add_parser("translate", help="translate image files with a trained pix2pix or CycleGAN checkpoint")
    r.add_argument("checkpoint", help="a checkpoint file, or a folder (its newest checkpoint)")
    r.add_argument("images", nargs="+", metavar="IMAGE", help="image files, or folders of them")
    r.add_argument("--out", required=True, help="the folder the translated images are written to (NAME.png each)")
    r.add_argument("--reverse", action="store_true", help="a CycleGAN's other direction, B -> A")
    r.add_argument("--sketch", action="store_true", help="give G each image's line drawing (faces-pix2pix's input: "
                   "translate photos of faces rather than drawings)")
    c = sub.add_parser("check", help="run a learner's exercise cells and their checks (exit 1 when one fails)")
    c.add_argument("notebook", help="a notebook of the course, e.g. exercises/01_mnist_mlp_gan.ipynb")
    c.add_argument("--verbose", action="store_true", help="print every check's whole verdict under the table")
    return p


def check(args: argparse.Namespace) -> int:
    """Print the table of a notebook's exercises (exercises/grading.py); 1 when one does not pass."""
    from .exercises.grading import check_notebook, table

    rows = check_notebook(args.notebook)
    print(table(rows))
    if args.verbose:
        print("\n" + "\n\n".join(row.verdict for row in rows if row.verdict))
    return 0 if all(row.passed for row in rows) else 1


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "check":
            return check(args)
        {"train": train, "sample": sample, "translate": translate}[args.command](args)
    except KeyboardInterrupt as stop:              # Ctrl-C (130) or SIGTERM (143): 128 + the signal's number
        print(f"\nStopped. {cli_wording(stop)}".rstrip(), file=sys.stderr)
        return 128 + getattr(stop, "signum", signal.SIGINT)
    except expected_errors() as err:             # evaluated only when something was raised
        if not getattr(err, "reported", False):    # (a rank that lost the others said so at once)
            print(f"error: {_rank()}{_message(err)}", file=sys.stderr)
        return 1
    return 0


def _rank() -> str:
    """Under torchrun, which process speaks (torchrun's own report that follows names only its exit code)."""
    from .distributed import launched_rank, launched_world_size
    try:
        rank, world_size = launched_rank(), launched_world_size()
    except ValueError:                             # a mistyped RANK or WORLD_SIZE: that is the error itself
        return ""
    return f"rank {rank} of {world_size} (the cause of torchrun's report below): " if world_size > 1 else ""


def _message(err: Exception) -> str:
    if isinstance(err, OSError) and err.filename and err.strerror:   # not "[Errno 28] ...": what, and where
        return f"{err.strerror}: {err.filename}"
    return cli_wording(err)
