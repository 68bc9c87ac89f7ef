"""`MetricsCallback`: measure sample quality every few epochs during `fit`, into the History.

    history = fit(G, D, data, cfg, callbacks=[MetricsCallback(every=2)])
    epochs, fids = history.metric("mnist_fid")   # epochs [2, 4, ...] and the FID after each
    plot_history(history)                        # the metrics appear below the losses

After every `every`-th epoch (and the last), it draws `n_samples` images from G with a fixed
noise batch of its own, so the numbers of different epochs are comparable and training's random
numbers are untouched, then records `metrics(images, device=...)`: by default `mnist_metrics`
(MNIST FID, classes covered, class entropy); for CIFAR-10 or faces pass `InceptionFID(real_images)`.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from ..callbacks import RunState
from ..step import sample_z
from ..train import sample_images
from .mnist import mnist_metrics

MetricFn = Callable[..., dict[str, float]]  # metric(images uint8 (N, C, H, W), *, device) -> {name: value}


class MetricsCallback:
    """Record `metrics` of `n_samples` generated images after every `every` epochs (see the module doc)."""

    def __init__(self, metrics: MetricFn = mnist_metrics, *, every: int = 1, n_samples: int = 5000,
                 batch_size: int = 500, seed: int = 12345, verbose: bool = True):
        if every < 1 or n_samples < 2:
            raise ValueError(f"MetricsCallback needs every >= 1 and n_samples >= 2, got {every} and {n_samples}.")
        self.metrics, self.every, self.n_samples, self.batch_size = metrics, every, n_samples, batch_size
        self.seed, self.verbose = seed, verbose
        self.z: torch.Tensor | None = None

    def __call__(self, event: str, run: RunState) -> None:
        due = run.epoch > 0 and (run.epoch % self.every == 0 or run.epoch == run.cfg.epochs)
        recorded = any(row["epoch"] == run.epoch for row in run.history.metrics)
        if event == "epoch_end" and due and not recorded:
            self.measure(run)
        elif (event == "fit_start" and due and not recorded and run.history.epoch_ends
              and run.step == run.history.epoch_ends[-1]):
            # Resumed from an end-of-epoch checkpoint, which fit saves before the epoch_end callbacks
            # run: the models are exactly as they were then, so measure what that run did not keep.
            self.measure(run)

    def measure(self, run: RunState) -> dict[str, float]:
        """Draw the samples, compute the metrics, record them in run.history and return them."""
        if self.z is None or self.z.shape[1] != run.G.latent_dim:
            self.z = sample_z(self.n_samples, run.G.latent_dim, generator=torch.Generator().manual_seed(self.seed))
        images = sample_images(run.G, self.z, batch_size=self.batch_size)  # a conditional G: every class
        values = self.metrics(images, device=run.device)
        run.history.record_metrics(run.epoch, run.step, values)
        if self.verbose:
            print(f"epoch {run.epoch}: " + ", ".join(f"{k} {v:.4g}" for k, v in values.items()), flush=True)
        return values
