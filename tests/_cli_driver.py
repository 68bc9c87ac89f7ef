"""Run by test_cli_errors.py: `python -m gan_helpers ARGS` for every ARGS of a table, each in a process of its own.

Importing torch and gan_helpers takes seconds; this process does it once, then forks one child per case,
which runs the package's __main__ as `python -m gan_helpers` would: an uncaught exception prints its
traceback and exits with 1, SystemExit gives the exit code. The child's stdout and stderr go to files.

    python _cli_driver.py CASES.json RESULTS.json     # CASES: {"cwd": ..., "cases": [[arg, ...], ...]}
                                                      # (a case may also be {"args": [...], "env": {VAR: value}})
"""
import json
import os
import runpy
import sys
import traceback
from pathlib import Path

import matplotlib.pyplot  # noqa: F401 - imported once, before the forks, with what the CLI's commands import
import torch  # when they run (the CLI imports them lazily, so that --help is quick)

import gan_helpers.checkpoint  # noqa: F401
import gan_helpers.cli  # noqa: F401
import gan_helpers.plotting  # noqa: F401
import gan_helpers.presets  # noqa: F401
import gan_helpers.train  # noqa: F401

torch.set_num_threads(1)   # no thread pool in this process, so forking it is safe


def run_cli(args: list[str], out: Path, env: dict[str, str] | None = None) -> int:
    """Fork, run the CLI with `args` in the child (its stdout and stderr into out/stdout, out/stderr), with the
    environment variables `env` set there; its exit code."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.environ.update(env or {})
            for fd, name in ((1, "stdout"), (2, "stderr")):
                file = os.open(out / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(file, fd)
                os.close(file)
            sys.argv = ["python -m gan_helpers", *args]
            try:
                runpy.run_module("gan_helpers", run_name="__main__", alter_sys=True)
                code = 0
            except SystemExit as stop:
                if isinstance(stop.code, str):
                    print(stop.code, file=sys.stderr)
                code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
            except BaseException:  # noqa: BLE001 - as the interpreter does: the traceback, exit code 1
                traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def main() -> None:
    table = json.loads(Path(sys.argv[1]).read_text())
    os.chdir(table["cwd"])
    results = []
    for i, case in enumerate(table["cases"]):                # [arg, ...] or {"args": [...], "env": {...}}
        args, env = (case["args"], case["env"]) if isinstance(case, dict) else (case, {})
        out = Path(table["cwd"]) / f"case{i:03d}"
        out.mkdir()
        code = run_cli(args, out, env)
        results.append({"args": args, "code": code, "stdout": (out / "stdout").read_text(),
                        "stderr": (out / "stderr").read_text()})
    Path(sys.argv[2]).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
