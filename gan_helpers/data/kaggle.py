"""A Kaggle data set downloaded into a folder, all or nothing, with the API token from Colab's Secrets.

    download_kaggle_dataset("splcher/animefacedataset", Path("data/anime_faces"))

The `kaggle` command (on Colab already) reads the token from KAGGLE_USERNAME and KAGGLE_KEY, or from
~/.kaggle/kaggle.json. On Colab the two values can be kept as Secrets; `kaggle_token_from_colab` puts
them into the environment, and turns every way that can fail (no such secret, access refused, a
timeout) into one KaggleTokenError that says how to add the token. The archive is downloaded and
unpacked into a temporary folder beside the target, which is renamed into place only when complete:
a failed or interrupted download leaves no half-filled folder that the next run would take for data.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

TOKEN_HELP = (
    "Kaggle needs your API token to download the data. Sign in at kaggle.com, open Settings, and under API "
    "click 'Create New Token': your browser downloads kaggle.json with your user name and key. On Colab, open "
    "the key icon (Secrets) in the left bar, add two secrets, KAGGLE_USERNAME and KAGGLE_KEY, with the two "
    "values from kaggle.json, switch on 'Notebook access' for both, and run the cell again. Elsewhere, put "
    "kaggle.json into ~/.kaggle/ (chmod 600), or set KAGGLE_USERNAME and KAGGLE_KEY.")
_SECRET_ERRORS = ("SecretNotFoundError", "NotebookAccessError", "TimeoutException")   # google.colab.userdata's


class KaggleTokenError(RuntimeError):
    """No Kaggle API token could be found; the message says how to add one."""


def _has_token() -> bool:
    config = Path(os.environ.get("KAGGLE_CONFIG_DIR") or Path.home() / ".kaggle")
    in_environment = bool(os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"))
    return in_environment or (config / "kaggle.json").is_file()


def kaggle_token_from_colab() -> None:
    """On Colab, without a token in the environment or in kaggle.json, copy the secrets KAGGLE_USERNAME and
    KAGGLE_KEY into the environment. Raises KaggleTokenError (saying how to add them) if they cannot be read."""
    if _has_token() or "google.colab" not in sys.modules:
        return
    from google.colab import userdata  # only exists on Colab

    errors = tuple(getattr(userdata, name) for name in _SECRET_ERRORS if hasattr(userdata, name))
    try:
        token = {key: userdata.get(key) for key in ("KAGGLE_USERNAME", "KAGGLE_KEY")}
    except errors as err:
        raise KaggleTokenError(f"{TOKEN_HELP}\n(Colab's Secrets said: {type(err).__name__}: {err})") from err
    os.environ.update(token)


def download_kaggle_dataset(dataset: str, folder: str | Path, *, command: Sequence[str] = ("kaggle",)) -> Path:
    """Download Kaggle's `dataset` ("owner/name") and unzip it into `folder`, which must not hold files yet.

    Raises KaggleTokenError without a token, RuntimeError (with the likely causes) when the download fails;
    either way `folder` is left as it was. `command`: the Kaggle command line (for tests)."""
    folder = Path(folder)
    if folder.is_dir() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} already holds files; delete it to download {dataset} again.")
    kaggle_token_from_colab()
    if not _has_token():
        raise KaggleTokenError(TOKEN_HELP)
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", suffix=".partial", dir=folder.parent))
    try:
        try:
            subprocess.run([*command, "datasets", "download", "-d", dataset, "-p", str(partial), "--unzip"],
                           check=True)
        except (OSError, subprocess.CalledProcessError) as err:
            raise RuntimeError(
                f"Downloading {dataset} from Kaggle failed ({type(err).__name__}: {err}). Check the token "
                f"({TOKEN_HELP}), that you accepted the data set's rules on its Kaggle page, and the internet "
                "connection; then run the cell again.") from err
        if folder.is_dir():
            folder.rmdir()    # empty (checked above), e.g. left by an older version of the notebook
        partial.rename(folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)   # only still there when the download did not complete
    return folder
