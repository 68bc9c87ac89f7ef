"""The WGAN-GP gradient penalty against hand-computed cases, and the two common mistakes it must not make."""
import pytest
import torch
from torch import nn

from gan_helpers import DCGANDiscriminator, gradient_penalty, interpolate


class LinearCritic(nn.Module):
    """D(x) = <w, x> + b: its gradient is w for every input, so GP = (||w|| - 1)^2 exactly."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w, self.b = nn.Parameter(w.clone()), nn.Parameter(torch.tensor(0.3))

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1) + self.b


def test_linear_critic_has_the_hand_computed_penalty_and_gradient():
    w = torch.tensor([[[3.0, 0.0], [0.0, 4.0]]])          # (C=1, 2, 2), ||w|| = 5 over all numbers
    D = LinearCritic(w)
    x_real, x_fake = torch.randn(8, 1, 2, 2), torch.randn(8, 1, 2, 2)
    gp = gradient_penalty(D, x_real, x_fake)
    torch.testing.assert_close(gp, torch.tensor(16.0))    # (5 - 1)^2, whatever the interpolation points
    (grad_w,) = torch.autograd.grad(gp, D.w)              # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    torch.testing.assert_close(grad_w, 2 * 4 * w / 5)


def test_norm_is_taken_over_all_non_batch_dimensions():
    # Two channels with gradient norms 3 and 4: per-channel norms would give ((3-1)^2 + (4-1)^2)/2 = 6.5;
    # per-row norms something else again. The right norm is sqrt(9 + 16) = 5, so GP = 16.
    w = torch.zeros(2, 3, 3)
    w[0, 0, 0], w[1, 2, 1] = 3.0, 4.0
    gp = gradient_penalty(LinearCritic(w), torch.randn(4, 2, 3, 3), torch.randn(4, 2, 3, 3))
    torch.testing.assert_close(gp, torch.tensor(16.0))


def test_unit_norm_critic_has_zero_penalty():
    w = torch.randn(3, 4, 4)
    gp = gradient_penalty(LinearCritic(w / w.norm()), torch.randn(5, 3, 4, 4), torch.randn(5, 3, 4, 4))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)


def test_one_interpolation_weight_per_image_not_per_pixel():
    x_real, x_fake = torch.ones(64, 3, 8, 8), torch.zeros(64, 3, 8, 8)
    x_hat = interpolate(x_real, x_fake, generator=torch.Generator().manual_seed(0))
    eps = x_hat.flatten(1)                                # x_hat = eps * 1 + (1 - eps) * 0 = eps, per pixel
    assert torch.equal(eps, eps[:, :1].expand_as(eps)), "every pixel of an image must share one eps"
    assert eps[:, 0].unique().numel() == 64, "each image draws its own eps"
    assert 0 <= eps.min() and eps.max() <= 1 and 0.3 < eps.mean() < 0.7   # U[0, 1]


def test_points_lie_on_the_line_between_the_two_images():
    x_real = torch.randn(16, 1, 5, 5, generator=torch.Generator().manual_seed(0))
    x_fake = x_real + 1 + torch.rand(16, 1, 5, 5)          # far enough apart that the ratio below is exact
    x_hat = interpolate(x_real, x_fake)
    # x_hat - x_fake = eps * (x_real - x_fake) with one eps per image: the ratio is constant within an image.
    ratio = ((x_hat - x_fake) / (x_real - x_fake)).flatten(1)
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))


def test_nonlinear_critic_matches_a_per_image_autograd_reference():
    torch.manual_seed(0)
    D = DCGANDiscriminator(img_size=16, channels=1, features=8, norm="layer")
    x_real, x_fake = torch.randn(6, 1, 16, 16), torch.randn(6, 1, 16, 16)
    gp = gradient_penalty(D, x_real, x_fake, generator=torch.Generator().manual_seed(3))
    x_hat = interpolate(x_real, x_fake, generator=torch.Generator().manual_seed(3))
    norms = []
    for image in x_hat:                                   # one image at a time: its own gradient
        image = image[None].requires_grad_(True)
        (grad,) = torch.autograd.grad(D(image).sum(), image)
        norms.append(grad.norm())
    torch.testing.assert_close(gp, ((torch.stack(norms) - 1) ** 2).mean())


def test_penalty_trains_D_and_not_G():
    D = LinearCritic(torch.full((1, 2, 2), 2.0))
    x_fake = torch.randn(4, 1, 2, 2, requires_grad=True)  # as if it came out of G
    gradient_penalty(D, torch.randn(4, 1, 2, 2), x_fake).backward()
    assert x_fake.grad is None and D.w.grad is not None and D.w.grad.abs().sum() > 0


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="same shape"):
        interpolate(torch.zeros(2, 1, 4, 4), torch.zeros(3, 1, 4, 4))


def test_r1_of_a_linear_critic_is_the_squared_norm_of_its_weights():
    from gan_helpers.penalty import r1_penalty
    w = torch.tensor([[[3.0, 0.0], [0.0, 4.0]]])          # ||w||^2 = 25 over all of an image's numbers
    D = LinearCritic(w)
    r1 = r1_penalty(D, torch.randn(8, 1, 2, 2))
    torch.testing.assert_close(r1, torch.tensor(25.0))    # zero-centred: no "- 1" as in WGAN-GP
    (grad_w,) = torch.autograd.grad(r1, D.w)              # d/dw ||w||^2 = 2 w
    torch.testing.assert_close(grad_w, 2 * w)


def test_r1_is_per_image_and_zero_for_a_flat_critic():
    from gan_helpers.penalty import r1_penalty

    class Quadratic(nn.Module):                           # D(x) = a * sum(x^2): gradient 2 a x, per image
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(torch.tensor(0.5))

        def forward(self, x):
            return self.a * x.pow(2).flatten(1).sum(1)
    x = torch.randn(6, 2, 3, 3)
    expected = x.flatten(1).pow(2).sum(1).mean()          # |2 * 0.5 * x|^2 = |x|^2, averaged over images
    torch.testing.assert_close(r1_penalty(Quadratic(), x), expected)
    flat = LinearCritic(torch.zeros(1, 2, 2))
    assert r1_penalty(flat, torch.randn(4, 1, 2, 2)).item() == 0.0
