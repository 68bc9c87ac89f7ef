"""The command line over a table of bad inputs: each ends with exit code 1 (2: argparse's usage errors) and one
`error:` line on stderr, never a traceback. Every case runs in a process of its own (_cli_driver.py forks them
from one interpreter that imported torch once), with tiny settings; almost all fail before any training."""
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import torch

from gan_helpers.checkpoint import FORMAT, save_checkpoint
from gan_helpers.runlock import RunLock

DRIVER = Path(__file__).with_name("_cli_driver.py")
TINY = ["--limit", "64", "--batch-size", "32", "--max-steps", "1", "--epochs", "1", "--quiet"]


class _CallsOsSystem:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def make_files(t: Path) -> None:
    """The broken and awkward things the table points at, in the folder t."""
    (t / "file.txt").write_text("a file, not a folder")
    (t / "text.pt").write_text("hello, this is a text file\n")
    save_checkpoint({"G": {}, "epoch": 1, "step": 1}, t / "partial.pt")
    torch.save({"format": FORMAT, "payload": _CallsOsSystem(t / "PWNED")}, t / "evil.pt")
    for folder in ("a_dir", "empty_dir", "faces_without_images", "mnist_bad/MNIST/raw"):
        (t / folder).mkdir(parents=True)
    (t / "faces_without_images" / "readme.txt").write_text("no pictures here")
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (t / "mnist_bad/MNIST/raw" / name).write_bytes(b"not gzip at all")
    (t / "old_run/checkpoints").mkdir(parents=True)
    (t / "old_run/checkpoints/epoch001_step0000001.pt").write_bytes(b"")
    (t / "broken_run/checkpoints").mkdir(parents=True)
    (t / "broken_run/checkpoints/epoch001_step0000001.pt").write_text("not a checkpoint")
    stopped_mid_epoch(t / "mid_run")
    stopped_mid_epoch(t / "other_run", seed=1)
    foreign_checkpoints(t / "mid_run", t)


def stopped_mid_epoch(out: Path, seed: int = 0) -> None:
    """What `train mnist-mlp --batch-size 32 --limit 256 --out OUT` leaves when stopped after 3 of its 8 steps."""
    from gan_helpers import fit
    from gan_helpers.presets import PRESETS
    preset = PRESETS["mnist-mlp"]
    cfg = replace(preset.config, batch_size=32, checkpoint_dir=str(out / "checkpoints"), device=None, seed=seed)
    G, D = preset.models()

    def stop_at_step_3(event, run):
        if event == "step_end" and run.step == 3:
            run.stop = True
    fit(G, D, preset.data(32, "cpu", limit=256), cfg, progress=False, callbacks=[stop_at_step_3])


def foreign_checkpoints(run: Path, t: Path) -> None:
    """Copies of `run` whose checkpoint was damaged or changed (and saved with a valid checksum, as a file from
    elsewhere would be): t/bad_RUN/checkpoints/epoch000_step0000003.pt for each change below."""
    import shutil

    from gan_helpers import list_checkpoints, load_checkpoint

    changes = {
        "shape": lambda s: s["G"].__setitem__("net.0.weight", torch.zeros(5, 5)),
        "epoch": lambda s: s.__setitem__("epoch", "two"),
        "rng": lambda s: s["rng"].__setitem__("torch", torch.zeros(7, dtype=torch.uint8)),
        "nan": lambda s: s["G"]["net.0.weight"].fill_(float("nan")),
        "huge": lambda s: s["models"]["G"]["hparams"].__setitem__("hidden_dims", [10**6, 10**6]),
    }
    for name, change in {**changes, "flipped": None}.items():
        shutil.copytree(run, t / f"bad_{name}")
        path = list_checkpoints(t / f"bad_{name}" / "checkpoints")[-1]
        if change is None:                                               # one bit of one weight, on disk
            data = bytearray(path.read_bytes())
            data[data.index(load_checkpoint(path)["G"]["net.0.weight"].numpy().tobytes()[:64]) + 9] ^= 0x10
            path.write_bytes(bytes(data))
            continue
        state = load_checkpoint(path)
        del state["path"], state["format"]
        change(state)
        save_checkpoint(state, path)


