"""Training throughput (images/s) of each preset, `fit` against the tutorials' loop, timed in interleaved windows.

Two set-ups train the same preset models (same seed, same batch size, same device):

    fit        `fit(G, D, TensorBatches, cfg)`: the preset's data held as one uint8 tensor, fused Adam,
               `gan_step`; exactly what `python -m gan_helpers train PRESET` runs.
    tutorial   the textbook loop written out (`textbook_steps` below, also used by fit_vs_tutorial.py: D on real
               and detached fake, then G through D on the same fake; G(z, y) and D(x, y) for a conditional
               pair) over DataLoader(torchvision data set, shuffle=True, batch_size=preset batch, num_workers=0).
               Only for presets that play that textbook game (BCE loss, one D step, no gradient penalty, no
               label smoothing, no DiffAugment or R1); the others (WGAN-GP, hinge/SN) are measured with fit
               alone. A preset's G_ema (mnist-dcgan) is extra work on fit's side only.

Fast paths. `options` names more fit set-ups of the same preset, each fit with TrainConfig changes from
OPTIONS ("bfloat16", "float16", "channels_last", "compile", or several joined by "+", e.g.
"bfloat16+channels_last"); "float32" is fit as the preset trains. They join the same interleaved windows.

How it is timed. Each set-up first trains untimed warm-up steps (one-time costs: allocations, kernel
selection); their speed sets the steps per window (about `window_s` of training, at least `min_steps`).
Then windows of that many steps alternate between the set-ups (fit, tutorial, tutorial, fit, ...) so
that a slow spell of a shared machine hits both. A window runs from the start of the epoch (fit's
"fit_start" callback; the DataLoader's `iter`) to the end of its last step, data loading included;
optimizers persist across windows, as in one long run. images/s = steps x batch / seconds, median of
the windows; the ratio is median fit images/s over median tutorial images/s.
"""
from __future__ import annotations

import itertools
import math
import statistics
import time
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from gan_helpers import fit
from gan_helpers.presets import PRESETS
from gan_helpers.train import adam

# Fast paths of fit: TrainConfig changes that alter how G and D are computed, not what (notebook 09).
OPTIONS = {"float32": {}, "bfloat16": {"precision": "bfloat16"}, "float16": {"precision": "float16"},
           "channels_last": {"channels_last": True}, "compile": {"compile": True}}


def option_changes(label: str) -> dict:
    """The TrainConfig changes of an option label: a name in OPTIONS, or several joined by '+'."""
    changes = {}
    for name in label.split("+"):
        if name not in OPTIONS:
            raise ValueError(f"unknown option {name!r} in {label!r}; choose from {', '.join(OPTIONS)} (join with +)")
        changes.update(OPTIONS[name])
    return changes


@dataclass
class Throughput:
    preset: str
    batch: int
    source: str
    prep_s: float
    steps: int = 0                                        # steps per timed window
    no_tutorial: str = ""                                 # why there is no tutorial column, if there is none
    fit_s: list[float] = field(default_factory=list)      # seconds of each window
    tutorial_s: list[float] = field(default_factory=list)
    options_s: dict[str, list[float]] = field(default_factory=dict)   # fit with each option: seconds per window

    def images_per_s(self, seconds: list[float]) -> float:
        return self.steps * self.batch / statistics.median(seconds) if seconds else math.nan

    @property
    def ratio(self) -> float:
        return self.images_per_s(self.fit_s) / self.images_per_s(self.tutorial_s)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _WindowClock:
    """fit callback: seconds from "fit_start" to the last "step_end"."""

    def __init__(self, device: torch.device):
        self.device, self.start, self.end, self.steps = device, 0.0, 0.0, 0

    def __call__(self, event, run) -> None:
        if event == "fit_start":
            self.start = time.perf_counter()
        elif event == "step_end":
            _sync(self.device)
            self.end, self.steps = time.perf_counter(), self.steps + 1


