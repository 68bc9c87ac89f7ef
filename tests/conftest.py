"""Shared fixtures: a small real MNIST slice and tiny models that train in milliseconds."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_helpers import MLPDiscriminator, MLPGenerator, TensorBatches, TrainConfig, load_mnist
from gan_helpers.data import shared_data_dir
from gan_helpers.data.cifar10 import write_cifar10_folder

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = shared_data_dir()   # GAN_SHARED_DATA, else ../shared/data beside the checkout


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
    """Bit for bit: only for two results computed on this machine (never against stored numbers)."""
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=f"{key} differs")


def this_machine() -> str:
    """This CPU's model name (and whether it has bfloat16 units) and torch's version, for failure messages."""
    info = {}
    if Path("/proc/cpuinfo").is_file():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    import platform
    cpu = info.get("model name") or platform.processor() or platform.machine()
    bf16 = {"avx512_bf16", "amx_bf16"} & set(info.get("flags", "").split())
    units = f"bfloat16 units {', '.join(sorted(bf16))}" if bf16 else "no bfloat16 units"
    return f"{cpu} ({units}), torch {torch.__version__}"


def made_on(stored: str) -> str:
    """'stored numbers made on CPU with torch V; this machine: ...': where the stored numbers called `stored`
    (a key of tests/fixtures/provenance.json) came from, beside where they are compared now."""
    import json
    origin = json.loads((REPO / "tests" / "fixtures" / "provenance.json").read_text())[stored]
    return f"{stored} was made on {origin['cpu']} with torch {origin['torch']}; this machine: {this_machine()}"


def shared_faces(pick) -> torch.Tensor:
    """Real anime faces, uint8 (N, 3, 64, 64), decoded straight from the shared data's zip (skips the test
    without it). The zip's .jpg names are sorted, and shuffled with seed 0 as the scripts shuffle the unzipped
    folder; `pick(order)` chooses from that order which faces to read (for example `order[:600]`)."""
    import io
    import zipfile

    from gan_helpers.data import decode_image

    faces_zip = SHARED_DATA / "anime_faces_64.zip"
    if not faces_zip.is_file():
        pytest.skip(f"{faces_zip} is absent")
    with zipfile.ZipFile(faces_zip) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".jpg"))
        order = torch.randperm(len(names), generator=torch.Generator().manual_seed(0))
        return torch.stack([decode_image(io.BytesIO(zf.read(names[i])), 64) for i in pick(order).tolist()])


def write_cifar_folder(root: Path) -> Path:
    """Write the shared data's 10,000 real CIFAR-10 images (skip when absent) in the data set's own
    layout, `root/cifar-10-batches-py/data_batch_1..5`, as the official archive unpacks (readable by
    load_cifar10 and torchvision alike)."""
    np = pytest.importorskip("numpy")
    npz = SHARED_DATA / "cifar10_train_10k_jpeg75.npz"
    if not npz.is_file():
        pytest.skip(f"{npz} is absent (the shared development data is not on this machine)")
    with np.load(npz) as arrays:
        x, y = arrays["x_train"], arrays["y_train"]                 # (N, 32, 32, 3), (N,)
    return write_cifar10_folder(x, y, root)


def intercept_writes(monkeypatch, on_write) -> None:
    """Call on_write(data) before every write to a file that atomic_save opens (checkpoints, the image
    cache): it may raise, as a full disk does, or send a signal, as a Ctrl-C in the middle of a save."""
    import builtins

    from gan_helpers.data import files

    class Intercepted:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            on_write(data)
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.f.close()
    monkeypatch.setattr(files, "open", lambda *args, **kwargs: Intercepted(builtins.open(*args, **kwargs)),
                        raising=False)


def fill_disk(monkeypatch, *, after_bytes: int = 0) -> None:
    """Make atomic_save's writes fail as on a full disk (OSError ENOSPC) once `after_bytes` are written."""
    import errno
    written = [0]

    def write(data):
        written[0] += len(data)
        if written[0] > after_bytes:
            raise OSError(errno.ENOSPC, "No space left on device")
    intercept_writes(monkeypatch, write)
