"""gan_helpers: the small, tested package behind the GAN course notebooks.

    from gan_helpers import TrainConfig, MLPGenerator, MLPDiscriminator, load_mnist, TensorBatches, fit

One module per concept: data (files, MNIST, CIFAR-10, image folders, batches, stand-ins), models (MLP, DCGAN,
normalisation, conditioning), losses, penalty (WGAN-GP, R1), augment (DiffAugment), ema (G's moving average),
sampling (z and G(z)), step (one update), precision (mixed precision), distributed (several processes with
torchrun), games (what a step does: noise, pix2pix, CycleGAN), train (fit), translate (images through
a trained translator), preflight (fit's checks before it trains), checkpoint (the format), integrity (a
checkpoint's checks before use), memory (sizes estimated before they are allocated), runlock (one run per folder),
advice (errors in the interface's words), callbacks, live (the view while training), history, latent, metrics,
plotting, diagram (architectures drawn), toy (the 2-D ring), widgets, summary, presets and the CLI; runs (where a
learner's runs live: Google Drive on Colab), pretrained (the small generators shipped in weights/), verdict
(training outcomes stated, not asserted) and exercises (the checks of the learners' code).

Importing the package is instant: each name below is imported from its module the first time it is used
(PEP 562's module `__getattr__`), so `python -m gan_helpers --help` never loads torch, and a notebook pays
only for what it uses. The heavy libraries wait longer still: matplotlib, torchvision, ipywidgets and
torch.compile's machinery (torch._dynamo) are imported inside the functions that draw, download, show
sliders or compile. tests/test_import.py keeps it so; benchmarks/import_time.py measures it.
"""
from __future__ import annotations

import importlib

# The course's version, in this one place (pyproject.toml reads it). A new minor version when a wave of
# chapters lands, a patch version for fixes; CHANGELOG.md says what changed. Every checkpoint records it.
__version__ = "0.3.0"

# Every public name, by the module that defines it.
_EXPORTS = {
    "callbacks": ("RunState", "SaveSampleGrids", "TensorBoardLogger", "TimeBudget"),
    "checkpoint": ("CheckpointError", "list_checkpoints", "load_checkpoint", "load_generator"),
    "config": ("TrainConfig", "fast_mode"),
    "data": ("CIFAR10NotFoundError", "IDXFormatError", "ImageFolder", "MNISTNotFoundError", "TensorBatches",
             "from_unit_range", "load_cifar10", "load_image_folder", "load_mnist", "read_idx", "to_unit_range"),
    "device": ("pick_device",),
    "distributed": ("DistributedError",),
    "games": ("CycleGame", "ImagePool", "NoiseGame", "Pix2PixGame", "cycle_loss", "fit_l1"),
    "history": ("History",),
    "latent": ("Directions", "coordinate_directions", "ganspace_directions", "interpolation_path",
               "latent_analogy", "lerp", "slerp"),
    "live": ("LiveView",),
    "losses": ("LOSSES", "d_loss", "d_loss_hinge", "d_loss_wasserstein", "g_loss", "g_loss_minimax",
               "g_loss_score", "loss_functions"),
    "metrics": ("InceptionFID", "MetricsCallback", "frechet_distance", "inception_fid", "mnist_fid",
                "mnist_metrics", "mnist_mode_coverage", "mode_coverage"),
    "models": ("DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "add_spectral_norm",
               "balanced_labels", "build_model", "dcgan_init", "model_spec"),
    "penalty": ("gradient_penalty", "interpolate", "r1_penalty"),
    "plotting": ("image_grid", "plot_history", "save_gif", "save_grid", "show_grid"),
    "precision": ("PRECISIONS", "Precision"),
    "runs": ("chapter_generator", "runs_dir"),
    "sampling": ("class_labels", "draw_samples", "sample_images", "sample_z", "z_from_seed"),
    "step": ("StepStats", "gan_step"),
    "summary": ("summary",),     # the function; its module is gan_helpers.summary
    "train": ("GPUMemoryError", "NonFiniteLossError", "fit"),
    "translate": ("translate_files",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = list(_MODULE_OF)


def __getattr__(name: str):
    """`gan_helpers.fit` and `from gan_helpers import fit`: import the defining module now, once."""
    if name in _MODULE_OF:
        value = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    else:                                          # a submodule: gan_helpers.presets, gan_helpers.exercises, ...
        try:
            value = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":   # the submodule exists but something it imports is missing
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value                        # next time a plain attribute: no second lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
