"""Nothing a learner saved is lost, whatever the learner does (issue 26): a resume into another run's folder,
a run folder deleted while it trains, a callback that fails, a full disk or a second process while a
picture is written."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_helpers import (
    CheckpointError,
    History,
    fit,
    list_checkpoints,
    load_checkpoint,
    plot_history,
    save_gif,
    save_grid,
)
from gan_helpers.metrics import MetricsCallback
from gan_helpers.runlock import FolderInUseError, RunLock

from conftest import REPO, fill_disk, tiny_config, tiny_data, tiny_models, weights

fcntl = pytest.importorskip("fcntl")


def train(images, folder, **overrides):
    cfg = tiny_config(epochs=1, checkpoint_dir=str(folder), **overrides)
    G, D = tiny_models()
    fit(G, D, tiny_data(images, cfg), cfg, progress=False)
    return cfg


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ---- 1. a resume never writes into another run's folder ----------------------------------------------------------

def test_resuming_one_run_into_the_folder_of_another_is_refused_and_leaves_it_as_it_was(mnist_small, tmp_path):
    train(mnist_small, tmp_path / "A")
    train(mnist_small[:256], tmp_path / "B", seed=1)
    before = snapshot(tmp_path / "B")
    source = list_checkpoints(tmp_path / "A")[-1]
    cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path / "B"))
    G, D = tiny_models()
    for resume in (source, tmp_path / "A"):                                  # a file, or the other run's folder
        with pytest.raises(CheckpointError, match="another run") as err:
            fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=resume)
        assert "mix the two runs" in str(err.value)
    assert snapshot(tmp_path / "B") == before


def test_a_resume_into_a_new_folder_or_from_an_older_checkpoint_of_the_same_run_is_allowed(mnist_small, tmp_path):
    cfg = train(mnist_small, tmp_path / "A", keep_checkpoints=3)
    first = list_checkpoints(tmp_path / "A")[-1]
    G, D = tiny_models()
    cfg2 = tiny_config(epochs=2, checkpoint_dir=str(tmp_path / "A"), keep_checkpoints=3)
    fit(G, D, tiny_data(mnist_small, cfg), cfg2, progress=False, resume=True)
    G, D = tiny_models()                                                       # again from epoch 1, same folder
    assert fit(G, D, tiny_data(mnist_small, cfg), cfg2, progress=False, resume=first).epoch_ends == [8, 16]
    G, D = tiny_models()                                                       # into a new folder
    cfg3 = tiny_config(epochs=2, checkpoint_dir=str(tmp_path / "C"))
    fit(G, D, tiny_data(mnist_small, cfg), cfg3, progress=False, resume=first)
    assert [p.name for p in list_checkpoints(tmp_path / "C")] == ["epoch002_step0000016.pt"]


# ---- 2. the run lock survives its folder -------------------------------------------------------------------------

@pytest.mark.parametrize("deleted", ["the run folder", "the lock file"])
def test_a_run_whose_folder_or_lock_was_deleted_locks_it_again(mnist_small, tmp_path, deleted):
    import shutil
    folder = tmp_path / "ckpt"
    second = []

    def delete_then_try_a_second_run(event, run):
        if event == "step_end" and run.step == 10:                             # in epoch 2, after epoch 1's save
            shutil.rmtree(folder) if deleted == "the run folder" else (folder / ".lock").unlink()
        if event == "fit_end":                                                 # the lock still held: a second run
            try:
                with RunLock(folder):
                    second.append("trained")
            except FolderInUseError as err:
                second.append(str(err))

    cfg = tiny_config(epochs=2, checkpoint_dir=str(folder))
    G, D = tiny_models()
    with pytest.warns(UserWarning, match="was deleted while this run trained"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[delete_then_try_a_second_run])
    assert len(second) == 1 and f"pid {os.getpid()}" in second[0]            # refused, naming this run
    assert [p.name for p in list_checkpoints(folder)][-1] == "epoch002_step0000016.pt"
    assert not (folder / ".lock").exists()                                     # released at the end


def test_a_run_whose_folder_another_run_took_meanwhile_stops_without_writing_there(mnist_small, tmp_path):
    folder = tmp_path / "ckpt"
    other = RunLock(folder)

    def lose_the_lock_to_another_run(event, run):
        if event == "step_end" and run.step == 10:
            (folder / ".lock").unlink()
            other.__enter__()                                                  # a second --resume starts

    cfg = tiny_config(epochs=2, checkpoint_dir=str(folder))
    G, D = tiny_models()
    try:
        with pytest.raises(FolderInUseError, match="has taken the folder since"):
            fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[lose_the_lock_to_another_run])
        assert [p.name for p in list_checkpoints(folder)] == ["epoch001_step0000008.pt"]   # nothing written after
    finally:
        other.__exit__(None, None, None)


# ---- 3. a failing callback: save, then raise; what can be checked is checked before training --------------------

def test_a_callback_failing_during_an_epoch_keeps_the_steps_done_and_resumes_exactly(mnist_small, tmp_path):
    cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path))
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), tiny_config(epochs=2), progress=False)
    expected = weights(G)

    def fails_at_step_11(event, run):
        if event == "step_end" and run.step == 11:
            raise RuntimeError("my callback is broken")

    G, D = tiny_models()
    with pytest.raises(RuntimeError, match="my callback is broken") as err:
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[fails_at_step_11])
    assert "fit saved the training up to here first" in "\n".join(err.value.__notes__)
    state = load_checkpoint(tmp_path)
    assert (state["epoch"], state["step"], state["batch_in_epoch"]) == (1, 11, 3)
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)
    for key, value in expected.items():
        torch.testing.assert_close(weights(G)[key], value, rtol=0, atol=0)


def test_a_callback_failing_at_an_epochs_end_keeps_that_epoch(mnist_small, tmp_path):
    def fails_after_epoch_1(event, run):
        if event == "epoch_end":
            raise ValueError("cannot plot")

    cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path))
    G, D = tiny_models()
    with pytest.raises(ValueError, match="cannot plot"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[fails_after_epoch_1])
    assert [p.name for p in list_checkpoints(tmp_path)] == ["epoch001_step0000008.pt"]


def test_metrics_callback_says_before_training_what_it_cannot_measure(mnist_small):
    from gan_helpers import MLPDiscriminator, MLPGenerator, TensorBatches
    steps = []

    def count(event, run):
        steps.extend([run.step] if event == "step_end" else [])

    cfg = tiny_config(epochs=1)
    G, D = tiny_models()
    with pytest.raises(ValueError, match="keep_best='fid' is not one of the metrics mnist_metrics measures"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[MetricsCallback(keep_best="fid"), count])
    G = MLPGenerator(latent_dim=16, hidden_dims=(32,), img_shape=(3, 8, 8))      # colour images: not MNIST's
    D = MLPDiscriminator(img_shape=(3, 8, 8), hidden_dims=(32,))
    with pytest.raises(ValueError, match=r"cannot measure this G with mnist_metrics: .* shape \(3, 8, 8\)"):
        fit(G, D, TensorBatches(torch.zeros(64, 3, 8, 8, dtype=torch.uint8), batch_size=64), cfg, progress=False,
            callbacks=[MetricsCallback(), count])
    assert steps == []


# ---- 4. every file written atomically ----------------------------------------------------------------------------

def history_of_two_epochs() -> History:
    images = torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8)
    history = History(loss_D=[1.0, 0.9], loss_G=[0.7, 0.8], D_x=[0.6, 0.6], D_G_z=[0.4, 0.4], epoch_ends=[1, 2])
    history.samples = [images, images.flip(0)]
    return history


WRITERS = {
    "save_grid": lambda path: save_grid(history_of_two_epochs().samples[0], path, nrow=2),
    "plot_history": lambda path: plot_history(history_of_two_epochs(), path=path) and path,
    "save_gif": lambda path: save_gif(history_of_two_epochs().samples, path.with_suffix(".gif"), nrow=2),
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_full_disk_while_a_picture_is_written_leaves_the_old_picture_whole(tmp_path, monkeypatch, writer):
    import matplotlib
    matplotlib.use("Agg")
    path = tmp_path / "picture.png"
    written = WRITERS[writer](path)
    before = written.read_bytes()
    fill_disk(monkeypatch, after_bytes=100)
    with pytest.raises(OSError, match="No space left"):
        WRITERS[writer](path)
    assert written.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [written.name]        # no temporary file left either


def test_an_image_format_pillow_cannot_write_is_a_value_error_before_anything_is_written(tmp_path):
    for name in ("grid.psd", "grid.xbm", "grid"):
        with pytest.raises(ValueError, match="Name a .png or .jpg file"):
            save_grid(torch.zeros(4, 1, 8, 8, dtype=torch.uint8), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


CONCURRENT = textwrap.dedent("""
    import multiprocessing, os, sys
    import gan_helpers.cli as cli
    import gan_helpers.plotting as plotting
    checkpoint, out, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tiled = plotting.image_grid

    def image_grid_then_wait(*args, **kwargs):      # both grids ready: both start writing at the same moment
        grid = tiled(*args, **kwargs)
        barrier.wait(timeout=120)
        return grid
    plotting.image_grid = image_grid_then_wait
    for r in range(rounds):                          # two `sample` commands into one file at once
        barrier, pids = multiprocessing.get_context("fork").Barrier(2), []
        for seed in (1, 2):
            pid = os.fork()
            if pid == 0:
                os._exit(cli.main(["sample", checkpoint, "--n", "1024", "--seed", str(seed), "--out", out]))
            pids.append(pid)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
        assert codes == [0, 0], codes
        os.rename(out, out + f".round{r}.png")
