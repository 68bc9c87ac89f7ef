"""Saving and loading training checkpoints safely.

A checkpoint is one file holding plain data only (tensors, numbers, strings, lists, dicts):
G, D, both optimizers, how far training got, every random number generator state, the
config and the History. Plain data means `torch.load(weights_only=True)` can read it, so a
file that would run arbitrary code when unpickled is refused.

Files are written to a temporary name and then renamed: a process killed while saving
leaves the previous checkpoints untouched.
"""
from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import torch
from torch import nn

from .config import TrainConfig, config_differences
from .models import full_hparams, model_spec

FORMAT = "gan_helpers.checkpoint/1"
_NAME = re.compile(r"^epoch(\d+)_step(\d+)\.pt$")
_UNSAFE = ("Unsupported global", "unrecognized function")  # how weights_only names pickled code


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt, unsafe, or was written for another model or config."""


def checkpoint_name(epoch: int, step: int) -> str:
    """'epoch003_step0005625.pt': `epoch` epochs finished, `step` generator steps in all."""
    return f"epoch{epoch:03d}_step{step:07d}.pt"


def list_checkpoints(folder: str | Path) -> list[Path]:
    """The checkpoints in `folder`, oldest first (by step)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(2)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def atomic_save(obj, path: str | Path) -> Path:
    """torch.save `obj` to `path` atomically: a temporary file, fsync, then a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # only left over when saving failed
    return path


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write a training state to `path` atomically, marked as a gan_helpers checkpoint."""
    return atomic_save({"format": FORMAT, **state}, path)


def prune_checkpoints(folder: str | Path, keep: int) -> None:
    """Delete all but the newest `keep` checkpoints in `folder`."""
    for old in list_checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)


def load_checkpoint(path: str | Path, *, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint file, or the newest in a folder. Raises CheckpointError saying what to do."""
    path = Path(path)
    if path.is_dir():
        found = list_checkpoints(path)
        if not found:
            raise CheckpointError(f"No checkpoint (epochNNN_stepNNNNNNN.pt) in {path}. Train without resume first.")
        path = found[-1]
    if not path.is_file():
        raise CheckpointError(f"Checkpoint {path} does not exist.")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if any(marker in str(err) for marker in _UNSAFE):  # a refused class or function, not damage
            raise CheckpointError(
                f"{path} holds Python objects that would run arbitrary code when loaded, so it is refused "
                f"(torch.load weights_only=True). Only load checkpoints written by gan_helpers. Detail: {err}"
            ) from err
        raise CheckpointError(_corrupt_message(path, err)) from err
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise CheckpointError(_corrupt_message(path, err)) from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gan_helpers checkpoint (format {FORMAT!r} expected).")
    state["path"] = str(path)
    return state


def _corrupt_message(path: Path, err: Exception) -> str:
    older = [p for p in list_checkpoints(path.parent) if p != path]
    hint = (f" The previous checkpoint {older[-1]} is still there: resume from it with resume='{older[-1]}'."
            if older else " No older checkpoint is in that folder.")
    return f"{path} is corrupt or incomplete ({type(err).__name__}: {err}).{hint}"


def check_compatible(state: dict, *, G: nn.Module, D: nn.Module, cfg: TrainConfig) -> None:
    """Raise CheckpointError naming every difference between the checkpoint and these models/config."""
    problems = []
    for name, model in (("G", G), ("D", D)):
        saved, now = state["models"][name], model_spec(model)
        if saved["class"] != now["class"]:
            problems.append(f"{name} is a {now['class']}, the checkpoint holds a {saved['class']}")
            continue
        saved_h, now_h = full_hparams(saved), full_hparams(now)
        for key in sorted(set(saved_h) | set(now_h)):
            if saved_h.get(key) != now_h.get(key):
                problems.append(f"{name}.{key}: checkpoint has {saved_h.get(key)!r}, now {now_h.get(key)!r}")
    problems += config_differences(state["config"], cfg)
    if problems:
        raise CheckpointError(
            f"Cannot resume from {state.get('path', 'the checkpoint')}: it was written for another model or "
            f"config.\n  - " + "\n  - ".join(problems) +
            "\nBuild the models and TrainConfig as they were, or use a new checkpoint_dir to start afresh."
        )
