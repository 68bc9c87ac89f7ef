"""Check for chapter 04's exercise: a torch Dataset over a folder of images that reports broken files.

    check_image_dataset(FaceFolder, real_folder=None)

FaceFolder(folder, size) must find the images below `folder` (sorted, recursively, by their names'
suffixes), skip and report the files it cannot decode in `.skipped` (pairs of path and reason), keep the
others in `.paths`, and give each as uint8 (3, size, size): exactly what `load_image_folder` gives. The
check builds a folder of generated pictures, a few real ones (from `real_folder`, if given), a fake JPEG,
a truncated PNG and a text file, and compares.
"""
from __future__ import annotations

import inspect
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import torch
from PIL import Image

from ..data.folder import find_images, load_image_folder
from .report import Mismatch, call, describe, run_check

SIZE = 16


def _write_folder(root: Path, real_folder: str | Path | None) -> None:
    gen = torch.Generator().manual_seed(7)
    (root / "sub").mkdir()
    for i, (mode, size, suffix) in enumerate([("RGB", (40, 30), ".png"), ("L", (24, 24), ".png"),
                                              ("RGBA", (20, 36), ".png"), ("RGB", (33, 33), ".jpg"),
                                              ("RGB", (50, 20), ".bmp"), ("RGB", (28, 28), ".JPG"),
                                              ("RGB", (30, 26), ".jpeg")]):   # .JPG: as cameras name them
        pixels = torch.randint(0, 256, (size[1], size[0], len(mode)), generator=gen, dtype=torch.uint8)
        picture = Image.fromarray(pixels.squeeze(2).numpy() if mode == "L" else pixels.numpy(), mode)
        picture.save(root / ("sub" if i % 2 else "") / f"made_{i}{suffix}")
    if real_folder is not None and Path(real_folder).is_dir():
        for path in find_images(real_folder)[0][:4]:
            shutil.copy(path, root / f"real_{path.name}")
    (root / "broken.jpg").write_bytes(b"not a picture at all")
    whole = (root / "made_0.png").read_bytes()
    (root / "sub" / "truncated.png").write_bytes(whole[: len(whole) // 2])
    (root / "notes.txt").write_text("not an image")


def _bare_except(cls) -> bool:
    """Whether a method of `cls` has a bare `except:` (or catches BaseException). Methods, not the class:
    the source of a function defined in a notebook cell can be read, that of a class cannot."""
    for method in vars(cls).values():
        try:
            source = inspect.getsource(method)
        except (OSError, TypeError):  # not a function, or no source to read: the other checks still run
            continue
        if re.search(r"except\s*(BaseException\s*)?(as\s+\w+\s*)?:", source):
            return True
    return False


def check_image_dataset(dataset_class, real_folder: str | Path | None = None):
    """FaceFolder(folder, size) against load_image_folder on generated, real and broken files."""

    def body() -> str:
        if _bare_except(dataset_class):
            raise Mismatch("the class catches every exception", expected="except (OSError, ValueError, ...)",
                           got="a bare `except:` (or `except BaseException`)", key="bare_except",
                           likely="a bare except also swallows Ctrl-C, typos and real bugs, and hides which files "
                                  "failed. Catch the errors a broken file raises: OSError, ValueError, SyntaxError.")
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            _write_folder(root, real_folder)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                want = load_image_folder(root, size=SIZE, cache=False, progress=False)
            dataset = call(dataset_class, root, SIZE)
            if not isinstance(dataset, torch.utils.data.Dataset):
                raise Mismatch("not a Dataset", expected="a subclass of torch.utils.data.Dataset",
                               got=type(dataset).__name__, likely="class FaceFolder(Dataset): ...", key="not_dataset")
            want_names = [Path(p).name for p in want.paths]
            got_names = [Path(p).name for p in getattr(dataset, "paths", [])]
            skipped_names = sorted(Path(p).name for p, _ in want.skipped)
            got_skipped = sorted(Path(s[0] if isinstance(s, (tuple, list)) else s).name
                                 for s in getattr(dataset, "skipped", []))
            if got_skipped != skipped_names:
                raise Mismatch("the broken files are not all reported in .skipped", expected=str(skipped_names),
                               got=str(got_skipped), key="not_reported",
                               likely="try to decode every file once in __init__; on OSError/ValueError/SyntaxError "
                                      "append (path, reason) to self.skipped and print how many were skipped.")
            n = call(len, dataset)
            if n != len(want.images) or got_names != want_names:
                key, likely = "files", "the image files below the folder (rglob), sorted, without the broken ones."
                if "notes.txt" in got_names:
                    key, likely = "not_images", "only files named like images (.jpg, .jpeg, .png, .webp, .bmp)."
                elif sorted(got_names + ["made_5.JPG"]) == sorted(want_names):
                    key, likely = "suffix_case", ("made_5.JPG is missing: compare the suffix in lower case, "
                                                  "path.suffix.lower() in SUFFIXES (cameras write .JPG).")
                elif sorted(got_names) == sorted(want_names):
                    key, likely = "order", "sort the paths (sorted(...)), as load_image_folder does."
                elif set(skipped_names) & set(got_names):
                    key, likely = "kept_broken", "the broken files must not be in .paths or count in len()."
                raise Mismatch("the files differ from load_image_folder's", expected=f"{len(want_names)}: {want_names}",
                               got=f"{n}: {got_names}", likely=likely, key=key)
            for i in range(n):
                x = call(dataset.__getitem__, i)
                if not isinstance(x, torch.Tensor) or x.dtype != torch.uint8 or x.shape != (3, SIZE, SIZE):
                    key = "channels_last" if isinstance(x, torch.Tensor) and x.shape == (SIZE, SIZE, 3) else "type"
                    raise Mismatch(f"image {i} has the wrong type or shape", expected=f"uint8 (3, {SIZE}, {SIZE})",
                                   got=describe(x), key=key,
                                   likely="return decode_image(path, size): uint8, channels first, as the package.")
                if not torch.equal(x, want.images[i]):
                    raise Mismatch(f"image {i} ({want_names[i]}) has other pixels", expected="load_image_folder's "
                                   "pixels", got="other pixels", key="pixels",
                                   likely="decode with gan_helpers.data.folder.decode_image(path, size).")
            batch = next(iter(torch.utils.data.DataLoader(dataset, batch_size=4)))
            if tuple(batch.shape) != (4, 3, SIZE, SIZE):
                raise Mismatch("a DataLoader does not batch it", expected=f"(4, 3, {SIZE}, {SIZE})",
                               got=describe(batch), likely="__getitem__ returns one tensor per image.", key="batch")
        real = " and real" if real_folder is not None else ""
        return (f"the same {n} images (generated{real}) as load_image_folder, in the same order and with the same "
                f"pixels; the {len(skipped_names)} broken files are reported and the text file ignored; batches "
                "through a DataLoader.")

    return run_check("FaceFolder", body)
