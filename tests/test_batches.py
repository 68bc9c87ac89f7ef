"""The in-memory batch source."""
import pytest
import torch

from gan_helpers import TensorBatches, from_unit_range, to_unit_range


def test_batches_are_scaled_float_of_the_right_shape(mnist_small):
    batches = TensorBatches(mnist_small, batch_size=64)
    x_real = next(iter(batches))
    assert x_real.shape == (64, 1, 28, 28) and x_real.dtype == torch.float32
    assert x_real.min() >= -1 and x_real.max() <= 1 and x_real.min() < -0.99 and x_real.max() > 0.99
    assert len(batches) == 512 // 64


def test_one_epoch_visits_every_image_once_in_a_new_order():
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1)
    labels = torch.arange(10)
    batches = TensorBatches(images, batch_size=3, labels=labels, drop_last=False)
    torch.manual_seed(0)
    epoch1 = torch.cat([y for _, y in batches])
    epoch2 = torch.cat([y for _, y in batches])
    assert sorted(epoch1.tolist()) == list(range(10)) and len(batches) == 4
    assert epoch1.tolist() != epoch2.tolist()
    for x_real, y in batches:  # images and labels stay paired
        assert torch.equal(from_unit_range(x_real).view(-1).long(), y)


def test_order_follows_the_torch_seed(mnist_small):
    def first_batch():
        torch.manual_seed(3)
        return next(iter(TensorBatches(mnist_small, batch_size=8)))
    assert torch.equal(first_batch(), first_batch())


def test_unit_range_round_trip():
    pixels = torch.arange(256, dtype=torch.uint8)
    assert torch.equal(from_unit_range(to_unit_range(pixels)), pixels)
    assert to_unit_range(pixels)[0] == -1 and to_unit_range(pixels)[-1] == 1


@pytest.mark.parametrize("images, kwargs, message", [
    (torch.zeros(4, 28, 28, dtype=torch.uint8), {}, "uint8 images of shape"),
    (torch.zeros(4, 1, 28, 28), {}, "uint8 images of shape"),
    (torch.zeros(0, 1, 28, 28, dtype=torch.uint8), {}, "empty"),
    (torch.zeros(4, 1, 28, 28, dtype=torch.uint8), {"batch_size": 8}, "does not fit"),
])
def test_bad_input_is_refused(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TensorBatches(images, **{"batch_size": 2, **kwargs})


def test_to_unit_range_never_changes_its_input():
    x = torch.full((2, 2), 255.0)  # already float: .float() would return the same tensor
    to_unit_range(x)
    assert (x == 255).all()
