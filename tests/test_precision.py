"""Mixed precision, channels-last and torch.compile (precision.py, train._fast_paths): each changes how
fit computes, not what, so its losses stay close to float32's on the same seed, and resume stays exact."""
from __future__ import annotations

import functools
from dataclasses import replace

import pytest
import torch
from torch import nn

from gan_helpers import (
    DCGANDiscriminator,
    DCGANGenerator,
    NonFiniteLossError,
    TrainConfig,
    fit,
    list_checkpoints,
    load_checkpoint,
    load_generator,
)
from gan_helpers.cli import main as cli_main
from gan_helpers.precision import Precision
from gan_helpers.train import _fast_paths

from conftest import assert_same_weights, tiny_config, tiny_data, tiny_models, weights

# How far an option's per-step losses may drift from float32's over the first 8 steps of the same seed.
# bfloat16 keeps 3 significant digits (measured drift below 1e-3 here). float16 would be closer, but its
# scaler starts at S = 65536 and skips the steps whose scaled gradients overflow while it finds its scale
# (here D's first step, as AMP does everywhere): the losses then differ by one D step, about 0.05.
# channels-last and compile only reorder sums.
TOLERANCE = {"bfloat16": 1e-2, "float16": 6e-2, "channels_last": 1e-4, "compile": 1e-3}


def small_dcgan(norm: str = "batch"):
    torch.manual_seed(0)
    return (DCGANGenerator(latent_dim=16, img_size=28, channels=1, features=8),
            DCGANDiscriminator(img_size=28, channels=1, features=8, norm=norm))


def option(name: str) -> dict:
    return {"precision": name} if name in ("bfloat16", "float16") else {name: True}


class FirstConvInput:
    """What D's first convolution was given and gave back in the last call: dtype and memory format."""
    def __init__(self, D: nn.Module):
        conv = next(m for m in D.modules() if isinstance(m, nn.Conv2d))
        conv.register_forward_hook(self)

    def __call__(self, module, inputs, output):
        self.output_dtype = output.dtype
        self.channels_last = output.is_contiguous(memory_format=torch.channels_last) and not output.is_contiguous()


def train_8_steps(mnist_small, **options):
    G, D = small_dcgan()
    seen = FirstConvInput(D)
    cfg = tiny_config(epochs=1, batch_size=32, max_steps_per_epoch=8, **options)
    history = fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    return history, seen


@pytest.mark.parametrize("name", ["bfloat16", "float16", "channels_last", "compile"])
def test_each_option_trains_close_to_float32_on_the_same_seed(mnist_small, name):
    reference, plain = train_8_steps(mnist_small)
    history, seen = train_8_steps(mnist_small, **option(name))
    for loss in ("loss_D", "loss_G"):
        got, want = torch.tensor(getattr(history, loss)), torch.tensor(getattr(reference, loss))
        torch.testing.assert_close(got, want, rtol=0, atol=TOLERANCE[name], msg=f"{name}: {loss} drifted")
    # ... and the option really ran: D's convolution computed in the 16-bit type, or on channels-last tensors
    assert plain.output_dtype == torch.float32 and not plain.channels_last
    assert seen.output_dtype == {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(name, torch.float32)
    assert seen.channels_last == (name == "channels_last")
    if name == "compile":
        from torch._dynamo.utils import counters
        assert counters["stats"]["unique_graphs"] > 0


def scaler_states(folder) -> dict:
    return load_checkpoint(list_checkpoints(folder)[-1]).get("scalers", {})


@pytest.mark.parametrize("name", ["bfloat16", "float16", "channels_last"])
def test_resume_is_exact_with_each_option(mnist_small, tmp_path, name):
    """On the small DCGAN, where each option matters: float16's scales change during the run (D's first step
    overflows and halves S), so a resume that restarted the scalers would scale differently; channels-last
    convolutions run other kernels, so a resume that lost the layout would round differently."""
    cfg = tiny_config(epochs=2, batch_size=32, max_steps_per_epoch=4, checkpoint_dir=str(tmp_path / "straight"),
                      **option(name))
    G, D = small_dcgan()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    straight = weights(G), weights(D)

    first = replace(cfg, epochs=1, checkpoint_dir=str(tmp_path / "resumed"))
    G, D = small_dcgan()
    fit(G, D, tiny_data(mnist_small, first), first, progress=False)
    at_the_stop = scaler_states(tmp_path / "resumed")
    then = replace(first, epochs=2)
    G, D = small_dcgan()
    for p in (*G.parameters(), *D.parameters()):
        p.data.normal_()                                          # other weights: the checkpoint's must win
    seen = FirstConvInput(D)
    fit(G, D, tiny_data(mnist_small, then), then, progress=False, resume=True)
    assert_same_weights(weights(G), straight[0])
    assert_same_weights(weights(D), straight[1])
    assert scaler_states(tmp_path / "resumed") == scaler_states(tmp_path / "straight")
    assert seen.channels_last == (name == "channels_last")       # the resumed run computed in the same layout
    if name == "float16":
        assert at_the_stop["D"]["scale"] < 65536                  # the scale had changed before the stop


def test_float16_keeps_one_gradient_scaler_per_optimizer_in_the_checkpoint(mnist_small, tmp_path):
    cfg = tiny_config(epochs=1, batch_size=32, checkpoint_dir=str(tmp_path), precision="float16")
    G, D = small_dcgan()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    state = load_checkpoint(list_checkpoints(tmp_path)[-1])
    assert set(state["scalers"]) == {"G", "D"}
    scalers = state["scalers"].values()
    assert all(1 < s["scale"] <= 65536 and s["_growth_tracker"] >= 1 for s in scalers)  # scaled, then stepped
    assert state["scalers"]["D"]["scale"] == 32768        # D's first step overflowed: skipped, S halved
    assert load_generator(tmp_path).checkpoint["epoch"] == 1        # the same format: sampling reads it

    for other in ("bfloat16", "float32"):                          # precision may change on resume
        cfg = tiny_config(epochs=cfg.epochs + 1, batch_size=32, checkpoint_dir=str(tmp_path), precision=other)
        G, D = small_dcgan()
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, resume=True)
        assert "scalers" not in load_checkpoint(list_checkpoints(tmp_path)[-1])


