"""DiffAugment: each transform does what it says, per image, and lets gradients through."""
import pytest
import torch

from gan_helpers.augment import brightness, contrast, cutout, diff_augment, saturation, translation


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_translation_shifts_whole_images_and_fills_with_zeros():
    x = torch.arange(16 * 1 * 8 * 8, dtype=torch.float32).view(16, 1, 8, 8) + 1   # no zeros in the input
    y = translation(x, ratio=0.25, generator=gen(3))
    assert y.shape == x.shape
    shifts = []
    for i in range(16):                                   # each image is its own shift of itself
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if torch.equal(y[i], _shifted(x[i], dy, dx))]
        assert len(matches) == 1, matches
        shifts += matches
    assert len(set(shifts)) > 4, shifts                   # each image its own random shift, most of them moved
    assert sum(shift != (0, 0) for shift in shifts) >= 12, shifts


def _shifted(img, dy, dx):
    out = torch.zeros_like(img)
    H, W = img.shape[-2:]
    src = img[..., max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)]
    out[..., max(-dy, 0):H + min(-dy, 0), max(-dx, 0):W + min(-dx, 0)] = src
    return out


def test_cutout_zeroes_one_square_of_half_the_size_per_image():
    x = torch.ones(5, 3, 8, 8)
    y = cutout(x, ratio=0.5, generator=gen(1))
    zeros = (y == 0).all(dim=1)                            # (B, H, W): every channel cut
    assert zeros.flatten(1).sum(1).tolist() == [16] * 5   # a 4 x 4 square in each image
    assert (y[y != 0] == 1).all()


def test_colour_transforms_are_per_image_and_keep_grey_images_grey_where_they_should():
    x = torch.rand(4, 3, 6, 6, generator=gen(2)) * 2 - 1
    b = brightness(x, generator=gen(5)) - x
    assert torch.allclose(b, b[:, :1, :1, :1].expand_as(b))              # one offset per image
    assert b.abs().max() <= 0.5 and b[:, 0, 0, 0].unique().numel() == 4
    grey = x.mean(dim=1, keepdim=True).expand_as(x).contiguous()
    assert torch.allclose(saturation(grey, generator=gen(5)), grey)       # nothing to saturate
    c = contrast(x, generator=gen(6))
    torch.testing.assert_close(c.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)))  # the mean stays


def test_gradients_flow_through_every_transform():
    x = torch.randn(3, 3, 8, 8, requires_grad=True)
    diff_augment(x, "color,translation,cutout", generator=gen()).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_same_generator_same_augmentation_and_unknown_policies_are_named():
    x = torch.randn(2, 1, 8, 8)
    assert torch.equal(diff_augment(x, generator=gen(4)), diff_augment(x, generator=gen(4)))
    with pytest.raises(ValueError, match="'color,translation,cutout'"):
        diff_augment(x, "colour")
