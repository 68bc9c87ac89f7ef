"""gan_helpers: the small, tested package behind the GAN course notebooks.

    from gan_helpers import TrainConfig, MLPGenerator, MLPDiscriminator, load_mnist, TensorBatches, fit

One module per concept: data (files, MNIST, CIFAR-10, image folders, batches, stand-ins), models (MLP, DCGAN,
normalisation, conditioning), losses, penalty (WGAN-GP, R1), augment (DiffAugment), ema (G's moving average),
sampling (z and G(z)), step (one update), precision (mixed precision), distributed (several processes with
torchrun), train (fit), checkpoint (the format), runlock (one run per folder),
advice (errors in the interface's words), callbacks, live (the view while training), history, latent, metrics,
plotting, diagram (architectures drawn), toy (the 2-D ring), widgets, summary, presets and the CLI; runs (where a
learner's runs live: Google Drive on Colab), pretrained (the small generators shipped in weights/), verdict
(training outcomes stated, not asserted) and exercises (the checks of the learners' code).
"""
from .callbacks import RunState, SaveSampleGrids, TensorBoardLogger
from .checkpoint import CheckpointError, list_checkpoints, load_checkpoint, load_generator
from .config import TrainConfig, fast_mode
from .data import (
    CIFAR10NotFoundError,
    IDXFormatError,
    ImageFolder,
    MNISTNotFoundError,
    TensorBatches,
    from_unit_range,
    load_cifar10,
    load_image_folder,
    load_mnist,
    read_idx,
    to_unit_range,
)
from .device import pick_device
from .distributed import DistributedError
from .history import History
from .latent import (
    Directions,
    coordinate_directions,
    ganspace_directions,
    interpolation_path,
    latent_analogy,
    lerp,
    slerp,
)
from .live import LiveView
from .losses import (
    LOSSES,
    d_loss,
    d_loss_hinge,
    d_loss_wasserstein,
    g_loss,
    g_loss_minimax,
    g_loss_score,
    loss_functions,
)
from .metrics import (
    InceptionFID,
    MetricsCallback,
    frechet_distance,
    inception_fid,
    mnist_fid,
    mnist_metrics,
    mnist_mode_coverage,
    mode_coverage,
)
from .models import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    add_spectral_norm,
    balanced_labels,
    build_model,
    dcgan_init,
    model_spec,
)
from .penalty import gradient_penalty, interpolate, r1_penalty
from .plotting import image_grid, plot_history, save_gif, save_grid, show_grid
from .precision import PRECISIONS, Precision
from .runs import chapter_generator, runs_dir
from .sampling import class_labels, draw_samples, sample_images, sample_z, z_from_seed
from .step import StepStats, gan_step
from .summary import summary
from .train import NonFiniteLossError, fit

__version__ = "0.1.0"

__all__ = [
    "RunState", "SaveSampleGrids", "TensorBoardLogger",
    "CheckpointError", "list_checkpoints", "load_checkpoint", "load_generator",
    "TrainConfig", "fast_mode",
    "CIFAR10NotFoundError", "IDXFormatError", "ImageFolder", "MNISTNotFoundError", "TensorBatches", "from_unit_range",
    "load_image_folder", "load_cifar10", "load_mnist", "read_idx", "to_unit_range",
    "pick_device", "DistributedError", "PRECISIONS", "Precision",
    "History", "LOSSES", "d_loss", "d_loss_hinge", "d_loss_wasserstein", "g_loss", "g_loss_minimax",
    "g_loss_score", "loss_functions", "gradient_penalty", "interpolate", "r1_penalty",
    "Directions", "coordinate_directions", "ganspace_directions", "interpolation_path", "latent_analogy", "lerp",
    "slerp", "z_from_seed",
    "InceptionFID", "MetricsCallback", "frechet_distance", "inception_fid", "mnist_fid", "mnist_metrics",
    "mnist_mode_coverage", "mode_coverage",
    "DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator", "add_spectral_norm", "balanced_labels",
    "build_model", "dcgan_init", "model_spec",
    "image_grid", "plot_history", "save_gif", "save_grid", "show_grid",
    "chapter_generator", "runs_dir",
    "LiveView",
    "class_labels", "draw_samples", "sample_images", "sample_z", "z_from_seed",
    "StepStats", "gan_step", "summary",
    "NonFiniteLossError", "fit",
]
