"""The course website (issue 25): `mkdocs build --strict` as `make site` runs it, then the built site in the
browser test's headless Chromium (Debian's, driven by playwright: no browser download), served from
localhost: the home page and a chapter render their pictures and their equations (MathJax, served with the
site), nothing a page needs comes from outside, and no link between the site's pages or to its files is
broken. Plus the GitHub Pages workflow, which cannot run here: it must parse and build the same way."""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"
CHAPTERS = sorted(path.name for path in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# An equation typeset by MathJax 2's HTML-CSS output (the one jupyter-server-mathjax ships), and its error marks
RENDERED_MATH, MATH_ERRORS = "span.MathJax", ".MathJax_Error, .merror"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built as `make site` builds it (strict: a broken link or anchor fails the build)."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"),
                           "-d", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-5000:]
    return out


class Links(HTMLParser):
    """Every href and src of a page, and its element ids (the anchors other pages may link to)."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value and not (tag == "link" and dict(attrs).get("rel") == "canonical"):
                self.links.append(value)
            if name in ("id", "name") and value:
                self.ids.add(value)


def parse(page: Path) -> Links:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def broken_links(site: Path) -> list[str]:
    """Links of the site's pages to a file or an anchor of the site that does not exist. (Addresses from the
    server's root are the 404 page's, which is served at any depth: /NAME/... on GitHub Pages, NAME being
    the repository's, as scripts/site_hooks.py sets site_url.)"""
    repo_url = re.search(r"^repo_url: *(\S+)", (REPO / "mkdocs.yml").read_text(encoding="utf-8"), re.MULTILINE)
    root = f"/{repo_url.group(1).rstrip('/').rsplit('/', 1)[1]}/"
    pages = [p for p in site.rglob("*.html") if p.relative_to(site).parts[0] not in ("mathjax", "assets")]
    parsed = {page: parse(page) for page in pages}
    broken = []
    for page, found in parsed.items():
        for link in found.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue                                   # outside the site (GitHub, Colab), or a data: URL
            if parts.path.startswith("/"):
                if not parts.path.startswith(root):
                    broken.append(f"{page.relative_to(site)}: {link} (outside the site's folder {root})")
                    continue
                target = (site / unquote(parts.path[len(root):])).resolve()
            else:
                target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(site)}: {link} (no such file)")
            elif parts.fragment and target.suffix == ".html" and target in parsed \
                    and unquote(parts.fragment) not in parsed[target].ids:
                broken.append(f"{page.relative_to(site)}: {link} (no such anchor)")
    return broken


@pytest.mark.slow   # the build: about 10 s of CPU with the notebooks' conversions cached, more without
def test_the_site_has_every_chapter_and_no_broken_link(site):
    assert (site / "index.html").is_file() and (site / "changelog.html").is_file()
    for name in CHAPTERS:
        assert (site / "chapters" / name.replace(".ipynb", ".html")).is_file(), name
    assert (site / "mathjax" / "MathJax.js").is_file()              # served with the site, not from a CDN
    assert broken_links(site) == []
    # the executed chapters are shown with their outputs (pictures inline), the others as their notebooks
    executed = (site / "chapters" / "01_mnist_mlp_gan.html").read_text(encoding="utf-8")
    assert executed.count("data:image/png;base64") >= 3


@pytest.mark.slow
def test_a_broken_link_is_found(site, tmp_path):
    """The link check above fails when a page points at a file or an anchor the site does not have."""
    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    page = copy / "results.html"
    page.write_text(page.read_text(encoding="utf-8").replace(
        "</body>", '<a href="chapters/99_missing.html">x</a><a href="cli.html#no-such-section">y</a></body>'),
        encoding="utf-8")
    assert broken_links(copy) == ["results.html: chapters/99_missing.html (no such file)",
                                  "results.html: cli.html#no-such-section (no such anchor)"]


