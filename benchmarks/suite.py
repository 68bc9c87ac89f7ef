"""The course's benchmark suite: one command, one Markdown report (docs/benchmarks.md) and one plot.

    python benchmarks/suite.py [--quick] [--out docs/benchmarks.md] [--only throughput,tutorial,quality]
                               [--options float32,bfloat16,float16,channels_last,compile] [--device cuda]

Sections (each in its own module, whose docstring says exactly how it measures):

    throughput  images/s of `fit` + the preset's TensorBatches, for every preset   (bench_throughput.py)
    tutorial    the same models trained the tutorials' way (torchvision data set, DataLoader, the
                textbook loop), timed in windows interleaved with fit's; the ratio fit / tutorial
    quality     time to quality on MNIST: MNIST FID and class coverage against seconds of training,
                evaluation excluded, for every set-up in bench_quality.SETUPS   (bench_quality.py)

--options adds fit's fast paths (mixed precision, channels-last, torch.compile: bench_throughput.OPTIONS)
to the throughput section, each timed in the same interleaved windows; a time-to-quality set-up takes
them as "NAME+OPTION", e.g. --setups mnist-dcgan,mnist-dcgan+bfloat16,mnist-dcgan+compile.

"tutorial" includes "throughput" (the ratio needs both, interleaved). The data of both sides comes
from bench_data.py. --quick is a smoke test of the script (a few steps, 20 s budgets, 500 samples):
its report says so in its first lines and is not for publication. Progress goes to stderr.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gan_helpers import TensorBatches, load_mnist  # noqa: E402
from gan_helpers.presets import PRESETS  # noqa: E402

import bench_data  # noqa: E402
import bench_quality  # noqa: E402
import bench_throughput  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ("throughput", "tutorial", "quality")
FULL = dict(repeats=5, warmup_s=3.0, window_s=5.0, min_steps=3, budget=240.0, every=30.0, samples=5000,
            anime_limit=None)
QUICK = dict(repeats=2, warmup_s=0.0, window_s=1.0, min_steps=1, budget=20.0, every=5.0, samples=500,
             anime_limit=1024)
_START = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _START:6.1f} s] {message}", file=sys.stderr, flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke test: few steps, short budgets (not for publication)")
    p.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"),
                   help="the Markdown report; the plot goes next to it (default %(default)s)")
    p.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ", ".join(SECTIONS))
    p.add_argument("--presets", default=",".join(PRESETS), help="presets for the throughput sections")
    p.add_argument("--setups", help="time-to-quality set-ups: names in bench_quality.SETUPS or MNIST presets "
                   "(default: all of SETUPS)")
    p.add_argument("--repeats", type=int, help="timed windows per set-up (default 5; quick 2)")
    p.add_argument("--min-steps", type=int, help="least steps per timed window (default 3; quick 1)")
    p.add_argument("--budget", type=float, help="training seconds per set-up (default 240; quick 20)")
    p.add_argument("--every", type=float, help="training seconds between evaluations (default 30; quick 5)")
    p.add_argument("--samples", type=int, help="generated images per evaluation (default 5000; quick 500)")
    p.add_argument("--anime-limit", type=int, help="faces unpacked from the zip (default all; quick 1024)")
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's own choice)")
    p.add_argument("--device", default="cpu", help="training device for every section (default cpu)")
    p.add_argument("--options", default="float32", help="fit's fast paths to time in the throughput section, "
                   "comma-separated: " + ", ".join(bench_throughput.OPTIONS) + " (join with + to combine)")
    p.add_argument("--tutorial-workers", type=int, default=0, help="num_workers of the tutorial side's DataLoader "
                   "(default 0; a Colab learner would use 2)")
    p.add_argument("--work", help="folder for unpacked data (default: a temporary folder, removed afterwards)")
    args = p.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    if not args.only <= set(SECTIONS):
        p.error(f"--only takes {', '.join(SECTIONS)}, got {', '.join(sorted(args.only))}")
    args.options = tuple(s.strip() for s in args.options.split(",") if s.strip())
    for label in args.options:
        try:
            bench_throughput.option_changes(label)
        except ValueError as err:
            p.error(f"--options: {err}")
    args.presets = [s.strip() for s in args.presets.split(",") if s.strip()]
    if unknown := [name for name in args.presets if name not in PRESETS]:
        p.error(f"unknown presets {unknown}; choose from {list(PRESETS)}")
    return args


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _cpuinfo(field: str) -> str | None:
    """The first CPU's `field` in /proc/cpuinfo (Linux), else None."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    return next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith(field)), None)


