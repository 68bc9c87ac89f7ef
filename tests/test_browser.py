"""The explorer and the live training view in a real browser: JupyterLab on localhost, headless Chromium.

Runs every cell of notebook 05 in fast mode, drags a direction slider with the mouse and checks that
the image on screen changed, in the explorer in z (a digit) and in the explorer in W (a face of the
shipped style G, after choosing its fine layers); and trains a small GAN with a LiveView, checking that
the grid on screen changes while the cell runs and stays after it. Needs Debian's `chromium` (apt-get install chromium)
and the Python package `playwright` (no browser download: it drives the system's Chromium). Skipped
where Chromium is not installed. Screenshots of the explorer and of the live view are saved in the
tests' tmp folders.

The notebook runs on a copy in a tmp folder, so it trains its own quick generator. To run it on a
trained one instead, point GAN_TEST_RUNS_DIR at a `runs/` folder that holds checkpoints of the
earlier chapters (it is linked in as the copy's `../runs`): docs/latent_explorer.png is this test's
screenshot from such a run, with chapter 02's full checkpoint.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import REPO

NOTEBOOK = REPO / "notebooks" / "05_latent_space_explorer.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without these, Chromium waits for the network (updates, sync, QUIC) that a closed CI machine lacks.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# JupyterLab settings: no autosave (nothing is written back), no news, every cell in the page.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer {url} within {timeout} s:\n{log.read_text()[-3000:]}")


def _open_notebook(page, name: str = NOTEBOOK.name) -> None:
    """Open the notebook with JupyterLab's own command and wait until its kernel is ready.

    (Opened by URL, /lab/tree/..., JupyterLab sometimes starts two kernels and drops one; and a
    Run All issued before the kernel is ready makes it ask for a kernel and start another one,
    interrupting the cells already running.)"""
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=90_000)
    kernel = page.evaluate("""async (path) => {
        const app = window.jupyterapp;
        await app.restored;
        await app.serviceManager.ready;
        await app.serviceManager.kernelspecs.ready;
        const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
        const timeout = new Promise(resolve => setTimeout(resolve, 90000));
        await Promise.race([panel.sessionContext.ready, timeout]);
        return panel.sessionContext.session?.kernel?.name ?? null;
    }""", name)
    assert kernel == "python3", f"the notebook's kernel did not start (got {kernel!r})"


def _run_all(page) -> None:
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def _wait_until_run(page, *, timeout: float, screenshot: Path, done=None) -> None:
    """Run all cells, and wait until the last one has printed its line (it runs only if every cell
    above passed its checks: Run All stops at the first error), or until `done` (a locator) is on
    the page; fail at once on a traceback.

    Should JupyterLab drop the queued cells (it did when its kernel was replaced), Run All is
    issued again once no cell has been queued or running for 10 s."""
    if done is None:
        done = page.locator(".jp-OutputArea-output", has_text="one update: median")
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                          has_text="Traceback")
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    deadline, clicked, busy = time.monotonic() + timeout, -math.inf, -math.inf
    while time.monotonic() < deadline:
        if any("*" in prompt for prompt in prompts.all_inner_texts()):
            busy = time.monotonic()
        elif time.monotonic() - max(busy, clicked) > 10 and not done.count():
            _run_all(page)  # nothing queued or running: the first time, or the queue was dropped
            clicked = time.monotonic()
        if errors.count():
            pytest.fail(f"a cell failed in JupyterLab:\n{errors.first.inner_text()[-3000:]}")
        if done.count():
            return
        page.wait_for_timeout(1000)
    page.screenshot(path=str(screenshot))
    pytest.fail(f"the notebook did not finish within {timeout} s; prompts: {prompts.all_inner_texts()}")


def _settled_src(image, *, quiet_ms: int = 1500, timeout: float = 30) -> str:
    """The image's src once it has stopped changing for quiet_ms (updates may still be arriving)."""
    src, since, deadline = image.get_attribute("src"), time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline and time.monotonic() - since < quiet_ms / 1000:
        image.page.wait_for_timeout(250)
        if (now := image.get_attribute("src")) != src:
            src, since = now, time.monotonic()
    return src


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a copy of notebook 05 (so nothing is written into the repository), with a
    kernel that runs this interpreter in fast mode. Yields JupyterLab's URL; stopped afterwards."""
    with _jupyterlab(tmp_path, NOTEBOOK) as url:
        yield url


