"""Any folder of images as one uint8 tensor, decoded once and cached beside the folder.

Decoding tens of thousands of JPEGs in every epoch is what makes GAN training in notebooks
slow. `load_image_folder` decodes each file once (converting to RGB, centre-cropping and
resizing), saves the result as one tensor next to the folder, and on the next run loads that
tensor in a second, unless the folder changed. Train from it with `TensorBatches`.
"""
from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from tqdm.auto import tqdm

from .files import atomic_save

SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
CACHE_FORMAT = "gan_helpers.image_cache/1"


@dataclass
class ImageFolder:
    """The decoded images, uint8 (N, 3, size, size), with the files they came from and those skipped."""
    images: torch.Tensor
    paths: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    ignored: list[str] = field(default_factory=list)              # files not named like images
    from_cache: bool = False


def find_images(folder: str | Path) -> tuple[list[Path], list[Path]]:
    """(image files, other files) below `folder`, searched recursively, each sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"Image folder {folder.resolve()} does not exist. "
                                "Check the path, or unzip the data first.")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in SUFFIXES]
    if not images:
        raise ValueError(f"No images ({', '.join(SUFFIXES)}) in {folder.resolve()} or its subfolders "
                         f"({len(files)} other files). Point to the folder that holds the pictures.")
    return images, [p for p in files if p.suffix.lower() not in SUFFIXES]


def decode_image(path: str | Path, size: int) -> torch.Tensor:
    """One image file as uint8 (3, size, size): RGB (transparency over white, 16-bit grey scaled to 8 bits),
    centre crop, resize."""
    with Image.open(path) as img:
        img.load()  # decode now: a truncated file fails here, not later
        if img.mode.startswith("I"):            # 16-bit greyscale PNG: "I;16" or "I", values 0-65535
            img = _grey_to_8_bits(img)
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        img = ImageOps.fit(img.convert("RGB"), (size, size), method=Image.Resampling.BICUBIC)
        return torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(size, size, 3).permute(2, 0, 1)


def _grey_to_8_bits(img: Image.Image) -> Image.Image:
    """A 16-bit greyscale image as 8-bit "L", scaled (convert("L") would clip everything above 255 to white)."""
    values = np.asarray(img.convert("I"), dtype=np.float64)
    return Image.fromarray((values / 257).round().clip(0, 255).astype(np.uint8), mode="L")


def _fingerprint(folder: Path, paths: list[Path], size: int) -> str:
    """Changes when a file is added, removed, renamed or changes its length, or the size asked for changes.

    Only what survives unpacking the same archive again: paths relative to `folder` and file sizes, not
    modification times or where the folder is. On Colab every session unzips the data anew (new times),
    and the cache on Drive is still used. A file rewritten to exactly the same length goes unnoticed:
    delete the cache after editing images in place."""
    digest = hashlib.sha1(f"{size}".encode())
    for p in paths:
        digest.update(f"{p.relative_to(folder).as_posix()}\0{p.stat().st_size}\n".encode())
    return digest.hexdigest()


def default_cache_path(folder: str | Path, size: int) -> Path:
    """Beside the folder: `faces/` -> `faces.cache-64px.pt`."""
    folder = Path(folder).resolve()
    return folder.with_name(f"{folder.name}.cache-{size}px.pt")


def load_image_folder(folder: str | Path, *, size: int, cache: str | Path | None | bool = True,
                      progress: bool = True) -> ImageFolder:
    """Decode every image below `folder` into uint8 (N, 3, size, size), or reuse the cache.

    cache: True for `default_cache_path(folder, size)`, a path of your choice, or False.
    Files that cannot be decoded are skipped and reported (how many, the first few names),
    and so are files that are not named like images; training never meets them.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"load_image_folder(size=...) is the side in pixels of the square images to make: a whole "
                         f"number of 1 or more (64 is usual), got {size!r}.")
    paths, others = find_images(folder)
    fingerprint = _fingerprint(Path(folder), paths, size)
    cache_path = default_cache_path(folder, size) if cache is True else (Path(cache) if cache else None)
    if cache_path is not None and cache_path.is_file():
        try:
            saved = torch.load(cache_path, weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unreadable cache is simply rebuilt
            warnings.warn(f"Ignoring the unreadable cache {cache_path} ({err}); decoding again.", stacklevel=2)
            saved = {}
        if saved.get("format") == CACHE_FORMAT and saved.get("fingerprint") == fingerprint:
            result = ImageFolder(saved["images"], saved["paths"], [tuple(s) for s in saved["skipped"]],
                                 [str(p) for p in others], from_cache=True)
            _report(result, folder)
            return result

    decoded, kept, skipped = [], [], []
    for path in tqdm(paths, desc=f"decoding {Path(folder).name}", unit="img", disable=not progress):
        try:
            decoded.append(decode_image(path, size))
            kept.append(str(path))
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:  # unreadable or truncated
            skipped.append((str(path), f"{type(err).__name__}: {err}"))
    if not decoded:
        raise ValueError(f"None of the {len(paths)} image files in {folder} could be read; "
                         f"the first failed with {skipped[0][1]}.")
    result = ImageFolder(torch.stack(decoded), kept, skipped, [str(p) for p in others])
    if cache_path is not None:
        try:
            atomic_save({"format": CACHE_FORMAT, "fingerprint": fingerprint, "images": result.images,
                         "paths": kept, "skipped": [list(s) for s in skipped]}, cache_path)
        except OSError as err:  # a read-only data folder: train anyway, decode again next time
            warnings.warn(f"Could not write the cache {cache_path} ({err}); pass cache=PATH to put it elsewhere.",
                          stacklevel=2)
    _report(result, folder)
    return result


def _report(result: ImageFolder, folder: str | Path) -> None:
    """Say what was left out, so no file is dropped silently."""
    for what, items in (("could not be decoded and were skipped", [p for p, _ in result.skipped]),
                        ("are not images by name and were ignored", result.ignored)):
        if items:
            names = ", ".join(Path(p).name for p in items[:5]) + (", ..." if len(items) > 5 else "")
            warnings.warn(f"{len(items)} of the files in {folder} {what}: {names}", stacklevel=3)
