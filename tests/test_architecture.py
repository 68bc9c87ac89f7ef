"""The package's layering, read from its imports: nothing imports upwards, and the ground floor stays down.

    data/        imports nothing of the package outside data/
    sampling     draws pictures without the training loop
    train        is imported only by the command line and the package's front door (__init__)
"""
import ast
import inspect
from pathlib import Path

import pytest

import gan_helpers
from gan_helpers.models import MODELS, build_model, model_spec

PACKAGE = Path(gan_helpers.__file__).parent


def package_imports(path: Path) -> set[str]:
    """The gan_helpers modules that `path` imports, as dotted names relative to the package ('data.files')."""
    module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    here = module.split(".")[:-1]            # the package holding it: 'data' for data/files.py and data/__init__.py
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
            target = ".".join([*base, node.module] if node.module else base)
            found |= {target} if node.module else {".".join([*base, alias.name]) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gan_helpers"):
            found.add(node.module.removeprefix("gan_helpers").lstrip("."))
    return {name.removesuffix(".__init__") for name in found}


MODULES = {".".join(p.relative_to(PACKAGE).with_suffix("").parts): p for p in PACKAGE.rglob("*.py")}


def test_the_data_package_stands_on_the_ground_floor():
    for name, path in MODULES.items():
        if name.startswith("data."):
            outside = {m for m in package_imports(path) if not m.startswith("data")}
            assert not outside, f"{name} imports {outside}: data/ must not depend on the rest of the package"


@pytest.mark.parametrize("name", ["widgets", "metrics.callback", "latent", "sampling", "checkpoint", "callbacks"])
def test_drawing_pictures_does_not_need_the_training_loop(name):
    assert "train" not in package_imports(MODULES[name])


def test_only_the_front_door_and_the_command_line_import_train():
    importers = {name for name, path in MODULES.items() if "train" in package_imports(path)}
    assert importers <= {"__init__", "cli"}, importers


@pytest.mark.parametrize("cls", sorted(MODELS.values(), key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_model_spec_covers_every_constructor_argument(cls):
    """build_model must rebuild exactly the model it was given: every argument is in hparams."""
    arguments = set(inspect.signature(cls).parameters)
    model = cls()
    assert set(model.hparams) == arguments, f"{cls.__name__}.hparams lacks {arguments - set(model.hparams)}"
    rebuilt = build_model(model_spec(model))
    assert rebuilt.hparams == model.hparams
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
