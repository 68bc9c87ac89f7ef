"""DCGAN generator and discriminator: every supported size and channel count, the paper's
initialisation, errors, and a few real training steps."""
import numpy as np
import pytest
import torch
from torch import nn

from gan_helpers import DCGANDiscriminator, DCGANGenerator, TensorBatches, build_model, dcgan_init, fit, model_spec
from gan_helpers.models.dcgan import CHANNELS, SIZES

from conftest import SHARED_DATA, tiny_config


@pytest.mark.parametrize("img_size", SIZES)
@pytest.mark.parametrize("channels", CHANNELS)
def test_every_supported_size_and_channel_count(img_size, channels):
    G = DCGANGenerator(latent_dim=16, img_size=img_size, channels=channels, features=8)
    D = DCGANDiscriminator(img_size=img_size, channels=channels, features=8)
    x_fake = G(torch.randn(3, 16) * 5)
    assert x_fake.shape == (3, channels, img_size, img_size)
    assert x_fake.min() >= -1 and x_fake.max() <= 1
    assert D(x_fake).shape == (3,)


def test_the_paper_64px_widths():
    G = DCGANGenerator(latent_dim=100, img_size=64, channels=3, features=64)
    widths = [m.out_channels for m in G.net if isinstance(m, nn.ConvTranspose2d)]
    assert widths == [512, 256, 128, 64, 3]
    D = DCGANDiscriminator(img_size=64, channels=3, features=64)
    assert [m.out_channels for m in D.net if isinstance(m, nn.Conv2d)] == [64, 128, 256, 512, 1]


def test_initialisation_statistics():
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=100, img_size=64, channels=3, features=64)
    conv = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, nn.ConvTranspose2d)])
    bn = torch.cat([m.weight for m in G.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(conv.mean().item()) < 1e-3 and abs(conv.std().item() - 0.02) < 1e-3
    assert abs(bn.mean().item() - 1) < 5e-3 and abs(bn.std().item() - 0.02) < 5e-3
    assert all(m.bias.abs().max() == 0 for m in G.modules() if isinstance(m, nn.BatchNorm2d))

    layer = nn.Conv2d(3, 256, 4)  # and the function on its own, on a default-initialised layer
    layer.apply(dcgan_init)
    assert abs(layer.weight.std().item() - 0.02) < 1e-3 and layer.bias.abs().max() == 0


@pytest.mark.parametrize("img_size, channels", [(48, 3), (27, 1), (64, 4), (32, 2)])
def test_unsupported_shapes_name_the_sizes_that_work(img_size, channels):
    for build in (lambda: DCGANGenerator(img_size=img_size, channels=channels),
                  lambda: DCGANDiscriminator(img_size=img_size, channels=channels)):
        with pytest.raises(ValueError, match="supports image sizes 28, 16, 32, 64, 128, 256 and 1 or 3 channels"):
            build()


def test_discriminator_names_the_wrong_image_shape():
    with pytest.raises(ValueError, match=r"expects images of shape \(B, 3, 64, 64\), got \(2, 3, 32, 32\)"):
        DCGANDiscriminator(img_size=64, channels=3, features=8)(torch.zeros(2, 3, 32, 32))


def test_spec_rebuilds_the_same_model():
    G = DCGANGenerator(latent_dim=20, img_size=32, channels=3, features=8)
    twin = build_model(model_spec(G))
    twin.load_state_dict(G.state_dict())
    G.eval(), twin.eval()
    z = torch.randn(2, 20)
    torch.testing.assert_close(twin(z), G(z))


def train_a_few_steps(images: torch.Tensor, img_size: int, channels: int):
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=32, img_size=img_size, channels=channels, features=16)
    D = DCGANDiscriminator(img_size=img_size, channels=channels, features=16)
    before = {k: v.clone() for k, v in G.state_dict().items()}
    cfg = tiny_config(epochs=2, batch_size=32, max_steps_per_epoch=3)
    history = fit(G, D, TensorBatches(images, batch_size=cfg.batch_size), cfg, progress=False)
    assert history.steps == 6 and all(np.isfinite(history.loss_D + history.loss_G))
    assert history.samples[-1].shape == (cfg.n_samples, channels, img_size, img_size)
    assert not torch.equal(before["net.0.weight"], G.state_dict()["net.0.weight"])


def test_a_few_training_steps_on_mnist(mnist_small):
    train_a_few_steps(mnist_small, 28, 1)


def test_a_few_training_steps_on_real_cifar10():
    path = SHARED_DATA / "cifar10_train_10k_jpeg75.npz"
    if not path.is_file():
        pytest.skip(f"{path} is not here (only developers and CI have the shared data)")
    x = torch.from_numpy(np.load(path)["x_train"][:256]).permute(0, 3, 1, 2).contiguous()  # (N, 3, 32, 32) uint8
    train_a_few_steps(x, 32, 3)


def test_a_few_training_steps_at_64px():
    images = torch.randint(0, 256, (128, 3, 64, 64), dtype=torch.uint8)  # shapes only: any pixels do
    train_a_few_steps(images, 64, 3)