@pytest.fixture(scope="module")
def served(site):
    """The site on a local HTTP server, as GitHub Pages serves it."""
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def browser_page(tmp_path):
    """A Chromium page that may load nothing from outside but images (the Colab badges); the outside
    requests it tried are in page.outside."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1300, "height": 1000})
        page = browser.pages[0] if browser.pages else browser.new_page()
        page.outside = []

        def only_local(route):
            if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
                return route.continue_()
            page.outside.append((route.request.resource_type, route.request.url))
            return route.abort()
        page.route("**/*", only_local)
        try:
            yield page
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            raise
        finally:
            browser.close()


def wait_for_math(page, at_least: int) -> None:
    """Until MathJax has typeset at least `at_least` equations and has nothing queued."""
    page.wait_for_function(
        """([selector, n]) => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0
              && !MathJax.Hub.queue.running && document.querySelectorAll(selector).length >= n""",
        arg=[RENDERED_MATH, at_least], timeout=60_000)


def local_images(page) -> list[dict]:
    """Every picture of the page from the site itself: its address and whether it loaded."""
    page.wait_for_load_state("load")
    return page.evaluate("""() => [...document.images]
        .filter(img => !img.src.startsWith('http') || new URL(img.src).hostname === location.hostname)
        .map(img => ({src: img.src.slice(0, 80), loaded: img.complete && img.naturalWidth > 0}))""")


def assert_needed_nothing_from_outside(page) -> None:
    """Scripts, styles, fonts and math all come with the site. Allowed from outside, refused here without
    harm: pictures (the Colab badges) and the header's star count of the repository (GitHub's API)."""
    needed = [(kind, url) for kind, url in page.outside
              if kind != "image" and not (kind in ("xhr", "fetch") and urlsplit(url).hostname == "api.github.com")]
    assert needed == [], f"the page asked for scripts, styles or fonts from outside: {needed}"


@pytest.mark.slow
def test_the_home_page_shows_the_pictures_and_the_equation(served, browser_page, tmp_path):
    page = browser_page
    page.goto(f"{served}/index.html")
    assert page.locator("h1").first.inner_text().startswith("GANs from scratch")
    images = local_images(page)
    assert len(images) >= 9, images                                      # a picture from every chapter
    assert all(image["loaded"] for image in images), [i for i in images if not i["loaded"]]
    wait_for_math(page, at_least=3)                                      # the minimax game, G and D
    assert page.locator(MATH_ERRORS).count() == 0
    assert "mathbb" not in page.locator(".arithmatex").first.inner_text()   # typeset, not the TeX source
    chapter_links = page.locator("nav.md-nav--primary a[href^='chapters/']")   # every chapter in the navigation
    assert sorted({link.get_attribute("href") for link in chapter_links.all()}) == \
        [f"chapters/{name.replace('.ipynb', '.html')}" for name in CHAPTERS]
    assert_needed_nothing_from_outside(page)
    page.screenshot(path=str(tmp_path / "home.png"), full_page=False)


@pytest.mark.slow
def test_a_chapter_shows_its_outputs_and_equations(served, browser_page, tmp_path):
    page = browser_page
    page.goto(f"{served}/chapters/01_mnist_mlp_gan.html")
    images = local_images(page)
    assert sum(image["src"].startswith("data:image/png") for image in images) >= 5, images   # the run's figures
    assert all(image["loaded"] for image in images), [i for i in images if not i["loaded"]]
    wait_for_math(page, at_least=10)
    assert page.locator(MATH_ERRORS).count() == 0
    assert page.get_by_text("Math Processing Error").count() == 0
    assert page.locator(".jp-OutputArea-output").count() >= 10              # the outputs of the recorded run
    assert_needed_nothing_from_outside(page)
    page.screenshot(path=str(tmp_path / "chapter.png"), full_page=False)


def test_the_pages_workflow_builds_the_site_as_make_site_does():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    trigger = workflow.get("on", workflow.get(True))                     # YAML 1.1 reads a bare `on` as True
    assert trigger["push"]["branches"] == ["main"]
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"
    build = workflow["jobs"]["build"]["steps"]
    runs = " ".join(step.get("run", "") for step in build)
    assert "mkdocs build --strict" in runs
    assert any(step.get("uses", "").startswith("actions/upload-pages-artifact") and step["with"]["path"] == "site"
               for step in build)
    assert any(step.get("uses", "").startswith("actions/deploy-pages")
               for step in workflow["jobs"]["deploy"]["steps"])
    assert "mkdocs build --strict" in (REPO / "Makefile").read_text(encoding="utf-8")
    # the workflow installs the site tools with the lower bounds of the test extra
    test_extra = re.search(r"^test = \[(.*?)\]", (REPO / "pyproject.toml").read_text(encoding="utf-8"),
                           re.MULTILINE | re.DOTALL).group(1)
    site_tools = re.findall(r'"([a-z-]+>=[0-9.]+)"', runs)
    assert len(site_tools) >= 4 and all(f'"{tool}"' in test_extra for tool in site_tools), site_tools
