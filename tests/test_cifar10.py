"""CIFAR-10 from its own files: the unpacked folder, the archive, and clear errors otherwise."""
import os
import pickle
import tarfile
from urllib.error import URLError

import numpy as np
import pytest
import torch

from gan_helpers import CIFAR10NotFoundError, load_cifar10
from gan_helpers.data import cifar10

from conftest import SHARED_DATA, write_cifar_folder


@pytest.fixture(scope="module")
def cifar_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    write_cifar_folder(root)
    return root


def test_reads_the_unpacked_folder(cifar_root):
    images, labels = load_cifar10(cifar_root, download=False)
    with np.load(SHARED_DATA / "cifar10_train_10k_jpeg75.npz") as arrays:
        x, y = arrays["x_train"], arrays["y_train"]
    assert images.dtype == torch.uint8 and images.shape == (10_000, 3, 32, 32)
    assert torch.equal(images, torch.from_numpy(x).permute(0, 3, 1, 2))  # channels first, same pixels
    assert torch.equal(labels, torch.from_numpy(y))
    assert torch.bincount(labels.long(), minlength=10).min() > 800  # all ten classes


def test_limit(cifar_root):
    images, labels = load_cifar10(cifar_root, download=False, limit=100)
    assert images.shape == (100, 3, 32, 32) and labels.shape == (100,)


def test_unpacks_the_archive_once(cifar_root, tmp_path):
    with tarfile.open(tmp_path / cifar10.ARCHIVE, "w:gz") as tar:
        tar.add(cifar_root / cifar10.FOLDER, arcname=cifar10.FOLDER)
    images, _ = load_cifar10(tmp_path, download=False, limit=10)
    assert images.shape == (10, 3, 32, 32)
    assert (tmp_path / cifar10.FOLDER / "data_batch_5").is_file()


def test_a_damaged_archive_is_a_clear_error(tmp_path):
    (tmp_path / cifar10.ARCHIVE).write_bytes(b"\x1f\x8b not really a gzip stream")
    with pytest.raises(ValueError, match="(?s)is damaged.*Delete it and download"):
        load_cifar10(tmp_path, download=False)


def test_missing_files_say_where_to_put_what(tmp_path):
    with pytest.raises(CIFAR10NotFoundError, match="cifar-10-python.tar.gz") as err:
        load_cifar10(tmp_path, download=False)
    assert str(tmp_path) in str(err.value) and cifar10.URL in str(err.value)


def test_offline_download_failure_is_explained(tmp_path, monkeypatch):
    def offline(root):
        raise URLError("no network")

    monkeypatch.setattr(cifar10, "_download", offline)
    with pytest.raises(CIFAR10NotFoundError, match="the download failed: URLError"):
        load_cifar10(tmp_path)


def test_test_split_needs_its_own_file(cifar_root):
    with pytest.raises(CIFAR10NotFoundError, match="test_batch"):
        load_cifar10(cifar_root, train=False, download=False)


def test_corrupt_batch_is_a_clear_error(cifar_root, tmp_path):
    folder = tmp_path / cifar10.FOLDER
    folder.mkdir()
    for name in cifar10.FILES[True]:
        (folder / name).write_bytes((cifar_root / cifar10.FOLDER / name).read_bytes())
    (folder / "data_batch_3").write_bytes((cifar_root / cifar10.FOLDER / "data_batch_3").read_bytes()[:5000])
    with pytest.raises(ValueError, match="data_batch_3 is not a CIFAR-10 batch file"):
        load_cifar10(tmp_path, download=False)


class _RunsACommand:
    def __reduce__(self):
        return (os.system, ("echo owned > /dev/null",))


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": _RunsACommand(), b"labels": [0]}))
    with pytest.raises(ValueError, match="only NumPy arrays, not (posix|nt).system"):
        cifar10.read_cifar_batch(path)


def test_data_dir_from_the_environment(cifar_root, monkeypatch):
    monkeypatch.setenv("GAN_DATA_DIR", str(cifar_root))
    images, _ = load_cifar10(download=False, limit=3)
    assert images.shape == (3, 3, 32, 32)
