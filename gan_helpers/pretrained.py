"""Small generators shipped with the package, so a chapter that builds on an earlier one works without it.

    G = load_generator("mnist-dcgan")     # a shipped name instead of a path: G ready to sample

Each shipped file is a G-only checkpoint (the checkpoint format of checkpoint.py with just
`models: {"G": spec}`, `G`, `epoch`, `step`, plus the `metrics` measured when it was written),
stored in float16 to keep the package small; load_state_dict casts the weights back to G's float32.
A G-only file can be sampled from, never resumed: it holds no D and no optimizers.
`scripts/train_shipped_generators.py` trains the MNIST ones (writing them with checkpoint.save_generator)
and records the command and their MNIST FID; `scripts/compare_faces_cpu.py ship` writes the faces one
from a run of that script, with its faces metric (docs/faces_metric.md).
"""
from __future__ import annotations

from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SHIPPED = {   # name: what it is (the preset of the same name trained the weights)
    "mnist-mlp": "the MLP generator of chapter 01 (latent 128, 256-512, BatchNorm)",
    "mnist-dcgan": "the DCGAN generator of chapter 02 (latent 100, features 32)",
    "mnist-cdcgan": "the conditional DCGAN generator of chapter 08 (latent 100, features 32, 10 classes)",
    "anime-stylegan-32": "the style-based generator of chapter 10 on the anime faces, 32 px (features 16)",
}


def shipped_generator_path(name: str) -> Path:
    """The file of the shipped generator `name` (one of SHIPPED). Raises ValueError naming the choices."""
    if name not in SHIPPED:
        raise ValueError(f"No shipped generator is called {name!r}; the package ships {sorted(SHIPPED)}. "
                         "Give a checkpoint file or folder instead.")
    return WEIGHTS_DIR / f"{name}.pt"


def resolve_generator(path_or_name: str | Path) -> Path:
    """A path as given, or, for a shipped name (one of SHIPPED) that is not an existing path, its file."""
    if isinstance(path_or_name, str) and path_or_name in SHIPPED and not Path(path_or_name).exists():
        return shipped_generator_path(path_or_name)
    return Path(path_or_name)
