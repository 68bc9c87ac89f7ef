"""Issue 14's tools inside fit: the best checkpoint, the moving average of G, DiffAugment and R1."""

import pytest
import torch

from gan_helpers import (
    CheckpointError,
    DCGANDiscriminator,
    DCGANGenerator,
    fit,
    load_checkpoint,
    load_generator,
    sample_images,
    sample_z,
)
from gan_helpers.metrics import MetricsCallback

from conftest import tiny_config, tiny_data, tiny_models


def test_keep_best_writes_the_generator_of_the_best_epoch(mnist_small, tmp_path):
    scores = iter([5.0, 3.0, 4.0])                        # epoch 2 is the best (lower is better)

    def fake_fid(images, *, device):        # (fit_start tries the metric on 2 images first: keep_best's name)
        return {"fid": next(scores) if len(images) == 16 else 100.0}
    saved = {}

    def remember(event, run):
        if event == "epoch_end":
            saved[run.epoch] = {k: v.clone() for k, v in run.G.state_dict().items()}
    cfg = tiny_config(epochs=3, checkpoint_dir=str(tmp_path))
    G, D = tiny_models()
    callback = MetricsCallback(fake_fid, n_samples=16, verbose=False, keep_best="fid")
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[callback, remember])
    best = load_generator(tmp_path / "best.pt")
    assert best.checkpoint["epoch"] == 2
    for name, value in best.state_dict().items():
        torch.testing.assert_close(value, saved[2][name])


def test_ema_is_kept_used_for_the_samples_saved_and_resumed_exactly(mnist_small, tmp_path):
    seen = {}

    def grab(event, run):
        if event == "epoch_end":
            seen[run.epoch] = (run.G_ema, {k: v.clone() for k, v in run.G_ema.state_dict().items()})
    cfg = tiny_config(epochs=2, ema_decay=0.99)
    G, D = tiny_models()
    whole = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[grab])
    G_ema, final = seen[2]
    assert torch.equal(whole.samples[-1], sample_images(G_ema, fixed_noise(cfg)))   # drawn by G_ema
    assert any(not torch.equal(final[k], v) for k, v in G.state_dict().items() if v.is_floating_point())

    cfg1 = tiny_config(epochs=1, ema_decay=0.99, checkpoint_dir=str(tmp_path))
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg1), cfg1, progress=False)
    cfg2 = tiny_config(epochs=2, ema_decay=0.99, checkpoint_dir=str(tmp_path))
    G, D = tiny_models(seed=3)
    fit(G, D, tiny_data(mnist_small, cfg2), cfg2, progress=False, resume=True)
    loaded = load_generator(tmp_path)                     # the newest checkpoint: its G_ema
    for name, value in loaded.state_dict().items():
        torch.testing.assert_close(value, final[name], rtol=0, atol=0)
    assert loaded.checkpoint["ema"]
    trained = load_generator(tmp_path, ema=False)         # G itself, to compare with the average
    assert not trained.checkpoint["ema"]
    for name, value in trained.state_dict().items():
        torch.testing.assert_close(value, G.state_dict()[name], rtol=0, atol=0)


def test_fit_averages_G_after_every_generator_step_with_the_warm_up(mnist_small):
    """G_ema at the end of fit is the moving average of G's weights after each of its steps, with
    ema_decay_at's warm-up, recomputed here from G's recorded trajectory; its BatchNorm buffers are G's."""
    from gan_helpers.ema import ema_decay_at
    trajectory, ended = [], {}

    def record(event, run):
        if event in ("fit_start", "step_end"):
            trajectory.append({k: v.clone() for k, v in run.G.state_dict().items()})
        elif event == "fit_end":
            ended["G_ema"] = {k: v.clone() for k, v in run.G_ema.state_dict().items()}
    cfg = tiny_config(epochs=1, max_steps_per_epoch=6, ema_decay=0.9)
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[record])
    parameters = [name for name, _ in G.named_parameters()]
    expected = {name: trajectory[0][name] for name in parameters}          # G_ema starts as G
    for t, after in enumerate(trajectory[1:]):                             # t generator steps before this one
        decay = ema_decay_at(t, 0.9)
        expected = {name: decay * expected[name] + (1 - decay) * after[name] for name in parameters}
    assert len(trajectory) == 1 + 6
    for name in parameters:
        torch.testing.assert_close(ended["G_ema"][name], expected[name], rtol=1e-5, atol=1e-7, msg=name)
        assert not torch.equal(ended["G_ema"][name], trajectory[-1][name])   # an average, not G
    for name, buffer in G.named_buffers():
        assert torch.equal(ended["G_ema"][name], buffer)


def fixed_noise(cfg):
    return sample_z(cfg.n_samples, 16, seed=cfg.seed)