def table(t: Path) -> list[tuple[list[str] | dict, int, str]]:
    """(arguments, exit code, text that stderr must hold); arguments {"args": [...], "env": {...}} run with
    those environment variables."""
    good = str(t / "mid_run/checkpoints")
    train = ["train", "mnist-mlp"]
    usage = [                                                            # argparse: exit code 2
        (["train"], "required: preset"),
        (["train", "mnist-nope"], "invalid choice"),
        (["fly"], "invalid choice"),
        ([*train, "--epochs", "0"], "must be 1 or more"),
        ([*train, "--epochs", "two"], "invalid whole_number value"),
        ([*train, "--batch-size", "0"], "must be 1 or more"),
        ([*train, "--limit", "-5"], "must be 1 or more"),
        ([*train, "--limit", "0"], "must be 1 or more"),
        ([*train, "--max-steps", "0"], "must be 1 or more"),
        ([*train, "--features", "-4"], "must be 1 or more"),
        ([*train, "--d-steps", "0"], "must be 1 or more"),
        ([*train, "--lr-G", "-1"], "above 0"),
        ([*train, "--lr-D", "nan"], "above 0"),
        ([*train, "--lr-G", "0"], "above 0"),
        ([*train, "--gp-weight", "-1"], "0 or more"),
        ([*train, "--label-smoothing", "1.5"], "below 1"),
        ([*train, "--seed", "99999999999999999999999"], "2**63"),
        ([*train, "--loss", "nope"], "invalid choice"),
        (["sample"], "required: checkpoint"),
        (["sample", good, "--n", "0"], "must be 1 or more"),
        (["sample", good, "--n", "-5"], "must be 1 or more"),
        (["sample", good, "--seed", "-1"], "2**63"),
    ]
    out = ["--out", str(t / "new_run")]
    errors = [                                                           # the CLI's own: exit code 1
        ([*train, *TINY, "--device", "tpu", *out], "--device 'tpu': use cuda, mps or cpu"),
        ([*train, *TINY, "--device", "", *out], "--device '': use cuda, mps or cpu"),
        ([*train, *TINY, "--device", "meta", *out], "--device 'meta'"),
        ([*train, *TINY, "--device", "cuda:x", *out], "--device 'cuda:x'"),
        ([*train, *TINY, "--out", str(t / "file.txt/run")], "Cannot write to the folder"),
        ([*train, *TINY, "--loss", "wasserstein", *out], "add --gp-weight 10"),
        (["train", "mnist-dcgan", *TINY, "--loss", "wasserstein", "--gp-weight", "10", *out], "norm='layer'"),
        ([*train, *TINY, "--batch-size", "1", *out], "BatchNorm"),
        ([*train, *TINY, "--resume", "--out", str(t / "nothing_yet")], "No checkpoint"),
        ([*train, *TINY, "--resume-from", str(t / "nothing.pt"), *out], "does not exist"),
        ([*train, *TINY, "--out", str(t / "old_run")], "already holds checkpoints"),
        ([*train, *TINY, "--resume", "--out", str(t / "locked_run")], f"pid {os.getpid()} on "),
        ([*train, *TINY, "--resume", "--out", str(t / "broken_run")], "corrupt or incomplete"),
        ([*train, "--limit", "256", "--batch-size", "64", "--resume", "--quiet", "--out", str(t / "mid_run")],
         "config.batch_size: checkpoint has 32, now 64"),
        ([*train, "--limit", "64", "--batch-size", "32", "--resume", "--quiet", "--out", str(t / "mid_run")],
         "same --limit"),
        ([*train, *TINY, "--data", str(t / "mnist_bad"), *out], "could not be decompressed"),
        (["train", "anime-dcgan", *TINY, "--data", str(t / "nowhere"), *out], "does not exist"),
        (["train", "anime-dcgan", *TINY, "--data", str(t / "faces_without_images"), *out], "No images"),
        ([*train, *TINY, "--lr-D", "1e20", "--out", str(t / "nan_run")], "became nan"),
        (["sample", str(t / "nothing.pt")], "does not exist"),
        (["sample", str(t / "text.pt")], "corrupt or incomplete"),
        (["sample", str(t / "partial.pt")], "it lacks models"),
        (["sample", str(t / "evil.pt")], "would run code"),
        (["sample", str(t / "empty_dir")], "No checkpoint"),
        (["sample", good, "--out", str(t / "a_dir")], "is a folder"),
        (["sample", good, "--out", str(t / "file.txt/grid.png")], "is a file, not a folder"),
        (["sample", good, "--out", str(t / "grid.txt")], "name an image file"),
        (["sample", good, "--label", "3", "--out", str(t / "grid.png")], "conditional generator"),
        # issue 26: every way a learner's work could be lost, or torch's own error reach the command line
        ([*train, "--limit", "256", "--batch-size", "32", "--quiet", "--out", str(t / "other_run"),
          "--resume-from", good], "already holds the checkpoints of another run"),
        ([*train, *TINY, "--d-steps", "5", *out], "--d-steps 5 takes 5 batches for every generator step"),
        ([*train, "--limit", "16", "--batch-size", "32", "--quiet", *out], "does not fit a data set of 16 images"),
        ([*train, *TINY, "--r1-gamma", "1e38", "--out", str(t / "r1_run")], "--r1-gamma 1e+38 is a suspect"),
        (["train", "mnist-dcgan", *TINY, "--features", "100000", *out], "Use a smaller --features"),
        (["sample", good, "--n", str(10**12), "--out", str(t / "grid.png")], "Draw fewer (--n 64)"),
        (["sample", good, "--out", str(t / "grid.psd")], "Pillow cannot write RGB pictures as '.psd'"),
        (["sample", good, "--out", str(t / "grid.xbm")], "Pillow cannot write RGB pictures as '.xbm'"),
        (["sample", str(t / "bad_flipped")], "damaged: its contents do not match the checksum"),
        (["sample", str(t / "bad_shape")], "G.net.0.weight has shape (5, 5)"),
        (["sample", str(t / "bad_nan")], "holds nan among its weights"),
        (["sample", str(t / "bad_huge")], "GB of memory, more than"),
        (["sample", str(t / "bad_epoch")], "epoch is 'two', not a whole number"),
        ([*train, "--limit", "256", "--batch-size", "32", "--resume", "--quiet", "--out", str(t / "bad_shape")],
         "G.net.0.weight has shape (5, 5)"),
        ([*train, "--limit", "256", "--batch-size", "32", "--resume", "--quiet", "--out", str(t / "bad_rng")],
         "rng['torch'] holds 7"),
        ([*train, "--limit", "256", "--batch-size", "32", "--resume", "--quiet", "--out", str(t / "bad_flipped")],
         "damaged"),
        ({"args": [*train, *TINY, *out], "env": {"GAN_DATA_DIR": "~no_such_user_26/data"}},
         "GAN_DATA_DIR='~no_such_user_26/data' starts with a ~user"),
        ({"args": [*train, *TINY, *out], "env": {"WORLD_SIZE": "abc"}}, "WORLD_SIZE='abc' is not a process number"),
        ({"args": [*train, *TINY, "--out", str(t / "file.txt/run")], "env": {"RANK": "1", "WORLD_SIZE": "2"}},
         "error: rank 1 of 2 (the cause of torchrun's report below): Cannot write to the folder"),
    ]
    if not torch.backends.mps.is_available():
        errors.append(([*train, *TINY, "--device", "mps", *out], "no MPS"))
    if not torch.cuda.is_available():
        errors.append(([*train, *TINY, "--device", "cuda", *out], "no CUDA GPU"))
    return [(args, 2, text) for args, text in usage] + [(args, 1, text) for args, text in errors]


