"""fit with the stable-training options (hinge, WGAN-GP, spectral norm, label smoothing, TTUR) and with
conditional models: they train, they refuse what cannot work, and old checkpoints still resume."""
import pytest
import torch

from gan_helpers import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    TensorBatches,
    fit,
    gan_step,
    gradient_penalty,
    load_checkpoint,
    load_mnist,
    sample_z,
)
from gan_helpers.losses import loss_functions

from conftest import assert_same_weights, tiny_config, weights


@pytest.fixture(scope="module")
def mnist_labelled():
    return load_mnist(limit=512)


def dcgan_pair(*, num_classes=0, **D_options):
    torch.manual_seed(0)
    return (DCGANGenerator(latent_dim=16, img_size=28, channels=1, features=8, num_classes=num_classes),
            DCGANDiscriminator(img_size=28, channels=1, features=8, num_classes=num_classes, **D_options))


SETTINGS = {  # name -> (D options, TrainConfig overrides)
    "wgan-gp": (dict(norm="layer"), dict(loss="wasserstein", gp_weight=10.0, d_steps=5, lr_G=1e-4, lr_D=1e-4,
                                         beta1=0.0, beta2=0.9)),
    "sngan-hinge-ttur": (dict(norm="none", spectral_norm=True), dict(loss="hinge", lr_G=1e-4, lr_D=4e-4)),
    "label-smoothing": (dict(), dict(label_smoothing=0.1)),
}


@pytest.mark.parametrize("name", SETTINGS)
def test_each_setting_trains_with_finite_losses_and_moves_both_models(name, mnist_labelled):
    D_options, overrides = SETTINGS[name]
    G, D = dcgan_pair(**D_options)
    before_G, before_D = weights(G), weights(D)
    cfg = tiny_config(epochs=1, batch_size=32, **overrides)
    history = fit(G, D, TensorBatches(mnist_labelled[0], batch_size=32), cfg, progress=False)
    assert history.steps == 16 // cfg.d_steps
    assert all(map(torch.isfinite, torch.tensor(history.loss_D + history.loss_G)))
    for before, model in ((before_G, G), (before_D, D)):
        assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_fit_uses_the_configured_loss(mnist_labelled):
    # With lr 0 nothing changes between the D update and the reported loss, so the recorded loss_D
    # must be the hinge loss of the scores D gives (hinge losses are >= 0 and equal 2 at D = 0).
    G, D = dcgan_pair(norm="none")
    cfg = tiny_config(epochs=1, batch_size=32, max_steps_per_epoch=1, loss="hinge", lr_G=0.0, lr_D=0.0)
    history = fit(G, D, TensorBatches(mnist_labelled[0], batch_size=32), cfg, progress=False)
    assert history.loss_D[0] == pytest.approx(2.0, abs=0.05)   # D's scores start near 0: relu(1) + relu(1)


def test_gradient_penalty_is_part_of_the_critic_loss():
    x_real = torch.rand(8, 1, 28, 28) * 2 - 1
    runs = {}
    for gp_weight in (0.0, 10.0):
        G, D = dcgan_pair(norm="layer")
        opt_G, opt_D = (torch.optim.SGD(m.parameters(), lr=0.0) for m in (G, D))
        d_fn, g_fn = loss_functions("wasserstein")
        torch.manual_seed(1)
        runs[gp_weight] = gan_step(G, D, opt_G, opt_D, x_real, d_loss_fn=d_fn, g_loss_fn=g_fn, gp_weight=gp_weight)
    # The same draws by hand: z first, then one eps per image inside the penalty.
    G, D = dcgan_pair(norm="layer")
    torch.manual_seed(1)
    x_fake = G(sample_z(8, G.latent_dim))
    gp = gradient_penalty(D, x_real, x_fake).item()
    assert gp > 0.01
    assert runs[10.0].loss_D - runs[0.0].loss_D == pytest.approx(10.0 * gp, rel=1e-4)


def test_batchnorm_critic_with_gradient_penalty_is_refused(mnist_labelled):
    G, D = dcgan_pair(norm="batch")
    cfg = tiny_config(epochs=1, loss="wasserstein", gp_weight=10.0)
    with pytest.raises(ValueError, match="norm='layer'"):
        fit(G, D, TensorBatches(mnist_labelled[0], batch_size=64), cfg, progress=False)


