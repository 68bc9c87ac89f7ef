"""Discriminator options: the normalisation layer and spectral normalisation."""
import pytest
import torch
from torch import nn

from gan_helpers import DCGANDiscriminator, MLPDiscriminator, add_spectral_norm, build_model, model_spec


def _sigma(weight: torch.Tensor) -> float:
    """Largest singular value of a layer's weight as spectral norm sees it: reshaped to (out, -1)."""
    return torch.linalg.matrix_norm(weight.flatten(1), ord=2).item()


@pytest.mark.parametrize("make", [lambda: DCGANDiscriminator(img_size=32, channels=3, features=16, spectral_norm=True),
                                  lambda: MLPDiscriminator(hidden_dims=(64, 32), spectral_norm=True)],
                         ids=["dcgan", "mlp"])
def test_spectral_norm_bounds_the_largest_singular_value_near_one(make):
    torch.manual_seed(0)
    D = make()
    x = torch.randn(8, *D.img_shape)
    layers = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    before = [_sigma(m.parametrizations.weight.original) for m in layers]
    for _ in range(30):                       # each training-mode forward pass runs one power iteration
        D(x)
    D.eval()
    after = [_sigma(m.weight) for m in layers]  # the weight D actually uses: W / sigma(W)
    assert all(abs(s - 1) < 0.05 for s in after), after
    assert any(abs(s - 1) > 0.2 for s in before)  # it was not near 1 to begin with


def test_spectral_norm_limits_how_fast_D_can_change_its_output():
    torch.manual_seed(0)
    D = MLPDiscriminator(hidden_dims=(64, 32), spectral_norm=True)
    for _ in range(30):
        D(torch.randn(8, 1, 28, 28))
    D.eval()
    x, dx = torch.randn(16, 1, 28, 28), 0.1 * torch.randn(16, 1, 28, 28)
    change = (D(x + dx) - D(x)).abs()
    assert (change <= dx.flatten(1).norm(dim=1) * 1.05).all()  # LeakyReLU is 1-Lipschitz: D is about 1-Lipschitz


@pytest.mark.parametrize("norm", ["batch", "layer", "instance", "none"])
def test_every_norm_gives_a_working_discriminator(norm):
    D = DCGANDiscriminator(img_size=32, channels=3, features=8, norm=norm)
    has_bn = any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    assert has_bn == (norm == "batch")
    assert D(torch.randn(4, 3, 32, 32)).shape == (4,)


@pytest.mark.parametrize("norm", ["layer", "instance", "none"])
def test_without_batchnorm_one_image_does_not_depend_on_the_others(norm):
    torch.manual_seed(0)
    D = DCGANDiscriminator(img_size=16, channels=1, features=8, norm=norm)
    x = torch.randn(4, 1, 16, 16)
    torch.testing.assert_close(D(x)[:1], D(x[:1]))  # what the gradient penalty relies on


def test_unknown_norm_is_a_clear_error():
    with pytest.raises(ValueError, match="batch, layer, instance, none"):
        DCGANDiscriminator(img_size=32, channels=3, norm="group")


def test_spectral_norm_models_round_trip_through_a_spec():
    D = DCGANDiscriminator(img_size=28, channels=1, features=8, spectral_norm=True, norm="none")
    copy = build_model(model_spec(D))
    copy.load_state_dict(D.state_dict())
    D.eval(), copy.eval()
    x = torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(copy(x), D(x))


def test_add_spectral_norm_wraps_every_weight_layer():
    net = add_spectral_norm(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4, 1)))
    assert all(hasattr(m, "parametrizations") for m in net if isinstance(m, (nn.Conv2d, nn.Linear)))
