"""Where a learner's runs go (locally, on Colab with Drive, on Colab without it), and finding an earlier
chapter's generator there, or the one shipped with the package."""
import pytest
import torch

from gan_helpers import fit, runs
from gan_helpers.runs import chapter_generator, runs_dir

from _fake_colab import calls, forget_fake_colab, import_fake_colab
from conftest import REPO, tiny_config, tiny_data, tiny_models


@pytest.fixture
def no_override(monkeypatch):
    monkeypatch.delenv(runs.RUNS_ENV, raising=False)
    monkeypatch.setattr(runs, "_mounted", None)


@pytest.fixture
def colab(tmp_path, monkeypatch, no_override):
    """The stand-in google.colab imported in this process, /content in a temporary folder, calls logged."""
    monkeypatch.setenv(runs.COLAB_CONTENT_ENV, str(tmp_path / "content"))
    monkeypatch.setenv("FAKE_COLAB_LOG", str(tmp_path / "colab.log"))
    import_fake_colab(tmp_path / "fake")
    yield tmp_path
    forget_fake_colab()


def test_the_environment_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(runs.RUNS_ENV, str(tmp_path / "mine"))
    assert runs_dir() == tmp_path / "mine" and (tmp_path / "mine").is_dir()


def test_in_a_checkout_the_repository_runs_folder(no_override):
    assert not runs.in_colab()
    assert runs_dir() == REPO / "runs"   # the same for a notebook in notebooks/ and a script at the root


def test_on_colab_drive_is_mounted_once_and_holds_the_runs(colab, capsys):
    folder = runs_dir()
    assert folder == colab / "content" / "drive" / "MyDrive" / "gan-course" and folder.is_dir()
    assert runs_dir() == folder
    assert [c["call"] for c in calls(colab / "colab.log")] == ["drive.mount"]   # asked once per session
    assert "Google Drive" in capsys.readouterr().out


def test_on_colab_a_declined_mount_falls_back_with_a_message_and_asks_again(colab, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_COLAB_DRIVE", "decline")
    assert runs_dir() == colab / "content" / "runs"
    out = capsys.readouterr().out
    assert "MessageError" in out and "erased when Colab disconnects" in out and "run this cell again" in out
    monkeypatch.delenv("FAKE_COLAB_DRIVE")
    assert runs_dir() == colab / "content" / "drive" / "MyDrive" / "gan-course"   # the learner said yes now
    assert [c["call"] for c in calls(colab / "colab.log")] == ["drive.mount", "drive.mount"]


def test_chapter_generator_prefers_the_chapters_own_run(tmp_path, mnist_small, capsys):
    cfg = tiny_config(epochs=1, max_steps_per_epoch=2, checkpoint_dir=str(tmp_path / "01_mnist_mlp" / "checkpoints"
                                                                          / "fast"))
    G, D = tiny_models()
    fit(G, D, tiny_data(mnist_small, cfg), cfg, progress=False)
    found = chapter_generator("01_mnist_mlp", shipped="mnist-mlp", runs=tmp_path)
    assert found.checkpoint["path"].startswith(cfg.checkpoint_dir) and found.latent_dim == 16
    assert "loaded chapter 01's MLPGenerator" in capsys.readouterr().out


def test_chapter_generator_falls_back_on_the_shipped_one_and_says_who_makes_it(tmp_path, capsys):
    G = chapter_generator("02_dcgan_mnist", shipped="mnist-dcgan", runs=tmp_path)
    out = capsys.readouterr().out
    assert "No checkpoint of chapter 02" in out and "chapter 02's notebook makes it" in out and "'mnist-dcgan'" in out
    assert type(G).__name__ == "DCGANGenerator" and not G.training
    assert G(torch.zeros(2, G.latent_dim)).shape == (2, 1, 28, 28)


def test_a_damaged_checkpoint_is_skipped_with_the_reason(tmp_path, capsys):
    folder = tmp_path / "01_mnist_mlp" / "checkpoints" / "full"
    folder.mkdir(parents=True)
    (folder / "epoch001_step0000010.pt").write_bytes(b"not a checkpoint")
    G = chapter_generator("01_mnist_mlp", shipped="mnist-mlp", runs=tmp_path)
    out = capsys.readouterr().out
    assert "skipped" in out and "corrupt" in out and G.checkpoint["path"].endswith("mnist-mlp.pt")
