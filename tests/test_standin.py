"""Stand-in pictures for fast mode where CIFAR-10 or a face folder is absent."""
import pytest
import torch

from gan_helpers import load_image_folder
from gan_helpers.data.standin import SHAPES, standin_images, write_standin_folder


def test_stand_in_pictures_have_the_type_range_and_classes_of_a_data_set():
    images, labels = standin_images(200, size=32)
    assert images.shape == (200, 3, 32, 32) and images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert images.min() == 0 and images.max() == 255                         # every picture uses the range
    assert torch.bincount(labels, minlength=10).tolist() == [20] * 10         # balanced, one shape per class
    assert images.float().std() > 40                                         # pictures, not a flat tensor


def test_stand_in_pictures_are_the_same_for_a_seed_and_differ_between_seeds():
    a, _ = standin_images(16, size=64, seed=1)
    b, _ = standin_images(16, size=64, seed=1)
    c, _ = standin_images(16, size=64, seed=2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert len({x.sum().item() for x in a}) == 16                              # no two alike


def test_a_stand_in_folder_reads_back_as_the_same_pixels(tmp_path):
    folder = write_standin_folder(tmp_path / "faces", n=20, size=16, seed=3)
    assert write_standin_folder(folder, n=20, size=16, seed=3) == folder        # complete: left as it is
    data = load_image_folder(folder, size=16, cache=False, progress=False)
    images, labels = standin_images(20, size=16, seed=3)
    order = sorted(range(20), key=lambda i: (f"class_{labels[i]}", f"{i:04d}"))  # the folder's sorted order
    assert torch.equal(data.images, images[order])


def test_wrong_requests_are_refused():
    with pytest.raises(ValueError, match="one shape per class"):
        standin_images(4, size=32, num_classes=len(SHAPES) + 1)
    with pytest.raises(ValueError, match="at least"):
        standin_images(4, size=4)
