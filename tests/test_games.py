"""The games fit plays (games/): pix2pix and CycleGAN beside the noise game, the image pool, resume."""
import pytest
import torch
from torch import nn

from gan_helpers import fit
from gan_helpers.config import GAMES as GAME_NAMES
from gan_helpers.data import TensorBatches
from gan_helpers.data.pairs import PairedBatches, UnpairedBatches
from gan_helpers.games import GAMES, CycleGame, ImagePool, Pix2PixGame, cycle_loss
from gan_helpers.models import (
    CycleDiscriminators,
    CycleGenerators,
    DCGANGenerator,
    PatchDiscriminator,
    UNetGenerator,
)

from conftest import assert_same_weights, tiny_config, weights


def tiny_pix2pix():
    torch.manual_seed(0)
    return (UNetGenerator(in_channels=1, out_channels=3, img_size=16, features=4),
            PatchDiscriminator(in_channels=4, features=4, layers=1))


def tiny_cyclegan(channels_a=3):
    torch.manual_seed(0)
    return (CycleGenerators(channels_a=channels_a, channels_b=3, features=4, blocks=1),
            CycleDiscriminators(channels_a=channels_a, channels_b=3, features=4, layers=1))


def pairs(n=16, *, seed=0):
    """Grey inputs and a colour target made from them (each channel a fixed tint): a mapping to learn."""
    g = torch.Generator().manual_seed(seed)
    grey = torch.randint(0, 256, (n, 1, 16, 16), dtype=torch.uint8, generator=g)
    tint = torch.tensor([1.0, 0.5, 0.2]).view(1, 3, 1, 1)
    return grey, (grey.float() * tint).round().to(torch.uint8)


def domains(n=16, *, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (n, 3, 16, 16), dtype=torch.uint8, generator=g),
            torch.randint(0, 256, (n + 4, 3, 16, 16), dtype=torch.uint8, generator=g))


def test_the_config_names_every_game_and_refuses_others():
    assert set(GAMES) == set(GAME_NAMES)
    with pytest.raises(ValueError, match="game must be one of 'noise', 'pix2pix', 'cyclegan'"):
        tiny_config(game="pix3pix")
    with pytest.raises(ValueError, match=r"leave out d_steps=5, gp_weight=10.0"):
        tiny_config(game="pix2pix", d_steps=5, gp_weight=10.0, loss="wasserstein")
    with pytest.raises(ValueError, match="pool_size must be 0 or more"):
        tiny_config(game="cyclegan", pool_size=-1)


# ---- the image pool -------------------------------------------------------------------------------------------

def test_the_pool_stores_and_returns_new_images_until_it_is_full():
    pool = ImagePool(4)
    x = torch.randn(3, 1, 2, 2, requires_grad=True)
    out = pool(x)
    assert torch.equal(out, x.detach()) and len(pool.images) == 3
    assert not out.requires_grad and not any(image.requires_grad for image in pool.images)   # no graph kept


def test_once_full_the_pool_returns_a_stored_image_half_the_time_and_keeps_the_new_one_instead():
    torch.manual_seed(0)
    pool, old = ImagePool(50), 0
    pool(torch.full((50, 1, 1, 1), -1.0))                    # full of "old" images, marked -1
    for step in range(40):                                   # new images are marked with positive numbers
        new = torch.arange(1, 26, dtype=torch.float).view(25, 1, 1, 1) + 100 * step
        stored_before = {float(image) for image in pool.images}
        out = pool(new)
        returned_old = [float(v) for v, n in zip(out.flatten(), new.flatten(), strict=True) if v != n]
        earlier = stored_before | {float(v) for v in new.flatten()}   # (one stored from this very batch, too)
        assert set(returned_old) <= earlier                  # what came back was in the pool
        old += len(returned_old)
        assert len(pool.images) == 50
    assert 0.44 < old / 1000 < 0.56                          # 1000 images, p = 1/2: 0.44..0.56 is > 7 sigma
    assert sum(float(image) == -1 for image in pool.images) < 5   # the old ones were replaced by new ones


def test_a_pool_of_size_0_passes_images_through():
    x = torch.randn(4, 3, 2, 2)
    assert ImagePool(0)(x) is x


# ---- pix2pix --------------------------------------------------------------------------------------------------

def test_pix2pix_checks_that_D_sees_input_and_output_side_by_side():
    G, _ = tiny_pix2pix()
    with pytest.raises(ValueError, match=r"in_channels = 1 \+ 3 = 4, but has 3"):
        Pix2PixGame(tiny_config(game="pix2pix")).check(G, PatchDiscriminator(in_channels=3, features=4))
    with pytest.raises(ValueError, match="image-to-image model"):
        Pix2PixGame(tiny_config(game="pix2pix")).check(DCGANGenerator(img_size=16, features=4),
                                                       PatchDiscriminator(in_channels=4, features=4))


def _one_step(game_cfg, G, D, batch):
    opt_G = torch.optim.Adam(G.parameters(), lr=1e-2)
    opt_D = torch.optim.Adam(D.parameters(), lr=1e-2)
    game = GAMES[game_cfg.game](game_cfg)
    return game.step(G, D, opt_G, opt_D, batch)


def test_the_l1_weight_changes_Gs_update_and_not_Ds():
    inputs, targets = pairs(8)
    batch = next(iter(PairedBatches(inputs, targets, batch_size=8, shuffle=False)))
    after = {}
    for weight in (0.0, 100.0):
        G, D = tiny_pix2pix()
        _one_step(tiny_config(game="pix2pix", l1_weight=weight), G, D, batch)
        after[weight] = weights(G), weights(D)
    assert_same_weights(after[0.0][1], after[100.0][1])      # D is updated first, from the same images
    assert any(not torch.equal(after[0.0][0][k], after[100.0][0][k]) for k in after[0.0][0])   # G: L1 counted


