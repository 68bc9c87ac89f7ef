"""MLP generator and discriminator: shapes, ranges, errors and rebuilding from a spec."""
import pytest
import torch

from gan_helpers import MLPDiscriminator, MLPGenerator, build_model, model_spec


@pytest.mark.parametrize("img_shape", [(1, 28, 28), (3, 32, 32)])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_generator_makes_images_in_tanh_range(img_shape, batch_norm):
    G = MLPGenerator(latent_dim=32, hidden_dims=(64, 128), img_shape=img_shape, batch_norm=batch_norm)
    x_fake = G(torch.randn(5, 32) * 10)  # large z pushes Tanh to its limits
    assert x_fake.shape == (5, *img_shape)
    assert x_fake.min() >= -1 and x_fake.max() <= 1


def test_discriminator_returns_one_unbounded_logit_per_image():
    D = MLPDiscriminator(hidden_dims=(64,))
    logits = D(torch.randn(7, 1, 28, 28) * 50)
    assert logits.shape == (7,)
    assert (logits.abs() > 1).any()  # logits, not probabilities


def test_discriminator_names_the_wrong_image_shape():
    with pytest.raises(ValueError, match=r"expects images of shape \(B, 1, 28, 28\), got \(2, 3, 32, 32\)"):
        MLPDiscriminator()(torch.zeros(2, 3, 32, 32))


def test_spec_rebuilds_the_same_architecture():
    G = MLPGenerator(latent_dim=20, hidden_dims=(30,), batch_norm=True)
    twin = build_model(model_spec(G))
    assert isinstance(twin, MLPGenerator) and model_spec(twin) == model_spec(G)
    twin.load_state_dict(G.state_dict())  # same parameter names and shapes


def test_unknown_model_class_is_refused():
    with pytest.raises(ValueError, match="Unknown model class 'os.system'"):
        build_model({"class": "os.system", "hparams": {}})
