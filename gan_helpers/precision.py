"""Mixed precision: run G and D in 16-bit floats where it is safe, keep the rest in float32.

A float32 has 8 exponent bits and 23 fraction bits. The two 16-bit formats split their 16 bits
differently, and that decides how each is used:

    format     exponent  fraction  largest    smallest normal  what it needs
    float32    8         23        3.4e38     1.2e-38          nothing: the reference
    bfloat16   8         7         3.4e38     1.2e-38          nothing: float32's range, 3 digits
    float16    5         10        65504      6.1e-5           a gradient scaler (small gradients underflow)

`torch.autocast` runs the layers that profit (convolutions, matrix products) in the 16-bit type and
keeps the weights, the optimizer and the reductions that need range in float32. D's logits and the
losses are cast to float32 here before they are computed, so loss_D and loss_G are float32 numbers.

float16 gradients of order 1e-6 round to zero. The scaler multiplies the loss by a large factor S
before backward (so the gradients are S times larger and representable), divides them by S again
before the optimizer step, and skips a step whose gradients overflowed, halving S; after 2000 good
steps it doubles S. G and D have separate losses and optimizers, so each gets its own scaler, and
both scalers' states are saved in the checkpoint: a resumed run scales exactly as it would have.

    precision = Precision("bfloat16", device)
    with precision.autocast():
        loss_D = d_loss(D(x_real).float(), D(x_fake).float())
    precision.step(loss_D, opt_D, "D")          # backward, (unscale,) step, (update the scale)
"""
from __future__ import annotations

import contextlib

import torch

from .advice import advise

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
PRECISIONS = tuple(DTYPES)


def check_precision(name: str) -> str:
    """`name` if it is one of PRECISIONS, else a ValueError naming the choices."""
    if name not in DTYPES:
        raise advise(ValueError(f"precision={name!r}: choose 'float32' (the default), 'bfloat16' (CPUs with bfloat16 "
                                "support, Ampere and newer GPUs) or 'float16' (older GPUs such as the T4; with "
                                "gradient scaling)."),
                     cli=f"--precision {name}: choose float32, bfloat16 or float16.")
    return name


class Precision:
    """The arithmetic of one training run: autocast to `name`'s type on `device`, and for float16 one
    GradScaler per optimizer ("G" and "D"), starting at S = init_scale (PyTorch's default 65536: the
    first steps may overflow and be skipped while S halves to a scale that fits). float32 changes nothing."""

    def __init__(self, name: str = "float32", device: torch.device | str = "cpu", *, init_scale: float = 2.0**16):
        self.name, self.device = check_precision(name), torch.device(device)
        self.dtype = DTYPES[name]
        if self.name == "float16" and self.device.type == "mps":
            what = "needs a gradient scaler, which torch offers on cuda and cpu but not on mps"
            raise advise(ValueError(f"precision='float16' {what}: use precision='bfloat16' or 'float32' on a Mac."),
                         cli=f"--precision float16 {what}: use --precision bfloat16 or float32 on a Mac.")
        self.scalers = ({who: torch.amp.GradScaler(self.device.type, init_scale=init_scale) for who in ("G", "D")}
                        if self.name == "float16" else {})

    def autocast(self) -> contextlib.AbstractContextManager:
        """The forward passes inside run in the 16-bit type where autocast says it is safe."""
        if self.name == "float32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def loss_scale(self, who: str) -> float:
        """S, the factor `who`'s gradients are multiplied by now (1.0 without a scaler)."""
        return self.scalers[who].get_scale() if who in self.scalers else 1.0

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, who: str) -> None:
        """backward(), then the optimizer's step: through `who`'s scaler for float16 (unscale, skip a step
        whose gradients are not finite, update S), plainly otherwise."""
        optimizer.zero_grad(set_to_none=True)
        if who not in self.scalers:
            loss.backward()
            optimizer.step()
            return
        scaler = self.scalers[who]
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    def state_dict(self) -> dict:
        """The scalers' states, {"G": ..., "D": ...} ({} without float16), for the checkpoint."""
        return {who: scaler.state_dict() for who, scaler in self.scalers.items()}

    def load_state_dict(self, state: dict | None) -> None:
        """Put back what state_dict() returned; a checkpoint of another precision has none to give,
        and the scalers then start afresh."""
        for who, scaler in self.scalers.items():
            if state and who in state:
                scaler.load_state_dict(state[who])