def cpu_name() -> str:
    """The CPU's model name as lscpu shows it (Linux), else what platform knows."""
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def bfloat16_units() -> str:
    """What the CPU offers bfloat16 matrix products (Linux /proc/cpuinfo flags), in words."""
    flags = set((_cpuinfo("flags") or "").split())
    have = sorted(flags & {"avx512_bf16", "amx_bf16", "amx_tile", "avx512f"})
    if not flags:
        return "bfloat16 units: unknown (no /proc/cpuinfo)"
    if {"avx512_bf16", "amx_bf16"} & flags:
        return f"bfloat16 units: yes ({', '.join(have)})"
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"bfloat16 units: none ({simd}; no avx512_bf16 or amx_bf16 flag: bfloat16 is emulated in float32 units)"


def machine(args: argparse.Namespace) -> list[str]:
    cpu = cpu_name()
    usable = usable_cores()
    env = " ".join(f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ)
    command = (env + " " if env else "") + "python " + shlex.join(
        [os.path.relpath(sys.argv[0], REPO) if sys.argv[0].endswith("suite.py") else sys.argv[0], *sys.argv[1:]])
    return [f"- machine: {cpu}, {os.cpu_count()} cores ({usable} usable by this process), {platform.machine()}, "
            f"{platform.system()} {platform.release()}; {bfloat16_units()}",
            *([f"- GPU: {torch.cuda.get_device_name(torch.device(args.device))}"] if args.device.startswith("cuda")
              else []),
            f"- torch {torch.__version__}, torchvision {torchvision.__version__}, Python {platform.python_version()}; "
            f"torch threads: {torch.get_num_threads()}; device: {args.device}",
            f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
            f"- command (from the repository root): `{command}`",
            f"- load average when it started (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
            *busy("start")]


def busy(when: str) -> list[str]:
    """A warning line when other processes were using most of the CPU (load average vs usable cores)."""
    usable, load = usable_cores(), os.getloadavg()[0]
    return [f"- **busy machine at the {when}**: load average {load:.2f} on {usable} cores; other processes "
            "competed for the CPU, so the numbers are low and noisy"] if load > 0.5 * usable else []


def run_throughput(args, work: Path) -> list[bench_throughput.Throughput]:
    results = []
    for name in args.presets:
        log(f"throughput {name}: preparing data")
        data = bench_data.prepare(name, work, device=torch.device(args.device), anime_limit=args.anime_limit)
        log(f"throughput {name}: {data.source}; fit's data ready in {data.prep_s:.1f} s")
        results.append(bench_throughput.measure(
            name, data, tutorial="tutorial" in args.only, repeats=args.repeats, warmup_s=args.warmup_s,
            window_s=args.window_s, min_steps=args.min_steps, device=args.device, options=args.options,
            workers=args.tutorial_workers, log=log))
        del data
    return results


def run_quality(args) -> dict[str, list[dict]]:
    known = {s.name: s for s in bench_quality.SETUPS}
    wanted = args.setups.split(",") if args.setups else list(known)
    bases = [n.split("+", 1)[0] for n in wanted]                        # "mnist-dcgan+bfloat16": a fast path
    if missing := [n for n in bases if n not in known and not (n in PRESETS and n.startswith("mnist"))]:
        raise SystemExit(f"unknown set-ups {missing}; known: {list(known)} and the MNIST presets")
    setups = []
    for name, base in zip(wanted, bases, strict=True):
        setup = known[base] if base in known else bench_quality.preset_setup(base)
        if name != base:
            changes = bench_throughput.option_changes(name.split("+", 1)[1])
            setup = bench_quality.Setup(name, setup.build_models, replace(setup.config, **changes),
                                        f"{setup.description}; {', '.join(f'{k}={v}' for k, v in changes.items())}")
        setups.append(setup)
    images, labels = load_mnist()
    bench_quality.warm_up_metrics(args.device)
    results = {}
    for setup in setups:
        log(f"time to quality {setup.name}: {args.budget:.0f} s of training, every {args.every:.0f} s, "
            f"{args.samples} samples")
        data = TensorBatches(images, labels=labels, batch_size=setup.config.batch_size, device=args.device)
        results[setup.name] = bench_quality.time_to_quality(
            setup.name, setup.build_models, setup.config, data, args.budget, args.every, args.samples,
            device=args.device, log=log)
    return results


