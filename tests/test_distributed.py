"""Data parallelism (distributed.py): torchrun with 2 CPU processes and the gloo backend.

Each test starts real processes through torchrun, as a learner would, with --standalone (a free port)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gan_helpers import list_checkpoints, load_checkpoint
from gan_helpers.distributed import Shard

REPO = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("_ddp_worker.py")
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]

pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or sys.platform != "linux",
                                reason="gloo processes are tested on Linux")


def launch(args: list[str], *, processes: int = 2, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run `args` (a script and its arguments, or -m module ...) under torchrun, or alone for processes=1."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]), "OMP_NUM_THREADS": "1"}
    command = (TORCHRUN if processes == 2 else [sys.executable]) + args
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)


def train(checkpoint_dir: Path, out: Path, epochs: int, *options: str, processes: int) -> torch.Tensor:
    done = launch([str(WORKER), str(checkpoint_dir), str(out), str(epochs), *options], processes=processes)
    assert done.returncode == 0, done.stderr[-3000:]
    return torch.load(out)


def assert_close_weights(a: dict, b: dict) -> None:
    for model in ("G", "D"):
        for key in a[model]:
            torch.testing.assert_close(a[model][key], b[model][key], rtol=1e-5, atol=1e-6,
                                       msg=f"{model}.{key} differs")


def test_a_shard_is_this_ranks_slice_of_the_global_batch():
    batch = torch.arange(8)
    assert Shard().take(batch) is batch
    assert [Shard(r, 4).take(batch).tolist() for r in range(4)] == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_two_processes_train_the_same_weights_as_one_with_the_same_global_batch(tmp_path):
    """No BatchNorm: the mean of two ranks' gradients on 16 images each is one process's gradient on 32."""
    one = train(tmp_path / "one", tmp_path / "one.pt", 2, processes=1)
    two = train(tmp_path / "two", tmp_path / "two.pt", 2, processes=2)
    assert_close_weights(two, one)
    torch.manual_seed(0)                                         # the worker's initial weights ...
    from gan_helpers import MLPGenerator
    start = MLPGenerator(latent_dim=8, hidden_dims=(32,)).state_dict()
    assert not torch.allclose(start["net.0.weight"], two["G"]["net.0.weight"], atol=1e-3)   # ... were trained
    a, b = load_checkpoint(tmp_path / "one"), load_checkpoint(tmp_path / "two")
    assert a.keys() == b.keys() and a["step"] == b["step"] == 16   # one format; 8 global batches per epoch
    torch.testing.assert_close(torch.tensor(a["history"]["loss_D"]), torch.tensor(b["history"]["loss_D"]),
                               rtol=0, atol=1e-5)                  # rank 0 recorded the global batch's losses


def test_a_two_process_checkpoint_resumes_in_one_process_and_the_other_way(tmp_path):
    straight = train(tmp_path / "straight", tmp_path / "straight.pt", 3, processes=1)
    train(tmp_path / "mixed", tmp_path / "mixed.pt", 1, processes=2)
    train(tmp_path / "mixed", tmp_path / "mixed.pt", 2, "resume", processes=1)
    mixed = train(tmp_path / "mixed", tmp_path / "mixed.pt", 3, "resume", processes=2)
    assert_close_weights(mixed, straight)
    assert [p.name for p in list_checkpoints(tmp_path / "mixed")] == ["epoch002_step0000016.pt",
                                                                      "epoch003_step0000024.pt"]


def test_a_killed_rank_ends_the_job_with_a_clear_error_not_a_hang(tmp_path):
    start = time.monotonic()
    done = launch([str(WORKER), str(tmp_path / "ck"), str(tmp_path / "w.pt"), "3", "kill-rank-1-at-step-3"])
    assert done.returncode != 0 and time.monotonic() - start < 120
    assert "Rank 0 of 2: the exchange with the other processes failed" in done.stderr
    assert "Another rank stopped, was killed or cannot be reached" in done.stderr
    assert "exitcode  : -9" in done.stderr or "Signal 9 (SIGKILL)" in done.stderr   # torchrun names the dead one
    assert not (tmp_path / "w.pt").exists()


def test_torchrun_trains_a_preset_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    args = ["-m", "gan_helpers", "train", "mnist-mlp", "--limit", "512", "--max-steps", "3", "--epochs", "2",
            "--quiet", "--out", str(out)]
    done = launch(args)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("Training mnist-mlp") == 1 and done.stdout.count("Done in") == 1   # rank 0 speaks
    assert "on 2 processes (cpu), 8 batches of 64 per epoch, 32 images per process" in done.stdout
    assert (out / "samples.png").is_file() and len(list((out / "samples").glob("epoch_*.png"))) == 2
    assert [p.name for p in list_checkpoints(out / "checkpoints")] == ["epoch001_step0000003.pt",
                                                                       "epoch002_step0000006.pt"]
    again = launch(args[:-4] + ["3", "--quiet", "--out", str(out), "--resume"], processes=1)   # one process goes on
    assert again.returncode == 0, again.stderr[-3000:]
    assert load_checkpoint(out / "checkpoints")["step"] == 9
    drawn = launch(["-m", "gan_helpers", "sample", str(out), "--out", str(tmp_path / "new.png")], processes=1)
    assert drawn.returncode == 0 and (tmp_path / "new.png").is_file()


def test_a_global_batch_that_does_not_split_is_refused_in_the_words_of_the_command_line(tmp_path):
    done = launch(["-m", "gan_helpers", "train", "mnist-mlp", "--limit", "512", "--batch-size", "63", "--quiet",
                   "--out", str(tmp_path)])
    assert done.returncode != 0
    assert ("error: rank 0 of 2 (the cause of torchrun's report below): The global batch of 63 images cannot be "
            "split evenly over 2 processes") in done.stderr
