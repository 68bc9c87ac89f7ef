"""Train the small MNIST generators shipped in gan_helpers/weights/, measure them, and write them.

    OMP_NUM_THREADS=1 python scripts/train_shipped_generators.py            # all three, ~10 min on a CPU
    python scripts/train_shipped_generators.py mnist-dcgan                   # just one
    python scripts/train_shipped_generators.py --evaluate                    # the metrics of the shipped files

Each generator is its preset's default run (`python -m gan_helpers train NAME`: mnist-mlp 10 epochs,
mnist-dcgan 4 epochs of 64 with G_ema, mnist-cdcgan 5 epochs, both at features=32; G_ema is what ships
when the preset keeps one) on the 60,000 MNIST training images of the
repository's data/, seed 0. Then 5,000 samples (z of seed 1234; a conditional G draws every class
equally often) are measured with the shipped MNIST classifier (gan_helpers.metrics.mnist_metrics:
MNIST FID against the test set, classes covered, class entropy), and G alone is written in float16
(gan_helpers.checkpoint.save_generator) with those metrics inside. The later chapters fall back on
these files when the learner's own run of an earlier chapter is not there.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from gan_helpers import fit, load_generator, mnist_metrics, sample_images, sample_z
from gan_helpers.checkpoint import save_generator
from gan_helpers.presets import PRESETS
from gan_helpers.pretrained import SHIPPED, WEIGHTS_DIR

EVAL_SEED, EVAL_N = 1234, 5000
MNIST_SHIPPED = [name for name in SHIPPED if name.startswith("mnist-")]   # (the faces G: compare_faces_cpu.py ship)


def measure(G: torch.nn.Module) -> dict[str, float]:
    """MNIST FID, classes covered and class entropy of 5,000 samples of G."""
    images = sample_images(G, sample_z(EVAL_N, G.latent_dim, seed=EVAL_SEED))
    return {k: round(float(v), 4) for k, v in mnist_metrics(images).items()}


def train_one(name: str, out: Path) -> dict:
    """Train preset `name` with its defaults on the CPU, measure G, write out/NAME.pt; return a summary."""
    preset = PRESETS[name]
    with tempfile.TemporaryDirectory() as checkpoints:
        cfg = replace(preset.config, device="cpu", checkpoint_dir=checkpoints)
        torch.manual_seed(cfg.seed)
        G, D = preset.models()
        data = preset.data(cfg.batch_size, "cpu")
        print(f"{name}: {cfg.epochs} epochs of {len(data)} batches of {cfg.batch_size} ...", flush=True)
        start = time.perf_counter()
        history = fit(G, D, data, cfg, progress=False)
        seconds = time.perf_counter() - start
        G = load_generator(checkpoints)             # G_ema when the preset keeps one (mnist-dcgan), else G
    metrics = measure(G)
    path = save_generator(G, out / f"{name}.pt", epoch=cfg.epochs, step=history.steps,
                          metrics={**metrics, "train_seconds": round(seconds, 1)})
    return {"name": name, "seconds": seconds, "bytes": path.stat().st_size, **metrics}


def evaluate(out: Path) -> None:
    """Load every shipped file by path and report its size and metrics, measured again."""
    for name in MNIST_SHIPPED:
        path = out / f"{name}.pt"
        G = load_generator(path)
        print(f"{name}: {path.stat().st_size:,} bytes, epoch {G.checkpoint['epoch']}, {measure(G)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=MNIST_SHIPPED,
                        help=f"which to train, of {MNIST_SHIPPED} (default: all)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="where to write NAME.pt")
    parser.add_argument("--evaluate", action="store_true", help="only measure the files already in --out")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(MNIST_SHIPPED))
    if unknown:
        parser.error(f"unknown generator(s) {unknown}; choose from {MNIST_SHIPPED}")
    if args.evaluate:
        evaluate(args.out)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    rows = [train_one(name, args.out) for name in args.names]
    print("\n| generator | training | file | MNIST FID | classes | class entropy |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| `{r['name']}` | {r['seconds']:.0f} s | {r['bytes'] / 1e6:.2f} MB | {r['mnist_fid']:.1f} | "
              f"{r['classes_covered']:.0f} | {r['class_entropy']:.3f} |")


if __name__ == "__main__":
    main()
