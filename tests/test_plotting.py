"""Grids, the history plot, the GIF and the summary table."""
import matplotlib
import pytest
import torch
from PIL import Image

matplotlib.use("Agg")

from gan_helpers import (  # noqa: E402
    History,
    from_unit_range,  # noqa: E402
    image_grid,
    plot_history,
    save_gif,
    save_grid,
    show_grid,
    summary,
)


@pytest.mark.parametrize("channels", [1, 3])
def test_grid_shape_and_float_uint8_agree(channels):
    x = torch.rand(10, channels, 8, 8) * 2 - 1
    grid = image_grid(x, nrow=5)
    assert grid.shape == (2 * 10 + 2, 5 * 10 + 2, 3) and grid.dtype == torch.uint8
    assert (image_grid(from_unit_range(x), nrow=5).int() - grid.int()).abs().max() <= 1


def test_grid_maps_minus_one_to_black_and_one_to_white():
    grid = image_grid(torch.stack([-torch.ones(1, 4, 4), torch.ones(1, 4, 4)]), nrow=2, padding=0)
    assert grid[:, :4].max() == 0 and grid[:, 4:].min() == 255


def test_bad_shape_is_explained():
    with pytest.raises(ValueError, match="1 or 3"):
        image_grid(torch.zeros(2, 2, 8, 8))


def test_save_grid_and_gif(tmp_path):
    frames = [torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8) for _ in range(3)]
    png = save_grid(frames[0], tmp_path / "deep/grid.png", nrow=2)
    assert Image.open(png).size == (2 * 30 + 2, 2 * 30 + 2)
    gif = Image.open(save_gif(frames, tmp_path / "train.gif", nrow=2))
    assert gif.n_frames == 3
    with pytest.raises(ValueError, match="no frames"):
        save_gif([], tmp_path / "empty.gif")


def test_plot_history_draws_four_curves(tmp_path):
    history = History(loss_D=[1.0] * 20, loss_G=[2.0] * 20, D_x=[0.7] * 20, D_G_z=[0.3] * 20, epoch_ends=[10, 20])
    fig = plot_history(history, path=tmp_path / "h.png")
    assert (tmp_path / "h.png").is_file()
    assert sum(len(ax.lines) for ax in fig.axes) == 5  # 2 losses, 2 D outputs, the 0.5 line
    assert show_grid(torch.zeros(4, 3, 8, 8), nrow=2, title="t").get_title() == "t"


def test_summary_prints_the_table_and_leaves_batchnorm_untouched(capsys):
    from gan_helpers import MLPGenerator
    G = MLPGenerator(latent_dim=16, hidden_dims=(32,), batch_norm=True)
    before = G.net[1].running_mean.clone()
    summary(G, (16,))
    table = capsys.readouterr().out
    assert "BatchNorm1d-2" in table and f"Total params: {sum(p.numel() for p in G.parameters()):,}" in table
    assert torch.equal(G.net[1].running_mean, before)


def test_running_mean_against_a_hand_computed_case():
    from gan_helpers.plotting import running_mean

    assert running_mean([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]  # the first point averages itself
    assert running_mean([], 3) == []