def test_the_scaler_rescues_gradients_that_underflow_in_float16():
    """A loss whose gradient is about 1e-9 a weight: below float16's smallest number (6e-8), so without a scale
    the float16 backward gives exactly 0 and the weights never move. Scaled by S = 65536, the gradient is
    representable, and the optimizer sees it divided by S again: the float32 gradient, to float16's precision."""
    torch.manual_seed(0)
    w = nn.Linear(4, 1, bias=False)
    x = torch.randn(8, 4)
    expected = torch.autograd.grad((w(x) * 1e-9).sum(), w.weight)[0]         # float32: about 1e-9 each

    def one_step(precision: Precision) -> torch.Tensor:
        opt = torch.optim.SGD(w.parameters(), lr=1e6)
        before = w.weight.detach().clone()
        with precision.autocast():
            loss = (w(x).float() * 1e-9).sum()
        precision.step(loss, opt, "D")
        moved = (before - w.weight.detach()) / 1e6                  # the gradient the optimizer used
        w.weight.data.copy_(before)
        return moved

    with torch.autocast("cpu", dtype=torch.float16):
        unscaled = torch.autograd.grad((w(x).float() * 1e-9).sum(), w.weight)[0]
    assert torch.all(unscaled == 0), "this loss's float16 gradient should underflow without a scale"
    precision = Precision("float16", "cpu")
    assert precision.loss_scale("D") == 65536.0
    torch.testing.assert_close(one_step(precision), expected, rtol=2e-2, atol=0)   # measured: within 0.4%
    assert precision.loss_scale("D") == 65536.0                      # a good step: S kept (it grows after 2000)
    assert Precision("bfloat16").state_dict() == {} and Precision().loss_scale("G") == 1.0


def test_a_step_whose_scaled_gradients_overflow_is_skipped_and_halves_the_scale():
    torch.manual_seed(0)
    w = nn.Linear(4, 1, bias=False)
    precision, opt = Precision("float16", "cpu"), torch.optim.SGD(w.parameters(), lr=0.1)
    before = w.weight.detach().clone()
    with precision.autocast():
        loss = (w(torch.randn(8, 4)).float() * 1e3).sum()            # x 65536: beyond float16's 65504
    precision.step(loss, opt, "D")
    assert torch.equal(w.weight.detach(), before) and precision.loss_scale("D") == 32768.0
    assert precision.loss_scale("G") == 65536.0                      # each optimizer has its own scale


