"""Every notebook runs top to bottom in fast mode (GAN_FAST=1), as CI and a reviewer would run it: the
solved notebooks of notebooks/, where every later cell uses the learner's (solved) code and the progress
line counts every exercise as passed, and the learner's copies of exercises/ as shipped, with every stub
untouched: no cell raises, every check says "not written yet", every later cell that builds on an exercise
says which one is unfinished and goes on with the package's version, and the progress line counts none.

(The solved learner's copy is not run again: test_learner_copy.py shows that filling every solution in
gives exactly the code of notebooks/, which runs here.)"""
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO, SHARED_DATA, write_cifar_folder

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COPIES = sorted((REPO / "exercises").glob("[0-9][0-9]_*.ipynb"))
USES = re.compile(r'yours_or_package\("(\w+)"')        # a later cell that builds on an exercise


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.fixture(scope="module")
def this_python_kernel(tmp_path_factory) -> str:
    """A kernelspec for the interpreter running the tests, so notebooks import this checkout's
    gan_helpers even when a user-wide 'python3' kernel points at another environment."""
    folder = tmp_path_factory.mktemp("jupyter") / "kernels" / "gan-course-test"
    folder.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "gan-course tests", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = str(folder.parents[1])
    return "gan-course-test"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data folder for GAN_DATA_DIR, as a learner's `data/` would be after the downloads: the
    repository's MNIST, and, from the shared development data, CIFAR-10 (10,000 real images in the
    data set's own file format) and 250 real anime faces. What is absent stays absent: notebooks 03
    and 04 then run their fast mode on stand-in pictures (gan_helpers.data.standin), so every notebook
    runs on every machine."""
    root = tmp_path_factory.mktemp("data")
    (root / "MNIST").symlink_to(REPO / "data" / "MNIST", target_is_directory=True)
    if (SHARED_DATA / "cifar10_train_10k_jpeg75.npz").is_file():
        write_cifar_folder(root)
    faces = SHARED_DATA / "anime_faces_sample.zip"
    if faces.is_file():
        shutil.unpack_archive(faces, root / "anime_faces")
    return root


@pytest.fixture(scope="module")
def runs_folder(tmp_path_factory) -> Path:
    """One runs folder for GAN_RUNS_DIR, shared by the notebooks in order, as a learner's runs/ is (05 finds
    04's generator, 06 those of 01 and 02), and apart from the checkout's own runs/."""
    return tmp_path_factory.mktemp("runs")


def run_in_fast_mode(path: Path, monkeypatch, kernel: str, data_dir: Path, runs_folder: Path):
    """The notebook at `path`, executed top to bottom in fast mode; raises CellExecutionError, with the
    failing cell, on any error."""
    monkeypatch.setenv("GAN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("GAN_RUNS_DIR", str(runs_folder))
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("GAN_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") for c in code_cells), "commit notebooks without outputs"
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name=kernel,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return notebook


def printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def exercise_names(notebook) -> list[str]:
    return [m.group(1) for c in notebook.cells if c.cell_type == "code"
            for m in [re.match(r"# EXERCISE (\w+)", c.source)] if m]


def progress_line(notebook) -> str:
    last = notebook.cells[-1]
    assert last.cell_type == "code" and "progress(" in last.source, "the last cell prints the progress line"
    return printed(last).strip()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_fast_mode(path: Path, monkeypatch, this_python_kernel, data_dir, runs_folder):
    notebook = run_in_fast_mode(path, monkeypatch, this_python_kernel, data_dir, runs_folder)
    names = exercise_names(notebook)
    assert progress_line(notebook) == (f"Exercises: {len(names)} of {len(names)} pass · "
                                       + " · ".join(f"✓ {n}" for n in names))
    for cell in notebook.cells:                # the later cells use the (solved) learner's code
        for name in USES.findall(cell.source) if cell.cell_type == "code" else []:
            assert "this cell uses your" in printed(cell) and f"(exercise {name}: its check passed)" in printed(cell)


@pytest.mark.slow
@pytest.mark.parametrize("path", COPIES, ids=[p.stem for p in COPIES])
def test_learner_copy_runs_as_shipped(path: Path, monkeypatch, this_python_kernel, data_dir, runs_folder):
    """exercises/ with the stubs untouched: runs to the end in fast mode, nothing cascades."""
    notebook = run_in_fast_mode(path, monkeypatch, this_python_kernel, data_dir, runs_folder)
    names = exercise_names(notebook)
    assert names, path.name
    assert progress_line(notebook) == (f"Exercises: 0 of {len(names)} pass · "
                                       + " · ".join(f"… {n} (not written yet)" for n in names))
    said = "".join(printed(c) for c in notebook.cells)
    assert said.count(": not written yet. Hint: ") == len(names), said   # every check names its stub
    for cell in notebook.cells:                # the later cells say which exercise is unfinished, and go on
        for name in USES.findall(cell.source) if cell.cell_type == "code" else []:
            assert f"↪ exercise {name} is unfinished (not written yet): this cell goes on with" in printed(cell), (
                cell.source, printed(cell))
