"""sampling.py: seeded noise, one way to choose a conditional G's classes, and G(z) as pixels."""
import pytest
import torch

from gan_helpers import DCGANGenerator, MLPGenerator, class_labels, draw_samples, sample_images, sample_z, z_from_seed


@pytest.fixture
def G():
    torch.manual_seed(0)
    return MLPGenerator(latent_dim=8, hidden_dims=(16,), batch_norm=True)


@pytest.fixture
def G_cond():
    torch.manual_seed(0)
    return DCGANGenerator(latent_dim=8, img_size=28, channels=1, features=4, num_classes=3)


def test_a_seed_gives_the_same_z_and_leaves_the_global_generator_alone():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    z = sample_z(4, 10, seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(z, sample_z(4, 10, seed=3)) and not torch.equal(z, sample_z(4, 10, seed=4))
    assert torch.equal(z, torch.randn(4, 10, generator=torch.Generator().manual_seed(3)))
    assert torch.equal(z_from_seed(3, latent_dim=10, n=4), z)
    with pytest.raises(ValueError, match="seed or a generator"):
        sample_z(4, 10, seed=3, generator=torch.Generator())


def test_without_a_seed_z_comes_from_the_global_generator():
    torch.manual_seed(1)
    a = sample_z(3, 5)
    torch.manual_seed(1)
    assert torch.equal(a, torch.randn(3, 5)) and a.shape == (3, 5)


def test_the_four_ways_to_choose_classes(G, G_cond):
    assert class_labels(G, 5) is None
    assert class_labels(G_cond, 7).tolist() == [0, 1, 2, 0, 1, 2, 0]             # None: balanced
    assert class_labels(G_cond, 4, 2).tolist() == [2, 2, 2, 2]                   # one class
    assert class_labels(G_cond, 3, [2, 0, 1]).tolist() == [2, 0, 1]              # one per z
    chosen = class_labels(G_cond, 3, torch.tensor([1, 1, 0], dtype=torch.uint8))
    assert chosen.dtype == torch.long and chosen.tolist() == [1, 1, 0]           # not a uint8 mask


@pytest.mark.parametrize("labels, message", [
    (3, "classes 0 to 2; labels asks for 3"),
    ([0, 1], "one class per z: 3 whole numbers"),
    (torch.tensor([0.0, 1.0, 2.0]), "whole numbers"),
    (-1, "asks for -1"),
])
def test_wrong_classes_are_named(G_cond, labels, message):
    with pytest.raises(ValueError, match=message):
        draw_samples(G_cond, sample_z(3, 8, seed=0), labels=labels)


def test_an_unconditional_G_refuses_labels(G):
    with pytest.raises(ValueError, match="unconditional MLPGenerator"):
        draw_samples(G, sample_z(2, 8, seed=0), labels=1)


def test_draw_samples_gives_pixels_in_eval_mode_and_restores_the_mode(G):
    z = sample_z(6, 8, seed=1)
    G.train()
    x_fake = draw_samples(G, z)
    assert x_fake.dtype == torch.uint8 and x_fake.shape == (6, 1, 28, 28) and G.training
    # eval mode: each image depends on its own z only (BatchNorm uses running averages)
    assert torch.equal(draw_samples(G, z[:1])[0], x_fake[0])


def test_sample_images_in_chunks_equals_one_call(G_cond):
    z = sample_z(10, 8, seed=2)
    assert torch.equal(sample_images(G_cond, z, batch_size=3), draw_samples(G_cond, z))
    assert torch.equal(sample_images(G_cond, z, labels=1, batch_size=4), draw_samples(G_cond, z, labels=1))
    one_class = draw_samples(G_cond, z, labels=1)
    assert not torch.equal(one_class, draw_samples(G_cond, z, labels=2))
