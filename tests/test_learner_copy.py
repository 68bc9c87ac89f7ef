"""The learner's copy around the checks: the solved copy is the solved notebook, the one-action solution
(`solution(name)`) in a real kernel, the later cells that use the learner's code (`yours_or_package`,
`penalty_in_fit`), the progress line, and `python -m gan_helpers check NOTEBOOK`."""
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_helpers import TensorBatches, fit
from gan_helpers.exercises import CHECKS, penalty_in_fit, progress, yours_or_package
from gan_helpers.exercises.grading import check_notebook
from gan_helpers.exercises.solution_code import SOLUTIONS
from gan_helpers.exercises.solutions import package_version, solution

from conftest import REPO, tiny_config, tiny_models

_spec = importlib.util.spec_from_file_location("make_exercises", REPO / "scripts" / "make_exercises.py")
make_exercises = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_exercises)

SOURCES = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WRONG_D_STEP = '''# EXERCISE d_step: D's update by hand
from gan_helpers import d_loss


def d_step(G, D, opt_D, x_real, z):
    x_fake = G(z)
    loss_D = d_loss(D(x_real), D(x_fake))   # no detach
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()
    return x_fake, loss_D
'''


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(notebook: dict) -> list[str]:
    return [make_exercises.source_text(c) for c in notebook["cells"] if c["cell_type"] == "code"]


def stub_namespace(name: str) -> dict:
    """What the learner's copy's exercise cell defines, as shipped (the stub)."""
    for path in sorted((REPO / "exercises").glob("[0-9][0-9]_*.ipynb")):
        for cell in read(path)["cells"]:
            if make_exercises.exercise_name(cell) == name:
                namespace = {"__name__": f"stub_{name}"}
                exec(make_exercises.source_text(cell), namespace)
                return namespace
    raise AssertionError(f"no exercise {name} in exercises/")


@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_the_solved_copy_is_the_solved_notebook(path):
    """Every solution filled in the learner's copy, as `solution(name)` gives it: the code of notebooks/ (without
    the solution markers and hints, which are comments), so the solved copy runs as notebooks/ does."""
    source = read(path)
    solved = make_exercises.with_solutions(make_exercises.learner_copy(source, path.name), SOLUTIONS)
    want = [make_exercises.solution_code(code) for code in code_cells(source)]
    assert code_cells(solved) == want
    assert code_cells(make_exercises.learner_copy(source, path.name)) != want     # the stubs do differ


def test_later_cells_reach_the_learners_code_only_through_yours_or_package():
    """No cell after an exercise calls what the exercise defines, except its check and the cells that ask for
    it with yours_or_package (so an unfinished exercise never makes a later cell raise)."""
    for path in SOURCES:
        cells = read(path)["cells"]
        defined = {}                                       # a name an exercise cell defines -> the exercise
        for cell in cells:
            name = make_exercises.exercise_name(cell)
            if name:
                defined.update(dict.fromkeys(CHECKS[name][1], name))
                continue
            code = make_exercises.source_text(cell) if cell["cell_type"] == "code" else ""
            for function in defined:        # passed to its check or to yours_or_package, never called
                assert not re.search(rf"(?<![\w.]){function}\(", code), (path.name, function, code)


def test_every_notebook_ends_with_its_progress_line():
    for path in SOURCES:
        cells = read(path)["cells"]
        names = [n for n in map(make_exercises.exercise_name, cells) if n]
        assert code_cells(read(path))[-1].endswith(f"progress({', '.join(map(repr, names))});".replace("'", '"'))


@pytest.mark.slow
def test_solution_in_one_action_in_a_kernel(tmp_path, monkeypatch):
    """In a real kernel, `solution(name)` after the shipped stub: the names now hold the course's solution
    (its check passes), and JupyterLab is asked to put the solution's code into the cell (set_next_input)."""
    jupyter_client = pytest.importorskip("jupyter_client")
    spec = tmp_path / "kernels" / "gan-course-test"          # this interpreter, whatever kernels the user has
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                                                           "{connection_file}"], "language": "python",
                                                  "display_name": "gan-course tests"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    manager, client = jupyter_client.manager.start_new_kernel(kernel_name="gan-course-test", cwd=str(REPO))
    outputs = []

    def checked(name: str) -> str:     # the exercise's check, run in the kernel on what the names hold now
        outputs.clear()
        code = (f"from gan_helpers.exercises import CHECKS\ncheck, names = CHECKS[{name!r}]\n"
                f"print('PASSED' if check(*(globals()[n] for n in names)) else 'FAILED')")
        client.execute_interactive(code, timeout=120, output_hook=outputs.append)
        said = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        return said.rstrip().splitlines()[-1]

    try:
        for name in CHECKS:
            cell = next(make_exercises.source_text(c) for p in sorted((REPO / "exercises").glob("*.ipynb"))
                        for c in read(p)["cells"] if make_exercises.exercise_name(c) == name)
            client.execute_interactive(cell, timeout=60)   # the stub's cell, as the learner's copy has it
            assert checked(name) == "FAILED", name
            reply = client.execute_interactive(f"from gan_helpers.exercises import solution\nsolution({name!r})",
                                               timeout=120, output_hook=lambda msg: None)
            assert reply["content"]["status"] == "ok", reply["content"]
            payloads = [p for p in reply["content"]["payload"] if p.get("source") == "set_next_input"]
            assert len(payloads) == 1 and payloads[0]["replace"] is True, reply["content"]["payload"]
            assert payloads[0]["text"].endswith(SOLUTIONS[name]), name
            assert checked(name) == "PASSED", name
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_solution_outside_a_kernel_defines_the_names_and_prints_the_code(capsys):
    namespace = stub_namespace("slerp")
    assert not CHECKS["slerp"][0](namespace["my_slerp"])
    exec("from gan_helpers.exercises import solution\nsolution('slerp')", namespace)   # the caller's globals
    assert CHECKS["slerp"][0](namespace["my_slerp"])
    assert SOLUTIONS["slerp"] in capsys.readouterr().out
    with pytest.raises(ValueError, match="no exercise named 'slerpp'"):
        solution("slerpp")