""")


def test_two_sample_commands_into_one_file_at_once_leave_one_whole_picture(mnist_small, tmp_path):
    train(mnist_small, tmp_path / "ckpt")
    checkpoint = str(list_checkpoints(tmp_path / "ckpt")[-1])
    single = {}
    for seed in (1, 2):                                                       # each one alone, for comparison
        out = tmp_path / f"alone{seed}.png"
        subprocess.run([sys.executable, "-m", "gan_helpers", "sample", checkpoint, "--n", "1024", "--seed", str(seed),
                        "--out", str(out)], check=True, capture_output=True, cwd=REPO)
        with Image.open(out) as picture:
            single[seed] = torch.from_numpy(np.array(picture))
    both = tmp_path / "both.png"
    done = subprocess.run([sys.executable, "-c", CONCURRENT, checkpoint, str(both), "3"], capture_output=True,
                          text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr
    for r in range(3):
        with Image.open(f"{both}.round{r}.png") as picture:
            picture.load()                                                     # a truncated PNG raises here
            pixels = torch.from_numpy(np.array(picture))
        assert any(torch.equal(pixels, alone) for alone in single.values())
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []   # no temporary files


def test_nothing_of_the_package_writes_a_file_other_than_through_atomic_write():
    """Every open(..., "w"), .save(...), savefig(...), write_bytes or write_text in gan_helpers writes into the
    open file `f` that data.files.atomic_write hands it, or into a BytesIO buffer (a picture for the screen).
    data/files.py, which holds atomic_write itself, is the one exception."""
    import re
    writes = re.compile(r"\.write_(bytes|text)\(|open\([^)]*['\"][wax]b?['\"]|\.savefig\((?!f\b|buffer|curves)|"
                        r"\.save\((?!f\b|buffer|io\.BytesIO|\))")
    found = []
    for path in sorted((REPO / "gan_helpers").rglob("*.py")):
        if "exercises" in path.parts or path == REPO / "gan_helpers" / "data" / "files.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if writes.search(line.split("#")[0]):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert found == [], "\n".join(found)