@pytest.mark.parametrize("name", ["bfloat16", "float16"])
def test_wgan_gp_and_r1_train_under_autocast(mnist_small, monkeypatch, name):
    """The penalties' double backward under autocast: the same losses as float32 to 16-bit tolerance.
    float16 starts here at a scale of 256 that never overflows, so that no step is skipped and the runs
    compare step by step (at the default 65536, D's first steps are skipped: the other test)."""
    monkeypatch.setattr("gan_helpers.train.Precision", functools.partial(Precision, init_scale=256.0))
    scales = []

    def run(precision, **game):
        G, D = small_dcgan(norm="layer")
        cfg = tiny_config(epochs=1, batch_size=32, max_steps_per_epoch=8, precision=precision, **game)
        watch = [lambda event, run: scales.append(run.precision.loss_scale("D")) if event == "step_end" else None]
        return fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False, callbacks=watch)
    for game in (dict(loss="wasserstein", gp_weight=10.0, beta1=0.0, beta2=0.9), dict(r1_gamma=1.0)):
        want, got = run("float32", **game), run(name, **game)
        scale = max(abs(v) for v in want.loss_D) + 1
        torch.testing.assert_close(torch.tensor(got.loss_D), torch.tensor(want.loss_D), rtol=0,
                                   atol=1e-2 * scale, msg=f"{name} {game}")     # measured: below 0.7e-2 * scale
    assert set(scales) == ({1.0} if name == "bfloat16" else {1.0, 256.0})      # no float16 step was skipped


class Scaled:
    """Batches whose pixels are multiplied by `factor` from epoch `bad` on."""
    def __init__(self, data, *, factor: float, bad: int):
        self.data, self.factor, self.bad, self.epoch, self.batch_size = data, factor, bad, 0, data.batch_size

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        self.epoch += 1
        for x in self.data:
            yield x * self.factor if self.epoch >= self.bad else x


def test_a_float16_overflow_stops_clearly_and_names_the_precision(mnist_small, tmp_path):
    """Pixels of 1e5 are fine in float32 but beyond float16's largest number (65504): inf, then NaN losses."""
    G, D = tiny_models()
    cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path / "32"))
    fit(G, D, Scaled(tiny_data(mnist_small, cfg), factor=1e5, bad=2), cfg, progress=False)   # float32: trains

    G, D = tiny_models()
    cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path / "16"), precision="float16")
    with pytest.raises(NonFiniteLossError) as err:
        fit(G, D, Scaled(tiny_data(mnist_small, cfg), factor=1e5, bad=2), cfg, progress=False)
    message = str(err.value)
    assert "in epoch 2 at step 9" in message and "float16 (largest number 65504" in message
    assert "precision='bfloat16' or 'float32'" in message
    assert [p.name for p in list_checkpoints(tmp_path / "16")] == ["epoch001_step0000008.pt"]   # the good one kept


def test_fast_paths_set_channels_last_and_cudnn_benchmark_on_cuda_only(monkeypatch):
    G, D = small_dcgan()
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    _fast_paths(G, D, TrainConfig(), torch.device("cpu"))
    assert torch.backends.cudnn.benchmark is False and G.net[0].weight.is_contiguous()
    _fast_paths(G, D, TrainConfig(channels_last=True), torch.device("cuda"))   # (sets flags only: no GPU needed)
    assert torch.backends.cudnn.benchmark is True
    conv_weights = [m.weight for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in conv_weights)
    assert all(not w.is_contiguous() for w in conv_weights if w.shape[1] > 1)   # (1-channel: both layouts agree)


def test_bad_choices_are_refused_in_the_words_of_the_interface(mnist_small, capsys, tmp_path):
    with pytest.raises(ValueError, match="precision='float8': choose 'float32'.*'bfloat16'.*'float16'"):
        TrainConfig(precision="float8")
    G, D = tiny_models()
    cfg = tiny_config(sync_batchnorm=True)
    with pytest.raises(ValueError, match="sync_batchnorm=True needs CUDA GPUs"):
        fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    if not torch.cuda.is_available():
        assert cli_main(["train", "mnist-mlp", "--limit", "128", "--max-steps", "1", "--epochs", "1", "--quiet",
                         "--sync-batchnorm", "--device", "cpu", "--out", str(tmp_path)]) == 1
        assert "error: --sync-batchnorm needs CUDA GPUs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["train", "mnist-mlp", "--precision", "float8"])
    assert "invalid choice: 'float8'" in capsys.readouterr().err


def test_the_cli_flags_reach_the_config(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli_main(["train", "mnist-dcgan", "--features", "8", "--limit", "128", "--max-steps", "2", "--epochs",
                     "1", "--quiet", "--precision", "bfloat16", "--channels-last", "--out", str(out)]) == 0
    config = load_checkpoint(out / "checkpoints")["config"]
    assert config["precision"] == "bfloat16" and config["channels_last"] is True and config["compile"] is False

