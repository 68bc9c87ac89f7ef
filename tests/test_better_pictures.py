"""Issue 14's tools inside fit: the best checkpoint, the moving average of G, DiffAugment and R1."""
import math

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

    def fake_fid(images, *, device):
        return {"fid": next(scores)}
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


def test_diff_augment_and_r1_train_through_fit(mnist_small):
    cfg = tiny_config(epochs=1, max_steps_per_epoch=4, diff_augment="translation,cutout", r1_gamma=1.0, r1_every=2)
    G, D = tiny_models()
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    assert history.steps == 4 and all(math.isfinite(v) for v in history.loss_D + history.loss_G)


def test_r1_on_a_batchnorm_discriminator_is_refused(mnist_small):
    G = DCGANGenerator(latent_dim=8, img_size=28, channels=1, features=4)
    D = DCGANDiscriminator(img_size=28, channels=1, features=4)              # BatchNorm
    cfg = tiny_config(epochs=1, r1_gamma=1.0)
    with pytest.raises(ValueError, match="per-image gradient"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
