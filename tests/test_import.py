"""The package starts at once (issue 25): what `import gan_helpers` and `python -m gan_helpers --help` leave
in sys.modules, each in a fresh process. No timing here: benchmarks/import_time.py measures the seconds."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

import gan_helpers
from gan_helpers import cli

from conftest import REPO

HEAVY = ("torch", "torchvision", "matplotlib", "ipywidgets", "torch._dynamo")


def imported_after(code: str) -> set[str]:
    """Which of HEAVY are in sys.modules after running `code` in a fresh Python."""
    probe = f"import json, sys\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_bare_import_loads_none_of_the_heavy_libraries():
    assert imported_after("import gan_helpers; gan_helpers.__version__") == set()


def test_every_public_name_loads_no_more_than_torch_itself_does():
    """A notebook's first cell, at most: all of __all__. torchvision, matplotlib, ipywidgets and torch._dynamo
    wait for the function that needs them (measured against what `import torch` alone loads on this torch)."""
    by_torch = imported_after("import torch")
    every_name = imported_after("from gan_helpers import *\n"
                                "import gan_helpers\n"
                                "assert all(getattr(gan_helpers, n) is not None for n in gan_helpers.__all__)")
    assert "torch" in every_name
    assert every_name - by_torch <= {"torch"}, f"imported at once: {sorted(every_name - by_torch - {'torch'})}"


@pytest.mark.parametrize("args", [["--help"], ["sample", "--help"], ["--version"]])
def test_the_command_line_answers_help_and_version_without_torch(args):
    code = ("import runpy, sys\n"
            f"sys.argv = ['gan_helpers', *{args!r}]\n"
            "try:\n    runpy.run_module('gan_helpers', run_name='__main__', alter_sys=True)\n"
            "except SystemExit as stop:\n    assert stop.code in (0, None), stop.code")
    assert imported_after(code) == set()


def test_train_reads_its_choices_from_the_package_when_it_needs_them():
    """`train`'s presets, losses and precisions are the package's own, read only once a train command (or its
    --help) needs them: building the parser loads nothing."""
    from gan_helpers.losses import LOSSES
    from gan_helpers.precision import PRECISIONS
    from gan_helpers.presets import PRESETS

    choices = {action.dest: action.choices for action in cli.parser()._subparsers._group_actions[0].choices[
        "train"]._actions if action.choices is not None}
    assert all(choice._names is None for choice in choices.values())          # nothing read yet
    assert list(choices["preset"]) == sorted(PRESETS) and list(choices["loss"]) == sorted(LOSSES)
    assert list(choices["precision"]) == list(PRECISIONS)
    done = subprocess.run([sys.executable, "-m", "gan_helpers", "train", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "1000"})    # no name wrapped
    assert done.returncode == 0 and f"one of {', '.join(sorted(PRESETS))}" in done.stdout, done.stdout


def test_the_lazy_names_are_the_modules_own():
    from gan_helpers import sampling, train

    assert gan_helpers.fit is train.fit and gan_helpers.z_from_seed is sampling.z_from_seed
    assert callable(gan_helpers.summary)                       # the function, not its module
    assert set(gan_helpers.__all__) <= set(dir(gan_helpers))
    assert gan_helpers.presets.PRESETS                         # submodules as attributes, as before
    with pytest.raises(AttributeError, match="no attribute 'fitt'"):
        gan_helpers.fitt  # noqa: B018


def test_image_grids_are_laid_out_as_torchvision_lays_them_out():
    """plotting.tile replaces torchvision's make_grid (seconds of import): the same picture, pixel for pixel."""
    from torchvision.utils import make_grid

    from gan_helpers.plotting import tile

    generator = torch.Generator().manual_seed(0)
    for shape in [(1, 1, 5, 7), (2, 1, 5, 5), (9, 3, 4, 6), (64, 1, 28, 28), (10, 3, 8, 8)]:
        images = torch.rand(shape, generator=generator)
        for nrow in (1, 3, 8, 10):
            for padding in (0, 2):
                expected = make_grid(images, nrow=nrow, padding=padding, pad_value=1.0)
                assert torch.equal(tile(images, nrow=nrow, padding=padding, pad_value=1.0), expected), \
                    (shape, nrow, padding)