def test_pix2pix_learns_a_mapping_with_fit():
    """A tint of the grey input: the L1 error of G's output on the fixed examples falls during training."""
    inputs, targets = pairs(32)
    data = PairedBatches(inputs, targets, batch_size=8)
    G, D = tiny_pix2pix()
    x_input, x_target = data.examples(8)

    def error():
        with torch.no_grad():
            return (G.eval()(x_input) - x_target).abs().mean().item()

    before = error()
    fit(G, D, data, tiny_config(game="pix2pix", epochs=15, batch_size=8, n_samples=8, lr_G=2e-3), progress=False)
    assert error() < 0.5 * before


def test_fit_says_which_batches_a_translation_game_needs():
    G, D = tiny_pix2pix()
    images = torch.zeros(16, 3, 16, 16, dtype=torch.uint8)
    with pytest.raises(ValueError, match="examples\\(n\\) method, PairedBatches"):
        fit(G, D, TensorBatches(images, batch_size=8), tiny_config(game="pix2pix", batch_size=8), progress=False)
    with pytest.raises(ValueError, match="trains on pairs of image batches"):
        fit(*tiny_pix2pix(), _NoPairs(), tiny_config(game="pix2pix", batch_size=8), progress=False)
    with pytest.raises(ValueError, match="has no latent_dim: it is not a G of noise"):
        fit(*tiny_pix2pix(), TensorBatches(images, batch_size=8), tiny_config(batch_size=8), progress=False)


class _NoPairs:
    """Data with examples(n) but batches of single images: what a mistaken custom data set would give."""
    batch_size = 8

    def __len__(self):
        return 2

    def __iter__(self):
        return iter([torch.zeros(8, 1, 16, 16)] * 2)

    def examples(self, n):
        return torch.zeros(n, 1, 16, 16), torch.zeros(n, 3, 16, 16)


# ---- CycleGAN -------------------------------------------------------------------------------------------------

def test_cycle_loss_is_zero_for_inverse_generators_and_measures_the_round_trip():
    x_a, x_b = torch.randn(4, 3, 8, 8), torch.randn(4, 3, 8, 8)
    double, half = _Scale(2.0), _Scale(0.5)
    assert cycle_loss(double, half, x_a, x_b).item() == pytest.approx(0.0, abs=1e-6)
    # G_BA the identity: |2 a - a| + |2 b - b| = mean|a| + mean|b|
    want = x_a.abs().mean() + x_b.abs().mean()
    assert cycle_loss(double, nn.Identity(), x_a, x_b).item() == pytest.approx(want.item(), rel=1e-5)


class _Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return self.factor * x


def test_a_cycle_step_trains_both_generators_and_both_discriminators():
    G, D = tiny_cyclegan()
    before_G, before_D = weights(G), weights(D)
    x_a, x_b = next(iter(UnpairedBatches(*domains(), batch_size=8)))
    stats = _one_step(tiny_config(game="cyclegan", loss="least-squares", pool_size=4), G, D, (x_a, x_b))
    changed = {name: any(not torch.equal(before[k], after[k]) for k in before if k.startswith(part))
               for name, part, before, after in (("a_to_b", "a_to_b", before_G, weights(G)),
                                                 ("b_to_a", "b_to_a", before_G, weights(G)),
                                                 ("d_a", "d_a", before_D, weights(D)),
                                                 ("d_b", "d_b", before_D, weights(D)))}
    assert all(changed.values()), changed
    assert stats.loss_G > 0 and stats.loss_D > 0


def test_the_identity_loss_needs_the_same_channels_in_both_domains():
    G, D = tiny_cyclegan(channels_a=1)
    with pytest.raises(ValueError, match="same channels in both domains, not 1 and 3. Set identity_weight=0"):
        CycleGame(tiny_config(game="cyclegan")).check(G, D)
    CycleGame(tiny_config(game="cyclegan", identity_weight=0.0)).check(G, D)
    with pytest.raises(ValueError, match="G must be a CycleGenerators"):
        CycleGame(tiny_config(game="cyclegan")).check(*tiny_pix2pix())


# ---- resume: bit for bit, mid-epoch, with the pools -----------------------------------------------------------

def _stop_at(step):
    def callback(event, run):
        if event == "step_end" and run.step == step:
            run.stop = True
    return callback


@pytest.mark.parametrize("game", ["pix2pix", "cyclegan"])
def test_a_run_stopped_mid_epoch_resumes_bit_exactly(game, tmp_path):
    """4 steps an epoch, 2 epochs; one run straight, one stopped after step 3 (the pools full) and resumed."""
    if game == "pix2pix":
        models, data = tiny_pix2pix, lambda: PairedBatches(*pairs(32), batch_size=8)
        options = dict(game="pix2pix", ema_decay=0.9)
    else:
        models, data = tiny_cyclegan, lambda: UnpairedBatches(*domains(32), batch_size=8)
        options = dict(game="cyclegan", loss="least-squares", pool_size=6)
    G, D = models()
    fit(G, D, data(), tiny_config(batch_size=8, n_samples=4, checkpoint_dir=str(tmp_path / "straight"), **options),
        progress=False)
    cfg = tiny_config(batch_size=8, n_samples=4, checkpoint_dir=str(tmp_path / "stopped"), **options)
    G1, D1 = models()
    fit(G1, D1, data(), cfg, progress=False, callbacks=[_stop_at(3)])
    G2, D2 = models()
    history = fit(G2, D2, data(), cfg, progress=False, resume=True)
    assert history.steps == 8
    assert_same_weights(weights(G), weights(G2))
    assert_same_weights(weights(D), weights(D2))
