"""fit: history, samples, determinism, other data sources, callbacks, NaN and Ctrl-C handling."""
import os
import signal

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from gan_helpers import NonFiniteLossError, fit, list_checkpoints, to_unit_range
from gan_helpers.callbacks import EVENTS

from conftest import assert_same_weights, tiny_config, tiny_data, tiny_models, weights


def test_fit_records_history_and_fixed_noise_samples(mnist_small):
    G, D = tiny_models()
    cfg = tiny_config(epochs=3)
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    assert history.steps == 3 * 8 and history.epoch_ends == [8, 16, 24]
    assert len(history.epoch_seconds) == 3 and len(history.epoch_means("loss_D")) == 3
    assert [s.shape for s in history.samples] == [(16, 1, 28, 28)] * 3
    assert all(s.dtype == torch.uint8 for s in history.samples)
    assert not torch.equal(history.samples[0], history.samples[-1])  # G changed between epochs
    assert G.training  # fit leaves G in train mode after drawing samples in eval mode


def test_same_seed_gives_identical_runs(mnist_small):
    results = []
    for _ in range(2):
        G, D = tiny_models(seed=4)
        cfg = tiny_config(seed=7)
        history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
        results.append((weights(G), weights(D), history.loss_D))
    assert_same_weights(results[0][0], results[1][0])
    assert_same_weights(results[0][1], results[1][1])
    assert results[0][2] == results[1][2]


def test_a_dataloader_of_images_and_labels_works(mnist_small):
    G, D = tiny_models()
    cfg = tiny_config(epochs=1, max_steps_per_epoch=3)
    loader = DataLoader(TensorDataset(to_unit_range(mnist_small), torch.zeros(len(mnist_small))),
                        batch_size=cfg.batch_size, shuffle=True)
    history = fit(G, D, loader, cfg, progress=False)
    assert history.steps == 3


def test_k_discriminator_steps_group_batches(mnist_small):
    G, D = tiny_models()
    cfg = tiny_config(epochs=1, d_steps=2)
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    assert history.steps == 8 // 2


def test_callbacks_see_every_event_in_order(mnist_small):
    seen = []
    G, D = tiny_models()
    cfg = tiny_config(epochs=2, max_steps_per_epoch=2)
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False,
        callbacks=[lambda event, run: seen.append((event, run.epoch, run.step))])
    assert seen == [("fit_start", 0, 0), ("step_end", 0, 1), ("step_end", 0, 2), ("epoch_end", 1, 2),
                    ("step_end", 1, 3), ("step_end", 1, 4), ("epoch_end", 2, 4), ("fit_end", 2, 4)]
    assert {e for e, *_ in seen} == set(EVENTS)


def test_nan_loss_stops_with_a_message_and_keeps_the_good_checkpoint(mnist_small, tmp_path):
    G, D = tiny_models()
    cfg = tiny_config(epochs=3, checkpoint_dir=str(tmp_path))

    def poison(event, run):  # after the first epoch, break D so its loss becomes NaN
        if event == "epoch_end" and run.epoch == 1:
            with torch.no_grad():
                next(D.parameters()).fill_(float("nan"))
    with pytest.raises(NonFiniteLossError) as err:
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[poison])
    saved = list_checkpoints(tmp_path)
    assert [p.name for p in saved] == ["epoch001_step0000008.pt"]
    assert "nan in epoch 2 at step 9" in str(err.value) and str(saved[0]) in str(err.value)


def test_ctrl_c_saves_a_checkpoint_and_resume_matches_an_uninterrupted_run(mnist_small, tmp_path):
    cfg = tiny_config(epochs=3)
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    reference = weights(G), weights(D)

    def press_ctrl_c(event, run):  # SIGINT in the middle of epoch 2, like Jupyter's stop button
        if event == "step_end" and run.step == 11:
            os.kill(os.getpid(), signal.SIGINT)
    cfg = tiny_config(epochs=3, checkpoint_dir=str(tmp_path))
    G, D = tiny_models()
    with pytest.raises(KeyboardInterrupt, match="step 11"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[press_ctrl_c])
    assert list_checkpoints(tmp_path)[-1].name == "epoch001_step0000011.pt"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored

    G, D = tiny_models(seed=99)  # fresh weights: everything must come from the checkpoint
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)
    assert history.steps == 24 and history.epoch_ends == [8, 16, 24]
    assert_same_weights(weights(G), reference[0])
    assert_same_weights(weights(D), reference[1])


def test_a_callback_can_stop_fit_which_saves_and_returns_and_resumes_exactly(mnist_small, tmp_path):
    cfg = tiny_config(epochs=3)
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    reference = weights(G), weights(D)

    seen = []
    def stop_at_step_11(event, run):  # e.g. a time budget that runs out in the middle of epoch 2
        seen.append(event)
        if event == "step_end" and run.step == 11:
            run.stop = True
    cfg = tiny_config(epochs=3, checkpoint_dir=str(tmp_path))
    G, D = tiny_models()
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[stop_at_step_11])
    assert history.steps == 11 and history.epoch_ends == [8]            # returned right after that step
    assert seen[-1] == "fit_end" and seen.count("step_end") == 11
    assert list_checkpoints(tmp_path)[-1].name == "epoch001_step0000011.pt"

    G, D = tiny_models(seed=99)
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)
    assert history.steps == 24 and history.epoch_ends == [8, 16, 24]
    assert_same_weights(weights(G), reference[0])
    assert_same_weights(weights(D), reference[1])


def test_ctrl_c_on_the_last_step_of_a_short_epoch_resumes_exactly(mnist_small, tmp_path):
    cfg = tiny_config(epochs=2, max_steps_per_epoch=3)
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    reference = weights(G)

    cfg = tiny_config(epochs=2, max_steps_per_epoch=3, checkpoint_dir=str(tmp_path))
    G, D = tiny_models()
    with pytest.raises(KeyboardInterrupt):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False,
            callbacks=[lambda event, run: os.kill(os.getpid(), signal.SIGINT) if run.step == 3 and event == "step_end"
                       else None])
    G, D = tiny_models(seed=5)
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)
    assert history.epoch_ends == [3, 6]
    assert_same_weights(weights(G), reference)


def test_empty_data_is_an_error(mnist_small):
    G, D = tiny_models()
    with pytest.raises(ValueError, match="no batches"):
        fit(G, D, [], tiny_config(epochs=1), progress=False)


def test_asking_for_a_missing_gpu_is_explained(monkeypatch):
    from gan_helpers import pick_device
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        pick_device("cuda")
    assert pick_device("cpu").type == "cpu"
