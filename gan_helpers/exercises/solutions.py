"""The course's solution of every exercise, in one action: `solution("d_step")` in a notebook cell.

It runs the solved exercise cell in the notebook (so `d_step` is now the solution and the check and later
cells use it), prints its code, and, in JupyterLab and Jupyter Notebook, puts that code into the cell in
place of the call (the front end's `set_next_input`, as `%load` does), where you can read and change it.
On Colab, which ignores that request, the printed code is what to copy. The code is that of the solved
notebook in notebooks/, which scripts/make_exercises.py writes into solution_code.py.
"""
from __future__ import annotations

import linecache
import sys

from .solution_code import SOLUTIONS


def solution_code(name: str) -> str:
    """The solved exercise cell of exercise `name`, without the solution markers and hints."""
    if name not in SOLUTIONS:
        raise ValueError(f"no exercise named {name!r}; the exercises are: {', '.join(SOLUTIONS)}.")
    return SOLUTIONS[name]


def run_solution(name: str, namespace: dict) -> dict:
    """Run the solved cell of exercise `name` in `namespace` (its source kept for inspect.getsource)."""
    code = solution_code(name)
    filename = f"<solution of exercise {name}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    exec(compile(code, filename, "exec"), namespace)
    return namespace


def package_version(name: str):
    """The objects that exercise `name` defines, from the course's solution run in a namespace of its own:
    one object, or a tuple when the exercise defines several (in the order its check takes them)."""
    from . import CHECKS

    namespace = run_solution(name, {"__name__": f"solution_{name}"})
    found = tuple(namespace[n] for n in CHECKS[name][1])
    return found[0] if len(found) == 1 else found


def solution(name: str, *, show: bool = True) -> None:
    """Run the course's solution of exercise `name` here, in the notebook: the names it defines replace yours.

    show: print the code and ask JupyterLab to put it into this cell (Colab only prints it)."""
    shell = _shell()
    namespace = shell.user_ns if shell is not None else sys._getframe(1).f_globals
    run_solution(name, namespace)
    if not show:
        return
    code = solution_code(name)
    print(f"The solution of exercise {name} now runs in this notebook; run its check again. Its code:\n")
    print(code)
    if shell is not None:
        shell.set_next_input(f"# solution({name!r}) put this code here; run the cell to use it.\n{code}",
                             replace=True)


def _shell():
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()
