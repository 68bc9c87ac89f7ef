"""A small CNN that embeds 64x64 anime faces, shipped with trained weights so the faces metrics work offline.

Inception FID needs Inception-v3's weights, which an offline machine cannot download, and Inception
was trained on photos, not drawings. This network is the course's own feature extractor for the
faces: `scripts/train_faces_encoder.py` trains it self-supervised (SimCLR, Chen et al. 2020) on the
course's anime faces. Two random crops of the same face must map close together, crops of other
faces far apart, so the features describe what a face looks like (shape, hair, eyes, colours).

Its augmentations are geometric only (random resized crops, flips): no colour jitter, grey scale or
blur, which SimCLR uses for photos. Those would teach the features to ignore colour and sharpness,
exactly what the metric must see in a generator's faces (a colour cast, blur, noise).

    x (B, 3, 64, 64) in [-1, 1]
      -> Conv 3x3 stride 2, 32, BN, ReLU     (B, 32, 32, 32)
      -> Conv 3x3 stride 2, 64, BN, ReLU     (B, 64, 16, 16)
      -> Conv 3x3 stride 2, 128, BN, ReLU    (B, 128, 8, 8)
      -> Conv 3x3 stride 2, 256, BN, ReLU    (B, 256, 4, 4)
      -> mean over the 4 x 4 positions       (B, 256)   <- features

About 390,000 weights, shipped as float16 (0.8 MB). The numbers it gives are the course's own:
they are not comparable with the Inception FIDs of papers, only with each other (same network,
same numbers of images).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "faces_encoder.pt"
WIDTHS = (32, 64, 128, 256)


class FacesEncoder(nn.Module):
    """Faces in [-1, 1], (B, 3, 64, 64) -> 256 features each; `forward` is the features."""

    num_features = WIDTHS[-1]

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for width in WIDTHS:           # each block halves the side: 64 -> 32 -> 16 -> 8 -> 4
            layers += [nn.Conv2d(c_in, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            c_in = width
        self.body = nn.Sequential(*layers)   # (B, 256, 4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).mean((2, 3))     # (B, 256, 4, 4) -> (B, 256)


class FacesEncoderWeightsError(FileNotFoundError):
    """The shipped faces encoder weights are missing or unreadable."""


@lru_cache(maxsize=None)
def _load(device: str) -> FacesEncoder:
    if not WEIGHTS.is_file():
        raise FacesEncoderWeightsError(
            f"The faces encoder weights {WEIGHTS} are missing. They ship with gan_helpers; in a checkout without "
            "them, run `python scripts/train_faces_encoder.py --data FOLDER_OF_FACES` to write them.")
    try:
        state = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
        with torch.random.fork_rng(devices=[]):   # keep the layers' random init out of a training run's draws
            model = FacesEncoder()
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except Exception as err:  # noqa: BLE001 - damaged file or other architecture: the same advice
        raise FacesEncoderWeightsError(f"Could not load {WEIGHTS} ({type(err).__name__}: {err}). Rewrite it with "
                                       "`python scripts/train_faces_encoder.py`.") from err
    return model.requires_grad_(False).eval().to(device)


def load_faces_encoder(device: str | torch.device = "cpu") -> FacesEncoder:
    """The trained encoder, in eval mode and frozen, on `device` (loaded once per device and shared)."""
    return _load(str(torch.device(device)))


@torch.no_grad()
def embed_faces(images: torch.Tensor, *, device: str | torch.device = "cpu", batch_size: int = 500) -> torch.Tensor:
    """Features (N, 256), float32 on the CPU, of RGB images (N, 3, H, W), uint8 in [0, 255] or float in
    [-1, 1]. Images of another side than 64 are resized to 64 x 64 (bilinear, antialiased) first."""
    import torch.nn.functional as F

    from ._images import as_unit_range, check_images

    check_images(images, what="face images")
    if images.shape[1] != 3:
        raise ValueError(f"face images must be RGB, (N, 3, H, W); got {tuple(images.shape)}.")
    model = load_faces_encoder(device)
    features = []
    for i in range(0, len(images), batch_size):
        x = as_unit_range(images[i:i + batch_size]).to(device)
        if x.shape[-2:] != (64, 64):
            x = F.interpolate(x, size=(64, 64), mode="bilinear", antialias=True, align_corners=False).clamp(-1, 1)
        features.append(model(x).float().cpu())
    return torch.cat(features)
