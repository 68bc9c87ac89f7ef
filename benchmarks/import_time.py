"""How long the package takes to start: `import gan_helpers`, a notebook's imports and the command line's
`--help`, against `import torch` alone. Each case runs in a fresh Python process, the cases interleaved
(torch, gan_helpers, ..., torch, gan_helpers, ...) so that a busy spell of the machine hits them all;
the table gives the medians.

    python benchmarks/import_time.py                          # 7 rounds, a table on stdout
    python benchmarks/import_time.py --out docs/import_time.md
    git archive 2866d11 | tar -x -C /tmp/old && python benchmarks/import_time.py --checkout /tmp/old
                                                              # the same cases on another version's code

Wall time is what a learner waits; CPU time (user + system of the process) is what it costs, and moves
less when other jobs share the machine, so the targets compare CPU times:
  * every public name of gan_helpers imported (`from gan_helpers import *`, more than any notebook's
    first cell imports) within 1.3x of `import torch` alone;
  * `python -m gan_helpers --help` under 1 s of wall time.
A last pass lists which of the heavy libraries (torch, torchvision, matplotlib, ipywidgets, torch._dynamo)
each case left imported. tests/test_import.py asserts the same from sys.modules, without timing anything.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]   # where the cases run (--checkout: another copy of the code)
HEAVY = ("torch", "torchvision", "matplotlib", "ipywidgets", "torch._dynamo")
CASES = {   # name -> the arguments of `python`
    "import torch": ["-c", "import torch"],
    "import gan_helpers": ["-c", "import gan_helpers"],
    "from gan_helpers import * (every public name)": ["-c", "from gan_helpers import *"],
    "python -m gan_helpers --help": ["-m", "gan_helpers", "--help"],
    "python -m gan_helpers --version": ["-m", "gan_helpers", "--version"],
}


def run_once(args: list[str]) -> tuple[float, float, float]:
    """One fresh `python ARGS`: (wall s, CPU s, peak memory MB)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, *args], cwd=REPO, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:                    # e.g. --version on a version that did not have it
        return math.nan, math.nan, math.nan
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def heavy_modules(args: list[str]) -> list[str]:
    """Which of HEAVY the case leaves in sys.modules (the case's code, then a look at sys.modules at exit)."""
    probe = f"import atexit, json, sys; atexit.register(lambda: print(json.dumps(" \
            f"[m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr))"
    if args[0] == "-c":
        code = f"{probe}\n{args[1]}"
    else:                                          # -m MODULE ARGS...: run it as runpy would
        code = f"{probe}\nimport runpy; sys.argv = {['-m', *args[2:]]!r}\n" \
               f"try:\n    runpy.run_module({args[1]!r}, run_name='__main__', alter_sys=True)\n" \
               "except SystemExit:\n    pass"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    return json.loads(done.stderr.strip().splitlines()[-1]) if done.returncode == 0 else ["(the case failed)"]


def measure(rounds: int) -> dict[str, list[tuple[float, float, float]]]:
    for args in CASES.values():                    # warm the file cache: the first process reads torch's files
        run_once(args)
    times: dict[str, list[tuple[float, float, float]]] = {name: [] for name in CASES}
    for _ in range(rounds):
        for name, args in CASES.items():
            times[name].append(run_once(args))
    return times


def report(times: dict[str, list[tuple[float, float, float]]], rounds: int, load_before: tuple) -> str:
    # Imported only now: a child process starts with its parent's peak memory (Linux keeps it across fork
    # and exec), so the parent stays small while the cases run.
    import torch

    from suite import bfloat16_units, cpu_name

    median = {name: [statistics.median(t[i] for t in runs) for i in range(3)] for name, runs in times.items()}
    torch_cpu = median["import torch"][1]
    lines = [
        "# Import time",
        "",
        "Written by `benchmarks/import_time.py` (the method is in its docstring).",
        "",
        f"- machine: {cpu_name()}, {os.cpu_count()} cores, {platform.machine()}, {platform.system()} "
        f"{platform.release()}; {bfloat16_units()}",
        f"- code measured: {'this checkout' if REPO == Path(__file__).resolve().parents[1] else REPO}",
        f"- torch {torch.__version__}, Python {platform.python_version()}",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}",
        f"- command (from the repository root): `{shlex.join(['python', 'benchmarks/import_time.py', *sys.argv[1:]])}`",
        f"- {rounds} rounds, each case in a fresh process, interleaved; medians. Load average before "
        f"(1, 5, 15 min): {', '.join(f'{x:.2f}' for x in load_before)}",
        "",
        "| case | wall s | CPU s | CPU / `import torch` | peak memory MB | heavy modules imported |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, args in CASES.items():
        wall, cpu, memory = median[name]
        loaded = ", ".join(heavy_modules(args)) or "none"
        lines.append(f"| `{name}` | {wall:.2f} | {cpu:.2f} | {cpu / torch_cpu:.2f}x | {memory:.0f} | {loaded} |")
    every, helps = median["from gan_helpers import * (every public name)"], median["python -m gan_helpers --help"]
    lines += ["", f"Targets: every public name within 1.3x of `import torch` in CPU time: "
                  f"{every[1] / torch_cpu:.2f}x ({'met' if every[1] <= 1.3 * torch_cpu else 'NOT met'}); "
                  f"`--help` under 1 s: {helps[0]:.2f} s ({'met' if helps[0] < 1 else 'NOT met'})."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="fresh processes per case (default 7)")
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    parser.add_argument("--checkout", type=Path, help="run the cases in this copy of the repository instead")
    args = parser.parse_args(argv)
    if args.checkout:
        global REPO
        REPO = args.checkout.resolve()
    load_before = os.getloadavg()
    text = report(measure(args.rounds), args.rounds, load_before)
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
