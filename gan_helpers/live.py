"""LiveView: watch a GAN learn while `fit` runs, in one notebook output that is updated in place.

    history = fit(G, D, data, cfg, callbacks=[LiveView(steps_per_epoch=len(data))])

Under the cell: the fixed-noise grid G(run.fixed_z) as it is now (drawn with G in eval mode at
every update, so it changes within an epoch), the curves of loss_D, loss_G, D(x_real) and D(G(z))
(`plot_history`, with the metrics when a `MetricsCallback` records them), and one line with the
epoch, the step, images per second and the time left.

How it is shown, and why: one IPython display handle, `display(..., display_id=True)`, whose
content each update replaces (`handle.update(...)`): an HTML block of two PNGs and a line of text.
Not ipywidgets: a widget's picture lives in the widget manager, which Colab has to switch on and a
saved notebook does not keep; a display handle needs no widget manager, updates in place in
JupyterLab, Jupyter Notebook, VS Code and Colab, and its last state is an ordinary output that
stays in the saved notebook (and in the copies that nbclient executes).

When it draws:
    fit_start   at once: the history so far (after a resume, the curves of the whole run)
    step_end    when `every` seconds have passed since the last update, and only while drawing stays
                under `max_overhead` of the wall time since fit_start (each update's cost is measured,
                and the throttle aims at 4/5 of max_overhead: a slow update stretches the interval)
    fit_end     once more, so the final state stays in the saved notebook
A run that ends with an exception (Ctrl-C: fit saves a checkpoint, then raises KeyboardInterrupt
without fit_end) is drawn once more when its cell ends, from IPython's post_run_cell event.

It draws nothing outside a Jupyter kernel (a terminal, a script, the command line, which never
adds one and keeps its progress bar) or with `LiveView(enabled=False)`. It draws from fit's
numbers and G's current weights only: training's random numbers are untouched.
"""
from __future__ import annotations

import base64
import html
import io
import sys
import time
import warnings

from .callbacks import RunState
from .plotting import image_grid, plot_history
from .sampling import draw_samples


