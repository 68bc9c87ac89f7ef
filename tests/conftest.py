"""Shared fixtures: a small real MNIST slice and tiny models that train in milliseconds."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from gan_helpers import MLPDiscriminator, MLPGenerator, TensorBatches, TrainConfig, load_mnist

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def mnist_small() -> torch.Tensor:
    """The first 512 real MNIST training images, uint8 (512, 1, 28, 28)."""
    images, _ = load_mnist(limit=512)
    return images


def tiny_models(seed: int = 0):
    torch.manual_seed(seed)
    return (MLPGenerator(latent_dim=16, hidden_dims=(32,), batch_norm=True),
            MLPDiscriminator(hidden_dims=(32,)))


def tiny_config(**overrides) -> TrainConfig:
    settings = dict(epochs=2, batch_size=64, n_samples=16, device="cpu", seed=0)
    return TrainConfig(**{**settings, **overrides})


def tiny_data(images: torch.Tensor, cfg: TrainConfig) -> TensorBatches:
    return TensorBatches(images, batch_size=cfg.batch_size)


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=f"{key} differs")


def write_cifar_folder(root: Path) -> Path:
    """Write the shared data's 10,000 real CIFAR-10 images (skip when absent) in the data set's own
    layout, `root/cifar-10-batches-py/data_batch_1..5`, as the official archive unpacks (readable by
    load_cifar10 and torchvision alike; the writer is the benchmark suite's)."""
    np = pytest.importorskip("numpy")
    npz = SHARED_DATA / "cifar10_train_10k_jpeg75.npz"
    if not npz.is_file():
        pytest.skip(f"{npz} is absent (the shared development data is not on this machine)")
    with np.load(npz) as arrays:
        x, y = arrays["x_train"], arrays["y_train"]                 # (N, 32, 32, 3), (N,)
    if str(REPO / "benchmarks") not in sys.path:
        sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_data import write_cifar_folder as write_batches
    return write_batches(x, y, root)
