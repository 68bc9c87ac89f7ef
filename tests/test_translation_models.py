"""Chapter 11's models: the U-Net and ResNet generators, the PatchGAN discriminator and CycleGAN's pairs:
shapes, parameter counts, rebuilding from a spec, the receptive field against a gradient probe, bad input."""
import pytest
import torch
from torch import nn

from gan_helpers.models import (
    CycleDiscriminators,
    CycleGenerators,
    PatchDiscriminator,
    ResnetGenerator,
    UNetGenerator,
    build_model,
    model_spec,
    receptive_field,
)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def loud(G: nn.Module) -> nn.Module:
    """G with N(0, 1) conv weights, so the last layer's output is far beyond [-1, 1] before the Tanh."""
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                m.weight.normal_()
    return G


# ---------------------------------------------------------------- shapes

@pytest.mark.parametrize("img_size", [32, 64])
def test_unet_translates_to_the_same_size_in_tanh_range(img_size):
    G = loud(UNetGenerator(in_channels=1, out_channels=3, img_size=img_size, features=8))
    x_fake = G(torch.randn(2, 1, img_size, img_size))
    assert x_fake.shape == (2, 3, img_size, img_size)
    assert x_fake.abs().max() <= 1 and (x_fake.abs() > 0.99).any()    # bounded by a Tanh, and pushed to it
    assert (G.in_channels, G.out_channels, G.img_size) == (1, 3, img_size)


def test_unet_dropout_is_its_noise_in_training_only():
    G = UNetGenerator(img_size=32, features=8)
    x = torch.randn(2, 1, 32, 32)
    G.train()
    assert not torch.allclose(G(x), G(x))
    G.eval()
    assert torch.equal(G(x), G(x))
    assert sum(isinstance(m, nn.Dropout) for m in G.modules()) == 3   # the first three decoder layers


def test_unet_skips_carry_fine_detail_past_the_bottleneck():
    # One input pixel changed: with the skips, the output changes most near that pixel (layout is kept).
    # Over seeds 0-29 the 5 x 5 neighbourhood's share of the gradient was 0.59-0.81; without skips 0.01-0.04.
    torch.manual_seed(0)
    G = UNetGenerator(img_size=32, features=8).eval()
    x = torch.randn(1, 1, 32, 32, requires_grad=True)
    G(x)[0, :, 5, 27].sum().backward()
    grad = x.grad[0, 0].abs()
    assert grad[3:8, 25:30].sum() > 0.5 * grad.sum()


@pytest.mark.parametrize("img_size", [28, 32])
def test_resnet_generator_keeps_the_size(img_size):
    G = loud(ResnetGenerator(in_channels=1, out_channels=3, features=8, blocks=2))
    x_fake = G(torch.randn(2, 1, img_size, img_size))
    assert x_fake.shape == (2, 3, img_size, img_size)
    assert x_fake.abs().max() <= 1 and (x_fake.abs() > 0.99).any()


@pytest.mark.parametrize("img_size", [28, 32])
def test_cycle_generators_translate_both_ways(img_size):
    G = CycleGenerators(channels_a=1, channels_b=3, features=8, blocks=2)
    x_a, x_b = torch.randn(2, 1, img_size, img_size), torch.randn(2, 3, img_size, img_size)
    assert G(x_a).shape == G.a_to_b(x_a).shape == (2, 3, img_size, img_size)
    assert torch.equal(G(x_a), G.a_to_b(x_a))
    assert G.b_to_a(x_b).shape == (2, 1, img_size, img_size)
    assert G.b_to_a(G.a_to_b(x_a)).shape == x_a.shape


def test_patch_discriminator_gives_a_grid_of_logits():
    D = PatchDiscriminator(in_channels=4, features=8)       # pix2pix: gray input (1) + colour output (3)
    logits = D(torch.cat([torch.randn(3, 1, 64, 64), torch.randn(3, 3, 64, 64)], dim=1) * 50)
    assert logits.shape == (3, 1, 14, 14)                   # 64 / 2^2 - 2
    assert (logits < 0).any() and (logits > 0).any()       # logits, not probabilities: no Sigmoid


def test_cycle_discriminators_judge_each_domain():
    D = CycleDiscriminators(channels_a=1, channels_b=3, features=8)
    x_a, x_b = torch.randn(2, 1, 32, 32), torch.randn(2, 3, 32, 32)
    assert D.d_a(x_a).shape == D.d_b(x_b).shape == (2, 1, 6, 6)
    assert torch.equal(D(x_b), D.d_b(x_b))


