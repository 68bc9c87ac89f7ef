"""What `fit` records: per-step losses and D outputs, per-epoch timings and sample grids."""
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
    """
    loss_D: list[float] = field(default_factory=list)
    loss_G: list[float] = field(default_factory=list)
    D_x: list[float] = field(default_factory=list)
    D_G_z: list[float] = field(default_factory=list)
    epoch_ends: list[int] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    samples: list[torch.Tensor] = field(default_factory=list)

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

    def to_dict(self) -> dict:
        """Plain lists and tensors only, so `torch.load(weights_only=True)` can read it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        return cls(**{k: list(v) for k, v in data.items()})
