"""MkDocs hooks of the course website (mkdocs.yml; `make site`).

The site is made of files that live elsewhere in the repository, each left where it is:

    index.html            README.md, the course's landing page
    changelog.html        CHANGELOG.md
    chapters/NN_*.html    each chapter with its outputs: docs/executed/NN_*.ipynb where the chapter was
                          executed in full, else notebooks/NN_*.ipynb (its text and code, no outputs)
    *.html, executed/     the pages of docs/ (docs_dir)
    mathjax/              MathJax 2, from the jupyter-server-mathjax package: equations render offline

Links are written for GitHub, relative to the file that holds them (README.md links docs/results.md;
a notebook links ../docs/...). Here each one is pointed at the same thing on the site: a page or picture
of the site when it has one, else the file on GitHub (a module, LICENSE, an exercise copy). MkDocs then
checks every link of the Markdown pages (`mkdocs build --strict` fails on a broken one); the chapters'
links are rewritten in their HTML, and tests/test_site.py follows every link of the built site.
"""
from __future__ import annotations

import posixpath
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = "chapters"
ROOT_PAGES = {"README.md": "index.md", "CHANGELOG.md": "changelog.md"}   # repository file -> site page
SITE_ONLY = ("mathjax/", "assets/", "search/")                          # folders of the built site alone
LINK = re.compile(r"(\]\(|(?:src|href)=[\"'])([^)\"'\s]+)")               # ](target  src="target  href="target


def chapter_sources() -> dict[str, Path]:
    """'01_mnist_mlp_gan.ipynb' -> the file the site shows for it: the executed copy where there is one."""
    return {path.name: (REPO / "docs" / "executed" / path.name if (REPO / "docs" / "executed" / path.name).exists()
                        else path)
            for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))}


def on_config(config):
    """The 'Chapters' section of the navigation: every notebook, in order; and the address GitHub Pages
    serves the site at, from repo_url (github.com/OWNER/NAME -> OWNER.github.io/NAME/; the 404 page needs it)."""
    if not config["site_url"] and (github := re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)/?",
                                                          config["repo_url"] or "")):
        config["site_url"] = f"https://{github.group(1).lower()}.github.io/{github.group(2)}/"
    for entry in config["nav"]:
        if isinstance(entry, dict) and "Chapters" in entry:
            entry["Chapters"] = [f"{CHAPTERS}/{name}" for name in chapter_sources()]   # titled by their h1
    return config


@event_priority(100)   # before mkdocs-jupyter's on_files, which turns the notebooks into pages
def on_files(files: Files, config) -> Files:
    """Add the pages that live outside docs/, as links in build/site_sources/ (a file of the site must be at
    its site path under one folder: mkdocs-jupyter reads a notebook from there)."""
    for file in list(files):
        if file.src_uri.startswith("executed/") and file.src_uri.endswith(".ipynb"):
            files.remove(file)                     # shown once, as chapters/NN_*.html
    staging = REPO / "build" / "site_sources"
    shutil.rmtree(staging, ignore_errors=True)
    pages = {page: REPO / repo_name for repo_name, page in ROOT_PAGES.items()}
    pages |= {f"{CHAPTERS}/{name}": source for name, source in chapter_sources().items()}
    for page, source in pages.items():
        (staging / page).parent.mkdir(parents=True, exist_ok=True)
        (staging / page).symlink_to(source)
        files.append(File(page, str(staging), config["site_dir"], config["use_directory_urls"]))
    return files


def repository_path(page_src_uri: str) -> str:
    """Where the page's source lives in the repository, as its links were written from there.
    (The chapters' links were written from notebooks/, also in their executed copies.)"""
    if page_src_uri.startswith(f"{CHAPTERS}/"):
        return f"notebooks/{page_src_uri.split('/', 1)[1]}"
    return {page: repo for repo, page in ROOT_PAGES.items()}.get(page_src_uri, f"docs/{page_src_uri}")


def site_source(repo_target: str) -> str | None:
    """The site's source file (a src_uri) for a repository path, or None when the site does not have it."""
    if repo_target in ROOT_PAGES:
        return ROOT_PAGES[repo_target]
    name = posixpath.basename(repo_target)
    if re.fullmatch(r"(notebooks|docs/executed)/[0-9][0-9]_[^/]+\.ipynb", repo_target) and name in chapter_sources():
        return f"{CHAPTERS}/{name}"
    if repo_target.startswith("docs/") and (REPO / repo_target).is_file():
        return repo_target[len("docs/"):]
    return None


