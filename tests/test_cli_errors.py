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


def stopped_mid_epoch(out: Path) -> None:
    """What `train mnist-mlp --batch-size 32 --limit 256 --out OUT` leaves when stopped after 3 of its 8 steps."""
    from gan_helpers import fit
    from gan_helpers.presets import PRESETS
    preset = PRESETS["mnist-mlp"]
    cfg = replace(preset.config, batch_size=32, checkpoint_dir=str(out / "checkpoints"), device=None)
    G, D = preset.models()

    def stop_at_step_3(event, run):
        if event == "step_end" and run.step == 3:
            run.stop = True
    fit(G, D, preset.data(32, "cpu", limit=256), cfg, progress=False, callbacks=[stop_at_step_3])


def table(t: Path) -> list[tuple[list[str], int, str]]:
    """(arguments, exit code, text that stderr must hold)."""
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
    with RunLock(tmp_path / "locked_run" / "checkpoints"):              # another training holds that folder
        done = subprocess.run([sys.executable, str(DRIVER), str(tmp_path / "cases.json"), str(tmp_path / "out.json")],
                              cwd=DRIVER.parent, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out.json").read_text())
    wrong = []
    for (args, code, text), result in zip(cases, results, strict=True):
        err = result["stderr"]
        if result["code"] != code or text not in err or err.count("error: ") != 1 or "Traceback" in err:
            wrong.append(f"{' '.join(args)!r}: exit {result['code']} (wanted {code}, {text!r}):\n{err}")
    assert not wrong, f"{len(wrong)} of {len(cases)} cases:\n" + "\n".join(wrong)
    assert not (tmp_path / "PWNED").exists()                             # the pickled os.system never ran
    assert len(cases) >= 50
