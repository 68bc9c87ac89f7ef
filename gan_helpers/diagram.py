"""Architecture diagrams drawn from the models themselves: one forward pass records every layer's output.

    stages = architecture(G, torch.randn(2, G.latent_dim))    # [Stage(layers, shape), ...]
    draw_architecture(G, torch.randn(2, G.latent_dim), title="G")

A *stage* is one layer with weights (Linear, Conv2d, ConvTranspose2d), or a Flatten or an Upsample, together
with the normalisation and activation layers that follow it; its shape is the tensor that leaves it, without
the batch dimension. The drawing is the chain input -> stage -> tensor -> stage -> ... -> output, each tensor
a box whose height grows with its number of values, so G widens and D narrows on the page as they do in
memory. Nothing is typed by hand, so the picture cannot disagree with the code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

STEP = 2.6   # from one tensor's box to the next, in data units (the boxes are 1.1 wide)
STARTS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d, nn.Flatten, nn.Upsample)   # each begins a new stage


@dataclass(frozen=True)
class Stage:
    """Layers (short names, in order) and the shape of the tensor they produce, without the batch dimension."""
    layers: tuple[str, ...]
    shape: tuple[int, ...]


def _first(value: int | tuple[int, ...]) -> int:
    return value[0] if isinstance(value, tuple) else value   # a kernel of (4, 4) -> 4


def _name(module: nn.Module) -> str:
    spectral = " (SN)" if hasattr(module, "parametrizations") else ""
    if isinstance(module, nn.Linear):
        return f"Linear {module.in_features}→{module.out_features}{spectral}"
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        kind = "ConvT" if isinstance(module, nn.ConvTranspose2d) else "Conv"
        k, s = _first(module.kernel_size), _first(module.stride)
        return f"{kind} {k}×{k}" + (f", stride {s}" if s != 1 else "") + spectral
    if isinstance(module, nn.GroupNorm):
        return "LayerNorm" if module.num_groups == 1 else f"GroupNorm({module.num_groups})"
    if isinstance(module, nn.LeakyReLU):
        return f"LeakyReLU({module.negative_slope:g})"
    return type(module).__name__.replace("BatchNorm1d", "BatchNorm").replace("BatchNorm2d", "BatchNorm")


def _leaves(model: nn.Module) -> list[nn.Module]:
    """The layers that compute: modules without children, and those whose only children are parametrizations
    (a spectrally normalised conv), never the parametrizations themselves."""
    inside = {id(m) for p in model.modules() if hasattr(p, "parametrizations") for m in p.parametrizations.modules()}
    return [m for m in model.modules() if id(m) not in inside
            and all(name == "parametrizations" for name, _ in m.named_children())]


@torch.no_grad()
def architecture(model: nn.Module, *inputs: torch.Tensor) -> list[Stage]:
    """The stages of `model` on `inputs` (one forward pass in eval mode; the model's mode is restored).

    The first Stage is the input (no layers); when the model reshapes its last layer's output (an MLP's G to
    an image, D's (B, 1) logits to (B,)), a last Stage "reshape" gives the shape it returns."""
    calls: list[tuple[nn.Module, tuple[int, ...]]] = []
    hooks = [m.register_forward_hook(lambda m, _i, out: calls.append((m, tuple(out.shape[1:]))))
             for m in _leaves(model)]
    was_training = model.training
    model.eval()
    try:
        out = model(*inputs)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    stages = [Stage((), tuple(inputs[0].shape[1:]))]
    for module, shape in calls:
        if isinstance(module, STARTS) or len(stages) == 1:
            stages.append(Stage((_name(module),), shape))
        else:
            stages[-1] = Stage((*stages[-1].layers, _name(module)), shape)
    if tuple(out.shape[1:]) != stages[-1].shape:
        stages.append(Stage(("reshape",), tuple(out.shape[1:])))
    return stages


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) if shape else "1 number"


def draw_architecture(model: nn.Module, *inputs: torch.Tensor, ax=None, title: str | None = None) -> list[Stage]:
    """Draw the chain of tensors and stages of `model` on `inputs` (see `architecture`) into `ax` (a new
    figure if None); returns the stages."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    stages = architecture(model, *inputs)
    if ax is None:
        _, ax = plt.subplots(figsize=(2.2 * len(stages), 2.4))
    sizes = [math.log2(max(2, math.prod(s.shape))) for s in stages]
    biggest = max(sizes)
    for i, stage in enumerate(stages):
        x, height = STEP * i, 0.35 + 0.65 * sizes[i] / biggest       # each tensor: a box, taller with more values
        ax.add_patch(FancyBboxPatch((x - 0.55, -height / 2), 1.1, height, boxstyle="round,pad=0.02",
                                    facecolor="#cfe2f3", edgecolor="#3d85c6"))
        ax.text(x, 0, _shape_text(stage.shape), ha="center", va="center", fontsize=8)
        if i:
            ax.add_patch(FancyArrowPatch((x - STEP + 0.57, 0), (x - 0.57, 0), arrowstyle="-|>", mutation_scale=10,
                                         color="grey"))
            ax.text(x - STEP / 2, 0.06, "\n".join(stage.layers), ha="center", va="bottom", fontsize=7, color="#444")
    ax.text(0, -0.62, "input", ha="center", va="top", fontsize=7, color="#444")
    ax.text(STEP * (len(stages) - 1), -0.62, "output", ha="center", va="top", fontsize=7, color="#444")
    ax.set(xlim=(-0.8, STEP * (len(stages) - 1) + 0.8), ylim=(-0.8, 1.15), title=title or type(model).__name__)
    ax.set_axis_off()
    return stages