def test_a_run_without_ema_keeps_none_and_old_checkpoints_have_none(mnist_small, tmp_path):
    cfg = tiny_config(epochs=1, checkpoint_dir=str(tmp_path))
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False,
        callbacks=[lambda event, run: None if run.G_ema is None else 1 / 0])
    assert "G_ema" not in load_checkpoint(tmp_path)
    assert load_generator(tmp_path).checkpoint["ema"] is False        # G itself, the only one there is
    cfg = tiny_config(epochs=2, ema_decay=0.999, checkpoint_dir=str(tmp_path))   # asking for EMA on resume
    with pytest.raises(CheckpointError, match="ema_decay"):
        fit(*tiny_models(), tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)


def test_fit_shows_D_only_augmented_images_with_the_configured_policy(mnist_small, monkeypatch):
    """Every image D is given inside fit (real and fake, in D's and G's updates) is an output of DiffAugment,
    called with cfg.diff_augment's policy; and every real image D sees has its cut-out square."""
    import gan_helpers.games.noise as noise_game  # the noise game's step augments (games/noise.py)
    from gan_helpers.augment import diff_augment
    policies, outputs = [], []

    def recording_augment(x, policy):
        policies.append(policy)
        outputs.append(diff_augment(x, policy))
        return outputs[-1]
    monkeypatch.setattr(noise_game, "diff_augment", recording_augment)
    cfg = tiny_config(epochs=1, max_steps_per_epoch=3, diff_augment="translation,cutout")
    G, D = tiny_models()
    shown = []
    D.register_forward_pre_hook(lambda module, inputs: shown.append(inputs[0]))
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    assert history.steps == 3 and len(shown) == 3 * 3                  # real, fake (D's update), fake (G's)
    assert all(any(x is out for out in outputs) for x in shown), "D saw an image DiffAugment did not make"
    assert set(policies) == {"translation,cutout"}
    x_real = shown[0]                              # pixels p / 127.5 - 1 of uint8 p are never 0; cutout's fill is
    assert (x_real == 0).flatten(1).any(1).all(), "a real image reached D without its cut-out square"


def test_fit_applies_r1_on_exactly_every_nth_step_with_weight_gamma_over_2_times_n(mnist_small, monkeypatch):
    """Lazy R1 (StyleGAN2): on steps 0, N, 2N, ... (counted from 0) the D loss gets gamma / 2 * N * R1,
    on the others nothing, and no R1 is computed there."""
    import gan_helpers.games.noise as noise_game  # fit's step: the noise game's gan_step
    import gan_helpers.step as step_module
    from gan_helpers.penalty import r1_penalty
    calls, weights_given = [], []

    def recording_r1(*args, **kwargs):
        calls.append(run_state.step)
        return r1_penalty(*args, **kwargs)

    def recording_step(*args, r1_weight, **kwargs):
        weights_given.append(r1_weight)
        return gan_step(*args, r1_weight=r1_weight, **kwargs)
    gan_step = noise_game.gan_step
    monkeypatch.setattr(step_module, "r1_penalty", recording_r1)
    monkeypatch.setattr(noise_game, "gan_step", recording_step)
    run_state = None

    def remember(event, run):
        nonlocal run_state
        run_state = run
    G = DCGANGenerator(latent_dim=8, img_size=28, channels=1, features=4)
    D = DCGANDiscriminator(img_size=28, channels=1, features=4, norm="layer")
    cfg = tiny_config(epochs=1, max_steps_per_epoch=7, r1_gamma=0.5, r1_every=3)
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[remember])
    assert calls == [0, 3, 6]                                          # steps counted before each update
    assert weights_given == [0.5 / 2 * 3, 0, 0, 0.75, 0, 0, 0.75]


def test_the_r1_term_is_added_to_the_d_loss(mnist_small):
    """gan_step with r1_weight w: loss_D is the plain loss plus w * R1 of D on the real batch (same noise)."""
    from gan_helpers import gan_step
    from gan_helpers.penalty import r1_penalty

    def one_step(r1_weight):
        torch.manual_seed(0)
        G = DCGANGenerator(latent_dim=8, img_size=28, channels=1, features=4)
        D = DCGANDiscriminator(img_size=28, channels=1, features=4, norm="layer")
        x_real = mnist_small[:16].float() / 127.5 - 1
        penalty = r1_penalty(D, x_real).item()
        opt_G, opt_D = (torch.optim.Adam(m.parameters()) for m in (G, D))
        return gan_step(G, D, opt_G, opt_D, x_real, r1_weight=r1_weight).loss_D, penalty
    plain, penalty = one_step(0.0)
    with_r1, _ = one_step(2.5)
    assert penalty > 0 and with_r1 - plain == pytest.approx(2.5 * penalty, rel=1e-4)


def test_r1_on_a_batchnorm_discriminator_is_refused(mnist_small):
    G = DCGANGenerator(latent_dim=8, img_size=28, channels=1, features=4)
    D = DCGANDiscriminator(img_size=28, channels=1, features=4)              # BatchNorm
    cfg = tiny_config(epochs=1, r1_gamma=1.0)
    with pytest.raises(ValueError, match="per-image gradient"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