class FitSetup:
    def __init__(self, G, D, batches, cfg, device):
        self.G, self.D, self.batches, self.device = G, D, batches, device
        self.cfg = replace(cfg, epochs=1, device=str(device), checkpoint_dir=None)
        betas = (cfg.beta1, cfg.beta2)  # the optimizers fit builds itself, kept across windows
        self.opt_G = adam(G.parameters(), lr=cfg.lr_G, betas=betas, device=device)
        self.opt_D = adam(D.parameters(), lr=cfg.lr_D, betas=betas, device=device)

    def window(self, steps: int) -> float:
        clock = _WindowClock(self.device)
        fit(self.G, self.D, self.batches, replace(self.cfg, max_steps_per_epoch=steps), opt_G=self.opt_G,
            opt_D=self.opt_D, callbacks=[clock], progress=False)
        assert clock.steps == steps, f"fit ran {clock.steps} steps, not {steps}"
        return clock.end - clock.start


class TutorialSetup:
    def __init__(self, G, D, dataset, cfg, device, workers: int = 0):
        self.G, self.D, self.device = G.to(device), D.to(device), device
        self.loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True, num_workers=workers,
                                 pin_memory=device.type == "cuda", persistent_workers=workers > 0)
        self.opt_G = torch.optim.Adam(G.parameters(), lr=cfg.lr_G, betas=(cfg.beta1, cfg.beta2))
        self.opt_D = torch.optim.Adam(D.parameters(), lr=cfg.lr_D, betas=(cfg.beta1, cfg.beta2))

    def window(self, steps: int) -> float:
        start = time.perf_counter()
        done = textbook_steps(self.G, self.D, self.opt_G, self.opt_D, itertools.islice(self.loader, steps),
                              self.device)
        _sync(self.device)
        assert done == steps, f"the DataLoader gave {done} batches, not {steps}"
        return time.perf_counter() - start


