"""The built-in callbacks write what they promise."""
import pytest

from gan_helpers import SaveSampleGrids, TensorBoardLogger, fit

from conftest import tiny_config, tiny_data, tiny_models


def test_sample_grids_per_epoch(mnist_small, tmp_path):
    G, D = tiny_models()
    cfg = tiny_config(epochs=2, max_steps_per_epoch=2)
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[SaveSampleGrids(tmp_path)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_001.png", "epoch_002.png"]


def test_tensorboard_logs_scalars_and_images(mnist_small, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    G, D = tiny_models()
    cfg = tiny_config(epochs=2, max_steps_per_epoch=4, d_steps=2)  # k = 2: each step sees two real batches
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[TensorBoardLogger(tmp_path, every=2)])
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert {"train/loss_D", "train/loss_G", "train/D_x", "train/D_G_z"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Scalars("train/loss_D")] == [2, 4, 6, 8]
    assert set(events.Tags()["images"]) == {"fake", "real"}
