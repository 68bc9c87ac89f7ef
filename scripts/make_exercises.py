"""Write the learner's copy of every chapter: exercises/NN_*.ipynb, with stubs where the solutions are.

The notebooks in notebooks/ are the source: they hold the solutions, and CI runs them as they are. An
exercise cell starts with `# EXERCISE name` and marks each piece the learner writes:

    def d_step(G, D, opt_D, x_real, z):
        \"\"\"The docstring says what to write.\"\"\"
        # HINT: Make x_fake = G(z), then ...
        # BEGIN SOLUTION
        x_fake = G(z)
        ...
        # END SOLUTION

In the learner's copy each BEGIN/END block becomes `raise NotImplementedError("<the hint>")` (the HINT
lines go into it), and a markdown cell right after the exercise says how to run the solution in one
action, `solution("name")` (gan_helpers/exercises/solutions.py), and holds the solved cell, collapsed.
Nothing else changes, so the checks, the text and the rest of the notebook stay the same. The solved
cells also go into the package, gan_helpers/exercises/solution_code.py, where `solution` finds them.

    python scripts/make_exercises.py            # write exercises/*.ipynb and solution_code.py
    python scripts/make_exercises.py --check    # exit 1 if a copy is not what the source gives
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE, TARGET = REPO / "notebooks", REPO / "exercises"
SOLUTIONS = REPO / "gan_helpers" / "exercises" / "solution_code.py"
EXERCISE = re.compile(r"^# EXERCISE (\w+)")
HINT, BEGIN, END = "# HINT:", "# BEGIN SOLUTION", "# END SOLUTION"


def source_text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def exercise_name(cell: dict) -> str | None:
    """The name of an exercise cell (its `# EXERCISE name` first line), else None."""
    if cell["cell_type"] != "code":
        return None
    match = EXERCISE.match(source_text(cell))
    return match.group(1) if match else None


def stub_code(code: str) -> str:
    """The cell with every BEGIN/END SOLUTION block replaced by a NotImplementedError carrying its hint."""
    out, hint, inside = [], [], False
    for line in code.split("\n"):
        stripped = line.strip()
        if stripped.startswith(HINT):
            hint.append(stripped[len(HINT):].strip())
        elif stripped == BEGIN:
            if inside:
                raise ValueError(f"nested {BEGIN} in:\n{code}")
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(_raise(indent, " ".join(hint) or "write this part."))
            hint, inside = [], True
        elif stripped == END:
            if not inside:
                raise ValueError(f"{END} without {BEGIN} in:\n{code}")
            inside = False
        elif not inside:
            out.append(line)
    if inside or hint:
        raise ValueError(f"an unclosed {BEGIN}, or a {HINT} line without a solution, in:\n{code}")
    return "\n".join(out)


def _quote(text: str) -> str:
    """A Python string literal of text: in double quotes, or in single quotes if it holds only double ones."""
    if '"' in text and "'" not in text and "\\" not in text:
        return f"'{text}'"
    return json.dumps(text, ensure_ascii=False)


def _raise(indent: str, message: str) -> list[str]:
    """`raise NotImplementedError(message)`, on one line if it fits in 120 columns, else wrapped."""
    one = f"{indent}raise NotImplementedError({_quote(message)})"
    if len(one) <= 120:
        return [one]
    inner = indent + " " * 4
    pieces = textwrap.wrap(message, 116 - len(inner), drop_whitespace=False, break_on_hyphens=False)
    quoted = [inner + _quote(piece) for piece in pieces]
    return [f"{indent}raise NotImplementedError("] + quoted[:-1] + [quoted[-1] + ")"]


def solution_code(code: str) -> str:
    """The solved cell without the markers (what the collapsed solution shows)."""
    keep = [line for line in code.split("\n") if line.strip() not in (BEGIN, END)]
    return "\n".join(line for line in keep if not line.strip().startswith(HINT))


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _markdown(cell_id: str, text: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": _lines(text)}


def learner_copy(notebook: dict, name: str) -> dict:
    """The learner's copy of one source notebook (`name`: its file name in notebooks/)."""
    cells = []
    for i, cell in enumerate(notebook["cells"]):
        exercise = exercise_name(cell)
        if exercise is None:
            cells.append(cell)
            if i == 0:
                cells.append(_markdown("learner-copy", (
                    f"*This is the exercise copy of the chapter: the pieces marked **Exercise** are yours to write, "
                    f"each followed by a check that says what is right or wrong, and by a note with its solution: "
                    f"`solution(\"name\")` runs it here in one action, or read it, collapsed. Until you write an "
                    f"exercise, the later cells that build on it use the package's version and say so; the last cell "
                    f"lists which exercises pass. It is generated from [the solved notebook](../notebooks/{name}) by "
                    f"`scripts/make_exercises.py`; edit that one.*")))
            continue
        code = source_text(cell)
        cells.append({**cell, "source": _lines(stub_code(code))})
        cells.append(_markdown(f"{cell['id']}-solution"[:64], (
            f"**Stuck?** Try the check first. Then, in a new cell, `from gan_helpers.exercises import solution; "
            f"solution(\"{exercise}\")` runs the course's solution of this exercise here (the check and the "
            f"later cells then use it) and shows its code (in JupyterLab it replaces that cell).\n\n"
            "<details><summary><b>Solution</b> (click to read it)</summary>\n\n"
            f"```python\n{solution_code(code)}\n```\n\n</details>")))
    return {**notebook, "cells": cells}


def with_solutions(copy: dict, solutions: dict[str, str]) -> dict:
    """A learner's copy with every exercise cell replaced by its solution (`solutions`: name -> code), as
    `solution(name)` gives it: what the learner's notebook is once every exercise is solved."""
    cells = []
    for cell in copy["cells"]:
        name = exercise_name(cell)
        cells.append({**cell, "source": _lines(solutions[name])} if name else cell)
    return {**copy, "cells": cells}


def solution_module(notebooks: dict[str, dict]) -> str:
    """The text of gan_helpers/exercises/solution_code.py: every exercise's solved cell, by name."""
    entries = []
    for name, notebook in notebooks.items():
        for cell in notebook["cells"]:
            exercise = exercise_name(cell)
            if exercise:
                code = solution_code(source_text(cell))
                if "'''" in code or code.endswith("\\"):
                    raise ValueError(f"exercise {exercise} in {name}: its code cannot go into a r''' string")
                entries.append(f"    # {name}\n    {exercise!r}: r'''\n{code}\n'''[1:-1],\n")
    return ('"""The solved cell of every exercise, by name: written by scripts/make_exercises.py from notebooks/ '
            '(do not edit;\nrun `make exercises`). solutions.py runs them."""\n'
            "SOLUTIONS = {\n" + "".join(entries) + "}\n")


def dumps(notebook: dict) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def copies() -> dict[Path, str]:
    """Every learner's copy: target path -> its text."""
    out, sources = {}, {}
    for path in sorted(SOURCE.glob("[0-9][0-9]_*.ipynb")):
        notebook = sources[path.name] = json.loads(path.read_text(encoding="utf-8"))
        out[TARGET / path.name] = dumps(learner_copy(notebook, path.name))
    out[SOLUTIONS] = solution_module(sources)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a copy is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in copies().items():
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path.relative_to(REPO)}")
    if args.check and stale:
        print("Run: python scripts/make_exercises.py")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