def rewrite_links(text: str, page_src_uri: str, files: Files, config, *, html: bool) -> str:
    """Point every relative link of a page at the site's copy of its target, or at GitHub."""
    page_repo_dir = posixpath.dirname(repository_path(page_src_uri))
    page_site_dir = posixpath.dirname(page_src_uri)
    github = config["repo_url"].rstrip("/")

    def replace(match: re.Match) -> str:
        target = match.group(2)
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or target.startswith(("#", "/", "mailto:")) or not parts.path:
            return match.group(0)
        if posixpath.normpath(posixpath.join(page_site_dir, parts.path)).startswith(SITE_ONLY):
            return match.group(0)                  # MathJax, the theme's files: made for the site, already right
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        repo_target = posixpath.normpath(posixpath.join(page_repo_dir, parts.path))
        if repo_target.startswith("..") or not (REPO / repo_target).exists():
            return match.group(0)                  # nothing there: left as it is, for MkDocs to report
        source = site_source(repo_target)
        if source is None:
            kind = "tree" if (REPO / repo_target).is_dir() else "blob"
            return f"{match.group(1)}{github}/{kind}/main/{repo_target}{fragment}"
        if html:                                   # rendered HTML: the address of the built file
            found = files.get_file_from_path(source)
            source = found.url if found is not None else source
        return f"{match.group(1)}{posixpath.relpath(source, page_site_dir or '.')}{fragment}"

    return LINK.sub(replace, text)


def on_page_markdown(markdown: str, page, config, files: Files) -> str:
    return rewrite_links(markdown, page.file.src_uri, files, config, html=False)


def on_page_content(html: str, page, config, files: Files) -> str:
    if page.file.src_uri.startswith(f"{CHAPTERS}/"):
        match_toc_to_headings(page.toc, html)
        html = rewrite_links(html, page.file.src_uri, files, config, html=True)
        # MathJax's settings (the fonts of the copy served with the site) before the chapter loads MathJax
        html = html.replace('<script src="../mathjax/MathJax.js',
                            '<script src="../assets/mathjax_loader.js" data-chapter></script>\n'
                            '<script src="../mathjax/MathJax.js', 1)
    return html


HEADING = re.compile(r'<h([1-6]) id="([^"]+)">(.*?)</h\1>', re.DOTALL)


def match_toc_to_headings(toc, html: str) -> None:
    """Point the chapter's table of contents at its headings as nbconvert wrote them.

    mkdocs-jupyter makes the contents from the notebook's Markdown, where a heading's inline code is dropped:
    "Does `G` copy the training images?" becomes "Does copy ..." with the anchor #does-copy-..., while the
    page's heading has the id does-g-copy-.... Each entry takes the id and the text of the next heading that
    reads the same without its code."""
    headings = [(identifier, body) for _, identifier, body in HEADING.findall(html)]
    entries, position = [], 0

    def flatten(items):
        for item in items:
            entries.append(item)
            flatten(item.children)
    flatten(toc)
    for entry in entries:
        wanted = re.sub(r"_\d+$", "", entry.id)           # a repeated heading's _1, _2, ...
        for index in range(position, len(headings)):
            identifier, body = headings[index]
            without_code = re.sub(r"<code>.*?</code>", "", body)
            text = re.sub(r"<[^>]+>", "", re.sub(r'<a class="anchor-link".*?</a>', "", without_code))
            if slug(text) == wanted:
                entry.id = identifier
                entry.title = re.sub(r'<a class="anchor-link".*?</a>', "", body).strip()
                position = index + 1
                break


def slug(text: str) -> str:
    """Python-Markdown's toc slug of `text` (the ids mkdocs-jupyter's contents use)."""
    from markdown.extensions.toc import slugify

    return slugify(html_unescape(text), "-")


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def on_post_build(config) -> None:
    """MathJax 2 beside the pages (the chapters' pages and assets/mathjax_loader.js load it from there)."""
    import jupyter_server_mathjax

    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", Path(config["site_dir"]) / "mathjax",
                    dirs_exist_ok=True)
