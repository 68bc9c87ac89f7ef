"""The version (issue 25): one source, shown by the command line, written into every checkpoint, explained
in CHANGELOG.md."""
from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys

import gan_helpers
from gan_helpers.checkpoint import load_checkpoint, save_generator

from conftest import REPO, tiny_models

FIXTURE_0_1_0 = REPO / "tests" / "fixtures" / "checkpoint_v0.1.0_epoch1.pt"


def test_the_version_has_one_source():
    assert re.fullmatch(r"\d+\.\d+\.\d+", gan_helpers.__version__)
    # pyproject.toml reads it from gan_helpers/__init__.py: the installed metadata says the same
    assert importlib.metadata.version("gan_helpers") == gan_helpers.__version__
    assert "version = " not in (REPO / "pyproject.toml").read_text().split("[project.optional-dependencies]")[0]


def test_the_command_line_prints_it():
    done = subprocess.run([sys.executable, "-m", "gan_helpers", "--version"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"gan_helpers {gan_helpers.__version__}"


def test_every_checkpoint_records_the_version_that_wrote_it(tmp_path):
    G, _ = tiny_models()
    path = save_generator(G, tmp_path / "G.pt", epoch=1, step=2)
    assert load_checkpoint(path)["gan_helpers_version"] == gan_helpers.__version__


def test_a_0_1_0_checkpoint_without_the_key_still_loads():
    state = load_checkpoint(FIXTURE_0_1_0)
    assert "gan_helpers_version" not in state and state["epoch"] == 1


def test_the_changelog_starts_with_this_version():
    """A version bump without its CHANGELOG entry (or the reverse) fails here."""
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## (\d+\.\d+\.\d+)", text, flags=re.MULTILINE)
    assert versions and versions[0] == gan_helpers.__version__, versions
    assert "What a 0.1.0 checkpoint still does" in text
