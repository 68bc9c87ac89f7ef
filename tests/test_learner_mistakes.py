"""The commonest mistakes of a learner, said when they are made, in the words of the interface in use (issue 26):
a TrainConfig of wrong types, data not scaled to [-1, 1], a Sigmoid at the end of D, callbacks given as a
class, a resume without a folder, too few batches for d_steps, a NaN that a penalty caused, environment
variables that cannot be read, and a GPU that runs out of memory (a stand-in raises CUDA's error on CPU)."""
import signal
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

from gan_helpers import NonFiniteLossError, TensorBatches, TrainConfig, fit, list_checkpoints
from gan_helpers.advice import cli_wording

from conftest import tiny_config, tiny_data, tiny_models

# ---- TrainConfig -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "said"), [
    ("epochs", 2.5, "TrainConfig.epochs must be a whole number, got 2.5"),
    ("batch_size", "64", "TrainConfig.batch_size must be a whole number, got '64'"),
    ("lr_G", "2e-4", "TrainConfig.lr_G must be a number"),
    ("compile", 1, "TrainConfig.compile must be True or False"),
    ("device", 0, "TrainConfig.device must be a string or None"),
    ("max_steps_per_epoch", 1.5, "TrainConfig.max_steps_per_epoch must be a whole number or None"),
])
def test_a_trainconfig_field_of_the_wrong_type_is_refused_when_it_is_built(field, value, said):
    with pytest.raises(TypeError, match=said):
        TrainConfig(**{field: value})


@pytest.mark.parametrize(("field", "value", "said"), [
    ("lr_D", -1.0, "0 or more"), ("lr_G", float("nan"), "finite"), ("beta1", 1.0, "below 1"), ("seed", -1, "2\\*\\*63"),
])
def test_a_trainconfig_value_out_of_range_is_refused_when_it_is_built(field, value, said):
    with pytest.raises(ValueError, match=f"TrainConfig.{field} must .*{said}"):
        TrainConfig(**{field: value})


def test_trainconfig_keeps_plain_python_values_so_a_checkpoint_can_hold_them(tmp_path):
    np = pytest.importorskip("numpy")
    cfg = TrainConfig(epochs=np.int64(3), lr_G=1, checkpoint_dir=tmp_path)
    assert (cfg.epochs, type(cfg.epochs), cfg.lr_G, type(cfg.lr_G)) == (3, int, 1.0, float)
    assert cfg.checkpoint_dir == str(tmp_path)                                  # a Path is kept as a str


# ---- fit's arguments and data ------------------------------------------------------------------------------------

def test_resume_true_without_a_checkpoint_folder_says_what_to_set(mnist_small):
    G, D = tiny_models()
    with pytest.raises(ValueError, match=r"resume=True\) continues from .* cfg.checkpoint_dir, which is None"):
        fit(G, D, tiny_data(mnist_small, tiny_config()), tiny_config(), progress=False, resume=True)


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, event, run):
        self.events.append(event)


def test_one_callback_alone_is_a_list_of_one_and_a_class_instead_of_an_instance_is_explained(mnist_small):
    cfg = tiny_config(epochs=1, max_steps_per_epoch=1)
    G, D = tiny_models()
    recorder = Recorder()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=recorder)
    assert recorder.events == ["fit_start", "step_end", "epoch_end", "fit_end"]
    with pytest.raises(TypeError, match=r"the class Recorder, not one of its objects: write callbacks=\[Recorder"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=[Recorder])
    with pytest.raises(TypeError, match="'loss', which is not a function"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=["loss"])


def test_uint8_images_from_a_dataloader_are_explained_before_torch_fails(mnist_small):
    loader = torch.utils.data.DataLoader(mnist_small, batch_size=64)           # uint8 in [0, 255]: not scaled
    G, D = tiny_models()
    with pytest.raises(TypeError, match=r"dtype torch.uint8.*to_unit_range.*Normalize"):
        fit(G, D, loader, tiny_config(epochs=1), progress=False)


def test_float_images_in_0_255_train_with_one_warning(mnist_small):
    loader = torch.utils.data.DataLoader(mnist_small.float(), batch_size=64)
    G, D = tiny_models()
    with pytest.warns(UserWarning, match=r"lies in \[0, 255\].*to_unit_range") as caught:
        fit(G, D, loader, tiny_config(epochs=2, max_steps_per_epoch=2), progress=False)
    assert len([w for w in caught if "lies in" in str(w.message)]) == 1


