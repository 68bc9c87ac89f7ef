"""The moving average of G's weights: the update rule, the warm-up, BatchNorm buffers."""
import torch

from gan_helpers import MLPGenerator
from gan_helpers.ema import ema_copy, ema_decay_at, update_ema


def test_the_average_follows_the_update_rule_and_copies_buffers():
    torch.manual_seed(0)
    G = MLPGenerator(latent_dim=4, hidden_dims=(8,), img_shape=(1, 4, 4), batch_norm=True)
    G_ema = ema_copy(G)
    assert not G_ema.training and not any(p.requires_grad for p in G_ema.parameters())
    before = {k: v.clone() for k, v in G_ema.state_dict().items()}
    with torch.no_grad():
        for p in G.parameters():
            p.add_(1.0)
    G.train()(torch.randn(16, 4))                         # moves BatchNorm's running statistics
    update_ema(G_ema, G, decay=0.9)
    for name, p in G.named_parameters():
        torch.testing.assert_close(G_ema.get_parameter(name), 0.9 * before[name] + 0.1 * p.detach())
    for name, b in G.named_buffers():
        assert torch.equal(G_ema.get_buffer(name), b), name   # copied, not averaged


def test_the_warm_up_follows_G_closely_at_first():
    assert ema_decay_at(0, 0.999) == 0.1 and ema_decay_at(90, 0.999) == 0.91
    assert ema_decay_at(100_000, 0.999) == 0.999 and ema_decay_at(0, 0.999, warmup=False) == 0.999


def test_a_constant_G_is_reached_geometrically():
    G = MLPGenerator(latent_dim=4, hidden_dims=(8,), img_shape=(1, 4, 4))
    G_ema = ema_copy(G)
    with torch.no_grad():
        for p in G_ema.parameters():
            p.zero_()
    for _ in range(10):
        update_ema(G_ema, G, decay=0.5)
    for p_ema, p in zip(G_ema.parameters(), G.parameters(), strict=True):
        torch.testing.assert_close(p_ema, (1 - 0.5 ** 10) * p.detach())
