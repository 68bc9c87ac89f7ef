"""Translating image files with a trained translator: `python -m gan_helpers translate CHECKPOINT IMAGE...`.

    G = load_generator("runs/faces-pix2pix/checkpoints")        # a U-Net, or a CycleGAN's two generators
    paths = translate_files(G, ["sketches/"], "out/")            # out/<name>.png for every image found

Each image is decoded as RGB, centre-cropped and resized to the size G was trained at (decode_image), made
into what G takes (one grey channel, or its line drawing with sketch=True: faces-pix2pix's input), and
written as PNG under the image's own name. A CycleGAN translates A -> B, or B -> A with reverse=True.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from .advice import advise
from .data.batches import from_unit_range, to_unit_range


def translator(G: nn.Module, *, reverse: bool = False) -> nn.Module:
    """The image-to-image network in G: a UNetGenerator itself, a CycleGAN's a_to_b (b_to_a with reverse).
    A ValueError for a generator of noise, or reverse for a one-way translator."""
    if hasattr(G, "a_to_b"):
        return G.b_to_a if reverse else G.a_to_b
    if "in_channels" not in getattr(G, "hparams", {}):
        raise ValueError(f"{_where(G)} holds a {type(G).__name__}, which draws images from noise, not from images: "
                         "draw from it with `sample`. `translate` takes a pix2pix or CycleGAN checkpoint.")
    if reverse:
        what = f"{_where(G)} holds a one-way {type(G).__name__} (pix2pix): {{}} needs a CycleGAN, which trains both " \
               "directions."
        raise advise(ValueError(what.format("reverse=True")), cli=what.format("--reverse"))
    return G


def image_files(sources: Sequence[str | Path]) -> list[Path]:
    """The image files named: each source is a file, or a folder searched for images (find_images)."""
    from .data.folder import find_images

    files = []
    for source in map(Path, sources):
        if source.is_dir():
            files += find_images(source)[0]                        # a folder without images: a ValueError
        elif source.is_file():
            files.append(source)
        else:
            raise FileNotFoundError(f"{source} does not exist: name image files or folders that hold them.")
    return files


def translate_files(G: nn.Module, sources: Sequence[str | Path], out: str | Path, *, reverse: bool = False,
                    sketch: bool = False, size: int | None = None) -> list[Path]:
    """Translate every image in `sources` (files or folders) with G and write out/<name>.png; the paths.
    size: the side the images are resized to (default: G's img_size; a CycleGAN's, 28 unless recorded)."""
    from .data.files import writable_folder
    from .data.folder import decode_image
    from .data.sketch import grayscale
    from .data.sketch import sketch as line_drawing

    net = translator(G, reverse=reverse)
    if sketch and net.hparams["in_channels"] != 1:
        what = (f"makes one-channel line drawings, but this {type(net).__name__} takes {net.hparams['in_channels']} "
                "channels: leave it out.")
        raise advise(ValueError(f"sketch=True {what}"), cli=f"--sketch {what}")
    side = size or G.hparams.get("img_size") or 28
    paths, written = image_files(sources), []
    out = writable_folder(out)                                     # a read-only or mistyped place: said first
    for path in paths:
        try:
            rgb = decode_image(path, side)[None]                    # uint8 (1, 3, side, side)
        except OSError as err:                                     # Pillow: not an image, truncated, unreadable
            raise ValueError(f"Cannot read {path} as an image ({err}): remove it or name other files.") from None
        x = line_drawing(rgb) if sketch else grayscale(rgb) if net.hparams["in_channels"] == 1 else rgb
        with torch.no_grad():
            x_fake = net.eval()(to_unit_range(x).to(next(net.parameters()).device))
        target = out / f"{path.stem}.png"
        if target in written:                                      # the same name in two folders: keep both
            target = out / f"{path.stem}_{len(written)}.png"
        written.append(_save_png(from_unit_range(x_fake)[0].cpu(), target))
    return written


def _save_png(image: torch.Tensor, path: Path) -> Path:
    """uint8 (C, H, W) as a PNG file, grey for one channel, RGB for three; written atomically (a stopped run
    leaves the file as it was, never half of it)."""
    from PIL import Image

    from .data.files import atomic_write

    pixels = image.permute(1, 2, 0).numpy()
    picture = Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)
    return atomic_write(path, lambda f: picture.save(f, format="PNG"))


def _where(G: nn.Module) -> str:
    return getattr(G, "checkpoint", {}).get("path", "This generator")
