"""The latent space explorer: sliders that move z and one image that follows, in JupyterLab and Colab.

The only module of the package that imports ipywidgets. Each change of a control draws one
image, G(z) with G in eval mode and without gradients, encodes it as PNG and puts the bytes
into an ipywidgets Image: the browser swaps the picture in place, no new figure per change.

    z = slerp(z(seed), z(seed B), t) + sum_k amount_k * direction_k
"""
from __future__ import annotations

import io
import random
import sys
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import ipywidgets as widgets
import torch
from PIL import Image
from torch import nn

from .data.files import atomic_write
from .latent import Directions, ganspace_directions, slerp
from .sampling import draw_samples, z_from_seed


def enable_colab_widgets() -> bool:
    """On Google Colab, switch on the widget manager that ipywidgets 8 needs there (without it
    the sliders show but the image never changes). Returns True on Colab, False elsewhere."""
    if "google.colab" not in sys.modules:
        return False
    from google.colab import output  # only exists on Colab

    output.enable_custom_widget_manager()
    return True


def png_bytes(image: torch.Tensor, *, size: int = 256) -> bytes:
    """One uint8 image (C, H, W), C = 1 or 3, as PNG bytes, enlarged by a whole factor to about
    `size` pixels wide with nearest-neighbour pixels (sharp squares, not a blur)."""
    if image.dtype != torch.uint8 or image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"Expected one uint8 image of shape (1 or 3, H, W), got {image.dtype} "
                         f"{tuple(image.shape)}; draw_samples(G, z)[0] gives one.")
    pixels = image.permute(1, 2, 0).cpu().numpy()                    # (H, W, C)
    picture = Image.fromarray(pixels[..., 0] if image.shape[0] == 1 else pixels)
    factor = max(1, round(size / picture.width))
    picture = picture.resize((picture.width * factor, picture.height * factor), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="png", compress_level=1)  # fast: an update should take milliseconds
    return buffer.getvalue()


