"""Faces metrics from the shipped faces encoder: FID, KID and precision/recall of generated faces.

    faces_metrics(images, reference)   {'faces_fid', 'faces_kid', 'faces_kid_std', 'faces_precision',
                                       'faces_recall', 'n_images'} of `images` against real faces

Everything is measured in the 256 features of `FacesEncoder` (faces_encoder.py), a small network the
course trained self-supervised on its anime faces. These numbers are the course's own: they are NOT
comparable with the Inception FIDs in papers, only with each other, computed with the same encoder and
the same numbers of images (FID, and precision/recall, move with the number of images; KID hardly does).

`reference` is real faces as uint8 images (N, 3, S, S), or their features (N, 256) from `embed_faces`
(compute them once and pass them in for repeated measurements). When it is None, the faces are
loaded from the anime-faces folder of `gan_helpers.data.default_data_root()` (where notebook 04 and
the anime presets keep them). Real faces larger than the generated ones are first resized to the
generated side (a 32 px G is compared with 32 px faces), then both go to 64 px for the encoder.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ._images import as_uint8, check_images
from .faces_encoder import embed_faces
from .frechet import frechet_distance
from .kid import kernel_inception_distance
from .precision_recall import precision_recall


def default_faces(limit: int | None = None) -> torch.Tensor:
    """The course's real anime faces, uint8 (N, 3, 64, 64), from data/anime_faces (see the module doc)."""
    from ..data import default_data_root, load_image_folder

    folder = default_data_root() / "anime_faces"
    if not folder.is_dir():
        raise FileNotFoundError(f"faces_metrics compares with real faces, and {folder} does not exist. Pass "
                                "reference=<uint8 faces (N, 3, 64, 64)>, or put the faces there (notebook 04 "
                                "downloads them).")
    images = load_image_folder(folder, size=64, progress=False).images
    return images[:limit] if limit else images


def resize_faces(images: torch.Tensor, side: int) -> torch.Tensor:
    """uint8 faces resized to side x side (bilinear, antialiased when shrinking); unchanged at that side."""
    images = as_uint8(images)
    if images.shape[-1] == side:
        return images
    x = F.interpolate(images.float(), size=(side, side), mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8)


def faces_metrics(images: torch.Tensor, reference: torch.Tensor | None = None, *, k: int = 3,
                  kid_subset_size: int = 1000, device: str | torch.device = "cpu") -> dict[str, float]:
    """FID, KID (mean and std), precision and recall (k nearest neighbours) of face images (N, 3, S, S),
    uint8 or float in [-1, 1], against real faces (see the module doc). Use the same N when you compare."""
    check_images(images, what="face images")
    if reference is None:
        reference = default_faces()
    if reference.ndim == 4:
        check_images(reference, what="reference faces")
        reference = embed_faces(resize_faces(reference, images.shape[-1]), device=device)
    elif reference.ndim != 2:
        raise ValueError(f"reference must be real faces (N, 3, S, S) or their features (N, 256) from embed_faces, "
                         f"got shape {tuple(reference.shape)}.")
    fake = embed_faces(images, device=device)
    kid = kernel_inception_distance(reference, fake, subset_size=kid_subset_size)
    pr = precision_recall(reference, fake, k=k)
    return {"faces_fid": frechet_distance(reference, fake), "faces_kid": kid.mean, "faces_kid_std": kid.std,
            "faces_precision": pr.precision, "faces_recall": pr.recall, "n_images": len(images)}
