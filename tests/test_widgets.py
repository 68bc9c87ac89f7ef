"""The latent explorer's logic, driven from Python: the controls a learner moves in the browser."""
import io
import sys
import types

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gan_helpers.latent import coordinate_directions, ganspace_directions
from gan_helpers.models import DCGANGenerator, MLPGenerator
from gan_helpers.sampling import draw_samples, z_from_seed
from gan_helpers.widgets import LatentExplorer, enable_colab_widgets, latent_explorer, png_bytes, torch_threads


def pixels(png: bytes) -> torch.Tensor:
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.format == "PNG"
        return torch.from_numpy(np.array(picture.convert("RGB"))).int()


@pytest.fixture
def G():
    torch.manual_seed(0)
    return MLPGenerator(latent_dim=16, hidden_dims=(32,), batch_norm=True)


@pytest.fixture
def explorer(G, tmp_path):
    return latent_explorer(G, n_sliders=4, save_dir=tmp_path / "saved")


def test_one_widget_with_an_image_and_every_control(explorer):
    assert isinstance(explorer, LatentExplorer)
    assert explorer.image.format == "png" and explorer.image.value
    assert len(explorer.sliders) == 4 and explorer.sliders[0].description.startswith("PC1 (")
    assert explorer.class_selector is None  # unconditional G
    assert pixels(explorer.image.value).shape == (28 * 9, 28 * 9, 3)  # enlarged 9x to about 256 px


def test_moving_a_slider_changes_the_image_and_the_same_values_give_the_same_image(explorer):
    start = explorer.image.value
    explorer.sliders[0].value = 2.0
    moved = explorer.image.value
    assert moved != start
    explorer.sliders[0].value = 0.0
    assert explorer.image.value == start
    explorer.sliders[0].value = 2.0
    assert explorer.image.value == moved


def test_two_explorers_with_the_same_settings_draw_the_same_image(G, tmp_path):
    d = coordinate_directions(latent_dim=16, indices=[0, 5])
    a = latent_explorer(G, directions=d, seed=4, save_dir=tmp_path)
    b = latent_explorer(G, directions=d, seed=4, save_dir=tmp_path)
    a.sliders[1].value = b.sliders[1].value = -1.5
    assert a.image.value == b.image.value


def test_the_image_is_G_of_the_current_z_in_eval_mode(G, explorer):
    G.train()  # BatchNorm in train mode would make z's image depend on the rest of the batch
    running_mean = G.net[1].running_mean.clone()
    explorer.sliders[1].value = 1.0
    z = explorer.directions.move(z_from_seed(0, latent_dim=16)[0], [0.0, 1.0, 0.0, 0.0])
    torch.testing.assert_close(explorer.current_z(), z)
    G.eval()
    expected = draw_samples(G, z[None])[0]
    G.train()
    shown = pixels(explorer.image.value)[::9, ::9, 0]  # undo the 9x enlargement, one channel
    assert torch.equal(shown, expected[0].int())
    assert G.training, "the explorer must restore G's mode"
    assert torch.equal(G.net[1].running_mean, running_mean), "drawing must not update BatchNorm's statistics"
    assert all(p.grad is None for p in G.parameters())


def test_seed_field_and_new_random_point(explorer):
    start = explorer.image.value
    explorer.seed.value = 12345
    assert explorer.image.value != start
    explorer.seed.value = 0
    assert explorer.image.value == start
    explorer.new_point.click()
    assert explorer.seed.value != 0 and explorer.image.value != start


def test_interpolation_slider_goes_from_seed_to_seed_b(G, tmp_path):
    d = coordinate_directions(latent_dim=16, indices=[0])
    ex = latent_explorer(G, directions=d, seed=3, seed_b=9, save_dir=tmp_path)
    at_a = ex.image.value
    ex.mix.value = 0.5
    halfway = ex.image.value
    ex.mix.value = 1.0
    at_b = pixels(ex.image.value)
    assert halfway not in (at_a, ex.image.value)
    other = latent_explorer(G, directions=d, seed=9, save_dir=tmp_path)
    assert (at_b - pixels(other.image.value)).abs().max() <= 1  # slerp(.., 1) is z_b up to rounding


def test_reset_sliders_draws_once(explorer):
    start = explorer.image.value
    for slider in explorer.sliders:
        slider.value = 1.0
    n_updates = len(explorer.update_ms)
    explorer.reset.click()
    assert all(s.value == 0 for s in explorer.sliders)
    assert explorer.image.value == start and len(explorer.update_ms) == n_updates + 1