def in_notebook_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, VS Code, Colab); False in a terminal,
    a plain `ipython` or a script."""
    if "IPython" not in sys.modules:           # every kernel has imported IPython long before
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class LiveView:
    """A `fit` callback that shows the run as it trains (see the module doc).

    every:           the shortest time between two updates, in seconds.
    max_overhead:    the largest share of the wall time that drawing may take (0.05: 5%).
    steps_per_epoch: an epoch's generator steps, for the time left and the curves' x axis during the
                     first epoch (default: cfg.max_steps_per_epoch; known anyway after one epoch).
    time_budget:     seconds after which a callback stops the run (a clock, as in notebook 07):
                     the time left counts down to it.
    nrow:            images per row of the grid (default: G.num_classes for a conditional G, else 8).
    grid_size:       about how wide the grid is shown, in pixels (enlarged by a whole factor).
    enabled:         False: draw nothing.

    After a run: `update_seconds` holds the cost of every update, `overhead` the share of the run's
    wall time that drawing took, `handle` the IPython DisplayHandle that was updated, and
    `figure` the matplotlib Figure of the curves (one Figure, redrawn at every update).
    """

    def __init__(self, *, every: float = 2.0, max_overhead: float = 0.05, steps_per_epoch: int | None = None,
                 time_budget: float | None = None, nrow: int | None = None, grid_size: int = 256,
                 enabled: bool = True):
        if not 0 < max_overhead < 1:
            raise ValueError(f"max_overhead is a share of the time, between 0 and 1; got {max_overhead}.")
        self.every, self.max_overhead = every, max_overhead
        self.steps_per_epoch, self.time_budget = steps_per_epoch, time_budget
        self.nrow, self.grid_size, self.enabled = nrow, grid_size, enabled
        self.update_seconds: list[float] = []
        self.handle = None                        # the IPython DisplayHandle of the current run
        from matplotlib.figure import Figure  # here, not at the top: `import gan_helpers` stays quick

        self.figure = Figure(figsize=(8, 8 * 3.5 / 11), dpi=80)   # 640 px wide; plot_history sets the height
        self._run: RunState | None = None
        self._finished = True
        self._ended: float | None = None          # when fit_end (or the cell's end) came

    @property
    def active(self) -> bool:
        """Whether this view draws: enabled, and inside a Jupyter kernel."""
        return self.enabled and in_notebook_kernel()

    @property
    def overhead(self) -> float:
        """The share of the run's wall time (fit_start to fit_end, or to now) spent drawing, the first
        picture included; the final picture, drawn after training, is not (it is update_seconds[-1])."""
        if not self.update_seconds:
            return 0.0
        if self._ended is not None:
            return self._drawn_in_run / max(self._ended - self._started, 1e-9)
        return sum(self.update_seconds) / max(time.perf_counter() - self._started, 1e-9)

    def __call__(self, event: str, run: RunState) -> None:
        if event == "fit_start":
            self.start(run)
        elif self._finished:                       # not started (outside a kernel, disabled) or done
            return
        elif event == "step_end" and self._due():
            self._draw_or_warn(run)
        elif event == "fit_end":
            self.finish(run, "finished")

    def start(self, run: RunState) -> None:
        """Open a new output under the cell and draw the run so far (fit_start)."""
        if not self.active:
            return
        from IPython import get_ipython
        from IPython.display import display

        self._run, self._finished, self._ended, self.update_seconds = run, False, None, []
        self._started, self._first_step = time.perf_counter(), run.step
        self.handle = display({"text/plain": "LiveView: starting"}, raw=True, display_id=True)
        self.draw(run, note="starting" if run.step == 0 else f"resumed at step {run.step:,}")
        get_ipython().events.register("post_run_cell", self._after_cell)

    def finish(self, run: RunState, note: str) -> None:
        """Draw the final state (fit_end, or the end of an interrupted cell) and stop listening."""
        if self._finished:
            return
        self._finished, self._ended, self._drawn_in_run = True, time.perf_counter(), sum(self.update_seconds)
        self._unhook()
        self.draw(run, note=note)

    def draw(self, run: RunState, *, note: str = "") -> None:
        """Replace the view's content with the run's present state, and record what that cost."""
        start = time.perf_counter()
        grid = draw_samples(run.G_sample, run.fixed_z)                # uint8 (n_samples, C, H, W); G_ema if kept
        nrow = self.nrow or getattr(run.G, "num_classes", 0) or 8
        grid_png = _png(image_grid(grid, nrow=nrow), width=self.grid_size)
        plot_history(run.history, fig=self.figure, steps_per_epoch=self._epoch_steps(run))
        curves = io.BytesIO()
        self.figure.savefig(curves, format="png")
        status = self.status(run, note=note)
        self.handle.update({"text/html": _html(grid_png, curves.getvalue(), status, step=run.step),
                            "text/plain": status}, raw=True)
        self.update_seconds.append(time.perf_counter() - start)
        self._last_end = time.perf_counter()

    def status(self, run: RunState, *, note: str = "") -> str:
        """The line under the pictures: epoch, step, images per second (generator steps x batch size),
        time left, the last losses and metrics, and the share of the time spent drawing."""
        cfg, steps = run.cfg, self._epoch_steps(run)
        seconds = time.perf_counter() - self._started
        rate = (run.step - self._first_step) / seconds if seconds > 0 else 0.0   # generator steps per second
        parts = [note] if note else []
        parts += [f"epoch {min(run.epoch + 1, cfg.epochs)}/{cfg.epochs}",
                  f"step {run.step:,}" + (f"/{cfg.epochs * steps:,}" if steps else "")]
        if rate > 0:
            parts.append(f"{rate * cfg.batch_size:,.0f} img/s")
            left = []
            if steps:
                left.append((cfg.epochs * steps - run.step) / rate)
            if self.time_budget is not None:
                left.append(self.time_budget - seconds)
            if left and not self._finished:
                parts.append(f"{_duration(max(min(left), 0))} left")
        if run.stats is not None:
            parts.append(f"loss_D {run.stats.loss_D:.3f}, loss_G {run.stats.loss_G:.3f}")
        if run.history.metrics:
            last = run.history.metrics[-1]
            parts.append(", ".join(f"{name} {value:.4g}" for name, value in last.items()
                                   if name not in ("epoch", "step")) + f" (epoch {last['epoch']:g})")
        parts.append(f"drawing {100 * self.overhead:.1f}% of the time")
        return " · ".join(parts)

    def _due(self) -> bool:
        """Time for an update: `every` seconds passed, spaced by the update's cost, within budget.
        It aims at 4/5 of max_overhead, so that an update slower than the last ones stays within it."""
        now = time.perf_counter()
        share = 0.8 * self.max_overhead
        cost = max(self.update_seconds[-3:])      # what the next update will cost, about
        gap = max(self.every, cost * (1 / share - 1))
        within_budget = sum(self.update_seconds) + cost <= share * (now - self._started + cost)
        return now - self._last_end >= gap and within_budget

    def _draw_or_warn(self, run: RunState) -> None:
        """A view that fails to draw must not end a long run: warn once and stop drawing."""
        try:
            self.draw(run)
        except Exception as err:  # noqa: BLE001 - any drawing error: the picture stops, training goes on
            self._finished = True
            self._unhook()
            warnings.warn(f"LiveView stopped drawing ({type(err).__name__}: {err}); training goes on.",
                          stacklevel=2)

    def _epoch_steps(self, run: RunState) -> int | None:
        if self.steps_per_epoch:
            return self.steps_per_epoch
        return run.history.epoch_ends[0] if run.history.epoch_ends else run.cfg.max_steps_per_epoch

    def _after_cell(self, result=None) -> None:
        """IPython's post_run_cell: fit ended without fit_end (Ctrl-C, an error): show where it stopped."""
        error = getattr(result, "error_in_exec", None)
        reason = f" ({type(error).__name__})" if error is not None else ""
        self.finish(self._run, f"stopped at step {self._run.step:,}{reason}")

    def _unhook(self) -> None:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and self._after_cell in shell.events.callbacks["post_run_cell"]:
            shell.events.unregister("post_run_cell", self._after_cell)


def _png(pixels, *, width: int) -> bytes:
    """A uint8 picture (H, W, 3) as PNG bytes, enlarged by a whole factor to about `width` pixels."""
    from PIL import Image

    picture = Image.fromarray(pixels.numpy())
    factor = max(1, round(width / picture.width))
    picture = picture.resize((picture.width * factor, picture.height * factor), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="png", compress_level=1)        # fast: an update should take milliseconds
    return buffer.getvalue()


def _html(grid_png: bytes, curves_png: bytes, status: str, *, step: int) -> str:
    def img(data: bytes, css_class: str, alt: str) -> str:
        return (f'<img class="{css_class}" alt="{alt}" style="margin:0" '
                f'src="data:image/png;base64,{base64.b64encode(data).decode()}">')

    pictures = (img(grid_png, "gan-live-grid", f"G(fixed z) at step {step}")
                + img(curves_png, "gan-live-curves", "loss and D output curves"))
    line = f'<div class="gan-live-status" style="font-family:monospace">{html.escape(status)}</div>'
    return ('<div class="gan-live-view"><div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">'
            f"{pictures}</div>{line}</div>")


def _duration(seconds: float) -> str:
    """'45 s', '3 min 05 s', '1 h 02 min'."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
