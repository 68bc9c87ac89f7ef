"""The latent operations: seeded z, lerp, slerp, paths, arithmetic and GANSpace directions."""
import math

import pytest
import torch
from torch import nn

from gan_helpers.latent import (
    Directions,
    coordinate_directions,
    find_layer,
    ganspace_directions,
    interpolation_path,
    latent_analogy,
    layer_activations,
    lerp,
    slerp,
)
from gan_helpers.models import DCGANGenerator, MLPGenerator
from gan_helpers.sampling import z_from_seed


def test_the_same_seed_gives_the_same_z():
    a = z_from_seed(7, latent_dim=100, n=4)
    assert a.shape == (4, 100)
    assert torch.equal(a, z_from_seed(7, latent_dim=100, n=4))
    assert not torch.equal(a, z_from_seed(8, latent_dim=100, n=4))
    torch.manual_seed(123)  # the global generator does not matter
    assert torch.equal(a, z_from_seed(7, latent_dim=100, n=4))


@pytest.mark.parametrize("interpolate", [lerp, slerp])
def test_endpoints(interpolate):
    z0, z1 = z_from_seed(0, latent_dim=64, n=2)
    torch.testing.assert_close(interpolate(z0, z1, 0.0), z0)
    torch.testing.assert_close(interpolate(z0, z1, 1.0), z1)
    path = interpolate(z0, z1, torch.linspace(0, 1, 5))
    assert path.shape == (5, 64)
    torch.testing.assert_close(path[0], z0)
    torch.testing.assert_close(path[-1], z1)


def test_lerp_is_the_straight_line():
    z0, z1 = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    torch.testing.assert_close(lerp(z0, z1, 0.25), torch.tensor([1.0, 1.0]))


def test_slerp_of_two_orthogonal_unit_vectors_is_the_arc():
    e1, e2 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    for t in (0.0, 0.25, 0.5, 1.0):
        angle = t * math.pi / 2
        torch.testing.assert_close(slerp(e1, e2, t), torch.tensor([math.cos(angle), math.sin(angle), 0.0]))


def test_slerp_keeps_the_norm_between_points_of_equal_norm_and_lerp_does_not():
    z0, z1 = z_from_seed(3, latent_dim=128, n=2)
    z1 = z1 * z0.norm() / z1.norm()  # equal norms
    t = torch.linspace(0, 1, 21)
    norms = slerp(z0, z1, t).norm(dim=1)
    torch.testing.assert_close(norms, torch.full_like(norms, z0.norm().item()))
    omega = torch.arccos(torch.dot(z0, z1) / z0.norm() ** 2)  # lerp's midpoint is shorter by cos(omega/2)
    torch.testing.assert_close(lerp(z0, z1, 0.5).norm(), z0.norm() * torch.cos(omega / 2))


def test_slerp_of_parallel_points_is_finite():
    z0 = torch.tensor([1.0, 2.0, 3.0])
    torch.testing.assert_close(slerp(z0, 2 * z0, 0.5), 1.5 * z0)


def test_slerp_refuses_opposite_points():
    z0 = torch.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="opposite"):
        slerp(z0, -2 * z0, 0.5)


def test_interpolation_rejects_batches():
    with pytest.raises(ValueError, match="z\\[0\\] and z\\[1\\]"):
        slerp(z_from_seed(0, latent_dim=8, n=2), z_from_seed(1, latent_dim=8, n=2), 0.5)


def test_interpolation_path_passes_through_every_point():
    points = z_from_seed(0, latent_dim=16, n=4)
    path = interpolation_path(points, steps=5)
    assert path.shape == (3 * 5 + 1, 16)
    for k in range(4):
        torch.testing.assert_close(path[5 * k], points[k])
    loop = interpolation_path(points, steps=5, closed=True, method="lerp")
    assert loop.shape == (4 * 5, 16)
    torch.testing.assert_close(loop[-1], lerp(points[-1], points[0], 0.8))
    with pytest.raises(ValueError, match="slerp"):
        interpolation_path(points, method="cubic")


def test_latent_analogy_is_mean_a_minus_mean_b_plus_mean_c():
    a = torch.tensor([[1.0, 0.0], [3.0, 0.0]])   # mean (2, 0)
    b = torch.tensor([0.0, 1.0])
    c = torch.tensor([[0.0, 0.0], [0.0, 4.0]])   # mean (0, 2)
    torch.testing.assert_close(latent_analogy(a=a, b=b, c=c), torch.tensor([2.0, 1.0]))


def test_directions_move_adds_the_amounts():
    d = coordinate_directions(latent_dim=5, indices=[1, 3])
    assert d.names == ["z[1]", "z[3]"] and len(d) == 2
    torch.testing.assert_close(d.move(torch.zeros(5), [2.0, -1.0]), torch.tensor([0.0, 2.0, 0.0, -1.0, 0.0]))
    with pytest.raises(ValueError, match="one amount per direction"):
        d.move(torch.zeros(5), [1.0])


