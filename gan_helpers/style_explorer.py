"""The explorer in W: sliders on a style-based G's w, a truncation slider, and edits of some layers only.

Chapter 05's explorer moves z, where directions are entangled. A style-based G (models/stylegan.py)
draws from w = mapping(z), one copy per layer, and there linear edits work better:

    w = w_avg + psi (mapping(z(seed)) - w_avg)                  truncation slider psi
    offset = sum_k amount_k * sqrt(variance_k) * v_k            sliders: GANSpace in W (latent.w_directions)
    ws = w for every layer, + offset on the chosen layers only  all, coarse (pose), middle, fine (colours)
    image = G.synthesis(ws, noise="const")                      fixed noise: moving a slider does not shimmer

Built like widgets.LatentExplorer: one ipywidgets Image updated in place, controls as attributes.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import ipywidgets as widgets
import torch
from torch import nn

from .data.batches import from_unit_range
from .data.files import atomic_write
from .latent import Directions, move_in_layers, w_directions
from .models.mapping import truncate
from .sampling import z_from_seed
from .widgets import enable_colab_widgets, png_bytes, torch_threads


class StyleExplorer(widgets.VBox):
    """Sliders in W for a style-based G; see the module doc. Controls: `sliders`, `psi`, `layers`, `seed`,
    `new_point`, `save_button`; the picture is `image`."""

    def __init__(self, G: nn.Module, *, directions: Directions | None = None, n_sliders: int = 6, seed: int = 0,
                 psi: float = 0.7, slider_range: float = 3.0, size: int = 256,
                 save_dir: str | Path = "style_explorer", threads: int | None = 1):
        if not hasattr(G, "synthesis"):
            raise ValueError(f"StyleExplorer needs a style-based G (StyleGenerator), got {type(G).__name__}; "
                             "use gan_helpers.widgets.latent_explorer for other generators.")
        self.G = G.eval()
        self.directions = directions or w_directions(G, n_components=n_sliders)
        self.size, self.save_dir, self.threads = size, Path(save_dir), threads
        self._rng, self.update_ms = random.Random(seed), []
        wide = {"description_width": "initial"}
        self.image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))
        self.sliders = [widgets.FloatSlider(value=0.0, min=-slider_range, max=slider_range, step=0.1,
                                            description=name, style=wide) for name in self.directions.names]
        self.psi = widgets.FloatSlider(value=psi, min=0.0, max=1.0, step=0.05, description="truncation psi",
                                       style=wide)
        self.ranges = {"all": range(G.num_ws), **G.layer_ranges()}
        self.layers = widgets.ToggleButtons(options=list(self.ranges), value="all", description="layers",
                                            style={"button_width": "auto"})
        self.seed = widgets.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed", style=wide,
                                           layout=widgets.Layout(width="190px"))
        self.new_point = widgets.Button(description="new random point", icon="random")
        self.save_button = widgets.Button(description="save PNG", icon="save")
        self.status = widgets.Label()
        for control in [*self.sliders, self.psi, self.layers, self.seed]:
            control.observe(lambda _change: self.render(), names="value")
        self.new_point.on_click(lambda _b: setattr(self.seed, "value", self._rng.randrange(2**31 - 1)))
        self.save_button.on_click(lambda _b: self.save())
        controls = widgets.VBox([widgets.HBox([self.seed, self.new_point]), self.psi, self.layers,
                                 widgets.HTML("<b>directions in W</b>"), *self.sliders, self.save_button])
        super().__init__([widgets.HBox([self.image, controls]), self.status])
        enable_colab_widgets()       # on Colab, or its sliders would move while the image stays the same
        self.render()

    @torch.no_grad()
    def current_ws(self) -> torch.Tensor:
        """The styles shown, (1, num_ws, w_dim)."""
        G = self.G
        w = truncate(G.mapping(z_from_seed(self.seed.value, latent_dim=G.latent_dim).to(G.w_avg.device)),
                     G.w_avg, self.psi.value)
        amounts = torch.tensor([s.value for s in self.sliders]) * self.directions.explained_variance.sqrt()
        offset = amounts @ self.directions.vectors
        return move_in_layers(w[:, None].expand(-1, G.num_ws, -1), offset, self.ranges[self.layers.value])

    def render(self) -> None:
        start = time.perf_counter()
        with torch_threads(self.threads), torch.no_grad():
            x = self.G.synthesis(self.current_ws(), noise="const").clamp(-1, 1)
            self.image.value = png_bytes(from_unit_range(x.cpu())[0], size=self.size)
        self.update_ms.append((time.perf_counter() - start) * 1000)
        self.status.value = f"seed {self.seed.value}, psi {self.psi.value:.2f}, layers {self.layers.value}; " \
                            f"update took {self.update_ms[-1]:.1f} ms"

    def save(self, path: str | Path | None = None) -> Path:
        """Write the image shown as a PNG: to `path`, or to save_dir/style_NNN.png (a new number)."""
        if path is None:
            self.save_dir.mkdir(parents=True, exist_ok=True)
            n = len(list(self.save_dir.glob("style_*.png")))
            path = self.save_dir / f"style_{n:03d}.png"
        value = self.image.value
        atomic_write(Path(path), lambda f: f.write(value))
        self.status.value = f"saved {path}"
        return Path(path)
