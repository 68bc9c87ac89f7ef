"""Time to quality on MNIST: sample quality against seconds of training, for a list of set-ups.

`time_to_quality` trains one set-up with `fit` for a fixed budget of training seconds and, every
`every_s` seconds of training (and before the first step, and when the budget is spent), draws
`n_samples` images from G with a fixed noise batch of its own and measures them with
`gan_helpers.metrics.mnist_metrics`: MNIST FID against the test set (the shipped classifier's
features), classes covered (>= 1% of the images) and the normalised class entropy.

The training clock is a `fit` callback: it adds up the time between "step_end" events and stops
while measuring, so evaluation time is excluded (fit's own per-epoch work, such as its fixed-noise
grid, counts as training). When the budget is spent it sets `run.stop`, and `fit` returns.
The last measurement comes at most one step past the budget.

A set-up is a name, a model builder and a TrainConfig. Any MNIST preset can join the comparison
without code: `suite.py --setups mnist-mlp,mnist-dcgan,mnist-wgan-gp,mnist-sngan`; to make it part of the
default run, `SETUPS.append(preset_setup("mnist-wgan-gp"))`. Set-ups that are not presets are built
by hand, here or in another module imported by suite.py:

    from dataclasses import replace
    from gan_helpers import DCGANDiscriminator, DCGANGenerator
    SETUPS.append(Setup(
        "DCGAN WGAN-GP",
        lambda: (DCGANGenerator(latent_dim=100, img_size=28, channels=1, features=32),
                 DCGANDiscriminator(img_size=28, channels=1, features=32, norm="layer")),
        replace(PRESETS["mnist-dcgan"].config, batch_size=128, ema_decay=None, loss="wasserstein", gp_weight=10.0,
                d_steps=5, lr_G=1e-4, lr_D=1e-4, beta1=0.0, beta2=0.9),
        "DCGAN critic with LayerNorm, Wasserstein loss + gradient penalty"))

Every set-up trains on all 60,000 MNIST training images (TensorBatches with the labels, its config's
batch size; fit passes the labels only to conditional models). A conditional G is evaluated on
every digit equally often (0, 1, ..., 9, 0, 1, ...), so its class coverage measures whether it obeys.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import nn

from gan_helpers import (
    DCGANDiscriminator,
    DCGANGenerator,
    NonFiniteLossError,
    TrainConfig,
    fit,
    sample_images,
    sample_z,
)
from gan_helpers.metrics import mnist_metrics, mnist_reference_stats
from gan_helpers.presets import PRESETS


@dataclass(frozen=True)
class Setup:
    name: str
    build_models: Callable[[], tuple[nn.Module, nn.Module]]   # fresh (G, D)
    config: TrainConfig
    description: str = ""


def preset_setup(name: str) -> Setup:
    preset = PRESETS[name]
    return Setup(name, preset.models, preset.config, preset.description)


# The DCGAN paper's settings (Adam lr 2e-4 for both, batch 128, no G_ema): mnist-dcgan's first defaults, and
# the reference of every stable-training setting below. The preset itself now trains at lr 3.2e-3, batch 64.
PAPER = dict(batch_size=128, lr_G=2e-4, lr_D=2e-4, ema_decay=None)


def dcgan_variant(name: str, description: str, **changes) -> Setup:
    """The mnist-dcgan preset's models with the DCGAN paper's settings (PAPER), then `changes` (TrainConfig
    fields)."""
    preset = PRESETS["mnist-dcgan"]
    return Setup(name, preset.models, replace(preset.config, **{**PAPER, **changes}), description)


SETUPS: list[Setup] = [
    preset_setup("mnist-mlp"),
    dcgan_variant("DCGAN (paper settings)", "lr 2e-4, batch 128, no EMA: the baseline of every DCGAN row"),
    # Stable training (notebook 07), at the same training time as the plain DCGAN:
    dcgan_variant("DCGAN + label smoothing 0.1", "one-sided: D's target for real images is 0.9",
                  label_smoothing=0.1),
    dcgan_variant("DCGAN + TTUR", "lr_D 4e-4, lr_G 1e-4", lr_D=4e-4, lr_G=1e-4),
    preset_setup("mnist-sngan"),
    preset_setup("mnist-wgan-gp"),
    # Better pictures for the same compute (issue 14): each on the paper's settings, one change at a time,
    dcgan_variant("DCGAN + EMA 0.999", "samples and metrics from G_ema, a moving average of G's weights",
                  ema_decay=0.999),
    dcgan_variant("DCGAN + DiffAugment", "colour, translation and cutout on real and fake images for D",
                  diff_augment="color,translation,cutout"),
    Setup("DCGAN + R1 (gamma 1 every 4)",
          lambda: (DCGANGenerator(latent_dim=100, img_size=28, channels=1, features=32),
                   DCGANDiscriminator(img_size=28, channels=1, features=32, norm="none", bias=True)),
          replace(PRESETS["mnist-dcgan"].config, **PAPER, r1_gamma=1.0, r1_every=4),
          "D without BatchNorm (R1 needs per-image gradients) but with biases, R1 gamma 1 every 4th step"),
    # ... and what the preset uses now (a learning rate 16x the paper's, at batch 64), without and with EMA.
    dcgan_variant("DCGAN + lr 3.2e-3 + batch 64", "the mnist-dcgan preset's settings",
                  batch_size=64, lr_G=3.2e-3, lr_D=3.2e-3),
    dcgan_variant("DCGAN + lr 3.2e-3 + batch 64 + EMA 0.999", "the preset's settings with G_ema for the samples",
                  batch_size=64, lr_G=3.2e-3, lr_D=3.2e-3, ema_decay=0.999),
]


class _QualityClock:
    """fit callback: counts training seconds, pausing the count to evaluate when a checkpoint is due."""

    def __init__(self, evaluate: Callable, budget_s: float, every_s: float):
        self.evaluate, self.budget_s, self.every_s = evaluate, budget_s, every_s
        self.train_s, self.next_due, self.resumed = 0.0, every_s, 0.0

    def __call__(self, event: str, run) -> None:
        if event == "fit_start":
            self.evaluate(run, 0.0)                              # the untrained G, for reference
            self.resumed = time.perf_counter()
        elif event == "step_end":
            now = time.perf_counter()
            self.train_s += now - self.resumed
            if self.train_s >= self.next_due or self.train_s >= self.budget_s:
                self.evaluate(run, self.train_s)                 # the clock is stopped meanwhile
                self.next_due = (math.floor(self.train_s / self.every_s) + 1) * self.every_s
                if self.train_s >= self.budget_s:
                    run.stop = True                              # fit returns after this step
            self.resumed = time.perf_counter()


def time_to_quality(name: str, build_models: Callable[[], tuple[nn.Module, nn.Module]], cfg: TrainConfig,
                    data, budget_s: float, every_s: float, n_samples: int, *,
                    metrics: Callable[..., dict[str, float]] = mnist_metrics, seed: int = 0,
                    device: str = "cpu", log: Callable[[str], None] = print) -> list[dict]:
    """Train (G, D) = build_models() on `data` for `budget_s` training seconds; one row per evaluation:
    {'setup', 'train_s', 'steps', 'images', 'eval_s', 'wall_s', **metrics(images)} (see the module doc).
    A run whose loss becomes NaN stops there; its last row then has a 'note'."""
    torch.manual_seed(seed)
    G, D = build_models()
    cfg = replace(cfg, epochs=10**9, max_steps_per_epoch=None, checkpoint_dir=None, device=device)
    z = sample_z(n_samples, G.latent_dim, seed=12345)
    rows: list[dict] = []
    start = time.perf_counter()

    def evaluate(run, train_s: float) -> None:
        t0 = time.perf_counter()
        images = sample_images(run.G_sample, z)                # G_ema if kept; a conditional G: every class
        values = metrics(images, device=run.device)
        rows.append({"setup": name, "train_s": train_s, "steps": run.step, "images": run.step * cfg.batch_size,
                     "eval_s": time.perf_counter() - t0, "wall_s": time.perf_counter() - start, **values})
        log(f"  {name}: {train_s:6.1f} s training, {run.step:6d} steps: "
            + ", ".join(f"{k} {v:.4g}" for k, v in values.items()))

    try:
        fit(G, D, data, cfg, callbacks=[_QualityClock(evaluate, budget_s, every_s)], progress=False)
    except NonFiniteLossError as err:
        log(f"  {name}: stopped, {err}")
        if rows:
            rows[-1]["note"] = "(the loss became NaN after this evaluation; the run stopped)"
    return rows


def warm_up_metrics(device: str = "cpu") -> None:
    """Compute the cached test-set statistics once, outside every training clock."""
    mnist_reference_stats(device=device)


def tables(results: dict[str, list[dict]]) -> str:
    """A summary table of all set-ups, then one table per set-up."""
    out = ["| set-up | training s | steps | steps/s | images seen | first FID | best FID (at s) | final FID "
           "| final classes | final entropy |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, rows in results.items():
        last, best = rows[-1], min(rows, key=lambda r: r["mnist_fid"])
        rate = last["steps"] / last["train_s"] if last["train_s"] else math.nan
        out.append(f"| {name} | {last['train_s']:.1f} | {last['steps']:,} | {rate:.1f} | {last['images']:,} "
                   f"| {rows[0]['mnist_fid']:.1f} | {best['mnist_fid']:.2f} ({best['train_s']:.0f} s) "
                   f"| {last['mnist_fid']:.2f} | {last['classes_covered']:.0f} | {last['class_entropy']:.3f} |")
    for name, rows in results.items():
        out += ["", f"**{name}**", "",
                "| training s | steps | images seen | MNIST FID | classes covered | class entropy | eval s |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        out += [f"| {r['train_s']:.1f} | {r['steps']:,} | {r['images']:,} | {r['mnist_fid']:.2f} "
                f"| {r['classes_covered']:.0f} | {r['class_entropy']:.3f} | {r['eval_s']:.1f} |"
                + (f" {r['note']}" if "note" in r else "") for r in rows]
    return "\n".join(out)


def plot(results: dict[str, list[dict]], path, *, title: str) -> None:
    """FID (log scale) and classes covered against training seconds, one line per set-up."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_fid, ax_cov) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, rows in results.items():
        seconds = [r["train_s"] for r in rows]
        ax_fid.plot(seconds, [r["mnist_fid"] for r in rows], marker="o", label=name)
        ax_cov.plot(seconds, [r["classes_covered"] for r in rows], marker="o", label=name)
    ax_fid.set(yscale="log", xlabel="training seconds (evaluation excluded)", ylabel="MNIST FID (lower is better)")
    ax_cov.set(xlabel="training seconds (evaluation excluded)", ylabel="digit classes covered (>= 1%)",
               ylim=(0, 10.5))
    for ax in (ax_fid, ax_cov):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
