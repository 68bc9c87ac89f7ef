"""Notebooks 01, 04 and 05 as a learner meets them on Colab, each in a fresh kernel (a fresh machine), with
a stand-in `google.colab` (tests/_fake_colab.py): Drive is a temporary folder, the Kaggle secrets are
missing (the real exception type), and every call is logged.

What must hold: every chapter's runs go to the "Drive" folder, none to the local /content/runs; chapter
04 without a Kaggle token says how to add one, leaves no empty data folder, and (in fast mode) goes on
with stand-in pictures; chapter 05, on its own machine, finds chapter 04's checkpoint on Drive; and the
explorer switched on Colab's custom widget manager."""
import json
import sys
from pathlib import Path

import pytest

from gan_helpers import list_checkpoints

from _fake_colab import calls, write_fake_colab
from conftest import REPO

NOTEBOOKS = ["01_mnist_mlp_gan", "04_anime_faces_dcgan", "05_latent_space_explorer"]


@pytest.fixture(scope="module")
def colab_kernel(tmp_path_factory) -> tuple[str, Path]:
    """A kernelspec for this interpreter that imports the stand-in google.colab at start, as Colab's kernel
    imports the real one (so `"google.colab" in sys.modules` holds); and its JUPYTER_PATH entry."""
    root = tmp_path_factory.mktemp("colab")
    fake = write_fake_colab(root / "fake")
    folder = root / "jupyter" / "kernels" / "fake-colab"
    folder.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.exec_lines=['import google.colab']"],
            "display_name": "gan-course tests, fake Colab", "language": "python", "env": {"PYTHONPATH": str(fake)}}
    (folder / "kernel.json").write_text(json.dumps(spec))
    return "fake-colab", root / "jupyter"


def run_notebook(name: str, kernel: str) -> str:
    """Execute notebooks/NAME.ipynb in a fresh kernel; return everything its cells printed."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = REPO / "notebooks" / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name=kernel,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []))


@pytest.mark.slow
def test_the_colab_path_from_chapter_01_to_05(colab_kernel, tmp_path, monkeypatch):
    kernel, jupyter_path = colab_kernel
    content, log, data = tmp_path / "content", tmp_path / "colab.log", tmp_path / "data"
    data.mkdir()
    (data / "MNIST").symlink_to(REPO / "data" / "MNIST", target_is_directory=True)   # no faces: Kaggle it is
    for key, value in {"JUPYTER_PATH": str(jupyter_path), "GAN_FAST": "1", "MPLBACKEND": "Agg",
                       "GAN_DATA_DIR": str(data), "GAN_COLAB_CONTENT": str(content), "FAKE_COLAB_LOG": str(log),
                       "KAGGLE_CONFIG_DIR": str(tmp_path / "no-kaggle-token")}.items():
        monkeypatch.setenv(key, value)
    for key in ("GAN_RUNS_DIR", "KAGGLE_USERNAME", "KAGGLE_KEY", "FAKE_COLAB_DRIVE", "FAKE_COLAB_SECRETS"):
        monkeypatch.delenv(key, raising=False)

    printed = {name: run_notebook(name, kernel) for name in NOTEBOOKS}

    drive = content / "drive" / "MyDrive" / "gan-course"
    assert list_checkpoints(drive / "01_mnist_mlp" / "checkpoints" / "fast")
    assert list_checkpoints(drive / "04_anime_faces" / "checkpoints" / "fast")
    assert (drive / "05_latent_space" / "saved").is_dir()                  # the explorer's saved PNGs
    assert not (content / "runs").exists(), "runs went to the local disk, which a disconnect erases"
    logged = calls(log)
    mounts = [c["args"] for c in logged if c["call"] == "drive.mount"]
    assert mounts == [[str(content / "drive")]] * 3                         # once per notebook, i.e. per machine
    assert f"loaded DCGANGenerator from {drive / '04_anime_faces' / 'checkpoints' / 'fast'}" in printed[NOTEBOOKS[2]]
    assert "output.enable_custom_widget_manager" in [c["call"] for c in logged]

    faces = printed[NOTEBOOKS[1]]
    assert ["KAGGLE_USERNAME"] in [c["args"] for c in logged if c["call"] == "userdata.get"]
    assert "SecretNotFoundError" in faces and "Create New Token" in faces and "STAND-IN" in faces
    assert not (data / "anime_faces").exists(), "a failed download must not leave a folder behind"