def test_wasserstein_without_a_lipschitz_constraint_is_refused():
    with pytest.raises(ValueError, match="gp_weight"):
        tiny_config(loss="wasserstein")
    with pytest.raises(ValueError, match="bce, minimax, hinge, wasserstein, least-squares"):
        tiny_config(loss="relativistic")


def test_conditional_fit_draws_every_class_in_its_samples(mnist_labelled):
    images, labels = mnist_labelled
    G, D = dcgan_pair(num_classes=10)
    cfg = tiny_config(epochs=1, batch_size=32, n_samples=20, max_steps_per_epoch=4)
    seen = []
    D.register_forward_pre_hook(lambda module, args: seen.append(len(args)))
    history = fit(G, D, TensorBatches(images, labels=labels, batch_size=32), cfg, progress=False)
    assert history.steps == 4 and history.samples[0].shape == (20, 1, 28, 28)
    assert set(seen) == {2}                      # D was always called as D(x, labels)


def test_conditional_models_need_labelled_batches_and_matching_classes(mnist_labelled):
    images, labels = mnist_labelled
    G, D = dcgan_pair(num_classes=10)
    with pytest.raises(ValueError, match=r"TensorBatches\(images, labels=labels"):
        fit(G, D, TensorBatches(images, batch_size=32), tiny_config(epochs=1, batch_size=32), progress=False)
    G_plain, _ = dcgan_pair()
    with pytest.raises(ValueError, match="num_classes=0 but D has num_classes=10"):
        fit(G_plain, D, TensorBatches(images, labels=labels, batch_size=32), tiny_config(epochs=1, batch_size=32),
            progress=False)


def test_unconditional_models_ignore_labels_in_the_batches(mnist_labelled):
    images, labels = mnist_labelled
    results = []
    for batches in (TensorBatches(images, batch_size=64), TensorBatches(images, labels=labels, batch_size=64)):
        torch.manual_seed(0)
        G, D = MLPGenerator(latent_dim=16, hidden_dims=(32,)), MLPDiscriminator(hidden_dims=(32,))
        fit(G, D, batches, tiny_config(epochs=1), progress=False)
        results.append(weights(G))
    assert_same_weights(*results)


def test_conditional_run_resumes_to_the_same_weights(mnist_labelled, tmp_path):
    images, labels = mnist_labelled
    data = TensorBatches(images, labels=labels, batch_size=64)
    G, D = dcgan_pair(num_classes=10)
    fit(G, D, data, tiny_config(epochs=2), progress=False)
    reference = weights(G)
    G, D = dcgan_pair(num_classes=10)
    fit(G, D, data, tiny_config(epochs=1, checkpoint_dir=str(tmp_path)), progress=False)
    G, D = dcgan_pair(num_classes=10)
    fit(G, D, data, tiny_config(epochs=2, checkpoint_dir=str(tmp_path)), progress=False, resume=True)
    assert_same_weights(reference, weights(G))


def test_checkpoint_from_before_the_new_options_still_resumes(mnist_small, tmp_path):
    G, D = MLPGenerator(latent_dim=16, hidden_dims=(32,)), MLPDiscriminator(hidden_dims=(32,))
    fit(G, D, TensorBatches(mnist_small, batch_size=64), tiny_config(epochs=1, checkpoint_dir=str(tmp_path)),
        progress=False)
    path = load_checkpoint(tmp_path)["path"]
    state = torch.load(path, weights_only=True)
    for key in ("loss", "gp_weight", "label_smoothing"):              # as written by the previous version
        del state["config"][key]
    for name in ("G", "D"):
        for key in ("num_classes", "spectral_norm"):
            state["models"][name]["hparams"].pop(key, None)
    state.pop("checksum", None)                                     # the previous version wrote none
    torch.save(state, path)
    history = fit(G, D, TensorBatches(mnist_small, batch_size=64), tiny_config(epochs=2, checkpoint_dir=str(tmp_path)),
                  progress=False, resume=True)
    assert history.epoch_ends == [8, 16]
