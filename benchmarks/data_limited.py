"""What DiffAugment is for: a DCGAN on 2,000 MNIST digits, with and without it, at equal steps.

With few training images D memorises them: its score on the training images drifts away from its
score on real images it has never seen, and G is pushed by that gap rather than by digit shapes.
DiffAugment (gan_helpers.augment) shows D randomly shifted and cut-out images, real and fake alike,
so memorising pays less.

    python benchmarks/data_limited.py [--train 2000] [--steps 3000] [--every 250] [--out docs/data_limited.md]

Both runs use the mnist-dcgan preset's models and settings and start from the same weights (seed 0).
Every `--every` steps the script records D's mean logit (eval mode) on the training images and on as
many held-out real images (the MNIST training images right after the first --train, which neither run
sees); at the end, the MNIST FID, classes covered and class entropy of 5,000 samples from G_sample
(G_ema when the preset keeps one). Writes a Markdown table and a plot next to it.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import torch

from gan_helpers import TensorBatches, fit, load_mnist, sample_images, sample_z, to_unit_range
from gan_helpers.metrics import mnist_metrics, mnist_reference_stats
from gan_helpers.presets import PRESETS

from suite import cpu_name  # the benchmarks' one way to name the CPU

REPO = Path(__file__).resolve().parents[1]
POLICIES = {"no augmentation": None, "DiffAugment": "color,translation,cutout"}


class DScores:
    """fit callback: every `every` steps, D's mean logit on the training images and on held-out ones;
    stops the run after `steps` steps and keeps the generator to sample from."""

    def __init__(self, x_train: torch.Tensor, x_held_out: torch.Tensor, *, every: int, steps: int):
        self.x_train, self.x_held_out, self.every, self.steps = x_train, x_held_out, every, steps
        self.rows, self.G_sample = [], None

    @torch.no_grad()
    def __call__(self, event: str, run) -> None:
        if event != "step_end" or run.step % self.every:
            return
        run.D.eval()
        train, held_out = (run.D(to_unit_range(x)).mean().item() for x in (self.x_train, self.x_held_out))
        run.D.train()
        self.rows.append({"step": run.step, "D_train": train, "D_held_out": held_out, "gap": train - held_out})
        if run.step >= self.steps:
            run.stop, self.G_sample = True, run.G_sample


def run_one(policy: str | None, images: torch.Tensor, args) -> tuple[DScores, float]:
    preset = PRESETS["mnist-dcgan"]
    cfg = replace(preset.config, epochs=10**6, diff_augment=policy, checkpoint_dir=None, device="cpu")
    torch.manual_seed(args.seed)
    G, D = preset.models()
    x_train, x_held_out = images[:args.train], images[args.train:2 * args.train]
    scores = DScores(x_train, x_held_out, every=args.every, steps=args.steps)
    start = time.perf_counter()
    fit(G, D, TensorBatches(x_train, batch_size=cfg.batch_size), cfg, callbacks=[scores], progress=False)
    return scores, time.perf_counter() - start


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", type=int, default=2000, help="training images (default %(default)s)")
    p.add_argument("--steps", type=int, default=3000, help="G steps per run (default %(default)s)")
    p.add_argument("--every", type=int, default=250, help="steps between D's scores (default %(default)s)")
    p.add_argument("--samples", type=int, default=5000, help="generated images for the metrics")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(REPO / "docs" / "data_limited.md"))
    args = p.parse_args(argv)
    images, _ = load_mnist(limit=2 * args.train)
    mnist_reference_stats()
    md = [f"# DiffAugment on {args.train:,} MNIST digits", "",
          f"`python benchmarks/data_limited.py --train {args.train} --steps {args.steps} --every {args.every}` on "
          f"{cpu_name()}, torch {torch.__version__}, {torch.get_num_threads()} threads. D's mean logit on the "
          "training images and on held-out real images; the gap is memorisation.",
          ""]
    curves, summary = {}, []
    for name, policy in POLICIES.items():
        scores, seconds = run_one(policy, images, args)
        z = sample_z(args.samples, scores.G_sample.latent_dim, seed=12345)
        m = mnist_metrics(sample_images(scores.G_sample, z))
        curves[name] = scores.rows
        summary.append(f"| {name} | {policy or '-'} | {args.steps:,} | {seconds:.0f} | {scores.rows[-1]['gap']:.2f} "
                       f"| {m['mnist_fid']:.1f} | {m['classes_covered']} | {m['class_entropy']:.3f} |")
        print(summary[-1], flush=True)
    md += ["| set-up | policy | steps | seconds | final gap (train - held-out) | MNIST FID | classes | entropy |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |", *summary, ""]
    for name, rows in curves.items():
        md += [f"**{name}**", "", "| step | D on training images | D on held-out images | gap |",
               "| ---: | ---: | ---: | ---: |"]
        md += [f"| {r['step']:,} | {r['D_train']:.2f} | {r['D_held_out']:.2f} | {r['gap']:.2f} |" for r in rows]
        md.append("")
    out = Path(args.out)
    out.write_text("\n".join(md))
    plot(curves, out.with_suffix(".png"), title=f"D's score on {args.train:,} training digits minus held-out digits")
    print(f"wrote {out} and {out.with_suffix('.png')}")


def plot(curves: dict[str, list[dict]], path: Path, *, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for name, rows in curves.items():
        ax.plot([r["step"] for r in rows], [r["gap"] for r in rows], marker="o", label=name)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="G steps", ylabel="mean logit: training - held-out", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
