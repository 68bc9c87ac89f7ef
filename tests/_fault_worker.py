"""Run by test_fault_injection.py: kill a training at random moments, resume it, again and again.

This process imports torch once, then forks every training (a fresh process each time, at no import
cost): first a reference run that nothing disturbs, then a victim run in another folder that is
killed KILLS times, resumed after each kill, and finally resumed to its end. Kill i comes at a moment
drawn from random.Random(f"{SEED}-{i}"), in one of four ways, in turn:

    timer      SIGKILL after a random delay: in a step, a sample grid, a save, anywhere
    write      SIGKILL from inside the run at its k-th file operation: a write to a checkpoint or a
               grid, an fsync, just before or just after a rename, the deletion of an old checkpoint
    term       SIGTERM after a random delay: the run saves where it is (mid-epoch) and stops
    term+kill  SIGTERM, then SIGKILL a few milliseconds later, often inside that interrupt save

After every kill, each finished epoch's checkpoint in the victim's folder is compared with the
reference's (models and optimizers, bit for bit). Writes what it saw to RESULTS (JSON).

    python _fault_worker.py FOLDER SEED KILLS RESULTS
"""
import builtins
import itertools
import json
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path

import torch

from gan_helpers import SaveSampleGrids, fit, list_checkpoints, load_mnist
from gan_helpers.data.files import atomic_save

from conftest import tiny_config, tiny_data, tiny_models

torch.set_num_threads(1)       # no thread pool in this process, so forking it is safe (and every run is alike)
EPOCHS = 30
IMAGES = load_mnist(limit=512)[0]
MODES = ("timer", "write", "term", "term+kill")


def train(folder: Path, *, keep: int, trap: int | None = None) -> None:
    """One training (in a forked child): resume when the folder holds a checkpoint, then save the final weights."""
    moments = arm(trap)
    cfg = tiny_config(epochs=EPOCHS, checkpoint_dir=str(folder / "checkpoints"), keep_checkpoints=keep)
    G, D = tiny_models()
    resume = bool(list_checkpoints(cfg.checkpoint_dir))
    try:
        fit(G, D, tiny_data(IMAGES, cfg), cfg, progress=False, resume=resume,
            callbacks=[SaveSampleGrids(folder / "samples", nrow=4)])
    except KeyboardInterrupt:                     # SIGTERM: fit saved a checkpoint, as the CLI would, exit 143
        os._exit(143)
    atomic_save({"G": G.state_dict(), "D": D.state_dict()}, folder / "final.pt")
    (folder / "moments.txt").write_text(str(next(moments)))


def arm(trap: int | None) -> itertools.count:
    """Count this process's file operations (writes, fsync, rename, delete); SIGKILL it at operation `trap`."""
    count = itertools.count()

    def moment():
        if next(count) == trap:
            os.kill(os.getpid(), signal.SIGKILL)

    class Trapped:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            moment()
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.f.close()

    real_open, real_replace, real_fsync, real_unlink = builtins.open, os.replace, os.fsync, os.unlink

    def trapped_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        return Trapped(f) if set(mode) & set("wax+") else f

    def trapped_replace(*args, **kwargs):
        moment()
        real_replace(*args, **kwargs)
        moment()

    builtins.open, os.replace = trapped_open, trapped_replace
    os.fsync = lambda fd: (moment(), real_fsync(fd))[1]
    os.unlink = lambda *args, **kwargs: (moment(), real_unlink(*args, **kwargs))[1]
    return count


def fork(target, *args, **kwargs) -> int:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            target(*args, **kwargs)
        except BaseException:  # noqa: BLE001 - reported through the exit code
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    return pid


def wait(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def kill_once(folder: Path, rng: random.Random, mode: str, epoch_seconds: float, moments_per_epoch: int) -> dict:
    """Start a victim run, end it as `mode` says, wait for it; what happened."""
    delay = rng.uniform(0, 2 * epoch_seconds)
    if mode == "write":
        trap = rng.randrange(3 * moments_per_epoch // 2)
        return {"mode": mode, "at": trap, "exit": wait(fork(train, folder, keep=2, trap=trap))}
    pid = fork(train, folder, keep=2)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL if mode == "timer" else signal.SIGTERM)
    if mode == "term+kill":
        time.sleep(rng.uniform(0, 0.02))
        os.kill(pid, signal.SIGKILL)
    return {"mode": mode, "at": round(delay, 4), "exit": wait(pid)}


def same_state(a: dict, b: dict) -> bool:
    def equal(x, y):
        if isinstance(x, dict):
            return x.keys() == y.keys() and all(equal(x[k], y[k]) for k in x)
        if isinstance(x, (list, tuple)):
            return len(x) == len(y) and all(equal(u, v) for u, v in zip(x, y, strict=True))
        return torch.equal(x, y) if torch.is_tensor(x) else x == y
    return all(equal(a[key], b[key]) for key in ("G", "D", "opt_G", "opt_D", "epoch", "step"))


def main() -> None:
    folder, seed, kills, results = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    reference, victim = folder / "reference", folder / "victim"
    start = time.perf_counter()
    assert wait(fork(train, reference, keep=EPOCHS, trap=-1)) == 0, "the reference run failed"
    epoch_seconds = (time.perf_counter() - start) / EPOCHS
    moments_per_epoch = int((reference / "moments.txt").read_text()) // EPOCHS
    expected = {p.name: torch.load(p, weights_only=True) for p in list_checkpoints(reference / "checkpoints")}
    runs, differing = [], []
    for i in range(kills):
        rng = random.Random(f"{seed}-{i}")
        runs.append(kill_once(victim, rng, MODES[i % len(MODES)], epoch_seconds, moments_per_epoch))
        runs[-1]["newest"] = ([p.name for p in list_checkpoints(victim / "checkpoints")] or [None])[-1]
        for path in list_checkpoints(victim / "checkpoints"):
            state = torch.load(path, weights_only=True)
            if state["batch_in_epoch"] == 0 and not same_state(state, expected[path.name]):
                differing.append(f"after kill {i}: {path.name}")
    runs.append({"mode": "finish", "exit": wait(fork(train, victim, keep=2))})
    final = [torch.load(run / "final.pt", weights_only=True) for run in (reference, victim)]
    results.write_text(json.dumps({
        "runs": runs, "differing_checkpoints": differing,
        "final_weights_equal": all(torch.equal(final[0][m][k], final[1][m][k]) for m in "GD" for k in final[0][m]),
        "victim_files": sorted(str(p.relative_to(victim)) for p in victim.rglob("*")),
        "grids_differing": [p.name for p in sorted((reference / "samples").iterdir())
                            if not (victim / "samples" / p.name).is_file()
                            or p.read_bytes() != (victim / "samples" / p.name).read_bytes()],
        "epoch_seconds": epoch_seconds, "moments_per_epoch": moments_per_epoch,
    }, indent=1))


if __name__ == "__main__":
    main()