@contextmanager
def torch_threads(n: int | None):
    """Run the block with n CPU threads for torch (None: leave the setting alone), then restore.

    One small image gains little from several threads, and loses a lot when the CPU is busy (the
    browser, other notebooks): on a loaded 2-core CPU a 64 px DCGAN image took 19 ms with one
    thread and 327 ms with two; on the same CPU nearly idle, 13 ms and 10 ms."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class LatentExplorer(widgets.VBox):
    """The explorer as one widget; see `latent_explorer`. Its controls are attributes, so code
    (and tests) can move them: `sliders`, `seed`, `new_point`, `seed_b`, `mix`, `class_selector`
    (None for an unconditional G), `reset`, `save_button`; the picture is `image`."""

    def __init__(self, G: nn.Module, *, directions: Directions, seed: int = 0, seed_b: int = 1,
                 slider_range: float = 3.0, size: int = 256, save_dir: str | Path = "latent_explorer",
                 class_names: Sequence[str] | None = None, threads: int | None = 1):
        self.G, self.directions, self.size, self.save_dir = G, directions, size, Path(save_dir)
        self.threads = threads
        self.update_ms: list[float] = []          # the time of every update, for measuring
        self._rng, self._holding = random.Random(seed), False
        wide = {"description_width": "initial"}
        self.image = widgets.Image(format="png",  # at the PNG's own size (whole pixels, no blur), not stretched
                                   layout=widgets.Layout(align_self="flex-start"))
        self.sliders = [widgets.FloatSlider(value=0.0, min=-slider_range, max=slider_range, step=0.1,
                                            description=label, style=wide, continuous_update=True)
                        for label in _slider_labels(directions)]
        field, fit = widgets.Layout(width="190px"), widgets.Layout(width="auto")
        self.seed = widgets.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed", style=wide,
                                           layout=field)
        self.new_point = widgets.Button(description="new random point", icon="random", layout=fit)
        self.seed_b = widgets.BoundedIntText(value=seed_b, min=0, max=2**31 - 1, description="seed B", style=wide,
                                             layout=field)
        self.mix = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.02, description="seed → seed B",
                                       style=wide, continuous_update=True)
        self.class_selector = None               # the place for conditional generators (G.num_classes)
        if getattr(G, "num_classes", None):
            names = list(class_names or range(G.num_classes))
            self.class_selector = widgets.ToggleButtons(options=[(str(n), i) for i, n in enumerate(names)], value=0,
                                                        description="class", style={"button_width": "auto"})
        self.reset = widgets.Button(description="reset sliders", icon="undo", layout=fit)
        self.save_button = widgets.Button(description="save PNG", icon="save", layout=fit)
        self.status = widgets.Label()
        for control in [*self.sliders, self.seed, self.seed_b, self.mix, self.class_selector]:
            if control is not None:
                control.observe(lambda _change: self.render(), names="value")
        self.new_point.on_click(lambda _button: self.random_point())
        self.reset.on_click(lambda _button: self.reset_sliders())
        self.save_button.on_click(lambda _button: self.save())
        point = [widgets.HBox([self.seed, self.new_point]), widgets.HBox([self.seed_b, self.mix])]
        if self.class_selector is not None:
            point.append(self.class_selector)
        controls = widgets.VBox([*point, widgets.HTML("<b>directions</b>"), *self.sliders,
                                 widgets.HBox([self.reset, self.save_button])])
        super().__init__([widgets.HBox([self.image, controls]), self.status])
        self.render()

    def amounts(self) -> list[float]:
        """How far along each direction the sliders are."""
        return [slider.value for slider in self.sliders]

    def current_z(self) -> torch.Tensor:
        """The point shown: slerp between the two seeds, moved along the directions. (latent_dim,)"""
        z_a = z_from_seed(self.seed.value, latent_dim=self.G.latent_dim)[0]
        z_b = z_from_seed(self.seed_b.value, latent_dim=self.G.latent_dim)[0]
        base = slerp(z_a, z_b, self.mix.value) if self.mix.value else z_a
        return self.directions.move(base, self.amounts())

    def render(self) -> None:
        """Draw G(current z) into the image (in place). Called by every control."""
        if self._holding:
            return
        start = time.perf_counter()
        label = None if self.class_selector is None else self.class_selector.value
        with torch_threads(self.threads):
            picture = png_bytes(draw_samples(self.G, self.current_z()[None], labels=label)[0], size=self.size)
        self.image.value = picture
        self.update_ms.append((time.perf_counter() - start) * 1000)
        self.status.value = (f"seed {self.seed.value} → {self.seed_b.value} at t = {self.mix.value:.2f}; "
                             f"update took {self.update_ms[-1]:.1f} ms")

    @contextmanager
    def hold(self):
        """Change several controls and draw once at the end."""
        self._holding = True
        try:
            yield self
        finally:
            self._holding = False
        self.render()

    def random_point(self) -> int:
        """Pick a new random seed (shown in the seed field, so the point can be found again)."""
        self.seed.value = self._rng.randrange(2**31 - 1)
        return self.seed.value

    def reset_sliders(self) -> None:
        """All direction sliders back to 0."""
        with self.hold():
            for slider in self.sliders:
                slider.value = 0.0

    def save(self, path: str | Path | None = None) -> Path:
        """Write the image shown as a PNG: to `path`, or to save_dir/latent_NNN.png (a new number)."""
        if path is None:
            self.save_dir.mkdir(parents=True, exist_ok=True)
            taken = {p.name for p in self.save_dir.glob("latent_*.png")}
            path = self.save_dir / next(f"latent_{i:03d}.png" for i in range(len(taken) + 1)
                                        if f"latent_{i:03d}.png" not in taken)
        path = Path(path)
        value = self.image.value
        atomic_write(path, lambda f: f.write(value))
        self.status.value = f"saved {path}"
        return path


def _slider_labels(directions: Directions) -> list[str]:
    if directions.explained_ratio is None:
        return list(directions.names)
    ratios = directions.explained_ratio
    return [f"{name} ({100 * ratio:.1f}%)" for name, ratio in zip(directions.names, ratios, strict=True)]


def latent_explorer(G: nn.Module, *, directions: Directions | None = None, n_sliders: int = 6, seed: int = 0,
                    seed_b: int = 1, slider_range: float = 3.0, size: int = 256,
                    save_dir: str | Path = "latent_explorer", class_names: Sequence[str] | None = None,
                    threads: int | None = 1) -> LatentExplorer:
    """One widget to explore G's latent space: display it as the last line of a cell.

    directions:   the slider directions (default: the top `n_sliders` GANSpace directions of G);
                  `coordinate_directions(...)` gives plain axes of z.
    seed, seed_b: the two points; the "seed → seed B" slider slerps between them.
    slider_range: each slider moves z by -slider_range .. +slider_range along its unit direction
                  (z ~ N(0, I), so a step of 1 is one standard deviation).
    size:         the displayed image's width in pixels; save_dir: where "save PNG" writes.
    class_names:  for a conditional G (one with `num_classes`), the names in the class selector.
    threads:      torch CPU threads while drawing (see `torch_threads`); None: torch's setting.

    On Colab the custom widget manager is switched on first (ipywidgets 8 needs it).
    """
    enable_colab_widgets()
    if directions is None:
        directions = ganspace_directions(G, n_components=min(n_sliders, G.latent_dim), n_samples=1024)
    return LatentExplorer(G, directions=directions, seed=seed, seed_b=seed_b, slider_range=slider_range,
                          size=size, save_dir=save_dir, class_names=class_names, threads=threads)