def test_a_sigmoid_at_the_end_of_d_is_warned_about(mnist_small):
    G, D = tiny_models()
    D.net.append(nn.Sigmoid())
    cfg = tiny_config(epochs=1, max_steps_per_epoch=1)
    with pytest.warns(UserWarning, match="D ends in a Sigmoid.*Remove D's last nn.Sigmoid"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    G, D = tiny_models()
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                         # the right D: no warning
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)


def test_more_d_steps_than_batches_is_said_as_such(mnist_small):
    cfg = tiny_config(epochs=1, d_steps=9)
    G, D = tiny_models()
    with pytest.raises(ValueError, match="d_steps=9 takes 9 batches for every generator step, but the data gives "
                                         "only 8") as err:
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    assert "--d-steps 9" in cli_wording(err.value)


def test_a_nan_from_the_r1_penalty_names_the_penalty(mnist_small):
    cfg = tiny_config(epochs=1, r1_gamma=1e38)
    G, D = tiny_models()
    with pytest.raises(NonFiniteLossError, match="penalty weight r1_gamma=1e\\+38 is a suspect") as err:
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    assert "--r1-gamma 1e+38 is a suspect" in cli_wording(err.value)


def test_load_image_folder_with_size_0_blames_the_size(tmp_path):
    from gan_helpers import load_image_folder
    with pytest.raises(ValueError, match=r"size=...\) is the side in pixels .* got 0"):
        load_image_folder(tmp_path, size=0)


# ---- environment variables ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("variable", ["GAN_RUNS_DIR", "GAN_DATA_DIR"])
def test_an_environment_variable_with_an_unknown_user_is_named(monkeypatch, variable):
    from gan_helpers.data import default_data_root
    from gan_helpers.runs import runs_dir
    monkeypatch.setenv(variable, "~no_such_user_26/runs")
    with pytest.raises(ValueError, match=f"environment variable {variable}='~no_such_user_26/runs' starts with a "
                                         "~user that does not exist"):
        (runs_dir if variable == "GAN_RUNS_DIR" else default_data_root)()


@pytest.mark.parametrize(("variable", "value"), [("WORLD_SIZE", "abc"), ("RANK", "-1"), ("LOCAL_RANK", "x")])
def test_a_torchrun_variable_that_is_not_a_process_number_is_named(monkeypatch, variable, value):
    from gan_helpers import distributed
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=f"{variable}='{value}' is not a process number: torchrun sets it"):
        {"WORLD_SIZE": distributed.launched_world_size, "RANK": distributed.launched_rank,
         "LOCAL_RANK": distributed.local_rank}[variable]()


def test_an_empty_data_folder_for_mnist_is_left_as_it_was_and_the_failed_download_is_said_in_one_line(
        tmp_path, monkeypatch, capsys):
    import torchvision.datasets

    from gan_helpers import MNISTNotFoundError, load_mnist

    class OfflineMNIST:                                  # what torchvision does offline: folders, messages, an error
        def __init__(self, root, **kwargs):
            (Path(root) / "MNIST" / "raw").mkdir(parents=True)
            print("Downloading http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz")
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried http://..., got:\n<urlopen error>")

    monkeypatch.setattr(torchvision.datasets, "MNIST", OfflineMNIST)
    with pytest.raises(MNISTNotFoundError, match="the download failed: RuntimeError: Error downloading") as err:
        load_mnist(tmp_path / "mine")
    assert "\n" not in str(err.value) and "give --data the folder" in cli_wording(err.value)
    assert list(tmp_path.iterdir()) == [] and capsys.readouterr().out == ""


# ---- torchrun: the ranks' own lines ------------------------------------------------------------------------------

def test_a_rank_stopped_by_torchrun_does_not_claim_there_is_no_checkpoint_folder(tmp_path):
    from gan_helpers import History
    from gan_helpers.callbacks import RunState
    from gan_helpers.runlock import RunLock
    from gan_helpers.train import _stop_in_epoch, adam
    G, D = tiny_models()
    cfg = tiny_config(checkpoint_dir=str(tmp_path))
    run = RunState(G=G, D=D, cfg=cfg, history=History(), device=torch.device("cpu"), fixed_z=torch.zeros(1, 16),
                   opt_G=adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9), device=torch.device("cpu")),
                   opt_D=adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9), device=torch.device("cpu")),
                   rank=1, world_size=2)
    epoch = type("Epoch", (), {"done": 3, "rng_start": None})()
    with pytest.raises(KeyboardInterrupt) as stop:
        _stop_in_epoch(run, epoch, RunLock(None), signum=signal.SIGTERM)
    assert "checkpoint_dir is None" not in str(stop.value) and "rank 1 of 2" in str(stop.value)
    said = cli_wording(stop.value)
    assert "torchrun stops every rank when one fails" in said and "--resume" in said
    assert list(tmp_path.iterdir()) == []                                      # rank 1 writes nothing


