"""The command line, run as a learner would, in a short mode."""
import os
import shlex
import shutil
import signal
import subprocess
import sys

import pytest
from PIL import Image

from gan_helpers import list_checkpoints

from conftest import REPO, SHARED_DATA, intercept_writes


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
    assert three.returncode == 0 and "class 3" in three.stdout, three.stderr
    assert Image.open(tmp_path / "seven.png").tobytes() != Image.open(tmp_path / "three.png").tobytes()
    every = cli("sample", str(out / "checkpoints"), "--n", "20", "--out", str(tmp_path / "all.png"))
    # a column per class
    assert every.returncode == 0 and Image.open(tmp_path / "all.png").size == (10 * 30 + 2, 2 * 30 + 2)
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


# ---- failures a learner can act on (issue 16): the CLI in this process, for speed --------------------------------

SHORT = ["--limit", "256", "--batch-size", "32", "--max-steps", "2", "--quiet"]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """main() in this process: (exit code, stdout, stderr)."""
    from gan_helpers.cli import main
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> bool:
    return err.count("error: ") == 1 and "Traceback" not in err


def add_callback(monkeypatch, callback):
    """Let the CLI's fit call `callback` too (a Ctrl-C or SIGTERM at a chosen step)."""
    import gan_helpers.train as training  # the CLI imports fit from there when it trains
    real_fit = training.fit

    def fit(*args, callbacks=(), **kwargs):
        return real_fit(*args, callbacks=[*callbacks, callback], **kwargs)
    monkeypatch.setattr(training, "fit", fit)


def signal_at_step(signum, step):
    return lambda event, run: os.kill(os.getpid(), signum) if event == "step_end" and run.step == step else None


@pytest.mark.parametrize("place", ["under a file", "read-only"])
def test_an_unwritable_out_is_refused_before_any_data_or_training(tmp_path, capsys, monkeypatch, place):
    """Defect 3: found only after a whole epoch had trained, then shown as a raw traceback."""
    import gan_helpers.presets as presets
    if place == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root writes to read-only folders")
        out = tmp_path / "locked" / "run"
        (tmp_path / "locked").mkdir(mode=0o500)
    else:
        (tmp_path / "a_file").write_text("")
        out = tmp_path / "a_file" / "run"

    def no_data(*args, **kwargs):
        raise AssertionError("the data was loaded before --out was checked")
    monkeypatch.setattr(presets, "load_mnist", no_data)
    code, _, err = run_cli(capsys, "train", "mnist-mlp", *SHORT, "--out", out)
    assert code == 1 and one_error_line(err) and str(out) in err and "Cannot write" in err


def test_cli_messages_name_flags_and_the_nan_stop_can_be_followed(tmp_path, capsys):
    """Defects 6 and 2: Python advice (resume='...', fit(..., resume=True), TrainConfig) at the command line; a
    corrupt newest checkpoint next to a good older one; the NaN stop's advice refused on resume."""
    out = tmp_path / "run"
    short = [*SHORT, "--out", out]
    assert run_cli(capsys, "train", "mnist-mlp", "--epochs", "2", *short)[0] == 0
    code, _, err = run_cli(capsys, "train", "mnist-mlp", "--epochs", "2", *short)        # again, no --resume
    assert code == 1 and one_error_line(err) and "--resume" in err and "fit(" not in err
    code, _, err = run_cli(capsys, "train", "mnist-mlp", "--epochs", "3", "--resume", "--d-steps", "2", *short)
    assert code == 1 and "config.d_steps: checkpoint has 1, now 2" in err and "--out" in err
    assert "TrainConfig" not in err and "checkpoint_dir" not in err

    older, newest = list_checkpoints(out / "checkpoints")
    newest.write_bytes(newest.read_bytes()[:1000])                                      # a cut copy
    code, _, err = run_cli(capsys, "train", "mnist-mlp", "--epochs", "3", "--resume", *short)
    assert code == 1 and one_error_line(err) and f"--resume-from {older}" in err and "resume=" not in err
    code, _, err = run_cli(capsys, "train", "mnist-mlp", "--epochs", "3", "--resume-from", older, *short)
    assert code == 0, err

    code, _, err = run_cli(capsys, "train", "mnist-mlp", "--epochs", "4", "--resume", "--lr-G", "1e20", *short)
    good = list_checkpoints(out / "checkpoints")[-1]
    assert code == 1 and one_error_line(err) and good.name == "epoch003_step0000006.pt"   # (a NaN loss, here)
    assert f"The last good checkpoint is {good}" in err and f"--resume-from {good} --lr-G" in err
    assert "fit(" not in err and "cfg." not in err
    code, _, err = run_cli(capsys, "train", "mnist-mlp", "--epochs", "4", "--resume-from", good, "--lr-G", "1e-4",
                           *short)
    assert code == 0, err


