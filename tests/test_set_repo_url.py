"""scripts/set_repo_url.py: one command points every badge and install cell at a fork."""
import importlib.util
import json

from conftest import REPO

spec = importlib.util.spec_from_file_location("set_repo_url", REPO / "scripts" / "set_repo_url.py")
set_repo_url = importlib.util.module_from_spec(spec)
spec.loader.exec_module(set_repo_url)


def test_every_notebook_names_the_repository_once_in_a_constant_and_once_in_its_badge():
    for path in set_repo_url.files()[:-1]:
        text = path.read_text(encoding="utf-8")
        assert len(set_repo_url.CONSTANT.findall(text)) == 1, path.name
        assert set_repo_url.BADGE.findall(text), path.name
        assert "git+https://github.com" not in text, f"{path.name}: install from REPO_URL, not a second address"


def test_a_fork_and_back_again_changes_only_the_addresses():
    for path in set_repo_url.files():
        original = path.read_text(encoding="utf-8")
        forked, count = set_repo_url.rewrite(original, "someone/my-gans", "dev")
        assert count >= (2 if path.suffix == ".ipynb" else 1), path.name
        assert "gan-course/gan-course" not in forked, path.name
        if path.suffix == ".ipynb":
            cells = json.loads(forked)["cells"]
            assert "github/someone/my-gans/blob/dev/" in "".join(cells[0]["source"])
            setup = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
            assert 'REPO_URL = "https://github.com/someone/my-gans"' in setup
        back, _ = set_repo_url.rewrite(forked, "gan-course/gan-course", "main")
        assert back == original, path.name                                   # nothing else was touched
