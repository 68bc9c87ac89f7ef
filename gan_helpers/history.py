"""What `fit` records: per-step losses and D outputs, per-epoch timings and sample grids, and the
quality metrics that a `MetricsCallback` adds every few epochs."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch

STEP_FIELDS = ("loss_D", "loss_G", "D_x", "D_G_z")


@dataclass
class History:
    """The record of a training run.

    loss_D, loss_G:  the losses of every generator step.
    D_x, D_G_z:      mean D(x_real) and D(x_fake) (probabilities) in the discriminator's step.
    epoch_ends:      the number of steps done when each epoch ended.
    epoch_seconds:   wall time of each epoch.
    samples:         after each epoch, G's images for one fixed noise batch, uint8 (N, C, H, W).
    metrics:         one dict per evaluation, {"epoch": 5, "step": 4685, "mnist_fid": 12.3, ...}
                     (written by `gan_helpers.metrics.MetricsCallback`; empty without one).
    """
    loss_D: list[float] = field(default_factory=list)
    loss_G: list[float] = field(default_factory=list)
    D_x: list[float] = field(default_factory=list)
    D_G_z: list[float] = field(default_factory=list)
    epoch_ends: list[int] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    samples: list[torch.Tensor] = field(default_factory=list)
    metrics: list[dict[str, float]] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return len(self.loss_D)

    def record_step(self, stats) -> None:
        """Append one `StepStats` (or any object with the four STEP_FIELDS)."""
        for name in STEP_FIELDS:
            getattr(self, name).append(getattr(stats, name))

    def epoch_means(self, name: str) -> list[float]:
        """Mean of a per-step series (e.g. 'loss_D') over each finished epoch."""
        values, means, start = getattr(self, name), [], 0
        for end in self.epoch_ends:
            chunk = values[start:end]
            means.append(sum(chunk) / len(chunk) if chunk else float("nan"))
            start = end
        return means

    def record_metrics(self, epoch: int, step: int, values: dict[str, float]) -> None:
        """Append the metrics measured after `epoch` epochs (`step` generator steps)."""
        if {"epoch", "step"} & values.keys():
            raise ValueError("'epoch' and 'step' are recorded by record_metrics itself; rename those metrics.")
        self.metrics.append({"epoch": epoch, "step": step, **{k: float(v) for k, v in values.items()}})

    def metric(self, name: str) -> tuple[list[int], list[float]]:
        """The epochs at which `name` was measured, and its values: `epochs, fid = history.metric('mnist_fid')`."""
        rows = [row for row in self.metrics if name in row]
        return [int(row["epoch"]) for row in rows], [row[name] for row in rows]

    @property
    def metric_names(self) -> list[str]:
        """The names of the recorded metrics, in the order they first appeared."""
        return list(dict.fromkeys(k for row in self.metrics for k in row if k not in ("epoch", "step")))

    def to_dict(self) -> dict:
        """Plain lists and tensors only, so `torch.load(weights_only=True)` can read it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """Inverse of to_dict; also reads checkpoints written before `metrics` existed."""
        return cls(**{k: list(v) for k, v in data.items()})
