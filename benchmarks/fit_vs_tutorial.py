"""One MNIST epoch of the tutorials' MLP GAN (latent 128, hidden 512, batch 32), three ways:

1. the tutorials' loop: torchvision MNIST + ToTensor + Normalize + DataLoader(shuffle=True),
   with the textbook update written out (as in the PyTorch DCGAN tutorial);
2. `fit` over that same DataLoader (what the training loop alone changes);
3. `fit` over `TensorBatches` (the whole data set as one tensor: what the course uses).

Same models, same Adam settings, same machine, one process. Prints a Markdown table.

    python benchmarks/fit_vs_tutorial.py [--repeats 3] [--preset-epoch]
"""
from __future__ import annotations

import argparse
import itertools
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms

from gan_helpers import MLPDiscriminator, MLPGenerator, TensorBatches, TrainConfig, fit, load_mnist
from gan_helpers.data import default_data_root
from gan_helpers.presets import PRESETS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_throughput import textbook_steps  # noqa: E402

LATENT, HIDDEN, BATCH = 128, 512, 32


def tutorial_models():
    torch.manual_seed(0)
    return MLPGenerator(latent_dim=LATENT, hidden_dims=(HIDDEN,)), MLPDiscriminator(hidden_dims=(HIDDEN,))


def tutorial_loader(root: Path) -> DataLoader:
    """torchvision's MNIST from a copy of the repository's files (download=True only unpacks them)."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f in (default_data_root() / "MNIST" / "raw").glob("*.gz"):
        shutil.copy(f, raw)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    dataset = torchvision.datasets.MNIST(str(root), train=True, download=True, transform=transform)
    return DataLoader(dataset, batch_size=BATCH, shuffle=True)


def tutorial_epoch(G, D, loader) -> int:
    """The textbook loop (bench_throughput.textbook_steps) over one epoch, with fresh plain Adam."""
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    return textbook_steps(G, D, opt_G, opt_D, loader, torch.device("cpu"))


def timed(fn) -> tuple[float, int]:
    start = time.perf_counter()
    steps = fn()
    return time.perf_counter() - start, steps


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeats", type=int, default=3, help="full epochs per set-up, interleaved (median reported)")
    args.add_argument("--preset-epoch", action="store_true", help="also time one epoch of the mnist-mlp preset")
    args = args.parse_args()
    cfg = TrainConfig(epochs=1, batch_size=BATCH, device="cpu")
    images, _ = load_mnist()
    batches = TensorBatches(images, batch_size=BATCH)
    preset = PRESETS["mnist-mlp"]
    pcfg = replace(preset.config, epochs=1, device="cpu")

    def preset_epoch() -> int:
        torch.manual_seed(0)
        G, D = preset.models()
        return fit(G, D, preset.data(pcfg.batch_size, "cpu"), pcfg, progress=False).steps

    with tempfile.TemporaryDirectory() as tmp:
        loader = tutorial_loader(Path(tmp))
        setups = {  # name -> one epoch with fresh models, returning its number of steps
            "tutorials' loop + torchvision DataLoader": lambda: tutorial_epoch(*tutorial_models(), loader),
            "fit + the same DataLoader": lambda: fit(*tutorial_models(), loader, cfg, progress=False).steps,
            "fit + TensorBatches": lambda: fit(*tutorial_models(), batches, cfg, progress=False).steps,
        }
        if args.preset_epoch:
            setups[f"preset mnist-mlp (batch {pcfg.batch_size}) + fit + TensorBatches"] = preset_epoch
        G, D = tutorial_models()  # warm-up: the first few hundred steps of a process run slower
        tutorial_epoch(G, D, itertools.islice(loader, 100))
        fit(G, D, batches, replace(cfg, max_steps_per_epoch=100), progress=False)
        seconds = {name: [] for name in setups}
        steps = {}
        for _ in range(args.repeats):
            for name, run in setups.items():
                took, steps[name] = timed(run)
                seconds[name].append(took)

    base = statistics.median(seconds[next(iter(setups))])
    print(f"One MNIST epoch, median of {args.repeats} interleaved runs; {platform.machine()}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}\n")
    print("| set-up | steps | seconds (median) | all runs (s) | images/s | speed-up vs tutorials |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    for name, runs in seconds.items():
        preset_row = name.startswith("preset")  # another model: no speed-up to compare
        median, batch = statistics.median(runs), pcfg.batch_size if preset_row else BATCH
        speedup = "(other model)" if preset_row else f"{base / median:.2f}x"
        print(f"| {name} | {steps[name]} | {median:.1f} | {', '.join(f'{s:.1f}' for s in runs)} | "
              f"{steps[name] * batch / median:,.0f} | {speedup} |")


if __name__ == "__main__":
    main()