def test_under_torchrun_the_error_line_names_its_rank(tmp_path, monkeypatch, capsys):
    from gan_helpers import cli
    (tmp_path / "file.txt").write_text("not a folder")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert cli.main(["train", "mnist-mlp", "--out", str(tmp_path / "file.txt" / "run")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: rank 1 of 2 (the cause of torchrun's report below): Cannot write to the folder")


# ---- out of memory on a GPU --------------------------------------------------------------------------------------

def runs_out_of_memory(G: nn.Module, after_calls: int) -> nn.Module:
    """G as a stand-in for a G on a small GPU: its forward raises CUDA's out-of-memory error from its
    `after_calls`-th call on (on CPU, as torch raises it on a GPU)."""
    forward, calls = G.forward, [0]

    def forward_or_out_of_memory(*args, **kwargs):
        calls[0] += 1
        if calls[0] > after_calls:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 14.75 GiB "
                                              "total capacity; 13.90 GiB already allocated)")
        return forward(*args, **kwargs)
    G.forward = forward_or_out_of_memory
    return G


def test_a_gpu_out_of_memory_keeps_the_last_checkpoint_and_says_what_to_lower(mnist_small, tmp_path):
    from gan_helpers.train import GPUMemoryError
    cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path))
    G, D = tiny_models()                        # G runs once a step and once for an epoch's samples: 9 calls an epoch
    with pytest.raises(GPUMemoryError) as err:
        fit(runs_out_of_memory(G, after_calls=9 + 2), D, tiny_data(mnist_small, cfg), cfg, progress=False)
    assert isinstance(err.value, torch.cuda.OutOfMemoryError)                  # still caught as torch's error
    assert [p.name for p in list_checkpoints(tmp_path)] == ["epoch001_step0000008.pt"]
    good = str(list_checkpoints(tmp_path)[0])
    assert "ran out of memory in epoch 2 at step 11" in str(err.value) and f"resume='{good}'" in str(err.value)
    for flag in ("--batch-size", "--features", "--precision bfloat16", f"--resume-from {good}"):
        assert flag in cli_wording(err.value)


def test_the_train_command_says_a_gpu_out_of_memory_in_one_line(tmp_path, monkeypatch, capsys):
    from gan_helpers import cli
    from gan_helpers.presets import PRESETS
    preset = PRESETS["mnist-mlp"]
    monkeypatch.setitem(PRESETS, "mnist-mlp", replace(preset, build=lambda features: (     # 2 calls an epoch
        runs_out_of_memory(preset.build(features)[0], after_calls=2), preset.build(features)[1])))
    code = cli.main(["train", "mnist-mlp", "--limit", "64", "--batch-size", "32", "--max-steps", "1", "--epochs", "3",
                     "--quiet", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("error: ") == 1 and len(err.strip().splitlines()) == 1
    assert "The GPU ran out of memory in epoch 2" in err and "--resume-from" in err and "--batch-size" in err


def test_the_sample_command_says_a_gpu_out_of_memory_in_one_line(mnist_small, tmp_path, monkeypatch, capsys):
    from gan_helpers import checkpoint, cli
    cfg = tiny_config(epochs=1, checkpoint_dir=str(tmp_path / "ckpt"))
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    load = checkpoint.load_generator
    monkeypatch.setattr(checkpoint, "load_generator", lambda path: runs_out_of_memory(load(path), after_calls=1))
    assert cli.main(["sample", str(tmp_path / "ckpt"), "--n", "16", "--out", str(tmp_path / "grid.png")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: The GPU ran out of memory drawing --n 16 images: draw fewer.")
    assert not (tmp_path / "grid.png").exists()


def test_tensorbatches_scale_uint8_so_no_warning_is_given(mnist_small):
    cfg = tiny_config(epochs=1, max_steps_per_epoch=1)
    G, D = tiny_models()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(G, D, TensorBatches(mnist_small, batch_size=64), cfg, progress=False)