def test_yours_or_package(capsys):
    from gan_helpers.latent import slerp

    stub = stub_namespace("slerp")["my_slerp"]
    assert yours_or_package("slerp", stub, package=slerp) is slerp
    assert "exercise slerp is unfinished (not written yet)" in capsys.readouterr().out
    solved = package_version("slerp")                        # the course's solution: passes, so it is used
    CHECKS["slerp"][0](solved)
    assert yours_or_package("slerp", solved, package=slerp) is solved
    assert "this cell uses your my_slerp" in capsys.readouterr().out
    d_loss_fn, g_loss_fn = package_version("losses")
    stubs = stub_namespace("losses")
    used = yours_or_package("losses", stubs["d_loss_from_logits"], stubs["g_loss_from_logits"])
    assert [f.__name__ for f in used] == ["d_loss_from_logits", "g_loss_from_logits"] and used[0] is not stubs[
        "d_loss_from_logits"]
    with pytest.raises(ValueError, match="defines d_loss_from_logits, g_loss_from_logits"):
        yours_or_package("losses", d_loss_fn)


def test_progress_line(capsys):
    CHECKS["slerp"][0](package_version("slerp"))
    CHECKS["shard"][0](stub_namespace("shard")["my_shard"])
    capsys.readouterr()
    results = progress("slerp", "shard")
    assert capsys.readouterr().out == "Exercises: 1 of 2 pass · ✓ slerp · … shard (not written yet)\n"
    assert results["slerp"].passed and not results["shard"].passed


def test_fit_trains_with_the_learners_penalty(mnist_small):
    calls = []
    gp = package_version("gradient_penalty")

    def counted(D, x_real, x_fake, **options):
        calls.append(x_fake.requires_grad)
        return gp(D, x_real, x_fake, **options)

    G, D = tiny_models()
    cfg = tiny_config(epochs=1, max_steps_per_epoch=3, loss="wasserstein", gp_weight=10.0, d_steps=2)
    with penalty_in_fit(counted):
        fit(G, D, TensorBatches(mnist_small, batch_size=cfg.batch_size), cfg, progress=False)
    assert calls == [False] * 6                              # every D step, with the fakes cut off from G
    from gan_helpers import step
    from gan_helpers.penalty import gradient_penalty
    assert step.gradient_penalty is gradient_penalty         # the package's penalty is back


def write_copy(tmp_path: Path, *, d_step: str | None = None, solved: bool = False) -> Path:
    source = REPO / "notebooks" / "01_mnist_mlp_gan.ipynb"
    copy = make_exercises.learner_copy(read(source), source.name)
    if solved:
        copy = make_exercises.with_solutions(copy, SOLUTIONS)
    if d_step is not None:
        for cell in copy["cells"]:
            if make_exercises.exercise_name(cell) == "d_step":
                cell["source"] = d_step
    path = tmp_path / "01_mnist_mlp_gan.ipynb"
    path.write_text(json.dumps(copy), encoding="utf-8")
    return path


@pytest.mark.slow
def test_check_command_on_a_solved_and_an_unsolved_copy(tmp_path):
    command = [sys.executable, "-m", "gan_helpers", "check"]
    unsolved = subprocess.run(command + [str(REPO / "exercises" / "01_mnist_mlp_gan.ipynb")], capture_output=True,
                              text=True, cwd=tmp_path, timeout=300)
    assert unsolved.returncode == 1, unsolved.stderr
    assert unsolved.stdout.splitlines() == ["exercise  result", "losses    … not written yet",
                                            "d_step    … not written yet", "g_step    … not written yet",
                                            "0 of 3 exercises pass."]
    solved = subprocess.run(command + ["--verbose", str(write_copy(tmp_path, solved=True))], capture_output=True,
                            text=True, cwd=tmp_path, timeout=300)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "3 of 3 exercises pass." in solved.stdout and "✓ d_step: D's weights" in solved.stdout


def test_check_command_names_the_mistake(tmp_path):
    from gan_helpers.cli import main

    rows = check_notebook(write_copy(tmp_path, d_step=WRONG_D_STEP, solved=True))
    assert [(r.exercise, r.passed) for r in rows] == [("losses", True), ("d_step", False), ("g_step", True)]
    assert rows[1].result.startswith("✗ no_detach: a gradient reached G")
    broken = write_copy(tmp_path, d_step="# EXERCISE d_step\ndef d_step(G, D, opt_D, x_real, z):\n    return (",
                        solved=True)
    assert check_notebook(broken)[1].result.startswith("✗ the cell raised SyntaxError")
    assert main(["check", str(broken)]) == 1


@pytest.mark.parametrize("content, message", [(None, "no notebook at"), ("not json", "is not a Jupyter notebook"),
                                               ('{"cells": []}', "has no exercise cells")])
def test_check_command_refuses_what_is_not_a_course_notebook(tmp_path, capsys, content, message):
    from gan_helpers.cli import main

    path = tmp_path / "x.ipynb"
    if content is not None:
        path.write_text(content)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_solution_module_is_what_the_notebooks_give():
    assert SOLUTIONS == {name: make_exercises.solution_code(code) for path in SOURCES
                         for cell in read(path)["cells"] if (name := make_exercises.exercise_name(cell))
                         for code in [make_exercises.source_text(cell)]}
    assert torch.equal(package_version("slerp")(torch.ones(3), torch.ones(3), 0.5), torch.ones(3))