def report(args, header, throughput, quality, plot_name: str) -> str:
    label = " (QUICK SMOKE TEST)" if args.quick else ""
    md = [f"# Benchmarks{label}", ""]
    if args.quick:
        md += ["> **Quick run (`--quick`): a smoke test of the script, NOT for publication.** A few steps per",
               f"> window, {args.budget:.0f} s of training per set-up, {args.samples} samples per FID. Run without "
               "`--quick` for real numbers.", ""]
    md += ["Written by `benchmarks/suite.py`; every section's method is in the docstring of its module", "",
           *header, ""]
    if throughput:
        anime = " (DCGAN-64 at its preset width, features=64, is very slow on a CPU: it gets few steps per window)"
        md += ["## Training throughput", "",
               "Images per second of training with each preset's own models, batch size and data, median of the "
               "timed windows after warm-up. **fit** is `fit` over the preset's `TensorBatches`; **tutorial** is "
               "the same models (same initial weights) trained the way the tutorials do it: a torchvision data set "
               "(MNIST, CIFAR10, ImageFolder) with ToTensor + Normalize (+ Resize + CenterCrop for the faces), "
               f"`DataLoader(shuffle=True, num_workers={args.tutorial_workers})`, and the textbook loop with plain "
               "Adam, in float32. Windows of the two alternate (fit, tutorial, tutorial, fit, ...), so slow spells "
               "of the machine hit both. "
               "Data prep is the one-time cost of fit's data (reading the files; decoding the faces once into a "
               f"tensor cache), not part of the throughput{anime if 'anime-dcgan' in args.presets else ''}.", "",
               bench_throughput.table(throughput), ""]
        if any(t.options_s for t in throughput):
            md += ["### fit's fast paths", "",
                   "The same fit set-up with one TrainConfig change each (notebook 09; `bench_throughput.OPTIONS`): "
                   "autocast to bfloat16, or to float16 with gradient scaling; channels-last memory format; "
                   "torch.compile of G and D (its compilation is part of the warm-up, not of the windows). Timed in "
                   "the same interleaved windows as float32's fit (the column above).", "",
                   bench_throughput.options_table(throughput), ""]
        if any(t.source.startswith("RANDOM") for t in throughput):
            md += ["Rows marked RANDOM used random pixels because the shared data was absent: throughput does not "
                   "depend on pixel values.", ""]
    if quality:
        md += ["## Time to quality on MNIST", "",
               f"Each set-up trains for {args.budget:.0f} s of training time (evaluation time excluded) on the "
               f"60,000 MNIST training images; every {args.every:.0f} s of training (and at 0 s) G draws "
               f"{args.samples:,} images from a fixed noise batch, measured by `gan_helpers.metrics.mnist_metrics`: "
               "MNIST FID against the 10,000 test images in the shipped digit classifier's features (not "
               "comparable with Inception FIDs), classes covered (>= 1% of the images) and the normalised class "
               "entropy. The set-ups run one after the other, so a busy spell of the machine may favour one of them.",
               "", _setups_text(args),
               "", f"![FID and classes covered against training seconds]({plot_name})", "",
               bench_quality.tables(quality), ""]
    md += [f"Suite wall time: {time.perf_counter() - _START:.0f} s; load average at the end: "
           f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} (this includes the suite's own "
           f"{torch.get_num_threads()} threads).", ""]
    return "\n".join(md)


def _setups_text(args) -> str:
    """What the time-to-quality rows are: bench_quality.SETUPS' story, or the set-ups named by --setups."""
    caution = "One run each from one seed; the spread across seeds was not measured, so read small differences " \
              "with caution."
    if args.setups:
        return (f"The set-ups: {', '.join(f'`{name}`' for name in args.setups.split(','))}. A `+OPTION` set-up is the "
                "preset with one of fit's fast paths (`bench_throughput.OPTIONS`: `precision`, `channels_last` or "
                "`compile` in its TrainConfig): the same game, computed another way, so at equal training time it "
                f"differs from the preset by how many steps it gets done, and by the noise of one run. {caution}")
    return ("Every DCGAN row has the `mnist-dcgan` preset's models. The baseline is the DCGAN paper's "
            "settings (lr 2e-4, batch 128: the preset's first defaults); each other DCGAN row changes one thing "
            "(the descriptions are in `bench_quality.SETUPS`): one-sided label smoothing, TTUR, an EMA of G, "
            "DiffAugment, R1 on a D without BatchNorm, and the preset's own settings now (lr 3.2e-3, batch 64) "
            "without and with EMA. `mnist-sngan` (spectral norm and biases in a D without BatchNorm, hinge "
            "loss) and `mnist-wgan-gp` (LayerNorm critic, Wasserstein loss, gradient penalty 10, 5 critic steps "
            f"per G step, batch 64) are presets of their own. {caution}")


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    plot_path = out.with_name(out.stem + "_time_to_quality.png")
    header = machine(args)
    log(f"benchmark suite{' (quick)' if args.quick else ''}: sections {sorted(args.only)}, report {out}")
    throughput, quality = [], {}
    with tempfile.TemporaryDirectory(prefix="gan-bench-") as tmp:
        work = Path(args.work) if args.work else Path(tmp)
        if args.only & {"throughput", "tutorial"}:
            throughput = run_throughput(args, work)
    if "quality" in args.only:
        quality = run_quality(args)
        title = f"Time to quality on MNIST ({args.samples} samples per FID)" + (" - QUICK RUN" if args.quick else "")
        bench_quality.plot(quality, plot_path, title=title)
    out.write_text(report(args, header, throughput, quality, plot_path.name))
    log(f"wrote {out}" + (f" and {plot_path}" if quality else ""))
    print(out)


if __name__ == "__main__":
    main()
