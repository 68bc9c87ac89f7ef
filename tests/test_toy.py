"""The ring of Gaussians and its mode count: the data covers every mode, a collapsed set one, and G's
Tanh range holds the ring."""
import math

import torch

from gan_helpers import MLPDiscriminator, MLPGenerator, gan_step
from gan_helpers.toy import RADIUS, STD, modes_covered, ring_centres, ring_of_gaussians


def test_centres_lie_evenly_on_the_ring():
    centres = ring_centres(8)
    torch.testing.assert_close(centres.norm(dim=1), torch.full((8,), RADIUS))
    gaps = (centres - centres.roll(1, dims=0)).norm(dim=1)
    torch.testing.assert_close(gaps, torch.full((8,), 2 * RADIUS * math.sin(math.pi / 8)))
    assert gaps.min() > 20 * STD     # the modes are far apart: a point near one is near no other


def test_real_points_cover_every_mode_with_three_sigma_quality():
    points = ring_of_gaussians(8000, generator=torch.Generator().manual_seed(0))
    count = modes_covered(points)
    assert count.covered == 8 and sum(count.per_mode) == round(count.high_quality * 8000)
    assert abs(count.high_quality - (1 - math.exp(-4.5))) < 0.01   # P(|x - centre| <= 3 std) in 2-D
    assert points.abs().max() < 1                                  # inside G's Tanh range


def test_a_collapsed_set_covers_one_mode_and_far_points_none():
    on_one = ring_centres()[3] + STD * torch.randn(500, 2, generator=torch.Generator().manual_seed(1))
    count = modes_covered(on_one)
    assert count.covered == 1 and count.per_mode[3] == max(count.per_mode)
    assert modes_covered(torch.zeros(100, 2)).covered == 0          # the centre of the ring is on no mode
    few = torch.cat([on_one[:490], ring_centres()[5:6].repeat(10, 1)])
    assert modes_covered(few).covered == 1                         # 10 of 500 is below a quarter of 500 / 8


def test_package_models_train_on_points():
    torch.manual_seed(0)
    G = MLPGenerator(latent_dim=4, hidden_dims=(16,), img_shape=(2,))
    D = MLPDiscriminator(img_shape=(2,), hidden_dims=(16,))
    opt_G, opt_D = torch.optim.Adam(G.parameters(), lr=1e-3), torch.optim.Adam(D.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in G.parameters()]
    stats = gan_step(G, D, opt_G, opt_D, ring_of_gaussians(32, generator=torch.Generator().manual_seed(2)))
    assert all(math.isfinite(v) for v in stats)
    assert G(torch.randn(5, 4)).shape == (5, 2)
    assert any(not torch.equal(p, q) for p, q in zip(G.parameters(), before, strict=True))
