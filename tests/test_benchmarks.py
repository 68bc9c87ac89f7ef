"""The benchmark suite (benchmarks/suite.py), in its smallest pieces: a few training steps, tiny budgets."""
from __future__ import annotations

import math
import sys
import types

import pytest
import torch

from gan_helpers import TensorBatches, load_mnist, to_unit_range

from conftest import REPO, SHARED_DATA

sys.path.insert(0, str(REPO / "benchmarks"))
import bench_data  # noqa: E402
import bench_quality  # noqa: E402
import bench_throughput  # noqa: E402
import suite  # noqa: E402

MLP = bench_quality.preset_setup("mnist-mlp")


@pytest.fixture(scope="module")
def mnist_batches() -> TensorBatches:
    return TensorBatches(load_mnist(limit=2048)[0], batch_size=MLP.config.batch_size)


class ClockedBatches:
    """`data`'s batches, each advancing `clock` by `seconds` as it is fetched: a training step of known length."""

    def __init__(self, data, clock, seconds: float):
        self.data, self.clock, self.seconds, self.batch_size = data, clock, seconds, data.batch_size

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        for x in self.data:
            self.clock.now += self.seconds
            yield x


def test_time_to_quality_keeps_evaluation_off_the_training_clock(mnist_batches, monkeypatch):
    """On a simulated clock (so a loaded machine gives the same rows): every training step takes 1/16 s and every
    evaluation 0.3 s. Evaluations come at each 0.25 s of training, the run stops at the step that reaches the
    1 s budget, and the 0.3 s of each evaluation are on the wall clock only."""
    clock = types.SimpleNamespace(now=100.0)
    monkeypatch.setattr(bench_quality, "time", types.SimpleNamespace(perf_counter=lambda: clock.now))
    pause = 0.3

    def slow_metric(images, *, device):  # stands in for mnist_metrics: slow, and checks what it gets
        assert images.dtype == torch.uint8 and images.shape == (40, 1, 28, 28)
        clock.now += pause
        return {"mnist_fid": 7.0, "classes_covered": 10, "class_entropy": 1.0}

    data = ClockedBatches(mnist_batches, clock, 1 / 16)
    rows = bench_quality.time_to_quality("mlp", MLP.build_models, MLP.config, data, 1.0, 0.25, 40,
                                         metrics=slow_metric, log=lambda _: None)
    assert [(r["train_s"], r["steps"]) for r in rows] == [(0.0, 0), (0.25, 4), (0.5, 8), (0.75, 12), (1.0, 16)]
    assert [r["eval_s"] for r in rows] == pytest.approx([pause] * 5)
    assert [r["wall_s"] for r in rows] == pytest.approx([pause * (i + 1) + r["train_s"] for i, r in enumerate(rows)])
    assert all(r["images"] == r["steps"] * MLP.config.batch_size for r in rows)


def test_time_to_quality_measures_real_mnist_metrics(mnist_batches, tmp_path):
    rows = bench_quality.time_to_quality("mnist-mlp", MLP.build_models, MLP.config, mnist_batches,
                                         budget_s=0.3, every_s=10.0, n_samples=100, log=lambda _: None)
    assert len(rows) == 2 and rows[-1]["steps"] > 0
    for r in rows:
        assert math.isfinite(r["mnist_fid"]) and r["mnist_fid"] > 0
        assert 1 <= r["classes_covered"] <= 10 and 0 <= r["class_entropy"] <= 1
    results = {"mnist-mlp": rows, "other": rows}
    text = bench_quality.tables(results)
    assert "| mnist-mlp |" in text and "**other**" in text and text.count("\n| 0.0 | 0 | 0 |") == 2
    bench_quality.plot(results, tmp_path / "plot.png", title="test")
    assert (tmp_path / "plot.png").stat().st_size > 1000


def test_throughput_of_fit_and_the_tutorial_loop(tmp_path):
    data = bench_data.prepare("mnist-mlp", tmp_path, device=torch.device("cpu"))
    assert len(data.dataset) == 60_000 and data.real
    result = bench_throughput.measure("mnist-mlp", data, repeats=1, warmup_s=0.0, window_s=0.0, min_steps=3,
                                      log=lambda _: None)
    assert result.steps == 3 and len(result.fit_s) == len(result.tutorial_s) == 1
    for seconds in (result.fit_s, result.tutorial_s):
        rate = result.images_per_s(seconds)
        assert math.isfinite(rate) and rate > 0
    assert math.isfinite(result.ratio) and result.ratio > 0
    text = bench_throughput.table([result])
    assert "| mnist-mlp | 64 | MNIST train" in text and f"**{result.ratio:.2f}x**" in text


