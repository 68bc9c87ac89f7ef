"""The command line, run as a learner would, in a short mode."""
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from conftest import REPO, SHARED_DATA


def cli(*args):
    return subprocess.run([sys.executable, "-m", "gan_helpers", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def test_train_writes_everything_then_resumes_then_samples(tmp_path):
    out = tmp_path / "run"
    short = ["--limit", "1024", "--batch-size", "32", "--max-steps", "5", "--quiet", "--out", str(out)]
    done = cli("train", "mnist-mlp", "--epochs", "2", *short)
    assert done.returncode == 0, done.stderr
    for name in ("samples.png", "losses.png", "training.gif", "samples/epoch_001.png", "samples/epoch_002.png"):
        assert (out / name).is_file(), name
    assert Image.open(out / "training.gif").n_frames == 2
    assert len(list((out / "checkpoints").glob("*.pt"))) == 2

    again = cli("train", "mnist-mlp", "--epochs", "2", *short)  # would overwrite: refused
    assert again.returncode == 1 and "already holds checkpoints" in again.stderr

    more = cli("train", "mnist-mlp", "--epochs", "3", "--resume", *short)
    assert more.returncode == 0, more.stderr
    assert (out / "samples/epoch_003.png").is_file() and Image.open(out / "training.gif").n_frames == 3

    grids = []
    for name in ("a.png", "b.png"):
        drawn = cli("sample", str(out / "checkpoints"), "--n", "16", "--seed", "3", "--out", str(tmp_path / name))
        assert drawn.returncode == 0, drawn.stderr
        grids.append(Image.open(tmp_path / name).tobytes())
    assert grids[0] == grids[1]  # same seed, same digits
    assert Image.open(tmp_path / "a.png").size == (4 * 30 + 2, 4 * 30 + 2)  # 4x4 grid of 28px + padding


def test_sample_from_a_missing_checkpoint_is_a_clear_error(tmp_path):
    done = cli("sample", str(tmp_path / "nothing.pt"))
    assert done.returncode == 1 and "does not exist" in done.stderr and "Traceback" not in done.stderr


def test_an_image_folder_preset_with_a_chosen_width(tmp_path):
    faces = SHARED_DATA / "anime_faces_sample.zip"
    if not faces.is_file():
        pytest.skip(f"{faces} is absent")
    shutil.unpack_archive(faces, tmp_path / "faces")
    out = tmp_path / "run"
    done = cli("train", "anime-dcgan", "--data", str(tmp_path / "faces"), "--features", "8", "--epochs", "1",
               "--batch-size", "16", "--max-steps", "2", "--quiet", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "features=8" in done.stdout and (out / "samples.png").is_file()
    assert Image.open(out / "samples.png").size == (8 * 66 + 2, 8 * 66 + 2)  # 8x8 grid of 64px faces

    missing = cli("train", "anime-dcgan", "--data", str(tmp_path / "nowhere"), "--quiet", "--out", str(tmp_path / "x"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr


def test_conditional_preset_samples_a_chosen_class_and_explains_bad_labels(tmp_path):
    out = tmp_path / "run"
    done = cli("train", "mnist-cdcgan", "--features", "8", "--epochs", "1", "--limit", "256", "--batch-size", "32",
               "--max-steps", "2", "--quiet", "--out", str(out))
    assert done.returncode == 0, done.stderr
    seven = cli("sample", str(out / "checkpoints"), "--n", "9", "--seed", "1", "--label", "7", "--out",
                str(tmp_path / "seven.png"))
    assert seven.returncode == 0 and "class 7" in seven.stdout, seven.stderr
    three = cli("sample", str(out / "checkpoints"), "--n", "9", "--seed", "1", "--label", "3", "--out",
                str(tmp_path / "three.png"))
    assert Image.open(tmp_path / "seven.png").tobytes() != Image.open(tmp_path / "three.png").tobytes()
    every = cli("sample", str(out / "checkpoints"), "--n", "20", "--out", str(tmp_path / "all.png"))
    assert every.returncode == 0 and Image.open(tmp_path / "all.png").size == (10 * 30 + 2, 2 * 30 + 2)  # a column per class
    bad = cli("sample", str(out / "checkpoints"), "--label", "10", "--out", str(tmp_path / "x.png"))
    assert bad.returncode == 1 and "between 0 and 9" in bad.stderr and "Traceback" not in bad.stderr


def test_label_on_an_unconditional_checkpoint_and_wgan_options_on_a_batchnorm_critic(tmp_path):
    out = tmp_path / "run"
    short = ["--epochs", "1", "--limit", "256", "--batch-size", "32", "--max-steps", "1", "--quiet"]
    assert cli("train", "mnist-mlp", *short, "--out", str(out)).returncode == 0
    bad = cli("sample", str(out / "checkpoints"), "--label", "3", "--out", str(tmp_path / "x.png"))
    assert bad.returncode == 1 and "conditional generator" in bad.stderr and "mnist-cdcgan" in bad.stderr
    wgan = cli("train", "mnist-dcgan", *short, "--loss", "wasserstein", "--gp-weight", "10", "--out",
               str(tmp_path / "w"))
    assert wgan.returncode == 1 and "norm='layer'" in wgan.stderr and "Traceback" not in wgan.stderr
    sn = cli("train", "mnist-sngan", *short, "--features", "8", "--lr-D", "4e-4", "--d-steps", "2", "--out",
             str(tmp_path / "sn"))
    assert sn.returncode == 0, sn.stderr
