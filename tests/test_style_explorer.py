"""The explorer in W (style_explorer.py) and its pieces in latent.py: GANSpace in W, edits of some layers."""
import pytest
import torch

from gan_helpers.latent import move_in_layers, w_directions
from gan_helpers.models import DCGANGenerator, StyleGenerator


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    G = StyleGenerator(img_size=32, features=4, max_features=16, latent_dim=16, w_dim=16)
    G.train()(torch.randn(256, 16))             # a mean w to truncate towards
    return G.eval()


def test_w_directions_are_the_principal_components_of_w(G):
    d = w_directions(G, n_components=4, n_samples=512)
    torch.testing.assert_close(d.vectors @ d.vectors.T, torch.eye(4), atol=1e-5, rtol=0)
    assert torch.all(d.explained_variance[:-1] >= d.explained_variance[1:]) and d.layer == "W"
    w = G.mapping(torch.randn(2000, 16))
    projected = (w - w.mean(0)) @ d.vectors[0]
    assert projected.var() > ((w - w.mean(0)) @ d.vectors[3]).var()      # PC1 spreads w more than PC4
    torch.testing.assert_close(w_directions(G, n_components=4, n_samples=512).vectors, d.vectors)   # seeded
    with pytest.raises(ValueError, match="mapping"):
        w_directions(DCGANGenerator(img_size=32, features=8))


def test_move_in_layers_changes_only_those_layers(G):
    ws = G.ws_from_z(torch.randn(3, 16))
    coarse = G.layer_ranges()["coarse"]
    moved = move_in_layers(ws, torch.ones(16), coarse)
    changed = (moved != ws).any(dim=(0, 2))
    assert changed.tolist() == [i in coarse for i in range(G.num_ws)]
    with pytest.raises(ValueError, match="num_ws"):
        move_in_layers(ws, torch.ones(16), [G.num_ws])


def test_the_explorer_follows_its_sliders_truncation_and_layer_choice(G, tmp_path):
    from gan_helpers.style_explorer import StyleExplorer

    e = StyleExplorer(G, n_sliders=3, seed=4, psi=1.0, save_dir=tmp_path)
    shown, ws = e.image.value, e.current_ws()
    e.sliders[0].value = 2.0
    assert e.image.value != shown
    e.layers.value = "fine"
    fine = G.layer_ranges()["fine"]
    moved = (e.current_ws() != ws).any(dim=(0, 2))
    assert moved.tolist() == [i in fine for i in range(G.num_ws)]
    e.sliders[0].value = 0.0
    assert e.image.value == shown
    e.psi.value = 0.0                                           # every seed draws the mean w's face
    mean_face = e.image.value
    e.seed.value = 99
    assert e.image.value == mean_face
    saved = e.save()
    assert saved.read_bytes() == mean_face and saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="style-based"):
        StyleExplorer(DCGANGenerator(img_size=32, features=8))


def test_on_colab_the_explorer_switches_on_the_custom_widget_manager(G, tmp_path):
    """Without Colab's custom widget manager, ipywidgets 8 sliders move while the image stays the same."""
    from gan_helpers.style_explorer import StyleExplorer

    from _fake_colab import calls, forget_fake_colab, import_fake_colab

    log = tmp_path / "colab.log"
    import_fake_colab(tmp_path / "fake")
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("FAKE_COLAB_LOG", str(log))
            StyleExplorer(G, n_sliders=2, save_dir=tmp_path)
    finally:
        forget_fake_colab()
    assert "output.enable_custom_widget_manager" in [c["call"] for c in calls(log)]
