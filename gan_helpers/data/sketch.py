"""Inputs for pix2pix on the faces: a line drawing, or a grayscale copy, computed from each colour face.

The line drawing is XDoG, the eXtended Difference of Gaussians (Winnemöller, Kyprianidis and Olsen,
"XDoG: An eXtended difference-of-Gaussians compendium", Computers & Graphics 36(6), 2012), on the
luminance L in [0, 1]:

    S = (1 + p) * G_sigma(L) - p * G_{k sigma}(L)      a sharpened blur: L plus p times the edges (DoG)
    T = 1                          where S >= eps       paper white
    T = 1 + tanh(phi * (S - eps))  where S <  eps       ink, with a soft edge of width ~ 1 / phi

A flat area keeps S = L: white where it is lighter than eps, inked where darker (black hair is filled,
as a pen artist fills it). Next to an edge the DoG term pushes the dark side below eps: a line. On the
64 px faces XDoG draws thin lines for eyes, mouths and hair strands; a thresholded Sobel magnitude
draws thick double outlines and inks the shading.

    x_input, x_target = sketch_pairs(faces)          # uint8 (N, 1, 64, 64) drawings, the faces themselves
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LUMA = (0.299, 0.587, 0.114)   # ITU-R BT.601 weights of R, G, B
CHUNK = 2048                   # images per convolution: bounds the memory, not the result


def _check(images: torch.Tensor, name: str) -> None:
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"{name} wants uint8 images of shape (N, 3, H, W) or (N, 1, H, W), got "
                         f"{images.dtype} {tuple(images.shape)}.")


def _luminance(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3 or 1, H, W) -> float32 (N, 1, H, W) in [0, 1]."""
    x = images.float().div(255)
    if x.shape[1] == 1:
        return x
    weights = torch.tensor(LUMA, device=x.device).view(1, 3, 1, 1)
    return (x * weights).sum(dim=1, keepdim=True)


def grayscale(images: torch.Tensor) -> torch.Tensor:
    """ITU-R BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B of uint8 (N, 3, H, W) images, as uint8 (N, 1, H, W)."""
    _check(images, "grayscale")
    return _luminance(images).mul(255).round().to(torch.uint8)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur float (N, 1, H, W) with a Gaussian of standard deviation `sigma` pixels (two 1-D passes, taps out to
    3 sigma); the border pixels are repeated outwards, so the image's frame draws no edge."""
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-t ** 2 / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    x = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1))      # along the rows
    return F.conv2d(x, kernel.view(1, 1, -1, 1))   # along the columns


def sketch(images: torch.Tensor, *, sigma: float = 0.8, k: float = 1.6, p: float = 20.0, eps: float = 0.3,
           phi: float = 10.0) -> torch.Tensor:
    """A line drawing of each image by XDoG (see the module's docstring): dark lines on white.

    images:  uint8 (N, 3, H, W) colour or (N, 1, H, W) gray.
    sigma:   the finer blur in pixels (the line width grows with it); k: ratio of the coarser blur.
    p:       sharpening, the weight of the edges; eps: the ink threshold on S; phi: softness (larger = harder).
    Returns uint8 (N, 1, H, W), 255 = paper. Deterministic: the same images give the same drawing.
    """
    _check(images, "sketch")
    if sigma <= 0 or k <= 1:
        raise ValueError(f"sketch wants sigma > 0 and k > 1, got sigma={sigma}, k={k}.")
    drawings = []
    for chunk in images.split(CHUNK):
        L = _luminance(chunk)                                                # (n, 1, H, W) in [0, 1]
        S = (1 + p) * gaussian_blur(L, sigma) - p * gaussian_blur(L, k * sigma)
        T = torch.where(S >= eps, torch.ones_like(S), 1 + torch.tanh(phi * (S - eps)))
        drawings.append(T.clamp(0, 1).mul(255).round().to(torch.uint8))
    return torch.cat(drawings)


def sketch_pairs(faces: torch.Tensor, *, kind: str = "sketch") -> tuple[torch.Tensor, torch.Tensor]:
    """pix2pix's pairs from colour faces uint8 (N, 3, H, W): (inputs uint8 (N, 1, H, W), targets = faces).

    kind: "sketch" (XDoG line drawings, `sketch`) or "grayscale" (BT.601 luma, `grayscale`).
    """
    makers = {"sketch": sketch, "grayscale": grayscale}
    if kind not in makers:
        raise ValueError(f"kind must be one of {', '.join(map(repr, makers))}, got {kind!r}.")
    if faces.ndim != 4 or faces.shape[1] != 3:
        raise ValueError(f"sketch_pairs wants colour faces of shape (N, 3, H, W), got {tuple(faces.shape)}.")
    return makers[kind](faces), faces
