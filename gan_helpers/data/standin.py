"""Stand-in pictures for fast mode where a data set is absent: coloured shapes, drawn on the fly.

Not a data set: a small, deterministic set of pictures of the right size and type, so that the fast
mode of the CIFAR-10 and anime-face chapters (and the tests) runs on any machine, without a download.
Class k is one kind of shape (SHAPES[k]) in a random colour, place and size, on a shaded background of
another colour, with a little noise; every picture is stretched to use the whole range 0..255.

    images, labels = standin_images(1024, size=32)           # uint8 (1024, 3, 32, 32), int64 (1024,)
    folder = write_standin_folder(tmp / "faces", n=256, size=64)   # the same as PNG files, for load_image_folder
"""
from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from .files import atomic_write

SHAPES = ("disc", "square", "triangle", "ring", "cross", "diamond", "horizontal bar", "vertical bar",
          "two discs", "frame")


def _masks(dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """Every shape's mask, (len(SHAPES), N, H, W), in coordinates scaled by each picture's shape size."""
    r2, ax, ay = dx ** 2 + dy ** 2, dx.abs(), dy.abs()
    box = torch.maximum(ax, ay)
    return torch.stack([
        r2 < 1,                                                   # disc
        box < 0.8,                                                # square
        (ay < 0.8) & (ax < (dy + 0.8) * 0.6),                     # triangle, apex up
        (r2 < 1) & (r2 > 0.35),                                   # ring
        ((ax < 0.25) & (ay < 0.9)) | ((ay < 0.25) & (ax < 0.9)),  # cross
        ax + ay < 1,                                              # diamond
        (ay < 0.3) & (ax < 1),                                    # horizontal bar
        (ax < 0.3) & (ay < 1),                                    # vertical bar
        ((dx + 0.5) ** 2 + dy ** 2 < 0.2) | ((dx - 0.5) ** 2 + dy ** 2 < 0.2),   # two discs
        (box < 0.9) & (box > 0.6),                                # frame
    ])


def standin_images(n: int, *, size: int, seed: int = 0, num_classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """n pictures, uint8 (n, 3, size, size), and their classes, int64 (n,): 0, 1, ..., num_classes - 1, 0, ...
    Picture i of class k shows SHAPES[k]. The same pictures for the same seed, on every machine."""
    if not 1 <= num_classes <= len(SHAPES):
        raise ValueError(f"num_classes must be between 1 and {len(SHAPES)} (one shape per class), got {num_classes}.")
    if n < 1 or size < 8:
        raise ValueError(f"Ask for at least one picture of at least 8 pixels, got n={n}, size={size}.")
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % num_classes                                        # (n,)
    line = torch.linspace(-1, 1, size)
    ys, xs = line[None, :, None], line[None, None, :]                             # (1, H, 1), (1, 1, W)
    centre = (torch.rand(2, n, 1, 1, generator=g) - 0.5) * 0.6                    # shape centres in [-0.3, 0.3]
    scale = 0.35 + 0.25 * torch.rand(n, 1, 1, generator=g)                        # shape sizes
    masks = _masks((xs - centre[0]) / scale, (ys - centre[1]) / scale)            # (shapes, n, H, W)
    mask = masks[labels, torch.arange(n)][:, None]                                # (n, 1, H, W)
    background = torch.rand(n, 3, 1, 1, generator=g)
    foreground = (background + 0.35 + 0.3 * torch.rand(n, 3, 1, 1, generator=g)) % 1   # another colour
    shade = 0.8 + 0.2 * ys[None]                                                  # (1, 1, H, 1): lighter below
    x = torch.where(mask, foreground, background * shade)                         # (n, 3, H, W)
    x = x + 0.03 * torch.randn(x.shape, generator=g)
    low, high = x.amin(dim=(1, 2, 3), keepdim=True), x.amax(dim=(1, 2, 3), keepdim=True)
    return ((x - low) / (high - low) * 255).round().to(torch.uint8), labels


def write_standin_folder(folder: str | Path, *, n: int, size: int, seed: int = 0) -> Path:
    """standin_images(n, size=size, seed=seed) as PNG files in `folder` (class_K/NNNN.png), a folder of
    images as load_image_folder reads; a folder already holding them is left as it is."""
    folder = Path(folder)
    if len(list(folder.glob("class_*/*.png"))) == n:
        return folder
    images, labels = standin_images(n, size=size, seed=seed)
    for i, (image, label) in enumerate(zip(images, labels.tolist(), strict=True)):
        picture = Image.fromarray(image.permute(1, 2, 0).numpy())
        atomic_write(folder / f"class_{label}" / f"{i:04d}.png", lambda f, p=picture: p.save(f, format="PNG"))
    return folder
