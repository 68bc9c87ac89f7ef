"""Run notebooks top to bottom in full mode, time them, and keep executed copies for readers.

    python scripts/execute_notebooks.py 01 02 05 06 08          # into docs/executed/, runs in a fresh folder
    python scripts/execute_notebooks.py 03 --fast               # fast mode (GAN_FAST=1), e.g. to try the script

Each notebook runs in its own kernel with the working folder notebooks/, as in JupyterLab, in the order
given, all of them sharing one new runs folder (GAN_RUNS_DIR, default a new runs/executed-DATE/): so a
later chapter finds the earlier ones' checkpoints, as it would for a learner who ran them in order, and
no earlier run is resumed instead of trained. The wall time of each is printed and appended to
docs/executed/times.md with the machine; the executed copy, with its outputs but without the widgets'
saved state (the live views and sliders only work in a running kernel), goes to docs/executed/NAME.ipynb.
Beside the wall time, the kernel's CPU time (its own and its subprocesses') and the load average are
recorded: on a machine that other jobs share, the wall time says more about them than about the notebook.
There, also run with OMP_NUM_THREADS=1: torch's two threads then wait for each other, and a small model
trained ten times slower with two threads than with one on the course's loaded 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbclient
import nbformat
import torch

REPO = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CPU_PROBE = """import resource
usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print("cpu_seconds", sum(u.ru_utime + u.ru_stime for u in usage))"""


def cpu_name() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def strip_widgets(notebook) -> None:
    """Drop the widgets' saved state and their views (a text fallback stays); they need a live kernel."""
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                data.setdefault("text/plain", "(an interactive widget: run the notebook to use it)")


def kernel_for_this_python() -> str:
    """A kernelspec for the interpreter running this script (so notebooks import this checkout's gan_helpers)."""
    folder = Path(tempfile.mkdtemp()) / "kernels" / "gan-course-execute"
    folder.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "gan-course", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = str(folder.parents[1])
    return "gan-course-execute"


def run(path: Path, out: Path, kernel: str) -> tuple[float, float]:
    """Execute `path` in a fresh kernel, write the executed copy into `out`; return the wall time and the
    kernel's CPU time, in seconds (the latter read by one more cell, which the copy leaves out)."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(CPU_PROBE))
    start = time.perf_counter()
    nbclient.NotebookClient(notebook, timeout=None, kernel_name=kernel,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    probe = notebook.cells.pop()
    cpu_seconds = float(probe.outputs[0]["text"].split()[-1])
    strip_widgets(notebook)
    nbformat.write(notebook, out / path.name)
    return seconds, cpu_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", nargs="+", help="notebook numbers, e.g. 01 02 05")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "executed", help="where the copies go")
    parser.add_argument("--fast", action="store_true", help="fast mode (GAN_FAST=1) instead of full runs")
    args = parser.parse_args()
    os.environ["GAN_FAST"] = "1" if args.fast else "0"
    os.environ.setdefault("GAN_RUNS_DIR", str(REPO / "runs" / f"executed-{datetime.now():%Y%m%d-%H%M%S}"))
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"   # figures in the outputs
    kernel = kernel_for_this_python()
    args.out.mkdir(parents=True, exist_ok=True)
    machine = (f"{cpu_name()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
               f"{torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU'}, torch {torch.__version__}")
    print(f"{machine}; runs in {os.environ['GAN_RUNS_DIR']}", flush=True)
    for number in args.numbers:
        path = next((REPO / "notebooks").glob(f"{number}_*.ipynb"))
        load_before = os.getloadavg()[0]
        seconds, cpu_seconds = run(path, args.out, kernel)
        line = (f"| {path.stem} | {'fast' if args.fast else 'full'} | {seconds / 60:.1f} min | "
                f"{cpu_seconds / 60:.1f} min | {load_before:.1f} / {os.getloadavg()[0]:.1f} | {machine} | "
                f"{datetime.now():%Y-%m-%d} |")
        print(line, flush=True)
        with open(args.out / "times.md", "a") as f:
            f.write(line + "\n")
    print(f"executed copies in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