def test_the_save_button_writes_the_image_shown_as_png(explorer, tmp_path):
    explorer.sliders[0].value = -2.0
    explorer.save_button.click()
    first = tmp_path / "saved" / "latent_000.png"
    assert first.read_bytes() == explorer.image.value
    assert pixels(first.read_bytes()).shape == (252, 252, 3)
    assert "saved" in explorer.status.value
    explorer.save_button.click()  # a new file, nothing overwritten
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == ["latent_000.png", "latent_001.png"]
    assert explorer.save(tmp_path / "mine.png").read_bytes() == explorer.image.value


@pytest.mark.parametrize("G, side", [(DCGANGenerator(latent_dim=100, img_size=28, channels=1, features=8), 28),
                                     (DCGANGenerator(latent_dim=100, img_size=64, channels=3, features=8), 64)],
                         ids=["dcgan28", "dcgan64rgb"])
def test_every_generator_of_the_package(G, side, tmp_path):
    d = ganspace_directions(G, n_components=3, n_samples=128)
    ex = latent_explorer(G, directions=d, size=256, save_dir=tmp_path)
    factor = round(256 / side)
    assert pixels(ex.image.value).shape == (side * factor, side * factor, 3)
    start = ex.image.value
    ex.sliders[2].value = 3.0
    assert ex.image.value != start


class TinyConditionalG(nn.Module):
    """The convention for conditional generators: `num_classes`, and G(z, labels)."""

    def __init__(self):
        super().__init__()
        self.latent_dim, self.img_shape, self.num_classes = 8, (1, 4, 4), 3
        self.embed = nn.Embedding(3, 8)
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh())

    def forward(self, z, labels):
        return self.net(z * self.embed(labels)).view(-1, *self.img_shape)


def test_a_conditional_generator_gets_a_class_selector(tmp_path):
    torch.manual_seed(0)
    G = TinyConditionalG()
    ex = LatentExplorer(G, directions=coordinate_directions(latent_dim=8, indices=[0, 1]), save_dir=tmp_path,
                        class_names=["cat", "dog", "fox"])
    assert [label for label, _ in ex.class_selector.options] == ["cat", "dog", "fox"]
    start = ex.image.value
    ex.class_selector.value = 2
    assert ex.image.value != start
    z = ex.current_z()[None]
    assert torch.equal(draw_samples(G, z, labels=2), draw_samples(G, z, labels=torch.tensor([2])))
    explorer = latent_explorer(G, n_sliders=2, save_dir=tmp_path)  # GANSpace samples every class
    assert len(explorer.sliders) == 2 and explorer.class_selector is not None


def test_colab_gets_the_custom_widget_manager(monkeypatch, G, tmp_path):
    assert enable_colab_widgets() is False  # not on Colab
    calls = []
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append("enabled")
    colab = types.ModuleType("google.colab")
    colab.output = output
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    latent_explorer(G, directions=coordinate_directions(latent_dim=16, indices=[0]), save_dir=tmp_path)
    assert calls == ["enabled"]


def test_drawing_uses_one_thread_and_restores_torchs_setting(G, tmp_path):
    before = torch.get_num_threads()
    seen = []
    G.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    ex = latent_explorer(G, directions=coordinate_directions(latent_dim=16, indices=[0]), save_dir=tmp_path)
    ex.sliders[0].value = 1.0
    assert seen[-2:] == [1, 1] and torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_png_bytes_enlarges_with_sharp_pixels_and_keeps_grey_images_grey():
    grey = torch.tensor([[[0, 255], [255, 0]]], dtype=torch.uint8)        # (1, 2, 2): a checkerboard
    with Image.open(io.BytesIO(png_bytes(grey, size=8))) as picture:
        assert picture.mode == "L" and picture.size == (8, 8)
        assert np.array_equal(np.array(picture), np.kron(grey[0].numpy(), np.ones((4, 4), np.uint8)))
    colour = torch.zeros(3, 4, 4, dtype=torch.uint8)
    with Image.open(io.BytesIO(png_bytes(colour, size=4))) as picture:
        assert picture.mode == "RGB" and picture.size == (4, 4)
    with pytest.raises(ValueError, match="draw_samples"):
        png_bytes(torch.zeros(1, 4, 4))