def test_cifar_folder_reads_the_same_in_gan_helpers_and_torchvision(tmp_path):
    if not (SHARED_DATA / "cifar10_train_10k_jpeg75.npz").is_file():
        pytest.skip("the shared CIFAR-10 development subset is absent")
    data = bench_data.prepare("cifar10-dcgan", tmp_path, device=torch.device("cpu"))
    assert data.real and data.batches.images.shape == (10_000, 3, 32, 32) and len(data.dataset) == 10_000
    for i in (0, 4321, 9999):
        image, label = data.dataset[i]
        torch.testing.assert_close(image, to_unit_range(data.batches.images[i]), atol=1e-6, rtol=0)
        assert 0 <= label < 10


def test_random_stand_ins_when_the_shared_data_is_absent(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_data, "SHARED_DATA", tmp_path / "nothing")
    cifar = bench_data.prepare("cifar10-dcgan", tmp_path / "c", device=torch.device("cpu"))
    faces = bench_data.prepare("anime-dcgan", tmp_path / "a", device=torch.device("cpu"), anime_limit=130)
    for data, shape in ((cifar, (10_000, 3, 32, 32)), (faces, (130, 3, 64, 64))):
        assert not data.real and data.source.startswith("RANDOM") and "absent" in data.source
        assert data.batches.images.shape == shape and len(data.dataset) == shape[0]
        assert data.dataset[0][0].shape == shape[1:]


def test_quick_report_is_labelled_and_names_the_machine():
    args = suite.parse_args(["--quick", "--only", "quality", "--out", "/tmp/unused.md"])
    assert args.quick and args.budget == 20 and args.samples == 500 and args.only == {"quality"}
    rows = [{"setup": "s", "train_s": 0.0, "steps": 0, "images": 0, "eval_s": 0.1, "wall_s": 0.1,
             "mnist_fid": 99.0, "classes_covered": 3, "class_entropy": 0.5}]
    text = suite.report(args, suite.machine(args), [], {"s": rows}, "plot.png")
    assert text.startswith("# Benchmarks (QUICK SMOKE TEST)") and "NOT for publication" in text
    assert "torch threads" in text and "--quick" in text and "![" in text and "| s |" in text
    with pytest.raises(SystemExit):
        suite.parse_args(["--only", "speed"])


def test_tutorial_loop_of_a_conditional_preset_gets_the_labels(tmp_path):
    from gan_helpers.presets import PRESETS

    names = [n for n, p in PRESETS.items() if n.startswith("mnist") and not bench_throughput.textbook_game(p.config)
             and getattr(p.models()[0], "num_classes", 0)]
    if not names:
        pytest.skip("no conditional MNIST preset")
    data = bench_data.prepare(names[0], tmp_path, device=torch.device("cpu"))
    result = bench_throughput.measure(names[0], data, repeats=1, warmup_s=0.0, window_s=0.0, min_steps=1,
                                      log=lambda _: None)
    assert result.steps == 1 and result.tutorial_s and math.isfinite(result.ratio)


def test_only_the_textbook_game_gets_a_tutorial_column():
    from gan_helpers import TrainConfig

    assert bench_throughput.textbook_game(TrainConfig()) == ""
    note = bench_throughput.textbook_game(TrainConfig(loss="hinge", d_steps=5))
    assert "loss=hinge" in note and "d_steps=5" in note


def test_data_limited_experiment_writes_both_runs(tmp_path):
    import data_limited

    out = tmp_path / "limited.md"
    data_limited.main(["--train", "128", "--steps", "4", "--every", "2", "--samples", "100", "--out", str(out)])
    text = out.read_text()
    assert "| no augmentation | - | 4 |" in text and "| DiffAugment | color,translation,cutout | 4 |" in text
    assert text.count("\n| 2 |") == 2 and text.count("\n| 4 |") == 2          # D's scores after steps 2 and 4
    assert out.with_suffix(".png").stat().st_size > 1000
