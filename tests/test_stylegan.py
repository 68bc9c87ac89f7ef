"""The style-based G (stylegan.py, mapping.py, modulated_conv.py) and its residual D (residual_d.py)."""
import pytest
import torch
import torch.nn.functional as F

from gan_helpers import fit
from gan_helpers.checkpoint import load_generator, save_generator
from gan_helpers.data import TensorBatches
from gan_helpers.models import (
    ModulatedConv2d,
    ResidualDiscriminator,
    StyleGenerator,
    build_model,
    minibatch_stddev,
    model_spec,
    modulated_conv2d,
)

from conftest import assert_same_weights, tiny_config, weights


def n_params(model):
    return sum(p.numel() for p in model.parameters())


# Pinned counts at the presets' width (features=16, max 128, w_dim 128, 4 mapping layers), counted by hand once:
# a change of architecture must change these on purpose.
@pytest.mark.parametrize("img_size, n_ws, params_G, params_D", [(32, 8, 452_611, 567_441), (64, 10, 797_704, 878_993)])
def test_shapes_and_parameter_counts(img_size, n_ws, params_G, params_D):
    torch.manual_seed(0)
    G, D = StyleGenerator(img_size=img_size), ResidualDiscriminator(img_size=img_size)
    z = torch.randn(3, 128)
    x = G(z)
    assert x.shape == (3, 3, img_size, img_size) and D(x).shape == (3,)
    assert G.num_ws == n_ws and G.synthesis(G.ws_from_z(z)).shape == x.shape
    assert (n_params(G), n_params(D)) == (params_G, params_D)
    assert sum(len(r) for r in G.layer_ranges().values()) == n_ws


def test_the_mapping_network_is_four_128_wide_layers():
    assert n_params(StyleGenerator(img_size=64).mapping) == 4 * (128 * 128 + 128)


def per_sample_modulated_conv(x, weight, styles, demodulate=True):
    """The definition, one image at a time: scale the weights by the style, normalise each output filter."""
    out = []
    for b in range(len(x)):
        w = weight * styles[b][None, :, None, None]                        # (C_out, C_in, k, k)
        if demodulate:
            w = w / (w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8).sqrt()
        out.append(F.conv2d(x[b:b + 1], w, padding=weight.shape[-1] // 2))
    return torch.cat(out)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("demodulate", [True, False])
@pytest.mark.parametrize("k", [1, 3])
def test_the_modulated_conv_equals_a_per_sample_loop(demodulate, k, fused):
    """fused: the one grouped convolution; unfused: the training path (x scaled by the styles)."""
    g = torch.Generator().manual_seed(0)
    x, weight, styles = torch.randn(5, 6, 8, 8, generator=g), torch.randn(7, 6, k, k, generator=g), \
        torch.randn(5, 6, generator=g)
    got = modulated_conv2d(x, weight, styles, demodulate=demodulate, fused=fused)
    torch.testing.assert_close(got, per_sample_modulated_conv(x, weight, styles, demodulate), atol=1e-5, rtol=1e-5)


def test_the_fused_path_is_one_grouped_convolution(monkeypatch):
    calls = []
    real_conv2d = F.conv2d
    monkeypatch.setattr(F, "conv2d", lambda *a, **kw: calls.append(kw.get("groups", 1)) or real_conv2d(*a, **kw))
    modulated_conv2d(torch.randn(4, 3, 8, 8), torch.randn(5, 3, 3, 3), torch.randn(4, 3))
    assert calls == [4]


def test_the_layer_uses_the_unfused_path_in_training_and_both_agree():
    torch.manual_seed(0)
    conv = ModulatedConv2d(8, 8, 3, w_dim=4)
    x, w = torch.randn(3, 8, 6, 6), torch.randn(3, 4)
    torch.testing.assert_close(conv.train()(x, w), conv.eval()(x, w), atol=1e-5, rtol=1e-5)


def test_demodulation_gives_unit_variance_outputs_whatever_the_style():
    torch.manual_seed(0)
    conv = ModulatedConv2d(64, 64, 3, w_dim=16)
    x = torch.randn(4, 64, 16, 16)
    for scale in (0.1, 10.0):
        with torch.no_grad():
            conv.affine.bias.fill_(scale)
            std = conv(x, torch.zeros(4, 16))[..., 1:-1, 1:-1].std().item()   # inside the zero padding
        assert 0.8 < std < 1.2, (scale, std)


def test_truncation_psi_0_draws_the_mean_ws_image_for_every_z():
    torch.manual_seed(0)
    G = StyleGenerator(img_size=16, features=4, max_features=16, latent_dim=8, w_dim=8)
    G.train()
    G(torch.randn(64, 8))                                   # training moves w_avg towards the mean w
    G.eval()
    assert G.w_avg.abs().sum() > 0
    x = G(torch.randn(6, 8), psi=0.0, noise="const")
    mean_image = G.synthesis(G.w_avg.expand(1, G.num_ws, -1), noise="const")
    torch.testing.assert_close(x, mean_image.expand_as(x))
    assert not torch.allclose(G(torch.randn(6, 8), psi=1.0, noise="const")[0], x[0])


def styles_seen(G, ws):
    """The w each modulated layer (convs and toRGBs) received, in ws order."""
    seen = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, name=name: seen.__setitem__(name, inp[1]))
             for name, m in G.named_modules() if isinstance(m, ModulatedConv2d)]
    G.synthesis(ws, noise="none")
    for h in hooks:
        h.remove()
    return seen


