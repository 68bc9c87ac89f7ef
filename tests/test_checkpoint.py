"""Checkpoints: round trip, SIGKILL and resume, corruption, unsafe files, mismatches, pruning."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gan_helpers import CheckpointError, fit, list_checkpoints, load_checkpoint
from gan_helpers.checkpoint import save_checkpoint

from conftest import assert_same_weights, tiny_config, tiny_data, tiny_models, weights

WORKER = Path(__file__).with_name("_train_worker.py")


def train_in_subprocess(checkpoint_dir, out, mode="fresh"):
    return subprocess.Popen([sys.executable, str(WORKER), str(checkpoint_dir), str(out), mode],
                            cwd=WORKER.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture
def trained(mnist_small, tmp_path):
    """Two epochs of tiny models, with checkpoints in tmp_path/ckpt."""
    cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path / "ckpt"))
    G, D = tiny_models()
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    return G, D, cfg, history


def test_round_trip_holds_everything(trained):
    G, D, cfg, history = trained
    state = load_checkpoint(cfg.checkpoint_dir)
    assert state["epoch"] == 2 and state["step"] == 16 and state["batch_in_epoch"] == 0
    assert state["models"]["G"] == {"class": "MLPGenerator", "hparams": G.hparams}
    assert state["config"]["checkpoint_dir"] == cfg.checkpoint_dir and state["history"]["loss_D"] == history.loss_D
    assert {"torch", "cuda"} <= state["rng"].keys() and state["opt_G"]["state"]
    assert_same_weights(state["G"], weights(G))


def test_killed_run_resumes_to_the_same_weights(tmp_path):
    reference = train_in_subprocess(tmp_path / "ref", tmp_path / "ref.pt")
    assert reference.wait(timeout=120) == 0, reference.stdout.read().decode()

    victim = train_in_subprocess(tmp_path / "ckpt", tmp_path / "never.pt")
    deadline = time.monotonic() + 60
    while not any(p.name.startswith("epoch002") for p in list_checkpoints(tmp_path / "ckpt")):
        assert victim.poll() is None and time.monotonic() < deadline, "worker ended before it could be killed"
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL and not (tmp_path / "never.pt").exists()

    resumed = train_in_subprocess(tmp_path / "ckpt", tmp_path / "resumed.pt", mode="resume")
    assert resumed.wait(timeout=120) == 0, resumed.stdout.read().decode()
    ref, res = torch.load(tmp_path / "ref.pt"), torch.load(tmp_path / "resumed.pt")
    assert_same_weights(ref["G"], res["G"])
    assert_same_weights(ref["D"], res["D"])


def test_corrupt_newest_checkpoint_names_the_older_good_one(trained, mnist_small):
    _, _, cfg, _ = trained
    older, newest = list_checkpoints(cfg.checkpoint_dir)
    newest.write_bytes(newest.read_bytes()[:1000])  # as if the disk filled up mid-copy
    G, D = tiny_models()
    with pytest.raises(CheckpointError, match="corrupt or incomplete") as err:
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)
    assert str(older) in str(err.value)
    assert older.exists() and newest.exists()  # nothing was deleted
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=older)
    assert history.steps == 16


def test_garbage_file_is_called_corrupt_not_unsafe(tmp_path):
    path = tmp_path / "epoch001_step0000001.pt"
    path.write_bytes(b"not a checkpoint at all, just some bytes")
    with pytest.raises(CheckpointError, match="corrupt or incomplete"):
        load_checkpoint(path)


def test_unsafe_pickle_is_refused(tmp_path):
    path = tmp_path / "epoch001_step0000001.pt"
    torch.save({"format": "gan_helpers.checkpoint/1", "payload": Path("/")}, path)  # a pickled object
    with pytest.raises(CheckpointError, match="arbitrary code"):
        load_checkpoint(path)


def test_foreign_file_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="not a gan_helpers checkpoint"):
        load_checkpoint(path)


def test_mismatched_model_and_config_are_named(trained, mnist_small):
    from gan_helpers import MLPDiscriminator, MLPGenerator
    _, _, cfg, _ = trained
    G = MLPGenerator(latent_dim=16, hidden_dims=(64,), batch_norm=True)
    D = MLPDiscriminator(hidden_dims=(32,))
    cfg.lr_D = 1e-3
    with pytest.raises(CheckpointError) as err:
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)
    text = str(err.value)
    assert "G.hidden_dims: checkpoint has [32], now [64]" in text
    assert "config.lr_D: checkpoint has 0.0002, now 0.001" in text
    assert "D." not in text  # D matches


def test_more_epochs_may_be_added_on_resume(trained, mnist_small):
    G, D, cfg, _ = trained
    cfg.epochs = 3
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)
    assert history.epoch_ends == [8, 16, 24]


def test_a_new_run_refuses_a_folder_with_checkpoints(trained, mnist_small):
    _, _, cfg, _ = trained
    before = {p: p.read_bytes() for p in list_checkpoints(cfg.checkpoint_dir)}
    G, D = tiny_models()
    with pytest.raises(CheckpointError, match="already holds checkpoints of an earlier run"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    assert {p: p.read_bytes() for p in list_checkpoints(cfg.checkpoint_dir)} == before


def test_only_the_newest_checkpoints_are_kept_and_temp_files_are_ignored(mnist_small, tmp_path):
    cfg = tiny_config(epochs=4, checkpoint_dir=str(tmp_path), keep_checkpoints=2)
    (tmp_path / ".epoch009_step0000099.pt.tmp").write_bytes(b"half-written")
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["epoch003_step0000024.pt", "epoch004_step0000032.pt"]


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    good = save_checkpoint({"x": torch.ones(2)}, tmp_path / "epoch001_step0000001.pt")

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")
    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError):
        save_checkpoint({"x": torch.zeros(2)}, good)
    assert torch.equal(load_checkpoint(good)["x"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == [good.name]  # no temporary file left behind


def test_missing_checkpoint_folder_is_explained(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint"):
        load_checkpoint(tmp_path)
