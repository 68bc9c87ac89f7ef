"""`MetricsCallback`: measure sample quality every few epochs during `fit`, into the History.

    history = fit(G, D, data, cfg, callbacks=[MetricsCallback(every=2)])
    epochs, fids = history.metric("mnist_fid")   # epochs [2, 4, ...] and the FID after each
    plot_history(history)                        # the metrics appear below the losses

After every `every`-th epoch (and the last), it draws `n_samples` images from G with a fixed
noise batch of its own, so the numbers of different epochs are comparable and training's random
numbers are untouched, then records `metrics(images, device=...)`: by default `mnist_metrics`
(MNIST FID, classes covered, class entropy); for CIFAR-10 or faces pass `InceptionFID(real_images)`.
It draws with G_ema when the run keeps one (TrainConfig.ema_decay), else with G.

The best epoch is often not the last (D and G oscillate; StudioGAN's DCGAN on CIFAR-10 is at its
best FID after 42k steps and far worse by 200k). With `keep_best="mnist_fid"` it writes the
generator of the best epoch so far to `cfg.checkpoint_dir/best.pt` (a G-only checkpoint:
`load_generator(".../best.pt")` and `python -m gan_helpers sample .../best.pt` draw from it).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from ..callbacks import RunState
from ..checkpoint import save_generator
from ..sampling import sample_images, sample_z
from .mnist import mnist_metrics

MetricFn = Callable[..., dict[str, float]]  # metric(images uint8 (N, C, H, W), *, device) -> {name: value}


class MetricsCallback:
    """Record `metrics` of `n_samples` generated images after every `every` epochs (see the module doc)."""

    def __init__(self, metrics: MetricFn = mnist_metrics, *, every: int = 1, n_samples: int = 5000,
                 batch_size: int = 500, seed: int = 12345, verbose: bool = True, keep_best: str | None = None,
                 higher_is_better: bool = False):
        """keep_best: the metric whose best value so far decides best.pt (None: no best.pt);
        higher_is_better: False for FID (lower is better), True for e.g. classes_covered."""
        if every < 1 or n_samples < 2:
            raise ValueError(f"MetricsCallback needs every >= 1 and n_samples >= 2, got {every} and {n_samples}.")
        self.metrics, self.every, self.n_samples, self.batch_size = metrics, every, n_samples, batch_size
        self.seed, self.verbose = seed, verbose
        self.keep_best, self.higher_is_better = keep_best, higher_is_better
        self.z: torch.Tensor | None = None

    def __call__(self, event: str, run: RunState) -> None:
        if event == "fit_start":
            self.check(run)
        if event == "epoch_end" and (run.epoch % self.every == 0 or run.epoch == run.cfg.epochs):
            values = self.measure(run)         # fit saves the epoch's checkpoint after this: the numbers are in it
            if self.keep_best is not None:
                self.save_if_best(run, values)

    def check(self, run: RunState) -> None:
        """Before training (fit_start): measure two of G's images once, so that metrics that cannot score this G,
        or a keep_best they do not measure, fail now rather than after an epoch of training. Records nothing."""
        images = sample_images(run.G_sample, sample_z(2, run.G.latent_dim, seed=self.seed))
        name = getattr(self.metrics, "__name__", type(self.metrics).__name__)
        try:
            values = self.metrics(images, device=run.device)
        except Exception as err:  # noqa: BLE001 - whatever the metric raises, said with what it was given
            raise ValueError(f"MetricsCallback cannot measure this G with {name}: on two of its images, of shape "
                             f"{tuple(images.shape[1:])}, it raised {type(err).__name__}: {err}") from err
        if self.keep_best is not None and self.keep_best not in values:
            raise ValueError(f"keep_best={self.keep_best!r} is not one of the metrics {name} measures: "
                             f"{sorted(values)}.")

    def measure(self, run: RunState) -> dict[str, float]:
        """Draw the samples, compute the metrics, record them in run.history and return them."""
        if self.z is None or self.z.shape[1] != run.G.latent_dim:
            self.z = sample_z(self.n_samples, run.G.latent_dim, seed=self.seed)
        images = sample_images(run.G_sample, self.z, batch_size=self.batch_size)  # conditional G: every class
        values = self.metrics(images, device=run.device)
        run.history.record_metrics(run.epoch, run.step, values)
        if self.verbose:
            print(f"epoch {run.epoch}: " + ", ".join(f"{k} {v:.4g}" for k, v in values.items()), flush=True)
        return values

    def save_if_best(self, run: RunState, values: dict[str, float]) -> bool:
        """Write best.pt when `values[keep_best]` beats every earlier measurement of this run (also those
        recorded before a resume); True when it did. Without cfg.checkpoint_dir nothing is written."""
        if self.keep_best not in values:
            raise ValueError(f"keep_best={self.keep_best!r} is not one of the metrics measured: {sorted(values)}.")
        _, earlier = run.history.metric(self.keep_best)
        value, better = values[self.keep_best], (max if self.higher_is_better else min)
        if run.cfg.checkpoint_dir is None or better(earlier) != value:   # earlier includes this epoch's value
            return False
        path = save_generator(run.G_sample, Path(run.cfg.checkpoint_dir) / "best.pt", epoch=run.epoch,
                              step=run.step, metrics=values, half=False)
        if self.verbose:
            print(f"epoch {run.epoch}: best {self.keep_best} so far, saved {path}", flush=True)
        return True
