"""Downloading a Kaggle data set: the token from Colab's Secrets, one clear error, and all or nothing."""
import sys

import pytest

from gan_helpers.data.kaggle import KaggleTokenError, download_kaggle_dataset, kaggle_token_from_colab

from _fake_colab import forget_fake_colab, import_fake_colab

# A stand-in for the `kaggle` command: writes two images into -p DIR, then fails if asked to.
FAKE_KAGGLE = '''
import sys
from pathlib import Path
folder = Path(sys.argv[sys.argv.index("-p") + 1])
(folder / "images").mkdir(parents=True)
(folder / "images" / "1_2000.jpg").write_bytes(b"jpeg")
if "owner/broken" in sys.argv:
    sys.exit("401 - Unauthorized")
(folder / "images" / "2_2000.jpg").write_bytes(b"jpeg")
'''


@pytest.fixture
def no_token(tmp_path, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "no-kaggle-config"))


@pytest.fixture
def colab(tmp_path, no_token):
    import_fake_colab(tmp_path / "fake")
    yield
    forget_fake_colab()


@pytest.fixture
def kaggle(tmp_path):
    script = tmp_path / "fake_kaggle.py"
    script.write_text(FAKE_KAGGLE)
    return (sys.executable, str(script))


@pytest.mark.parametrize("secrets, error", [("missing", "SecretNotFoundError"), ("refused", "NotebookAccessError"),
                                            ("timeout", "TimeoutException")])
def test_every_secrets_error_becomes_one_message_that_says_how_to_add_the_token(colab, monkeypatch, secrets, error):
    monkeypatch.setenv("FAKE_COLAB_SECRETS", secrets)
    with pytest.raises(KaggleTokenError, match="Create New Token") as caught:
        kaggle_token_from_colab()
    assert "KAGGLE_USERNAME and KAGGLE_KEY" in str(caught.value) and error in str(caught.value)


def test_without_a_token_nothing_is_created(tmp_path, no_token, kaggle):
    with pytest.raises(KaggleTokenError):
        download_kaggle_dataset("owner/faces", tmp_path / "faces", command=kaggle)
    assert list(tmp_path.iterdir()) == [tmp_path / "fake_kaggle.py"]


def test_a_complete_download_lands_in_place_even_over_an_empty_folder(tmp_path, monkeypatch, kaggle):
    monkeypatch.setenv("KAGGLE_USERNAME", "learner")
    monkeypatch.setenv("KAGGLE_KEY", "secret")
    (tmp_path / "data" / "faces").mkdir(parents=True)        # left by an older notebook's failed first run
    folder = download_kaggle_dataset("owner/faces", tmp_path / "data" / "faces", command=kaggle)
    assert sorted(p.name for p in (folder / "images").iterdir()) == ["1_2000.jpg", "2_2000.jpg"]
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["faces"]   # no temporary folder left
    with pytest.raises(FileExistsError, match="delete it"):
        download_kaggle_dataset("owner/faces", folder, command=kaggle)


def test_a_failed_download_leaves_nothing_behind(tmp_path, monkeypatch, kaggle):
    monkeypatch.setenv("KAGGLE_USERNAME", "learner")
    monkeypatch.setenv("KAGGLE_KEY", "wrong")
    with pytest.raises(RuntimeError, match="run the cell again"):
        download_kaggle_dataset("owner/broken", tmp_path / "data" / "faces", command=kaggle)
    assert list((tmp_path / "data").iterdir()) == []         # neither the folder nor a partial one
