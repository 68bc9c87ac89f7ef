"""The README is the course's landing page (issue 25): short, the two commands that set themselves up, a row
for every chapter, and every link of it and of the pages in docs/ pointing at a file that exists."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from conftest import REPO

README = REPO / "README.md"
PAGES = [README, REPO / "CHANGELOG.md", *sorted((REPO / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)|(?:src|href)=\"([^\"]+)\"")


def test_the_readme_is_a_landing_page_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    commands = re.search(r"```bash\n(.*?)```", text, re.DOTALL).group(1)
    assert re.search(r"^make train\b", commands, re.M) and re.search(r"^make test\b", commands, re.M), commands
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1] == "make test"                   # CI runs exactly the README's command
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^train: \$\(STAMP\)", makefile, re.M) and re.search(r"^test: lint", makefile, re.M)


def test_every_chapter_has_a_row_with_its_times_and_a_colab_badge():
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| (\d\d) \|.*$", README.read_text(encoding="utf-8"),
                                                       re.MULTILINE)}
    for notebook in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        row = rows.get(notebook.name[:2])
        assert row is not None, f"no row for {notebook.name}"
        assert f"notebooks/{notebook.name}" in row and f"exercises/{notebook.name}" in row
        cpu, gpu = row.split(" | ")[3:5]                    # | # | chapter | you write | CPU | Colab GPU | open |
        assert re.fullmatch(r"((over )?\d+(\.\d+)? (s|min)|GPU chapter)[¹²³⁴⁵⁶⁷⁸⁹]*", cpu), row   # footnotes
        assert re.fullmatch(r"\d+(\.\d+)? (s|min)|pending", gpu), row


def relative_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)   # not in code blocks
    links = [m.group(1) or m.group(2) for m in LINK.finditer(text)]
    return [link for link in links if not urlsplit(link).scheme and not link.startswith(("#", "mailto:"))]


def test_every_relative_link_of_the_readme_and_the_docs_points_at_a_file():
    """As GitHub shows them (the site, tests/test_site.py, checks its own copies)."""
    missing = [f"{page.relative_to(REPO)}: {link}" for page in PAGES for link in relative_links(page)
               if not (page.parent / unquote(urlsplit(link).path)).exists()]
    assert missing == []


def test_a_missing_link_target_is_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[ok](page.md) [gone](docs/nothing_here.md) ![x](missing.png) <img src=\"page.md\">\n")
    assert [link for link in relative_links(page) if not (tmp_path / link).exists()] == \
        ["docs/nothing_here.md", "missing.png"]
