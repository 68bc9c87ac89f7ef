"""MNIST-M-style digits, and CycleGAN's two unpaired digit domains.

Ganin and Lempitsky ("Unsupervised domain adaptation by backpropagation", ICML 2015) made MNIST-M by
blending each MNIST digit over a random patch of a colour photo, per channel:

    out = |patch - digit|        (uint8 values; the stroke inverts the photo's colours under it)

The photos here are CIFAR-10 images where `load_cifar10` finds them, else procedural textures (smooth
colour blobs and stripes), so that the chapter runs offline on any machine; `mnist_m_backgrounds` says
which it used. The shipped MNIST classifier still reads the class of a well-translated digit.

    digits_a, labels_a, digits_b, labels_b, source = mnist_m_domains(limit=4000)
    # uint8 (2000, 1, 28, 28) MNIST, int64 (2000,); uint8 (2000, 3, 28, 28) MNIST-M-style, int64; "procedural"
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from .cifar10 import CIFAR10NotFoundError, load_cifar10
from .mnist import load_mnist

SIZE = 28                 # MNIST's digits are 28 x 28
CIFAR10, PROCEDURAL = "CIFAR-10", "procedural"   # the two background sources mnist_m_backgrounds names
MAX_BACKGROUNDS = 5000    # mnist_m_domains: backgrounds to crop from (each is cropped at random places)


def blend_digits(digits: torch.Tensor, backgrounds: torch.Tensor, *, seed: int) -> torch.Tensor:
    """MNIST-M's blend: per digit, a random 28 x 28 crop of a random background, then |patch - digit|.

    digits:      uint8 (N, 1, 28, 28), white strokes on black (MNIST).
    backgrounds: uint8 (M, 3, H, W), H and W at least 28.
    seed:        draws the backgrounds and the crops from its own generator (torch's global one is untouched).
    Returns uint8 (N, 3, 28, 28), the same for the same seed.
    """
    if digits.dtype != torch.uint8 or digits.ndim != 4 or tuple(digits.shape[1:]) != (1, SIZE, SIZE):
        raise ValueError(f"blend_digits wants digits uint8 (N, 1, 28, 28), got {digits.dtype} {tuple(digits.shape)}.")
    if backgrounds.dtype != torch.uint8 or backgrounds.ndim != 4 or backgrounds.shape[1] != 3 or len(backgrounds) == 0 \
            or min(backgrounds.shape[2:]) < SIZE:
        raise ValueError(f"blend_digits wants backgrounds uint8 (M, 3, H, W) with M >= 1 and H, W >= 28, got "
                         f"{backgrounds.dtype} {tuple(backgrounds.shape)}.")
    g = torch.Generator().manual_seed(seed)
    n, (height, width) = len(digits), backgrounds.shape[2:]
    which = torch.randint(len(backgrounds), (n,), generator=g)
    top = torch.randint(height - SIZE + 1, (n,), generator=g)
    left = torch.randint(width - SIZE + 1, (n,), generator=g)
    rows = (top[:, None] + torch.arange(SIZE))[:, None, :, None]      # (N, 1, 28, 1)
    cols = (left[:, None] + torch.arange(SIZE))[:, None, None, :]     # (N, 1, 1, 28)
    channels = torch.arange(3)[None, :, None, None]                   # (1, 3, 1, 1)
    backgrounds = backgrounds.to(digits.device)
    patch = backgrounds[which.to(digits.device)[:, None, None, None], channels, rows, cols]   # (N, 3, 28, 28)
    return (patch.short() - digits.short()).abs().to(torch.uint8)     # the digit is broadcast over R, G, B


def procedural_backgrounds(n: int, *, size: int = 32, seed: int) -> torch.Tensor:
    """n colourful textures, uint8 (n, 3, size, size), for machines without CIFAR-10: colour blobs at three
    scales, the finer fainter (random noise, upsampled), plus stripes of a random colour, direction and
    frequency; each texture stretched to the range 0..255. The same textures for the same seed."""
    if n < 1 or size < SIZE:
        raise ValueError(f"procedural_backgrounds wants n >= 1 and size >= {SIZE}, got n={n}, size={size}.")
    g = torch.Generator().manual_seed(seed)
    blobs = sum(F.interpolate(torch.rand(n, 3, cells, cells, generator=g), size=(size, size), mode="bicubic",
                              align_corners=False) * 3 / cells for cells in (3, 6, 12))   # (n, 3, size, size)
    line = torch.linspace(-1, 1, size)
    ys, xs = line[None, :, None], line[None, None, :]                                    # (1, H, 1), (1, 1, W)
    angle, phase = (torch.rand(2, n, 1, 1, generator=g) * 6.2832).unbind()
    frequency = 2 + 10 * torch.rand(n, 1, 1, generator=g)
    stripes = torch.sin(frequency * (xs * angle.cos() + ys * angle.sin()) + phase)       # (n, H, W)
    colour = torch.rand(n, 3, 1, 1, generator=g) * 2 - 1
    x = blobs + colour * stripes[:, None] * torch.rand(n, 1, 1, 1, generator=g)          # (n, 3, H, W)
    low, high = x.amin(dim=(1, 2, 3), keepdim=True), x.amax(dim=(1, 2, 3), keepdim=True)
    return ((x - low) / (high - low) * 255).round().to(torch.uint8)


def mnist_m_backgrounds(n: int, *, root: str | Path | None = None, seed: int = 0,
                        download: bool = False) -> tuple[torch.Tensor, str]:
    """n backgrounds for blend_digits and the name of their source: (uint8 (n, 3, 32, 32), "CIFAR-10") when
    load_cifar10(root) finds CIFAR-10's training files, else (procedural_backgrounds(n, seed=seed), "procedural").

    root:     the folder that holds `cifar-10-batches-py/` (default: load_cifar10's, the repository's `data/`).
    download: let load_cifar10 download CIFAR-10 (170 MB) when it is missing; off by default, to run offline.
    The CIFAR-10 images are drawn at random (seed), without repeats while n is at most the number found.
    """
    try:
        images, _ = load_cifar10(root, train=True, download=download)
    except CIFAR10NotFoundError:
        return procedural_backgrounds(n, seed=seed), PROCEDURAL
    g = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(images), generator=g)[:n] if n <= len(images) else \
        torch.randint(len(images), (n,), generator=g)
    return images[pick], CIFAR10


def mnist_m_domains(*, root: str | Path | None = None, limit: int | None = None, seed: int = 0,
                    cifar_root: str | Path | None = None, train: bool = True, rgb: bool = False
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, str]:
    """CycleGAN's two unpaired domains from MNIST's training set (or its test set: train=False), split in two
    disjoint halves: (digits_a, labels_a, digits_b, labels_b, background_source).

    Domain A, the first half: MNIST as it is, uint8 (N/2, 1, 28, 28), or with rgb=True the same grey digits as
    (N/2, 3, 28, 28), so that both domains have three channels (CycleGAN's identity loss needs that). Domain B,
    the second half, blended into
    MNIST-M-style digits, uint8 (N/2, 3, 28, 28), on backgrounds from `background_source` ("CIFAR-10" or
    "procedural", see mnist_m_backgrounds). No digit is in both domains, so no pair exists to copy.
    root:       the folder that holds `MNIST/raw/` (load_mnist's default when None); limit: use the first
                `limit` MNIST images (fast mode). cifar_root: where to look for CIFAR-10 (default: root).
    seed:       the backgrounds and crops (torch's global generator is untouched).
    """
    images, labels = load_mnist(root, train=train, limit=limit)
    half = len(images) // 2
    if half == 0:
        raise ValueError(f"mnist_m_domains needs at least 2 MNIST images to split in two, got limit={limit}.")
    backgrounds, source = mnist_m_backgrounds(min(half, MAX_BACKGROUNDS), root=cifar_root or root, seed=seed)
    digits_b = blend_digits(images[half:2 * half], backgrounds, seed=seed)
    digits_a = images[:half].expand(-1, 3, -1, -1).contiguous() if rgb else images[:half]
    return digits_a, labels[:half], digits_b, labels[half:2 * half], source