def test_mixing_swaps_the_styles_at_the_chosen_layer():
    torch.manual_seed(0)
    G = StyleGenerator(img_size=32, features=4, max_features=16, latent_dim=8, w_dim=8).eval()
    ws1, ws2 = G.ws_from_z(torch.randn(2, 8)), G.ws_from_z(torch.randn(2, 8))
    order = [f"convs.{i}.conv" for i in range(len(G.convs))]          # conv i takes ws[:, i]
    for crossover in (1, 4, G.num_ws - 1):
        seen = styles_seen(G, G.mix(ws1, ws2, crossover))
        for i, name in enumerate(order):
            assert torch.equal(seen[name], (ws1 if i < crossover else ws2)[:, i]), (crossover, name)
        assert torch.equal(seen[f"to_rgbs.{len(G.to_rgbs) - 1}"], ws2[:, -1])
    coarse = G.synthesis(G.mix(ws1, ws2, 3), noise="none")             # coarse from ws1 differs from all of ws2
    assert not torch.allclose(coarse, G.synthesis(ws2, noise="none"))
    with pytest.raises(ValueError, match="crossover"):
        G.mix(ws1, ws2, G.num_ws + 1)


def test_training_mixes_two_ws_at_a_random_crossover_and_eval_never_does():
    torch.manual_seed(0)
    G = StyleGenerator(img_size=16, features=4, max_features=16, latent_dim=8, w_dim=8, mixing_prob=1.0)
    received = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: received.append(inp[1])) for m in G.convs]
    crossovers = set()
    for _ in range(8):
        received.clear()
        G.train()(torch.randn(2, 8))
        changes = [i for i in range(1, len(received)) if not torch.equal(received[i], received[i - 1])]
        assert len(changes) <= 1                                        # two ws: one crossover (or after the convs)
        crossovers.add(changes[0] if changes else len(received))
        received.clear()
        G.eval()(torch.randn(2, 8))
        assert all(torch.equal(r, received[0]) for r in received)
    assert len(crossovers) > 1
    for h in hooks:
        h.remove()


def test_minibatch_stddev_sees_a_collapsed_batch():
    x = torch.randn(8, 5, 4, 4)
    same = x[:1].expand(8, -1, -1, -1)
    assert minibatch_stddev(x).shape == (8, 6, 4, 4)
    assert minibatch_stddev(same)[:, -1].max() < 1e-3 < minibatch_stddev(x)[:, -1].min()
    assert minibatch_stddev(torch.randn(6, 5, 4, 4)).shape == (6, 6, 4, 4)   # 6 = 3 groups of 2


def test_D_has_no_batchnorm_so_r1_is_allowed():
    D = ResidualDiscriminator(img_size=32)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in D.modules())


def test_bad_sizes_and_inputs_are_named():
    with pytest.raises(ValueError, match="image sizes"):
        StyleGenerator(img_size=48)
    G = StyleGenerator(img_size=16, features=4, max_features=16, latent_dim=8, w_dim=8)
    with pytest.raises(ValueError, match="latent_dim"):
        G(torch.randn(2, 9))
    with pytest.raises(ValueError, match="noise"):
        G(torch.randn(2, 8), noise="off")
    with pytest.raises(ValueError, match="shape"):
        ResidualDiscriminator(img_size=16)(torch.randn(2, 3, 32, 32))


def tiny_style_models():
    torch.manual_seed(0)   # mixing_prob 0.5: whether a batch mixes matters as much as where
    return (StyleGenerator(img_size=16, features=4, max_features=16, latent_dim=8, w_dim=8, mixing_prob=0.5),
            ResidualDiscriminator(img_size=16, features=4, max_features=16))


def test_a_resumed_run_is_bit_exact_with_a_straight_one(tmp_path):
    """Mixing, noise, lazy R1 and the EMA all draw or keep state: a resumed run must redo exactly the same."""
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (16, 3, 16, 16), dtype=torch.uint8, generator=g)   # 2 steps an epoch
    options = dict(batch_size=8, n_samples=4, lr_G=2e-3, lr_D=2e-3, beta1=0.0, beta2=0.99, r1_gamma=1.0,
                   r1_every=2, ema_decay=0.99)
    G, D = tiny_style_models()
    straight_cfg = tiny_config(epochs=2, checkpoint_dir=str(tmp_path / "straight"), **options)   # for its G_ema
    fit(G, D, TensorBatches(images, batch_size=8), straight_cfg, progress=False)

    cfg = tiny_config(epochs=1, checkpoint_dir=str(tmp_path / "ckpt"), **options)
    G1, D1 = tiny_style_models()
    fit(G1, D1, TensorBatches(images, batch_size=8), cfg, progress=False)
    G2, D2 = tiny_style_models()
    cfg.epochs = 2
    fit(G2, D2, TensorBatches(images, batch_size=8), cfg, progress=False, resume=True)
    assert G.w_avg.abs().sum() > 0 and "w_avg" in G.state_dict()       # the mean w travels in the checkpoint
    assert torch.equal(G.w_avg, G2.w_avg)
    assert_same_weights(weights(G), weights(G2))
    assert_same_weights(weights(D), weights(D2))
    assert_same_weights(weights(load_generator(tmp_path / "straight")), weights(load_generator(tmp_path / "ckpt")))


def test_build_model_save_generator_and_load_generator_round_trip(tmp_path):
    G, _ = tiny_style_models()
    G.train()(torch.randn(16, 8))
    twin = build_model(model_spec(G))
    assert type(twin) is StyleGenerator and twin.hparams == G.hparams
    save_generator(G, tmp_path / "g.pt", epoch=1, step=5, half=True)
    loaded = load_generator(tmp_path / "g.pt")
    torch.testing.assert_close(loaded.w_avg, G.w_avg, atol=1e-3, rtol=1e-3)   # float16 file
    z = torch.randn(4, 8)
    torch.testing.assert_close(loaded(z, noise="const"), G.eval()(z, noise="const"), atol=2e-2, rtol=0)