def test_sigterm_and_a_second_ctrl_c_during_the_save_end_the_cli_with_143_and_130(tmp_path, capsys, monkeypatch):
    """Defects 9 and 4: SIGTERM saves like Ctrl-C; a second Ctrl-C during that save gave a RuntimeError, exit 1."""
    class Terminated(Exception):
        pass

    def unhandled(signum, frame):
        raise Terminated
    previous = signal.signal(signal.SIGTERM, unhandled)      # fail the test, not end the run, if unhandled
    out = tmp_path / "run"
    try:
        add_callback(monkeypatch, signal_at_step(signal.SIGTERM, 3))
        code, _, err = run_cli(capsys, "train", "mnist-mlp", "--epochs", "2", *SHORT, "--out", out)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert code == 143 and "Traceback" not in err and "--resume" in err and "fit(" not in err
    saved = ["epoch001_step0000002.pt", "epoch001_step0000003.pt"]         # epoch 1's end, then the SIGTERM's
    assert [p.name for p in list_checkpoints(out / "checkpoints")] == saved

    monkeypatch.undo()
    writes = []

    def ctrl_c_again(data):
        writes.append(data)
        if len(writes) == 3:
            os.kill(os.getpid(), signal.SIGINT)

    def ctrl_c_twice(event, run):
        if event == "step_end" and run.step == 4:
            os.kill(os.getpid(), signal.SIGINT)
            intercept_writes(monkeypatch, ctrl_c_again)
    add_callback(monkeypatch, ctrl_c_twice)
    code, _, err = run_cli(capsys, "train", "mnist-mlp", "--epochs", "3", "--resume", *SHORT, "--out", out)
    assert code == 130 and "Traceback" not in err and "at once" in err and len(writes) == 3
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == saved   # no half file, no lock


def test_resume_redraws_missing_sample_grids(tmp_path, capsys):
    """Defect 8: a kill between a checkpoint and its epoch's grid (as older versions saved them) left the grid
    missing forever after a resume."""
    out = tmp_path / "run"
    assert run_cli(capsys, "train", "mnist-mlp", "--epochs", "2", *SHORT, "--out", out)[0] == 0
    grid = out / "samples" / "epoch_002.png"
    drawn = grid.read_bytes()
    grid.unlink()
    code, _, err = run_cli(capsys, "train", "mnist-mlp", "--epochs", "3", "--resume", *SHORT, "--out", out)
    assert code == 0, err
    assert grid.read_bytes() == drawn and (out / "samples" / "epoch_003.png").is_file()


def test_resuming_mid_epoch_with_a_smaller_limit_is_one_line(tmp_path, capsys, monkeypatch):
    """Defect 4: a bare StopIteration."""
    out = tmp_path / "run"
    add_callback(monkeypatch, signal_at_step(signal.SIGINT, 3))
    short = ["--limit", "256", "--batch-size", "32", "--quiet", "--out", out]
    assert run_cli(capsys, "train", "mnist-mlp", "--epochs", "1", *short)[0] == 130
    monkeypatch.undo()
    code, _, err = run_cli(capsys, "train", "mnist-mlp", "--epochs", "1", "--resume", "--limit", "64",
                           "--batch-size", "32", "--quiet", "--out", out)
    assert code == 1 and one_error_line(err) and "--limit" in err and "only 2" in err


def test_quiet_hides_the_decoding_bar_and_the_printed_sample_command_is_quoted(tmp_path, capsys):
    """Defect 9: --quiet showed the image-decoding bar; the printed command broke on paths with spaces."""
    faces = tmp_path / "my faces"
    faces.mkdir()
    for i in range(4):
        Image.new("RGB", (64, 64), (60 * i, 20, 200)).save(faces / f"{i}.png")
    out = tmp_path / "my run"
    code, printed, err = run_cli(capsys, "train", "anime-dcgan", "--data", faces, "--features", "8", "--epochs", "1",
                                 "--batch-size", "4", "--quiet", "--out", out)
    assert code == 0, err
    assert "decoding" not in err and "it/s" not in err and "img/s" not in err
    command = f"python -m gan_helpers sample {shlex.quote(str(out / 'checkpoints'))} --out " \
              f"{shlex.quote(str(out / 'new.png'))}"
    assert command in printed
    assert shlex.split(command)[4] == str(out / "checkpoints")


def test_ema_decay_0_trains_without_g_ema_and_a_run_without_one_resumes_only_so(tmp_path, capsys):
    """`--ema-decay 0` means no G_ema (for a preset that keeps one, and to resume a run made without one);
    asking for an average on resume is refused by name."""
    from gan_helpers import load_checkpoint, load_generator
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "mnist-dcgan", *SHORT, "--features", "8", "--epochs", "1",
                           "--ema-decay", "0", "--out", out)
    assert code == 0, err
    assert "G_ema" not in load_checkpoint(out / "checkpoints") and not load_generator(out).checkpoint["ema"]
    code, _, err = run_cli(capsys, "train", "mnist-dcgan", *SHORT, "--features", "8", "--epochs", "2",
                           "--ema-decay", "0.999", "--resume", "--out", out)
    assert code == 1 and one_error_line(err) and "ema_decay: checkpoint has None, now 0.999" in err
    code, _, err = run_cli(capsys, "train", "mnist-dcgan", *SHORT, "--features", "8", "--epochs", "2",
                           "--ema-decay", "0", "--resume", "--out", out)
    assert code == 0 and load_checkpoint(out / "checkpoints")["epoch"] == 2, err
    code, _, err = run_cli(capsys, "train", "mnist-dcgan", *SHORT, "--features", "8", "--epochs", "1",
                           "--ema-decay", "0.9", "--out", tmp_path / "ema")
    assert code == 0 and load_generator(tmp_path / "ema").checkpoint["ema"], err
