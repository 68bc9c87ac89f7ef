"""What the live training view costs: a preset trained in a real Jupyter kernel for fixed windows of
wall time, with and without `LiveView`, the two interleaved (the view draws only inside a kernel).

    .venv/bin/python benchmarks/bench_live.py                    # mnist-mlp, 30 s windows, 2 pairs
    .venv/bin/python benchmarks/bench_live.py --preset mnist-dcgan --seconds 60 --pairs 3

Prints, per window, the generator steps done and steps per second; for the windows with the view,
its updates, their median cost and the share of the window they took (`LiveView.overhead`, the view's
own measurement); then the throughput with the view over the throughput without it.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys

import nbclient
from nbformat.v4 import new_code_cell, new_notebook

SETUP = """
import json, time
from dataclasses import replace

import torch
from gan_helpers import LiveView, fit, pick_device
from gan_helpers.presets import PRESETS

preset = PRESETS[{preset!r}]
device = pick_device()
cfg = replace(preset.config, epochs=10**6, checkpoint_dir=None)
data = preset.data(cfg.batch_size, device)


def window(seconds, with_view):
    torch.manual_seed(0)
    G, D = preset.models()
    start = time.perf_counter()

    def clock(event, run):
        if event == "step_end" and time.perf_counter() - start >= seconds:
            run.stop = True

    view = LiveView(steps_per_epoch=len(data)) if with_view else None
    history = fit(G, D, data, cfg, callbacks=[c for c in (view, clock) if c], progress=False)
    seconds_run = time.perf_counter() - start
    row = {{"view": with_view, "steps": history.steps, "seconds": seconds_run,
            "steps_per_s": history.steps / seconds_run, "torch_threads": torch.get_num_threads()}}
    if view:
        row.update(updates=len(view.update_seconds), update_ms=[round(1000 * s, 1) for s in view.update_seconds],
                   overhead=view.overhead)
    print("ROW " + json.dumps(row))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mnist-mlp")
    parser.add_argument("--seconds", type=float, default=30.0, help="wall time of each window")
    parser.add_argument("--pairs", type=int, default=2, help="windows without and with the view, interleaved")
    args = parser.parse_args(argv)
    cells = [new_code_cell(SETUP.format(preset=args.preset)), new_code_cell("window(3, True)  # warm-up")]
    for _ in range(args.pairs):
        cells += [new_code_cell(f"window({args.seconds}, False)"), new_code_cell(f"window({args.seconds}, True)")]
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                   "display_name": "Python 3"}})
    nbclient.NotebookClient(notebook, timeout=int(10 * args.seconds) + 300, kernel_name="python3").execute()
    rows = [json.loads(line[4:]) for cell in notebook.cells[2:] for out in cell.outputs
            if out.output_type == "stream" for line in out.text.splitlines() if line.startswith("ROW ")]
    for row in rows:
        line = (f"{'with' if row['view'] else 'without':>7} the view: {row['steps']:6d} steps in "
                f"{row['seconds']:5.1f} s, {row['steps_per_s']:7.1f} steps/s")
        if row["view"]:
            line += (f"; {row['updates']} updates, median {statistics.median(row['update_ms']):.0f} ms, "
                     f"drawing {100 * row['overhead']:.2f}% of the window")
        print(line)
    rate = {flag: statistics.mean(r["steps_per_s"] for r in rows if r["view"] == flag) for flag in (False, True)}
    print(f"throughput with the view / without: {rate[True] / rate[False]:.3f} "
          f"({args.preset}, {args.pairs} pairs of {args.seconds:.0f} s, torch threads {rows[0]['torch_threads']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
