"""Check a learner's notebook from outside: `python -m gan_helpers check exercises/01_mnist_mlp_gan.ipynb`.

For a teacher who runs the course for a class. It reads the notebook (the .ipynb file as saved, outputs
ignored), runs each exercise cell (`# EXERCISE name`) alone in a fresh namespace, as the course's tests
do, calls that exercise's check on what the cell defined, and prints one table row per exercise:

    exercise            result
    losses              ✓ passed
    d_step              ✗ no_detach: a gradient reached G in D's update.
    g_step              … not written yet

The exit code is 0 when every exercise passes and 1 when one does not (an unreadable notebook, or one
without exercise cells, is an error: exit 1 with one line that says why). `--verbose` prints each
check's whole verdict under the table.
"""
from __future__ import annotations

import contextlib
import io
import json
import linecache
import re
from dataclasses import dataclass
from pathlib import Path

from .report import STUB, CheckResult

EXERCISE = re.compile(r"^# EXERCISE (\w+)")


@dataclass(frozen=True)
class Row:
    """One exercise of a notebook: its name, whether it passed, a one-line result and the whole verdict."""
    exercise: str
    passed: bool
    result: str
    verdict: str


def exercise_cells(path: str | Path) -> list[tuple[str, str]]:
    """(name, code) of every exercise cell of the notebook at `path`, in order. ValueError when the file is
    not a notebook or holds no exercise cell."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no notebook at {path}: give the path of an .ipynb file, e.g. "
                         f"exercises/01_mnist_mlp_gan.ipynb.")
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is not a Jupyter notebook (.ipynb) that can be read ({type(err).__name__}).") from err
    found = []
    for cell in cells:
        source = cell.get("source", "")
        code = "".join(source) if isinstance(source, list) else source
        match = EXERCISE.match(code) if cell.get("cell_type") == "code" else None
        if match:
            found.append((match.group(1), code))
    if not found:
        raise ValueError(f"{path} has no exercise cells (cells that start with '# EXERCISE name'): "
                         f"check a notebook of the course's exercises/ folder.")
    return found


def check_cell(name: str, code: str) -> Row:
    """Run one exercise cell alone, then its check, with the check's printing captured."""
    from . import CHECKS

    if name not in CHECKS:
        return Row(name, False, f"✗ unknown exercise (the course's are: {', '.join(CHECKS)})", "")
    check, names = CHECKS[name]
    namespace = {"__name__": f"exercise_{name}"}
    filename = f"<exercise {name}>"
    try:
        source = _python(code)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(source, filename, "exec"), namespace)
    except Exception as err:  # noqa: BLE001 - any error of the learner's cell is that exercise's result
        first = str(err).strip().splitlines()[0][:120] if str(err).strip() else "(no message)"
        return Row(name, False, f"✗ the cell raised {type(err).__name__}: {first}", "")
    missing = [n for n in names if n not in namespace]
    if missing:
        return Row(name, False, f"✗ the cell does not define {', '.join(missing)}", "")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result: CheckResult = check(*(namespace[n] for n in names))
    return Row(name, result.passed, _summary(result), result.message or out.getvalue().strip())


def check_notebook(path: str | Path) -> list[Row]:
    """One Row per exercise cell of the notebook at `path`."""
    return [check_cell(name, code) for name, code in exercise_cells(path)]


def table(rows: list[Row]) -> str:
    """The rows as a plain-text table, with a last line that counts the passes."""
    width = max(len("exercise"), *(len(r.exercise) for r in rows)) + 2
    lines = [f"{'exercise':<{width}}result"] + [f"{r.exercise:<{width}}{r.result}" for r in rows]
    lines.append(f"{sum(r.passed for r in rows)} of {len(rows)} exercises pass.")
    return "\n".join(lines)


def _summary(result: CheckResult) -> str:
    if result.passed:
        return "✓ passed"
    if result.mistake == STUB:
        return "… not written yet"
    first = result.message.strip().splitlines()[0] if result.message.strip() else ""
    what = first.split(": ", 1)[1] if ": " in first else first
    return f"✗ {result.mistake}: {what}"


def _python(code: str) -> str:
    """The cell as Python: IPython's magics (%, !) turned into calls, when IPython is there to do it."""
    if not re.search(r"^\s*[%!]", code, re.M):
        return code
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(code)