# ---------------------------------------------------------------- parameter counts of the defaults

def unet_count(c_in, c_out, img_size, f=64, f_max=512):
    """Encoder conv i: c_{i-1} * w_i * 16 weights, a bias on the first and innermost (no BatchNorm after
    them), BatchNorm (2 w_i) on the others. Decoder: ConvT from w_{n-1} (innermost) or 2 w_i (skip
    concatenated) to w_{i-1}, BatchNorm, no bias; the last ConvT to c_out has a bias."""
    n = img_size.bit_length() - 1
    w = [min(f * 2 ** i, f_max) for i in range(n)]
    enc = sum((w[i - 1] if i else c_in) * w[i] * 16 + (w[i] if i in (0, n - 1) else 2 * w[i]) for i in range(n))
    dec = w[n - 1] * w[n - 2] * 16 + 2 * w[n - 2]
    dec += sum(2 * w[i] * w[i - 1] * 16 + 2 * w[i - 1] for i in range(1, n - 1))
    return enc + dec + 2 * w[0] * c_out * 16 + c_out


def resnet_count(c_in, c_out, f, blocks):
    """Affine instance norm (2 c) after every conv but the last; only the last conv has a bias."""
    stem = 49 * c_in * f + 2 * f
    down = 9 * f * 2 * f + 4 * f + 9 * 2 * f * 4 * f + 8 * f
    res = blocks * 2 * (9 * (4 * f) ** 2 + 8 * f)
    up = 9 * 4 * f * 2 * f + 4 * f + 9 * 2 * f * f + 2 * f
    return stem + down + res + up + 49 * f * c_out + c_out


def patch_count(c_in, f, layers, norm):
    """First conv with bias; inner convs with a norm (2 c, batch or affine instance) and no bias, or a bias
    with norm="none"; the last conv to 1 channel with a bias."""
    widths = [f * min(2 ** k, 8) for k in range(layers + 1)]
    total = 16 * c_in * f + f
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        total += 16 * a * b + (b if norm == "none" else 2 * b)
    return total + 16 * widths[-1] + 1


def test_default_parameter_counts():
    assert n_params(UNetGenerator()) == unet_count(1, 3, 64) == 29_242_563
    assert n_params(UNetGenerator(img_size=32)) == unet_count(1, 3, 32) == 16_657_603
    assert n_params(UNetGenerator(in_channels=3, img_size=256)) == unet_count(3, 3, 256) == 54_414_531
    assert n_params(ResnetGenerator()) == resnet_count(3, 3, 64, 6) == 7_841_411
    assert n_params(PatchDiscriminator(in_channels=4)) == patch_count(4, 64, 2, "batch") == 664_385
    assert n_params(PatchDiscriminator(in_channels=6, layers=3)) == patch_count(6, 64, 3, "batch") == 2_768_705
    G, D = CycleGenerators(), CycleDiscriminators()
    assert n_params(G) == resnet_count(1, 3, 32, 6) + resnet_count(3, 1, 32, 6) == 3_927_556
    assert n_params(D) == patch_count(1, 32, 2, "instance") + patch_count(3, 32, 2, "instance") == 334_658


# ---------------------------------------------------------------- rebuilding from a spec

@pytest.mark.parametrize("model", [
    UNetGenerator(in_channels=3, out_channels=1, img_size=32, features=8, max_features=32, dropout=0.2),
    PatchDiscriminator(in_channels=6, features=8, layers=3, norm="instance"),
    ResnetGenerator(in_channels=1, out_channels=1, features=8, blocks=3, norm="batch"),
    CycleGenerators(channels_a=3, channels_b=1, features=8, blocks=2),
    CycleDiscriminators(channels_a=3, channels_b=3, features=8, layers=1, norm="none"),
], ids=lambda m: type(m).__name__)
def test_spec_rebuilds_the_same_model(model):
    twin = build_model(model_spec(model))
    assert type(twin) is type(model) and model_spec(twin) == model_spec(model)
    twin.load_state_dict(model.state_dict())   # same parameter names and shapes
    assert str(twin) == str(model)             # same layers, dropout rates and norms


# ---------------------------------------------------------------- the receptive field

