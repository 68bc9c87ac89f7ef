"""One training per run folder: a second process is refused by name, a killed owner never blocks a resume."""
import os
import signal
import time

import pytest

from gan_helpers import CheckpointError, fit, list_checkpoints

from conftest import tiny_config, tiny_data, tiny_models

fcntl = pytest.importorskip("fcntl")    # the lock is the operating system's advisory lock (Linux, macOS)


def hold_lock_in_another_process(folder):
    """Fork a process that takes `folder`'s run lock and keeps it until it is killed; return its pid.
    (The child touches no torch, so forking the test process is safe.)"""
    from gan_helpers.runlock import RunLock
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:                                  # the child: lock, say so, wait to be killed
        try:
            RunLock(folder).__enter__()
            os.write(ready_w, b"locked")
            time.sleep(120)
        finally:
            os._exit(0)
    os.close(ready_w)
    assert os.read(ready_r, 16) == b"locked"
    os.close(ready_r)
    return pid


def test_a_second_process_cannot_train_into_a_folder_in_use_and_a_killed_owner_does_not_block(mnist_small, tmp_path):
    folder = tmp_path / "ckpt"
    cfg = tiny_config(epochs=1, checkpoint_dir=str(folder))
    owner = hold_lock_in_another_process(folder)
    try:
        G, D = tiny_models()
        with pytest.raises(CheckpointError, match=f"pid {owner} on ") as err:
            fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
        assert "overwrite each other" in str(err.value)
        with pytest.raises(CheckpointError, match=f"pid {owner}"):          # a resume is refused just the same
            fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)
        assert list_checkpoints(folder) == []                              # nothing written by the refused runs
    finally:
        os.kill(owner, signal.SIGKILL)                                     # as kill -9 would: no clean-up
        os.waitpid(owner, 0)
    assert (folder / ".lock").exists()                                     # the dead owner's lock file is left...
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)  # ...and does not block
    assert history.steps == 8 and [p.name for p in list_checkpoints(folder)] == ["epoch001_step0000008.pt"]
    assert sorted(p.name for p in folder.iterdir()) == ["epoch001_step0000008.pt"]   # the lock went with the run


def test_the_lock_is_released_when_fit_fails_and_taken_again_in_the_same_process(mnist_small, tmp_path):
    cfg = tiny_config(epochs=1, checkpoint_dir=str(tmp_path))
    G, D = tiny_models()
    with pytest.raises(ValueError, match="no batches"):
        fit(G, D, [], cfg, progress=False)
    assert not (tmp_path / ".lock").exists()
    assert fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False).steps == 8


def test_an_unwritable_checkpoint_folder_is_said_before_training(mnist_small, tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    cfg = tiny_config(epochs=1, checkpoint_dir=str(tmp_path / "a_file" / "ckpt"))
    steps = []
    G, D = tiny_models()
    with pytest.raises(OSError, match="Cannot write to the folder"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False,
            callbacks=[lambda event, run: steps.append(run.step) if event == "step_end" else None])
    assert steps == []