def textbook_steps(G, D, opt_G, opt_D, loader, device) -> int:
    """The tutorials' loop over (images, labels) batches, written out as in PyTorch's DCGAN tutorial: D on
    real and detached fake, then G through D on the same fake. A conditional G and D get the labels.
    Returns the number of steps done."""
    done = 0
    for x_real, y in loader:
        x_real, c = x_real.to(device), (y.to(device),) if getattr(G, "num_classes", 0) else ()
        z = torch.randn(x_real.size(0), G.latent_dim, device=device)
        x_fake = G(z, *c)
        real_logits, fake_logits = D(x_real, *c), D(x_fake.detach(), *c)
        loss_D = (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                  + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
        D.zero_grad()
        loss_D.backward()
        opt_D.step()
        output = D(x_fake, *c)
        loss_G = F.binary_cross_entropy_with_logits(output, torch.ones_like(output))
        G.zero_grad()
        loss_G.backward()
        opt_G.step()
        done += 1
    return done


def textbook_game(cfg) -> str:
    """'' when the textbook BCE loop trains what `cfg` configures, else why not. (An EMA of G is not part of
    the game: G and D train the same with or without it, and fit's side simply does that extra work.)"""
    differs = [f"{k}={getattr(cfg, k)}" for k, plain in (("loss", "bce"), ("d_steps", 1), ("gp_weight", 0.0),
                                                          ("label_smoothing", 0.0), ("diff_augment", None),
                                                          ("r1_gamma", 0.0)) if getattr(cfg, k, plain) != plain]
    return f"no textbook loop for {', '.join(differs)}" if differs else ""


def _models(name: str, seed: int):
    preset = PRESETS[name]
    torch.manual_seed(seed)
    return preset.models()


def measure(name: str, data, *, tutorial: bool = True, repeats: int = 5, warmup_s: float = 3.0,
            window_s: float = 5.0, min_steps: int = 3, max_steps: int = 1000, seed: int = 0,
            device: str | torch.device = "cpu", options: tuple[str, ...] = (), workers: int = 0,
            log=print) -> Throughput:
    """Throughput of preset `name` on `data` (a bench_data.PresetData); see the module doc. `options`: more
    fit set-ups with OPTIONS' changes; `workers`: the tutorial DataLoader's num_workers."""
    device, cfg = torch.device(device), PRESETS[name].config
    result = Throughput(name, cfg.batch_size, data.source, data.prep_s)
    setups = {"fit": FitSetup(*_models(name, seed), data.batches, cfg, device)}
    for label in options:
        if label != "float32":
            setups[label] = FitSetup(*_models(name, seed), data.batches, replace(cfg, **option_changes(label)), device)
            result.options_s[label] = []
    result.no_tutorial = "not measured" if not tutorial else textbook_game(cfg)
    if not result.no_tutorial:
        setups["tutorial"] = TutorialSetup(*_models(name, seed), data.dataset, cfg, device, workers)
    longest = min(len(data.batches), max_steps)         # full batches only, on both sides
    per_step = []
    for label, setup in setups.items():                 # warm-up: one step, then more if that was quick
        took = setup.window(1)
        if took < warmup_s and longest > 1:
            n = min(longest, max(2, math.ceil((warmup_s - took) / took)))
            took = setup.window(n) / n
        per_step.append(took)
        log(f"  {name} {label}: warm-up, {took * 1000:.1f} ms per step")
    result.steps = max(min_steps, min(longest, round(window_s / statistics.mean(per_step))))
    order = list(setups.items())
    for r in range(repeats):
        for label, setup in (order if r % 2 == 0 else order[::-1]):   # ABBA: drift hits both alike
            seconds = setup.window(result.steps)
            (result.options_s[label] if label in result.options_s else getattr(result, f"{label}_s")).append(seconds)
            log(f"  {name} {label}: window {r + 1}/{repeats}, {result.steps} steps in {seconds:.2f} s, "
                f"{result.steps * result.batch / seconds:,.0f} img/s")
    return result


def table(results: list[Throughput]) -> str:
    """The Markdown table of the throughput section."""
    rows = ["| preset | batch | data | data prep for fit (s, once) | steps x windows | fit + TensorBatches (img/s) "
            "| tutorial loop + DataLoader (img/s) | fit / tutorial | window spread (img/s, fit; tutorial) |",
            "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        spread = "; ".join(f"{r.steps * r.batch / max(s):,.0f}-{r.steps * r.batch / min(s):,.0f}"
                           for s in (r.fit_s, r.tutorial_s) if s)
        tut = f"{r.images_per_s(r.tutorial_s):,.0f}" if r.tutorial_s else f"- ({r.no_tutorial})"
        ratio = f"**{r.ratio:.2f}x**" if r.tutorial_s else "-"
        rows.append(f"| {r.preset} | {r.batch} | {r.source} | {r.prep_s:.1f} | {r.steps} x {len(r.fit_s)} "
                    f"| {r.images_per_s(r.fit_s):,.0f} | {tut} | {ratio} | {spread} |")
    return "\n".join(rows)


def options_table(results: list[Throughput]) -> str:
    """The Markdown table of fit's fast paths: images/s of each option, and its speed-up over float32."""
    labels = list(dict.fromkeys(label for r in results for label in r.options_s))
    rows = ["| preset | batch | float32 (img/s) | " + " | ".join(f"{label} (img/s, x float32)" for label in labels)
            + " |", "| --- | ---: | ---: | " + " | ".join("---:" for _ in labels) + " |"]
    for r in results:
        base = r.images_per_s(r.fit_s)
        cells = [f"{r.images_per_s(r.options_s[label]):,.0f} (**{r.images_per_s(r.options_s[label]) / base:.2f}x**)"
                 if r.options_s.get(label) else "-" for label in labels]
        rows.append(f"| {r.preset} | {r.batch} | {base:,.0f} | " + " | ".join(cells) + " |")
    return "\n".join(rows)