def test_receptive_field_arithmetic():
    assert receptive_field([]) == 1
    assert receptive_field([(3, 1)]) == 3
    assert receptive_field([(3, 1), (3, 1)]) == 5
    assert receptive_field([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]) == 70     # pix2pix's 70 x 70
    assert receptive_field([(2, 2), (3, 1)]) == 6                              # order matters
    assert receptive_field([(3, 1), (2, 2)]) == 4


def gradient_footprint(D: nn.Module, side: int) -> torch.Tensor:
    """The input pixels (side, side) on which the central output logit depends: nonzero gradient."""
    with torch.no_grad():    # positive weights and inputs: no gradient cancels to zero by chance
        for m in D.modules():
            if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.InstanceNorm2d)):
                m.weight.uniform_(0.5, 1.0).div_(m.weight[0].numel())    # / fan-in: values stay moderate
            if isinstance(m, nn.Conv2d) and m.bias is not None:
                m.bias.fill_(0.1)
    x = torch.rand(1, D.in_channels, side, side, dtype=torch.float64, requires_grad=True)
    logits = D.double()(x)
    logits[0, 0, logits.shape[2] // 2, logits.shape[3] // 2].backward()
    return x.grad[0].abs().sum(0) > 0


@pytest.mark.parametrize("layers, expected", [(1, 16), (2, 34), (3, 70)])
@pytest.mark.parametrize("norm", ["none", "batch"])   # batch in eval mode: a fixed per-channel affine map
def test_receptive_field_matches_a_gradient_probe(layers, expected, norm):
    D = PatchDiscriminator(in_channels=2, features=4, layers=layers, norm=norm).eval()
    assert D.receptive_field == expected
    reached = gradient_footprint(D, 128)
    rows, cols = reached.any(1).nonzero().flatten(), reached.any(0).nonzero().flatten()
    assert 0 < rows[0] and rows[-1] < 127 and 0 < cols[0] and cols[-1] < 127   # not clipped by the border
    assert len(rows) == len(cols) == expected
    assert reached[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all()          # a full square, no holes


def test_instance_norm_spreads_the_gradient_over_the_whole_image():
    # Why the probe uses eval-mode BatchNorm or no norm: instance norm's mean over the whole feature map
    # makes every logit depend on every pixel, so its "receptive field" is the image.
    D = PatchDiscriminator(in_channels=2, features=4, layers=1, norm="instance")
    assert gradient_footprint(D, 64).all()


# ---------------------------------------------------------------- bad input

def test_unet_refuses_unsupported_sizes():
    with pytest.raises(ValueError, match=r"image sizes 16, 32, 64, 128, 256 .*got img_size=28"):
        UNetGenerator(img_size=28)
    with pytest.raises(ValueError, match=r"dropout is a probability in \[0, 1\), got 1.0"):
        UNetGenerator(dropout=1.0)
    with pytest.raises(ValueError, match="norm must be one of batch, instance, none, got 'layer'"):
        ResnetGenerator(norm="layer")


@pytest.mark.parametrize("shape", [(2, 3, 64, 64), (2, 1, 32, 32), (1, 64, 64)])
def test_unet_names_the_wrong_input_shape(shape):
    got = ", ".join(map(str, shape))
    with pytest.raises(ValueError, match=rf"expects images of shape \(B, 1, 64, 64\), got \({got}\)"):
        UNetGenerator()(torch.zeros(shape))


def test_resnet_generator_names_a_size_not_divisible_by_4():
    G = ResnetGenerator(features=4, blocks=1)
    with pytest.raises(ValueError, match=r"divisible by 4 .* got 30 x 30"):
        G(torch.zeros(1, 3, 30, 30))
    with pytest.raises(ValueError, match=r"expects images of shape \(B, 3, H, W\), got \(1, 1, 32, 32\)"):
        G(torch.zeros(1, 1, 32, 32))


def test_patch_discriminator_names_its_bad_inputs():
    D = PatchDiscriminator(in_channels=4, features=4, layers=3)
    with pytest.raises(ValueError, match=r"expects images of shape \(B, 4, H, W\), got \(2, 3, 64, 64\)"):
        D(torch.zeros(2, 3, 64, 64))
    with pytest.raises(ValueError, match=r"needs images of at least 24 x 24 pixels, got \(16, 16\)"):
        D(torch.zeros(2, 4, 16, 16))
    assert D(torch.zeros(2, 4, 24, 24)).shape == (2, 1, 1, 1)
    with pytest.raises(ValueError, match="norm must be one of batch, instance, none, got 'group'"):
        PatchDiscriminator(in_channels=3, norm="group")
