"""FID with the standard Inception-v3 features, for CIFAR-10, anime faces and other photos.

Published FIDs use one particular network: TensorFlow's Inception-v3 graph of 2015-12-05, as
converted to PyTorch by pytorch-fid (pt_inception-2015-12-05-6726825d.pth) and by torch-fidelity
(weights-inception-2015-12-05-6726825d.pth), about 91 MB; torch-fidelity's model is derived
from pytorch-fid's, with the same layer names. Other Inception weights (torchvision's, for
instance) give other numbers. This module runs torch-fidelity's model (`pip install
torch-fidelity`) on that file, found in this order:

    1. the `weights` argument (a path to the .pth file)
    2. the environment variable GAN_INCEPTION_WEIGHTS
    3. torch's hub cache, TORCH_HUB_DIR/checkpoints/ (where a first download puts it)
    4. a download from FID_WEIGHTS_URL into that cache (unless download=False)

Offline, put the file at one of those places; `InceptionWeightsError` says which.
Inception needs about 6 GFLOPs per image: use a GPU for thousands of images.
Images: (N, 3 or 1, H, W), uint8 in [0, 255] or float in [-1, 1]; any size (resized to 299).
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from ..data.files import env_path
from ._images import as_uint8, check_images
from .frechet import FeatureStats, feature_stats, frechet_distance

FID_WEIGHTS_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                   "weights-inception-2015-12-05-6726825d.pth")
FID_WEIGHTS_URL_PYTORCH_FID = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                               "pt_inception-2015-12-05-6726825d.pth")
WEIGHTS_NAMES = ("weights-inception-2015-12-05-6726825d.pth", "pt_inception-2015-12-05-6726825d.pth")
WEIGHTS_ENV = "GAN_INCEPTION_WEIGHTS"


class InceptionWeightsError(FileNotFoundError):
    """The FID Inception weights are neither on disk nor downloadable."""


def _cache_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def find_inception_weights(weights: str | Path | None = None, *, download: bool = True,
                           url: str = FID_WEIGHTS_URL) -> Path:
    """Path of the FID Inception weights, downloading them from `url` (a mirror, if you have one) into
    torch's hub cache if needed and allowed (see the module doc)."""
    if weights is not None or os.environ.get(WEIGHTS_ENV):
        path = Path(weights).expanduser() if weights is not None else env_path(WEIGHTS_ENV)
        if path.is_file():
            return path
        source = "weights=" if weights is not None else f"{WEIGHTS_ENV}="
        raise InceptionWeightsError(f"{source}{str(path)!r} is not a file. " + _advice())
    for name in WEIGHTS_NAMES:
        if (_cache_dir() / name).is_file():
            return _cache_dir() / name
    if not download:
        raise InceptionWeightsError("The FID Inception weights are not in the cache (download=False). " + _advice())
    target = _cache_dir() / WEIGHTS_NAMES[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url, str(target), progress=True)
    except Exception as err:  # noqa: BLE001 - offline, proxy, HTTP errors: all end in the same advice
        raise InceptionWeightsError(
            f"Could not download the FID Inception weights from {url} ({type(err).__name__}: {err}). "
            + _advice()) from err
    return target


def _advice() -> str:
    return (f"Inception FID needs the file {WEIGHTS_NAMES[0]} (91 MB; pytorch-fid's copy of these weights, "
            f"{WEIGHTS_NAMES[1]}, also works). On a machine with internet download {FID_WEIGHTS_URL} "
            f"(or {FID_WEIGHTS_URL_PYTORCH_FID}), then either put it into {_cache_dir()}, set "
            f"{WEIGHTS_ENV}=/path/to/the/file, or pass weights='/path/to/the/file'.")


class InceptionFeatures(nn.Module):
    """The standard FID Inception-v3 (torch-fidelity's port): images -> 2048 pool features (N, 2048)."""

    num_features = 2048

    def __init__(self, weights: str | Path | None = None, *, download: bool = True):
        super().__init__()
        try:
            from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
        except ImportError as err:
            raise ImportError("Inception FID needs torch-fidelity: pip install torch-fidelity") from err
        path = find_inception_weights(weights, download=download)
        torch.load(path, map_location="cpu", weights_only=True)  # refuse a file that would run code ...
        self.net = FeatureExtractorInceptionV3(   # ... before torch-fidelity loads it with weights_only=False
            "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path))
        self.weights_path = path

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = as_uint8(images)                                  # torch-fidelity wants uint8 RGB
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x  # grayscale -> RGB
        return self.net(x)[0]


@lru_cache(maxsize=2)
def _load(weights: str | None, device: str) -> InceptionFeatures:
    return InceptionFeatures(weights).to(device)


@torch.no_grad()
def inception_features(images: torch.Tensor, *, weights: str | Path | None = None,
                       device: str | torch.device = "cpu", batch_size: int = 50) -> torch.Tensor:
    """2048-d Inception features (N, 2048), float32 on the CPU, of images (N, 3 or 1, H, W)."""
    check_images(images)
    if images.shape[1] not in (1, 3):
        raise ValueError(f"Inception needs 1 or 3 channels, got {images.shape[1]}.")
    model = _load(None if weights is None else str(weights), str(torch.device(device)))
    return torch.cat([model(images[i:i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)])


def inception_fid(real: torch.Tensor | FeatureStats, fake: torch.Tensor, *, weights: str | Path | None = None,
                  device: str | torch.device = "cpu", batch_size: int = 50) -> float:
    """Standard FID between real images (or their FeatureStats) and fake images."""
    kwargs = dict(weights=weights, device=device, batch_size=batch_size)
    reference = real if isinstance(real, FeatureStats) else feature_stats(inception_features(real, **kwargs))
    return frechet_distance(reference, inception_features(fake, **kwargs))


class InceptionFID:
    """A metric for `MetricsCallback`: {'inception_fid': FID of the images against `real`}.
    The real images' statistics are computed at the first call and kept."""

    def __init__(self, real: torch.Tensor, *, weights: str | Path | None = None, batch_size: int = 50):
        check_images(real)
        self.real, self.weights, self.batch_size = real, weights, batch_size
        self.reference: FeatureStats | None = None

    def __call__(self, images: torch.Tensor, *, device: str | torch.device = "cpu") -> dict[str, float]:
        kwargs = dict(weights=self.weights, device=device, batch_size=self.batch_size)
        if self.reference is None:
            self.reference = feature_stats(inception_features(self.real, **kwargs))
        return {"inception_fid": inception_fid(self.reference, images, **kwargs)}
