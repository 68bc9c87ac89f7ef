"""Pictures: image grids, the History's curves, and an animated GIF of training.

Images may be float tensors in [-1, 1] (what G makes and the data is scaled to) or uint8
tensors in [0, 255] (what History.samples holds), with 1 or 3 channels, shape (N, C, H, W).
"""
from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from PIL import Image

from .data.files import atomic_write
from .history import History

if TYPE_CHECKING:                      # matplotlib is imported by the functions that draw (a quick package import)
    from matplotlib.figure import Figure


def image_grid(images: torch.Tensor, *, nrow: int = 8, padding: int = 2) -> torch.Tensor:
    """Tile images into one uint8 picture of shape (H, W, 3), ready for imshow or PIL."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"Expected images of shape (N, 1 or 3, H, W), got {tuple(images.shape)}.")
    images = images.detach().cpu()
    unit = images.float() / 255 if images.dtype == torch.uint8 else (images.float().clamp(-1, 1) + 1) / 2
    grid = tile(unit, nrow=nrow, padding=padding, pad_value=1.0)       # (3, H', W') in [0, 1]
    return (grid * 255).round().to(torch.uint8).permute(1, 2, 0)


def tile(images: torch.Tensor, *, nrow: int = 8, padding: int = 2, pad_value: float = 0.0) -> torch.Tensor:
    """Images (N, 1 or 3, H, W) side by side, `nrow` to a row, `padding` pixels of `pad_value` around each:
    one (3, H', W') tensor. The layout of torchvision's make_grid (one image: itself, unpadded), without
    importing torchvision, whose first import takes seconds."""
    n, _, h, w = images.shape
    images = images.expand(-1, 3, -1, -1)                   # grey (N, 1, H, W) -> (N, 3, H, W); colour unchanged
    if n == 1:
        return images[0]
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    grid = images.new_full((3, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value)
    for k, image in enumerate(images):
        top, left = padding + (k // cols) * (h + padding), padding + (k % cols) * (w + padding)
        grid[:, top:top + h, left:left + w] = image
    return grid


def show_grid(images: torch.Tensor, *, nrow: int = 8, title: str | None = None, ax=None):
    """Show images as a grid in a matplotlib axes (a new figure unless `ax` is given)."""
    if ax is None:
        import matplotlib.pyplot as plt

        rows = -(-len(images) // nrow)
        _, ax = plt.subplots(figsize=(min(nrow, len(images)) * 0.9, rows * 0.9))
    ax.imshow(image_grid(images, nrow=nrow).numpy())
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def save_grid(images: torch.Tensor, path: str | Path, *, nrow: int = 8) -> Path:
    """Save images as one grid picture (PNG, JPEG, ... by the file's extension)."""
    form = image_format(path)
    picture = Image.fromarray(image_grid(images, nrow=nrow).numpy())
    return atomic_write(path, lambda f: picture.save(f, format=form))


def image_format(path: str | Path) -> str:
    """The Pillow format that `path`'s extension names ("PNG" for .png); a ValueError when Pillow cannot
    write an RGB picture in it (.txt, .psd, .xbm, ...)."""
    suffix = Path(path).suffix.lower()
    form = Image.registered_extensions().get(suffix)
    try:
        Image.new("RGB", (1, 1)).save(io.BytesIO(), format=form)     # a 1-pixel try: a KeyError or OSError
    except (KeyError, OSError, ValueError):                           # when Pillow cannot write it
        raise ValueError(f"Cannot write {path} as a picture: Pillow does not write RGB images as "
                         f"'{suffix or 'no extension'}'. Name a .png or .jpg file.") from None
    return form


def running_mean(values: Sequence[float], window: int) -> list[float]:
    """Running mean over `window` steps, so per-step noise does not hide the trend."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


def plot_history(history: History, *, path: str | Path | None = None, smooth: int | None = None,
                 fig: Figure | None = None, steps_per_epoch: int | None = None):
    """Plot both losses and D's mean outputs against epochs, and below them any recorded metrics
    (MetricsCallback), one panel each; save to `path` if given.

    fig:             draw into this Figure (cleared; its width kept) instead of a new pyplot figure:
                     `LiveView` redraws one Figure this way.
    steps_per_epoch: for the x axis (default: the first epoch's steps; before any epoch has ended
                     and without it, the x axis counts steps).
    """
    steps_per_epoch = steps_per_epoch or (history.epoch_ends[0] if history.epoch_ends else None)
    window = smooth or max(1, (steps_per_epoch or history.steps) // 10)
    x = [(i + 1) / (steps_per_epoch or 1) for i in range(history.steps)]
    x_label = "epoch" if steps_per_epoch else "step"
    names = history.metric_names
    rows, cols = (2, math.lcm(2, len(names))) if names else (1, 2)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(11, 3.5 * rows))
    else:
        fig.clear()
        fig.set_size_inches(fig.get_figwidth(), fig.get_figwidth() * 3.5 / 11 * rows)
    grid = fig.add_gridspec(rows, cols)
    ax_loss, ax_d = fig.add_subplot(grid[0, :cols // 2]), fig.add_subplot(grid[0, cols // 2:])
    for name in ("loss_D", "loss_G"):
        ax_loss.plot(x, running_mean(getattr(history, name), window), label=name)
    ax_loss.set(xlabel=x_label, ylabel="loss", title=f"Losses (running mean of {window} steps)")
    for name, label in (("D_x", "D(x_real)"), ("D_G_z", "D(G(z))")):
        ax_d.plot(x, running_mean(getattr(history, name), window), label=label)
    ax_d.axhline(0.5, color="gray", lw=0.8, ls="--")
    ax_d.set(xlabel=x_label, ylabel="mean probability 'real'", ylim=(0, 1), title="Discriminator outputs")
    for ax in (ax_loss, ax_d):
        ax.legend()
    width = cols // max(len(names), 1)
    for i, name in enumerate(names):  # second row: one panel per metric, against the same epochs
        ax = fig.add_subplot(grid[1, i * width:(i + 1) * width])
        ax.plot(*history.metric(name), "o-")
        ax.set(xlabel="epoch", title=name)
    fig.tight_layout()
    if path is not None:
        form = Path(path).suffix.lstrip(".").lower() or "png"
        atomic_write(path, lambda f: fig.savefig(f, format=form, dpi=100))
    return fig


def save_gif(frames: Sequence[torch.Tensor], path: str | Path, *, nrow: int = 8, seconds_per_frame: float = 0.4,
             hold_last: float = 2.0) -> Path:
    """Save one grid per frame (e.g. History.samples) as a looping animated GIF."""
    if not frames:
        raise ValueError("save_gif got no frames: train for at least one epoch first.")
    pictures = [Image.fromarray(image_grid(f, nrow=nrow).numpy()) for f in frames]
    durations = [int(seconds_per_frame * 1000)] * (len(pictures) - 1) + [int(hold_last * 1000)]
    return atomic_write(path, lambda f: pictures[0].save(f, format="GIF", save_all=True, append_images=pictures[1:],
                                                          duration=durations, loop=0))
