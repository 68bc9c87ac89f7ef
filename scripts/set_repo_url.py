"""Point the notebooks' Colab badges and install cells, and the README, at another copy of the repository.

    python scripts/set_repo_url.py you/your-fork              # badges, REPO_URL constants, README's pip line
    python scripts/set_repo_url.py you/your-fork --branch dev  # badges that open another branch
    python scripts/set_repo_url.py --show                      # what the files say now

Each notebook names the repository in two places: its Colab badge (which opens the notebook from
GitHub) and the constant REPO_URL in its first cell (which `%pip install`s gan_helpers from there
when it is missing). This script rewrites both in every notebook and its exercise copy, and the same
addresses in README.md, as plain text substitutions: the notebooks' JSON formatting stays as it was.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAME = r"[A-Za-z0-9_.-]+"
BADGE = re.compile(rf"colab\.research\.google\.com/github/{NAME}/{NAME}/blob/[^/\s)]+/")
CONSTANT = re.compile(rf'(REPO_URL = \\?")https://github\.com/{NAME}/{NAME}(\\?")')
PIP = re.compile(rf"git\+https://github\.com/{NAME}/{NAME}")


def files() -> list[Path]:
    """The notebooks, their exercise copies (exercises/, written from them by make_exercises.py), the README."""
    notebooks = [path for folder in ("notebooks", "exercises")
                 for path in sorted((REPO / folder).glob("[0-9][0-9]_*.ipynb"))]
    return [*notebooks, REPO / "README.md"]


def rewrite(text: str, repo: str, branch: str) -> tuple[str, int]:
    """`text` with every badge, REPO_URL constant and pip address pointing at github.com/`repo`."""
    text, badges = BADGE.subn(f"colab.research.google.com/github/{repo}/blob/{branch}/", text)
    text, constants = CONSTANT.subn(rf"\g<1>https://github.com/{repo}\g<2>", text)
    text, pips = PIP.subn(f"git+https://github.com/{repo}", text)
    return text, badges + constants + pips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", nargs="?", help="OWNER/NAME on GitHub, e.g. you/gan-course")
    parser.add_argument("--branch", default="main", help="the branch the badges open (default main)")
    parser.add_argument("--show", action="store_true", help="only list the addresses the files hold now")
    args = parser.parse_args()
    if args.show or not args.repo:
        for path in files():
            text = path.read_text(encoding="utf-8")
            found = BADGE.findall(text) + [m.group(0) for m in CONSTANT.finditer(text)] + PIP.findall(text)
            print(f"{path.relative_to(REPO)}: {sorted(set(found))}")
        return
    if not re.fullmatch(rf"{NAME}/{NAME}", args.repo):
        parser.error(f"give the repository as OWNER/NAME, e.g. you/gan-course, not {args.repo!r}")
    for path in files():
        before = path.read_text(encoding="utf-8")
        text, count = rewrite(before, args.repo, args.branch)
        if text != before:
            path.write_text(text, encoding="utf-8")
        print(f"{path.relative_to(REPO)}: {count} addresses now point at github.com/{args.repo}")


if __name__ == "__main__":
    main()
