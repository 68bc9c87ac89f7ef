"""gan_step: one update of D (k times) and one of G."""
import math

import torch

from gan_helpers import TensorBatches, gan_step

from conftest import tiny_models, weights


def optimizers(G, D):
    return (torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999)),
            torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999)))


def test_two_steps_give_finite_losses_and_move_both_models(mnist_small):
    G, D = tiny_models()
    opt_G, opt_D = optimizers(G, D)
    before_G, before_D = weights(G), weights(D)
    batches = iter(TensorBatches(mnist_small, batch_size=32))
    for _ in range(2):
        stats = gan_step(G, D, opt_G, opt_D, next(batches))
        assert all(isinstance(v, float) and math.isfinite(v) for v in stats)
        assert 0 < stats.D_x < 1 and 0 < stats.D_G_z < 1
    for before, model in ((before_G, G), (before_D, D)):
        moved = [k for k, v in weights(model).items() if v.is_floating_point() and not torch.equal(v, before[k])]
        assert moved, f"no parameter of {type(model).__name__} moved"
    assert all(p.requires_grad for p in D.parameters())  # D is trainable again after G's update


def test_k_discriminator_steps_take_one_batch_each(mnist_small):
    G, D = tiny_models()
    opt_G, opt_D = optimizers(G, D)
    x = mnist_small[:96].float() / 127.5 - 1
    gan_step(G, D, opt_G, opt_D, [x[:32], x[32:64], x[64:]])
    assert opt_D.state[next(D.parameters())]["step"] == 3
    assert opt_G.state[next(G.parameters())]["step"] == 1


def test_same_seed_same_step(mnist_small):
    def run():
        G, D = tiny_models(seed=1)
        opt_G, opt_D = optimizers(G, D)
        torch.manual_seed(5)
        return gan_step(G, D, opt_G, opt_D, mnist_small[:32].float() / 127.5 - 1)
    assert run() == run()


def test_augment_transforms_every_image_D_sees_real_and_fake_in_both_updates(mnist_small):
    G, D = tiny_models()
    opt_G, opt_D = optimizers(G, D)
    x_real = mnist_small[:32].float() / 127.5 - 1
    seen = []

    def record(x):
        seen.append((x.requires_grad, x.grad_fn is not None))
        return x.flip(-1)                                   # any differentiable change

    gan_step(G, D, opt_G, opt_D, x_real, augment=record)
    # D's update: the real batch, the detached fakes; G's update: the fakes with their graph (G learns
    # through the transform). Without the third call, G would be trained against un-augmented images.
    assert seen == [(False, False), (False, False), (True, True)]


def test_r1_changes_only_Ds_update(mnist_small):
    results = []
    for r1_weight in (0.0, 5.0):
        G, D = tiny_models(seed=2)
        opt_G, opt_D = optimizers(G, D)
        torch.manual_seed(0)
        stats = gan_step(G, D, opt_G, opt_D, mnist_small[:32].float() / 127.5 - 1, r1_weight=r1_weight)
        results.append((weights(D), stats))
    (D_plain, plain), (D_r1, with_r1) = results
    assert with_r1.loss_D > plain.loss_D                    # the penalty is added to loss_D (it is >= 0)
    assert any(not torch.equal(D_plain[k], D_r1[k]) for k in D_plain)