def test_bad_inputs_end_in_one_error_line_and_no_traceback(tmp_path):
    make_files(tmp_path)
    cases = table(tmp_path)
    (tmp_path / "cases.json").write_text(json.dumps({"cwd": str(tmp_path), "cases": [a for a, _, _ in cases]}))
    other_run = snapshot(tmp_path / "other_run")
    with RunLock(tmp_path / "locked_run" / "checkpoints"):              # another training holds that folder
        done = subprocess.run([sys.executable, str(DRIVER), str(tmp_path / "cases.json"), str(tmp_path / "out.json")],
                              cwd=DRIVER.parent, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out.json").read_text())
    wrong = []
    for (args, code, text), result in zip(cases, results, strict=True):
        err = result["stderr"]
        if result["code"] != code or text not in err or err.count("error: ") != 1 or "Traceback" in err:
            wrong.append(f"{args!r}: exit {result['code']} (wanted {code}, {text!r}):\n{err}")
    assert not wrong, f"{len(wrong)} of {len(cases)} cases:\n" + "\n".join(wrong)
    assert not (tmp_path / "PWNED").exists()                             # the pickled os.system never ran
    assert snapshot(tmp_path / "other_run") == other_run                 # resumed into by another run: as it was
    assert len(cases) >= 70


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
