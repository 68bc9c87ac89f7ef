"""fit: history, samples, determinism, other data sources, callbacks, NaN and Ctrl-C handling."""
import os
import signal

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from gan_helpers import NonFiniteLossError, fit, list_checkpoints, to_unit_range
from gan_helpers.callbacks import EVENTS

from conftest import assert_same_weights, intercept_writes, tiny_config, tiny_data, tiny_models, weights


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


class NaNFromEpoch:
    """Batches that turn to NaN from epoch `bad` on, as broken data would."""

    def __init__(self, batches, bad: int):
        self.batches, self.bad, self.epoch, self.batch_size = batches, bad, 0, batches.batch_size

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        self.epoch += 1
        for x_real in self.batches:
            yield x_real * float("nan") if self.epoch >= self.bad else x_real


def test_nan_loss_stops_with_a_message_and_keeps_the_good_checkpoint(mnist_small, tmp_path):
    G, D = tiny_models()
    cfg = tiny_config(epochs=3, checkpoint_dir=str(tmp_path))
    # (D's weights set to NaN at epoch 1's end, as this test once did, now stop before that epoch's save:
    # test_a_state_that_went_bad_is_never_saved_and_never_called_good. NaN data in epoch 2 instead.)
    with pytest.raises(NonFiniteLossError) as err:
        fit(G, D, NaNFromEpoch(tiny_data(mnist_small, cfg), bad=2), cfg, progress=False)
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


def test_data_of_another_batch_size_than_the_config_is_refused(mnist_small):
    from gan_helpers import TensorBatches
    G, D = tiny_models()
    cfg = tiny_config(epochs=1, batch_size=64)
    expected = r"batches of 32 images but cfg.batch_size is 64.*TrainConfig\(batch_size=32\)"
    with pytest.raises(ValueError, match=expected):
        fit(G, D, TensorBatches(mnist_small, batch_size=32), cfg, progress=False)
    plain_list = [to_unit_range(mnist_small[i:i + 32]) for i in range(0, 128, 32)]   # no batch_size attribute
    with pytest.raises(ValueError, match="batches of 32 images but cfg.batch_size is 64"):
        fit(G, D, plain_list, cfg, progress=False)


def test_data_of_the_configured_batch_size_trains(mnist_small):
    from gan_helpers import TensorBatches
    G, D = tiny_models()
    cfg = tiny_config(epochs=1, batch_size=32)
    assert fit(G, D, TensorBatches(mnist_small, batch_size=32), cfg, progress=False).steps == 512 // 32
    plain_list = [to_unit_range(mnist_small[i:i + 32]) for i in range(0, 128, 32)]
    assert fit(G, D, plain_list, cfg, progress=False).steps == 4


# ---- failures a learner can act on (issue 16) ---------------------------------------------------------------------

def test_the_nan_stop_can_be_followed_with_lower_learning_rates(mnist_small, tmp_path):
    """Defect 2: the advice "resume with a lower learning rate" was refused (config.lr_G differs)."""
    cfg = tiny_config(epochs=3, checkpoint_dir=str(tmp_path))
    G, D = tiny_models()
    with pytest.raises(NonFiniteLossError) as err:
        fit(G, D, NaNFromEpoch(tiny_data(mnist_small, cfg), bad=2), cfg, progress=False)
    good = list_checkpoints(tmp_path)[-1]
    assert f"The last good checkpoint is {good}" in str(err.value) and "lower learning rates" in str(err.value)
    cfg.lr_G, cfg.lr_D = 1e-4, 1e-4
    G, D = tiny_models()
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=good)
    assert history.epoch_ends == [8, 16, 24]


