"""Where a learner's runs live: one folder for every chapter, so a chapter finds the earlier chapters' work.

    RUNS = runs_dir()                          # once, in a notebook's config cell
    RUN_DIR = RUNS / "02_dcgan_mnist"          # this chapter's checkpoints, grids and GIFs
    G = chapter_generator("02_dcgan_mnist", shipped="mnist-dcgan", runs=RUNS)   # chapter 02's G, or ours

Where the folder is, first match wins:

- the environment variable GAN_RUNS_DIR, when set (tests; or a place of your choice);
- on Google Colab, `MyDrive/gan-course` on your Google Drive. Every Colab notebook runs on a fresh
  machine, so Drive is the only place the chapters share, and the only one that survives a disconnect.
  Drive is mounted once per session (Colab asks for permission); if that fails or you decline, the runs
  go to `/content/runs` for this session only, and a message says what that means;
- elsewhere, the repository's `runs/` in a checkout (the notebooks run in `notebooks/`), else `./runs`.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from .checkpoint import CheckpointError, list_checkpoints, load_generator
from .data.files import REPO, env_path
from .pretrained import SHIPPED

RUNS_ENV = "GAN_RUNS_DIR"
COLAB_CONTENT_ENV = "GAN_COLAB_CONTENT"     # where Colab's /content is (the tests use a temporary folder)
DRIVE_FOLDER = Path("MyDrive") / "gan-course"
_mounted: Path | None = None                # Drive's runs folder, once mounted in this session


def in_colab() -> bool:
    """True inside Google Colab (its kernel has imported google.colab)."""
    return "google.colab" in sys.modules


def colab_content() -> Path:
    """Colab's working folder, /content: its local disk, lost at a disconnect."""
    return Path(os.environ.get(COLAB_CONTENT_ENV) or "/content")


def runs_dir() -> Path:
    """The folder that holds every chapter's runs (see the module doc), created if missing."""
    if env := env_path(RUNS_ENV):
        folder = env
    elif in_colab():
        folder = _colab_runs_dir()
    elif (REPO / "notebooks").is_dir() and (REPO / "gan_helpers").is_dir():   # a checkout of the course
        folder = REPO / "runs"
    else:
        folder = Path("runs")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _colab_runs_dir() -> Path:
    """Mount Google Drive (once) and return MyDrive/gan-course; if that fails, /content/runs with a message."""
    global _mounted
    if _mounted is not None:
        return _mounted
    mount_point = colab_content() / "drive"
    try:
        from google.colab import drive  # only exists on Colab

        drive.mount(str(mount_point))
    except Exception as err:  # noqa: BLE001 - declined, timed out, no Drive: every failure ends in the same fallback
        local = colab_content() / "runs"
        print(f"Google Drive is not mounted ({type(err).__name__}: {err}).\n"
              f"This chapter's runs go to {local}, which is erased when Colab disconnects, and the next chapters "
              "(each on a fresh Colab machine) will not find them; they fall back on the small generators "
              "shipped with gan_helpers. To keep your runs, run this cell again and allow access to Google Drive.")
        return local
    _mounted = mount_point / DRIVE_FOLDER
    print(f"Runs are kept on Google Drive: {_mounted}")
    return _mounted


def chapter_generator(chapter: str, *, shipped: str, runs: str | Path | None = None,
                      modes: Sequence[str] = ("full", "fast"), device: str | torch.device | None = None) -> nn.Module:
    """The generator an earlier chapter saved in `runs/CHAPTER/checkpoints/MODE` (full run first), or, when
    there is none, the generator shipped with the package under the name `shipped` (see pretrained.py).

    Prints where G came from; a checkpoint that does not load is skipped with the reason."""
    runs = Path(runs) if runs is not None else runs_dir()
    for mode in modes:
        folder = runs / chapter / "checkpoints" / mode
        if not list_checkpoints(folder):
            continue
        try:
            G = load_generator(folder, device=device)
        except (CheckpointError, ValueError) as err:
            print(f"skipped {folder}: {err}")
            continue
        print(f"loaded chapter {chapter[:2]}'s {type(G).__name__} from {G.checkpoint['path']} "
              f"({G.checkpoint['epoch']} epochs, {G.checkpoint['step']} steps)")
        return G
    G = load_generator(shipped, device=device)
    print(f"No checkpoint of chapter {chapter[:2]} in {runs / chapter}: chapter {chapter[:2]}'s notebook makes it "
          f"(run it first to use your own). Meanwhile, the generator shipped with gan_helpers: {shipped!r}, "
          f"{SHIPPED[shipped]}, {G.checkpoint['epoch']} epochs.")
    return G