@contextmanager
def _jupyterlab(tmp_path: Path, notebook: Path):
    """JupyterLab serving a copy of `notebook` in tmp_path/course/notebooks; yields its URL."""
    notebooks = tmp_path / "course" / "notebooks"   # the notebook writes to ../runs: inside tmp_path
    notebooks.mkdir(parents=True)
    shutil.copy(notebook, notebooks)
    if os.environ.get("GAN_TEST_RUNS_DIR"):
        (notebooks.parent / "runs").symlink_to(Path(os.environ["GAN_TEST_RUNS_DIR"]).resolve())
    kernel = tmp_path / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (gan-course tests)", "language": "python"}))
    settings = tmp_path / "lab-settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {**os.environ, "GAN_FAST": "1", "JUPYTER_PATH": str(tmp_path / "jupyter"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    port, token, log = _free_port(), "gan-course-test", tmp_path / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={notebooks}", "--ServerApp.port_retries=0",
               "--LabApp.expose_app_in_browser=True"]  # window.jupyterapp: open and run by command
    with open(log, "w") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_server(f"{base}/api/status?token={token}", server, log)
        yield f"{base}/lab?token={token}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the kernels it started
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_dragging_a_slider_changes_the_image_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000})
        page = browser.pages[0] if browser.pages else browser.new_page()
        try:
            page.goto(lab, timeout=90_000)
            _open_notebook(page)
            page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=90_000)
            expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(
                1, timeout=90_000)   # the kernel has started
            _wait_until_run(page, timeout=150, screenshot=tmp_path / "not_finished.png")

            explorers = page.locator(".jp-OutputArea-output").filter(has=page.locator(".widget-image"))
            expect(explorers).to_have_count(2, timeout=30_000)  # widget views render after the outputs
            in_z, in_w = explorers.nth(0), explorers.nth(1)   # section 7's explorer in z, section 8's in W
            _drag_pc1_and_see_the_image_change(page, in_z)
            in_z.screenshot(path=str(tmp_path / "latent_explorer.png"))
            in_w.locator(".widget-toggle-button", has_text="fine").click()   # move the fine layers only
            expect(in_w.locator(".widget-toggle-button.mod-active")).to_have_text("fine")
            _drag_pc1_and_see_the_image_change(page, in_w)
            in_w.screenshot(path=str(tmp_path / "style_explorer.png"))
            page.screenshot(path=str(tmp_path / "jupyterlab.png"), full_page=False)
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))  # what the page showed, to debug
            raise
        finally:
            browser.close()


def _drag_pc1_and_see_the_image_change(page, explorer) -> None:
    """Drag the PC1 slider of `explorer` (an output area holding one explorer) 40 px to the right with the
    mouse; its readout and the image on screen must change."""
    from playwright.sync_api import expect

    image = explorer.locator(".widget-image")
    image.scroll_into_view_if_needed()
    slider = explorer.locator(".widget-slider", has=page.locator(".widget-label", has_text="PC1"))
    handle, readout = slider.locator(".noUi-handle"), slider.locator(".widget-readout")
    expect(readout).to_have_text("0.00")
    before_src = _settled_src(image)
    before_pixels = image.screenshot()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    assert float(readout.inner_text()) > 0.5, readout.inner_text()
    expect(image).not_to_have_attribute("src", before_src, timeout=10_000)
    _settled_src(image)  # the last move's image
    assert image.screenshot() != before_pixels, "the image on screen did not change"


LIVE_NOTEBOOK_CODE = """
from pathlib import Path

import torch
from gan_helpers import (LiveView, MLPDiscriminator, MLPGenerator, TensorBatches, TrainConfig, fast_mode, fit,
                         load_mnist)

assert fast_mode()
images, _ = load_mnist(limit=2048)
cfg = TrainConfig(epochs=1000, batch_size=64, device="cpu", seed=0)
torch.manual_seed(cfg.seed)
G = MLPGenerator(latent_dim=64, hidden_dims=(128, 256), batch_norm=True)
D = MLPDiscriminator(hidden_dims=(256, 128))


def until_asked_to_stop(event, run):   # the test creates the file STOP once it has seen the grid change
    if event == "step_end" and Path("STOP").exists():
        run.stop = True


view = LiveView(every=0.5, max_overhead=0.3)
history = fit(G, D, TensorBatches(images, batch_size=cfg.batch_size), cfg, callbacks=[view, until_asked_to_stop],
              progress=False)
print(f"trained {history.steps} steps; the view drew {len(view.update_seconds)} updates")
"""


def test_the_live_view_changes_while_the_cell_runs_and_stays_after_it(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook
    from playwright.sync_api import expect, sync_playwright

    notebook = tmp_path / "live_view.ipynb"
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(new_notebook(cells=[new_code_cell(LIVE_NOTEBOOK_CODE)], metadata={"kernelspec": kernelspec}),
                   notebook)
    with _jupyterlab(tmp_path, notebook) as url, sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000})
        page = browser.pages[0] if browser.pages else browser.new_page()
        try:
            page.goto(url, timeout=90_000)
            _open_notebook(page, notebook.name)
            expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(
                1, timeout=90_000)   # the kernel has started
            grid = page.locator(".gan-live-grid")
            _wait_until_run(page, timeout=150, screenshot=tmp_path / "not_started.png", done=grid)
            prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first

            first_pixels = grid.screenshot()
            first_src = grid.get_attribute("src")     # read after the screenshot: the same update, or a later one
            expect(grid).not_to_have_attribute("src", first_src, timeout=60_000)   # a later update arrived
            second_pixels = grid.screenshot()
            assert "*" in prompt.inner_text(), "the cell had finished: the grid must change while it runs"
            assert second_pixels != first_pixels, "the grid on screen did not change during training"
            page.locator(".gan-live-view").screenshot(path=str(tmp_path / "live_view_running.png"))

            (tmp_path / "course" / "notebooks" / "STOP").touch()               # let the training end
            expect(page.locator(".jp-OutputArea-output", has_text="the view drew")).to_have_count(1, timeout=60_000)
            expect(page.locator(".gan-live-view")).to_have_count(1)            # one view, updated in place
            expect(grid).to_have_count(1)
            expect(page.locator(".gan-live-status")).to_contain_text("finished")
            assert grid.screenshot() != first_pixels
            page.locator(".gan-live-view").screenshot(path=str(tmp_path / "live_view_final.png"))
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))  # what the page showed, to debug
            raise
        finally:
            browser.close()
