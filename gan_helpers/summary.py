"""Layer-by-layer tables of a model, via torchsummary."""
from __future__ import annotations

import copy
from collections.abc import Sequence

from torch import nn


def summary(model: nn.Module, input_shape: Sequence[int]) -> None:
    """Print torchsummary's table (output shape and parameters of each layer) for one input
    of shape `input_shape` (without the batch dimension), e.g. (128,) for G, (1, 28, 28) for D.

    torchsummary builds its test input on CUDA unless told otherwise, and runs the model in
    train mode (which would update BatchNorm statistics). So this runs it on a copy of the
    model, on the model's own device (CUDA or CPU; an MPS model is summarised on the CPU).
    """
    from torchsummary import summary as torchsummary_summary

    param = next(model.parameters(), None)
    device = "cuda" if param is not None and param.device.type == "cuda" else "cpu"
    twin = copy.deepcopy(model).to(device)
    torchsummary_summary(twin, tuple(input_shape), device=device)