def test_layer_activations_are_the_early_layer_in_eval_mode_and_stop_there():
    torch.manual_seed(0)
    G = MLPGenerator(latent_dim=8, hidden_dims=(16, 32), batch_norm=True).train()
    G(torch.randn(64, 8))                       # give BatchNorm running statistics of its own
    z = z_from_seed(0, latent_dim=8, n=5)
    last_called = []
    G.net[-1].register_forward_hook(lambda *_: last_called.append(True))
    y = layer_activations(G, z, batch_size=2)   # default: the first activation, net.2
    linear, bn, act = G.net[0], G.net[1], G.net[2]
    G.eval()
    with torch.no_grad():
        expected = act(bn(linear(z)))
    G.train()
    torch.testing.assert_close(y, expected)
    assert not last_called, "the layers after the recorded one must not run"
    assert G.training


def _assert_orthonormal(d: Directions):
    torch.testing.assert_close(d.vectors @ d.vectors.T, torch.eye(len(d)), atol=1e-5, rtol=0)


@pytest.mark.parametrize("G", [MLPGenerator(latent_dim=32, hidden_dims=(64,), batch_norm=True),
                               DCGANGenerator(latent_dim=32, img_size=28, channels=1, features=8),
                               DCGANGenerator(latent_dim=32, img_size=16, channels=3, features=8)],
                         ids=["mlp", "dcgan28", "dcgan16rgb"])
def test_ganspace_directions_are_orthonormal_ordered_and_reproducible(G):
    G.train()
    d = ganspace_directions(G, n_components=6, n_samples=256)
    assert d.vectors.shape == (6, 32) and d.names[0] == "PC1" and d.layer == find_layer(G)[0]
    _assert_orthonormal(d)
    assert torch.all(d.explained_variance[:-1] >= d.explained_variance[1:]), d.explained_variance
    assert 0 < d.explained_ratio.sum() <= 1
    assert G.training, "G's mode must be restored"
    again = ganspace_directions(G, n_components=6, n_samples=256)
    torch.testing.assert_close(again.vectors, d.vectors)


class LinearFirstLayer(nn.Module):
    """A generator whose first layer is linear with known singular values: y = W z."""

    def __init__(self, *, latent_dim=8, width=12):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(nn.Linear(latent_dim, width, bias=False), nn.Tanh())
        u, _ = torch.linalg.qr(torch.randn(width, latent_dim, generator=torch.Generator().manual_seed(1)))
        self.v, _ = torch.linalg.qr(torch.randn(latent_dim, latent_dim, generator=torch.Generator().manual_seed(2)))
        self.s = torch.tensor([8.0, 5.0, 3.0, 2.0, 1.0, 0.5, 0.3, 0.1])
        with torch.no_grad():
            self.net[0].weight.copy_(u @ torch.diag(self.s) @ self.v.T)  # W = U S V^T

    def forward(self, z):
        return self.net(z)


def test_ganspace_recovers_the_right_singular_vectors_of_a_linear_layer():
    # z ~ N(0, I) and y = W z: cov(y) = W W^T = U S^2 U^T. The top principal components are U's
    # columns with variances s^2, and the latent direction that moves y along u_k is v_k.
    G = LinearFirstLayer()
    d = ganspace_directions(G, n_components=4, n_samples=8192, layer="net.0")
    cosines = (d.vectors @ G.v[:, :4]).diagonal().abs()
    assert torch.all(cosines > 0.99), cosines
    torch.testing.assert_close(d.explained_variance, G.s[:4] ** 2, rtol=0.06, atol=0)
    torch.testing.assert_close(d.explained_ratio, G.s[:4] ** 2 / (G.s ** 2).sum(), rtol=0.06, atol=0)


def test_the_top_direction_moves_the_early_layer_more_than_any_axis():
    torch.manual_seed(0)
    G = MLPGenerator(latent_dim=16, hidden_dims=(64,), batch_norm=False)
    d = ganspace_directions(G, n_components=3, n_samples=1024, layer="net.0")
    W = G.net[0].weight.detach()  # the layer is y = W z + b: a unit step along u moves y by |W u|
    top = (W @ d.vectors[0]).norm()
    assert top > (W @ torch.eye(16)).norm(dim=0).max()
    # at most |W u| = the largest singular value; close to it, although the next ones are near
    assert 0.95 * torch.linalg.matrix_norm(W, ord=2) <= top <= 1.0001 * torch.linalg.matrix_norm(W, ord=2)


def test_the_default_layer_is_the_first_activation():
    assert find_layer(DCGANGenerator(latent_dim=8, img_size=28, channels=1, features=8))[0] == "net.2"  # ReLU
    assert find_layer(MLPGenerator(latent_dim=8, hidden_dims=(16,)))[0] == "net.1"  # LeakyReLU, no BatchNorm
    assert find_layer(MLPGenerator(latent_dim=8, hidden_dims=(16,)), "net.0")[0] == "net.0"


def test_ganspace_names_what_is_wrong():
    G = MLPGenerator(latent_dim=8, hidden_dims=(16,))
    with pytest.raises(ValueError, match="no module named 'net.9'"):
        ganspace_directions(G, layer="net.9")
    with pytest.raises(ValueError, match="n_components"):
        ganspace_directions(G, n_components=9)
    with pytest.raises(ValueError, match="no activation layer"):
        find_layer(nn.Sequential(nn.Linear(2, 2)))
