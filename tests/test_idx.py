"""IDX parsing and MNIST loading on the real files, and the errors for broken ones."""
import functools
import gzip
import http.server
import threading

import pytest
import torch

from gan_helpers import IDXFormatError, MNISTNotFoundError, load_mnist, read_idx
from gan_helpers.data import mnist as mnist_module

from conftest import REPO

RAW = REPO / "data" / "MNIST" / "raw"
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # from the data's README
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def write_idx(path, payload: bytes, *, compress=True):
    (gzip.open if compress else open)(path, "wb").write(payload)
    return path


def header(*dims, type_code=0x08):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def test_embedded_mnist_has_the_published_shapes_and_label_counts():
    x_train, y_train = load_mnist(train=True)
    x_test, y_test = load_mnist(train=False)
    assert x_train.shape == (60000, 1, 28, 28) and x_train.dtype == torch.uint8
    assert x_test.shape == (10000, 1, 28, 28)
    assert torch.bincount(y_train.long()).tolist() == TRAIN_COUNTS
    assert torch.bincount(y_test.long()).tolist() == TEST_COUNTS
    assert x_train.max() == 255 and x_train.min() == 0


def test_limit_keeps_the_first_images():
    x, y = load_mnist(limit=10)
    assert x.shape == (10, 1, 28, 28) and y.tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_small_valid_file_plain_and_gzip(tmp_path):
    values = bytes(range(6))
    for compress in (True, False):
        path = write_idx(tmp_path / f"a{compress}.gz" if compress else tmp_path / "a", header(2, 3) + values,
                         compress=compress)
        assert read_idx(path).tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("payload, message", [
    (header(2, 3) + bytes(4), "truncated"),
    (header(2, 3) + bytes(9), "longer than its header"),
    (b"\x1f\x8b\x08\x00", "magic number"),
    (header(2, type_code=0x0D) + bytes(8), "type 0x0d"),
    (b"", "empty file"),
])
def test_broken_files_give_clear_errors(tmp_path, payload, message):
    path = write_idx(tmp_path / "bad.gz", payload)
    with pytest.raises(IDXFormatError, match=message) as err:
        read_idx(path)
    assert str(path) in str(err.value)


def test_cut_gzip_stream_is_reported_as_corrupt(tmp_path):
    good = (RAW / "t10k-labels-idx1-ubyte.gz").read_bytes()
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(IDXFormatError, match="truncated or corrupt"):
        read_idx(path)


def test_missing_files_without_download_name_the_files_and_folder(tmp_path):
    with pytest.raises(MNISTNotFoundError) as err:
        load_mnist(tmp_path, download=False)
    text = str(err.value)
    assert "train-images-idx3-ubyte.gz" in text and "train-labels-idx1-ubyte.gz" in text
    assert str((tmp_path / "MNIST" / "raw").resolve()) in text


def test_failed_download_is_explained(tmp_path, monkeypatch):
    def offline(root, train):
        raise OSError("no network")
    monkeypatch.setattr(mnist_module, "_download", offline)
    with pytest.raises(MNISTNotFoundError, match="download failed: OSError: no network"):
        load_mnist(tmp_path, train=False)


@pytest.fixture
def mnist_mirror():
    """An HTTP server on 127.0.0.1 that serves the repository's MNIST files, like a download mirror."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(RAW))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_torchvision_fallback_downloads_the_files(tmp_path, monkeypatch, mnist_mirror):
    """With no files in root, load_mnist uses torchvision's real download (from a local mirror)."""
    from torchvision.datasets import MNIST
    monkeypatch.setattr(MNIST, "mirrors", [mnist_mirror])
    x, y = load_mnist(tmp_path, train=False)
    assert (tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").is_file()
    assert x.shape == (10000, 1, 28, 28)
    assert torch.bincount(y.long()).tolist() == TEST_COUNTS


def test_swapped_image_and_label_files_are_caught(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes((RAW / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes((RAW / "t10k-labels-idx1-ubyte.gz").read_bytes())
    with pytest.raises(ValueError, match="do not fit together"):
        load_mnist(tmp_path, train=False, download=False)