def test_a_state_that_went_bad_is_never_saved_and_never_called_good(mnist_small, tmp_path):
    """Defect 2: with lr_G 1e20 the losses stay finite (BatchNorm hides G's scale) while G's weights reach 1e20,
    and a huge lr_D left inf in Adam's state; both were saved and the run ended as if all was well."""
    cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path / "a"), lr_G=1e20)
    G, D = tiny_models()
    with pytest.raises(NonFiniteLossError, match=r"G's weights grew to \d\.\de\+\d\d") as err:
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    assert list_checkpoints(cfg.checkpoint_dir) == []
    assert "No checkpoint was saved" in str(err.value) and "good" not in str(err.value)

    def break_adam(event, run):        # what a huge lr_D does to Adam's running average of squared gradients
        if event == "epoch_end" and run.epoch == 2:
            next(iter(run.opt_D.state.values()))["exp_avg_sq"].fill_(float("inf"))
    cfg = tiny_config(epochs=3, checkpoint_dir=str(tmp_path / "b"))
    G, D = tiny_models()
    with pytest.raises(NonFiniteLossError, match="opt_D's state holds inf") as err:
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[break_adam])
    saved = list_checkpoints(cfg.checkpoint_dir)
    assert [p.name for p in saved] == ["epoch001_step0000008.pt"] and f"last good checkpoint is {saved[0]}" in str(
        err.value)

    def poison(event, run):           # NaN weights at an epoch's end: that epoch is not saved either
        if event == "epoch_end" and run.epoch == 1:
            with torch.no_grad():
                next(run.D.parameters()).fill_(float("nan"))
    cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path / "c"))
    G, D = tiny_models()
    with pytest.raises(NonFiniteLossError, match="D's weights hold nan"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[poison])
    assert list_checkpoints(cfg.checkpoint_dir) == []


def test_sigterm_saves_like_ctrl_c_and_resumes_exactly(mnist_small, tmp_path):
    """Defect 9: SIGTERM, what Colab and job schedulers send, ended the run without a checkpoint."""
    cfg = tiny_config(epochs=2)
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    reference = weights(G), weights(D)

    class Terminated(Exception):
        pass

    def unhandled(signum, frame):     # without fit's own handler SIGTERM would end the test run: fail instead
        raise Terminated
    previous = signal.signal(signal.SIGTERM, unhandled)
    try:
        cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path))
        G, D = tiny_models()
        with pytest.raises(KeyboardInterrupt, match="step 5") as stopped:
            fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False,
                callbacks=[lambda event, run: os.kill(os.getpid(), signal.SIGTERM)
                           if event == "step_end" and run.step == 5 else None])
        assert stopped.value.signum == signal.SIGTERM
        assert signal.getsignal(signal.SIGTERM) is unhandled                # handler restored
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["epoch000_step0000005.pt"]
    G, D = tiny_models(seed=3)
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)
    assert_same_weights(weights(G), reference[0])
    assert_same_weights(weights(D), reference[1])


def test_a_second_ctrl_c_while_the_interrupt_checkpoint_is_written_stops_at_once(mnist_small, tmp_path,
                                                                                  monkeypatch):
    """Defect 4: torch turned the second KeyboardInterrupt into RuntimeError('[enforce fail at inline_container...')."""
    cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path))
    writes = []

    def ctrl_c_again(data):           # the third write of the interrupt checkpoint: Ctrl-C once more
        writes.append(len(data))
        if len(writes) == 3:
            os.kill(os.getpid(), signal.SIGINT)

    def press_ctrl_c(event, run):
        if event == "step_end" and run.step == 11:
            os.kill(os.getpid(), signal.SIGINT)
            intercept_writes(monkeypatch, ctrl_c_again)
    G, D = tiny_models()
    with pytest.raises(KeyboardInterrupt, match="at once"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[press_ctrl_c])
    assert len(writes) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch001_step0000008.pt"]   # no half file, no lock


def test_batchnorm_with_batches_of_one_is_explained(mnist_small):
    """Defect 4: torch's "Expected more than 1 value per channel when training" was passed on."""
    G, D = tiny_models()                                  # G has BatchNorm
    cfg = tiny_config(epochs=1, batch_size=1)
    with pytest.raises(ValueError, match="BatchNorm.*batches of 2 or more"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)


@pytest.mark.parametrize("device", ["tpu", "", "meta", "cuda:x"])
def test_devices_fit_cannot_train_on_are_explained(device):
    """Defect 4: `--device tpu`, `""` and `meta` ended in torch's RuntimeError or a later failure."""
    from gan_helpers import pick_device
    with pytest.raises(ValueError, match="cuda, mps or cpu"):
        pick_device(device)


def test_asking_for_a_missing_mps_is_explained(monkeypatch):
    from gan_helpers import pick_device
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no MPS"):
        pick_device("mps")
