"""Class-conditional G and D: how labels enter, what goes wrong with the wrong labels."""
import pytest
import torch

from gan_helpers import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    balanced_labels,
    build_model,
    model_spec,
)

PAIRS = {
    "mlp": lambda: (MLPGenerator(latent_dim=16, hidden_dims=(32,), num_classes=10),
                    MLPDiscriminator(hidden_dims=(32,), num_classes=10)),
    "dcgan": lambda: (DCGANGenerator(latent_dim=16, img_size=28, channels=1, features=8, num_classes=10),
                      DCGANDiscriminator(img_size=28, channels=1, features=8, num_classes=10)),
}


@pytest.mark.parametrize("kind", PAIRS)
def test_conditional_models_take_labels_and_the_label_changes_the_output(kind):
    torch.manual_seed(0)
    G, D = PAIRS[kind]()
    G.eval()
    z = torch.randn(1, 16).expand(10, -1)          # one z, every class
    labels = torch.arange(10)
    x_fake = G(z, labels)
    assert x_fake.shape == (10, 1, 28, 28) and G.num_classes == D.num_classes == 10
    assert (x_fake[1:] - x_fake[0]).abs().flatten(1).amax(1).min() > 0  # each class draws something else
    scores = D(x_fake, labels)
    assert scores.shape == (10,)
    assert not torch.allclose(D(x_fake, labels), D(x_fake, (labels + 1) % 10))  # D reads the label too


@pytest.mark.parametrize("kind", PAIRS)
def test_missing_or_bad_labels_are_clear_errors(kind):
    G, D = PAIRS[kind]()
    z, x = torch.randn(4, 16), torch.randn(4, 1, 28, 28)
    with pytest.raises(ValueError, match=r"conditional \(num_classes=10\).*G\(z, labels\)"):
        G(z)
    with pytest.raises(ValueError, match="classes 0..9"):
        D(x, torch.tensor([0, 1, 2, 10]))
    with pytest.raises(ValueError, match=r"one integer label per image, shape \(4,\)"):
        G(z, torch.zeros(4, 10))
    with pytest.raises(ValueError, match="unconditional"):
        MLPGenerator(latent_dim=16)(z, torch.zeros(4, dtype=torch.long))


def test_balanced_labels_cycle_through_the_classes():
    assert balanced_labels(12, 5).tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]
    assert torch.bincount(balanced_labels(1000, 10)).tolist() == [100] * 10


def test_conditional_models_round_trip_through_a_spec():
    G, _ = PAIRS["dcgan"]()
    copy = build_model(model_spec(G))
    copy.load_state_dict(G.state_dict())
    G.eval(), copy.eval()
    z, y = torch.randn(3, 16), torch.tensor([3, 1, 4])
    torch.testing.assert_close(copy(z, y), G(z, y))


def test_conditional_dcgan_draws_the_digit_it_is_asked_for():
    """A short real training run on four digits; the shipped MNIST classifier reads the samples.
    An unconditional G would match its label a quarter of the time; this one must obey it."""
    from gan_helpers import TensorBatches, TrainConfig, draw_samples, fit, load_mnist, sample_z
    from gan_helpers.metrics import classify

    digits = torch.tensor([0, 1, 4, 7])
    images, labels = load_mnist()
    keep = torch.isin(labels, digits)
    images, labels = images[keep][:6000], torch.searchsorted(digits, labels[keep])[:6000]  # digit -> class 0..3
    torch.manual_seed(0)
    G = DCGANGenerator(latent_dim=32, img_size=28, channels=1, features=16, num_classes=4)
    D = DCGANDiscriminator(img_size=28, channels=1, features=16, num_classes=4)
    cfg = TrainConfig(epochs=7, batch_size=64, lr_G=5e-4, lr_D=5e-4, device="cpu")  # 651 steps
    fit(G, D, TensorBatches(images, labels=labels, batch_size=64), cfg, progress=False)
    asked = balanced_labels(400, 4)
    x_fake = draw_samples(G, sample_z(400, 32, generator=torch.Generator().manual_seed(1)), labels=asked)
    read = classify(x_fake)[1].argmax(1)
    obeyed = (read == digits[asked]).float()
    assert obeyed.mean() > 0.7, f"only {obeyed.mean():.0%} of the samples show the digit asked for"
    for k in range(4):  # and every class on its own: its digit is what G draws most often
        assert torch.bincount(read[asked == k], minlength=10).argmax() == digits[k]
