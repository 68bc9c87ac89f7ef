"""Chapter 11's exercise checks against many typical wrong answers (test_exercises.py runs every chapter's
solution, stub and one wrong answer): each fails naming its mistake, never with an AssertionError; and the
package's own versions (what chapter 11 trains with) pass the learner's checks."""
import pytest
from test_exercises import run_check

from gan_helpers.exercises import CHECKS

NAMES = ("receptive_field", "patch_discriminator", "cycle_loss", "image_pool")   # notebook 11's

_RF = "def receptive_field(layers):\n"
_PD = '''
from torch import nn
def patch_discriminator(in_channels, features, layers):
    blocks = [nn.Conv2d(in_channels, features, 4, 2, 1), <first_norm> nn.LeakyReLU(0.2)]
    width = features
    for n in range(1, layers):
        wider = features * min(2 ** n, 8)
        blocks += [nn.Conv2d(width, wider, 4, <mid_stride>, 1), nn.BatchNorm2d(wider), <mid_act>]
        width = wider
    wider = features * min(2 ** layers, 8)
    blocks += [nn.Conv2d(width, wider, 4, <end_stride>, 1), nn.BatchNorm2d(wider), <end_act>]
    blocks += [nn.Conv2d(wider, 1, 4, <end_stride>, 1), <squash>]
    return nn.Sequential(*blocks)
'''
_PD_RIGHT = {"<first_norm>": "", "<mid_stride>": "2", "<mid_act>": "nn.LeakyReLU(0.2)", "<end_stride>": "1",
             "<end_act>": "nn.LeakyReLU(0.2)", "<squash>": ""}


def _fill(template, right, changes=None, **replace):
    """A wrong answer: `template` with `replace`'s (old, new) edits, then its <slots> filled, the right text
    unless `changes` names another."""
    code = template
    for a, b in replace.values():
        assert a in code
        code = code.replace(a, b)
    for slot, text in {**right, **(changes or {})}.items():
        code = code.replace(slot, text)
    return code


def _patch(changes=None, **replace):
    return _fill(_PD, _PD_RIGHT, changes, **replace)


_PD_MODULE = _patch().replace("    return nn.Sequential(*blocks)", '''    return Skips(blocks)
class Skips(nn.Module):                            # the right layers, not all of them applied
    def __init__(self, blocks):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
    def forward(self, x):
        for layer in self.blocks:
            if isinstance(layer, nn.Conv2d):
                <forward>
            else:
                x = layer(x) if x.shape[1] == getattr(layer, "num_features", x.shape[1]) else x
        return x''')


_CYCLE = '''
import torch
import torch.nn.functional as F
def cycle_loss(G_AB, G_BA, x_a, x_b):
    return BODY
'''
_POOL = '''
import torch
class ImagePool:
    def __init__(self, size):
        self.size, self.images = size, []
    def __call__(self, images):
        if self.size == 0:
            return images
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(<store>)
                out.append(image)
            elif <draw>:
                i = torch.randint(self.size, (1,)).item()
                out.append(self.images[i])
                <replace>
            else:
                out.append(image)
        return torch.stack(out)
'''
_POOL_RIGHT = {"<store>": "image.detach().clone()", "<draw>": "torch.rand(1).item() < 0.5",
               "<replace>": "self.images[i] = image.detach().clone()"}


def _pool(changes=None, **replace):
    return _fill(_POOL, _POOL_RIGHT, changes, **replace)


_RETURN_NEW = "            else:\n                out.append(image)"
WRONG = [  # (exercise, a typical wrong answer, the mistake its check must name)
    ("receptive_field", _RF + "    return 1 + sum(k - 1 for k, s in layers)      # strides ignored\n", "no_strides"),
    ("receptive_field", _RF + "    return sum(k for k, s in layers)\n", "sum_of_kernels"),
    ("receptive_field", _RF + '''    r = 1
    for k, s in layers:                            # from the input
        r = (r - 1) * s + k
    return r
''', "from_input"),
    ("receptive_field", _RF + '''    r = 0                                          # off by one
    for k, s in reversed(layers):
        r = (r - 1) * s + k
    return r
''', "off_by_one"),
    ("receptive_field", _RF + '''    r = 1
    for k, s in layers:
        r *= k                                     # kernels multiplied
    return r
''', "product_of_kernels"),
    ("receptive_field", _RF + '''    r, jump = 1, 1
    for k, s in layers:
        jump *= s                                  # this layer's stride too early
        r += (k - 1) * jump
    return r
''', "stride_too_early"),
    ("receptive_field", _RF + '''    layers.reverse()                               # the caller's list, in place
    r = 1
    for k, s in layers:
        r = (r - 1) * s + k
    return r
''', "mutates"),
    ("patch_discriminator", _patch({"<end_stride>": "2"}), "stride_at_end"),
    ("patch_discriminator", _patch({"<squash>": "nn.Sigmoid()"}), "sigmoid"),
    ("patch_discriminator", _patch({"<first_norm>": "nn.BatchNorm2d(features),"}), "norm_first"),
    ("patch_discriminator", _patch({"<end_act>": "nn.Identity()"}), "no_leaky_relu"),
    ("patch_discriminator", _patch({"<mid_act>": "nn.Identity()", "<end_act>": "nn.Identity()"},
                                   first=("nn.LeakyReLU(0.2)]", "nn.Identity()]")), "no_leaky_relu"),
    ("patch_discriminator", _patch({"<mid_act>": "nn.ReLU()"}), "relu"),
    ("patch_discriminator", _patch({"<mid_act>": "nn.LeakyReLU()"}), "slope"),
    ("patch_discriminator", _patch(mid=("min(2 ** n, 8)", "2 ** n"), end=("min(2 ** layers, 8)", "2 ** layers")),
     "no_width_cap"),
    ("patch_discriminator", _patch(end=("wider = features * min(2 ** layers, 8)", "wider = width")), "widths"),
    ("patch_discriminator", _patch(end=("nn.BatchNorm2d(wider), <end_act>", "<end_act>")), "norms"),
    ("patch_discriminator", _patch({"<mid_stride>": "1"}), "convs"),
    ("patch_discriminator", _PD_MODULE.replace("<forward>", "x = layer(x) if layer.stride == (2, 2) else x"),
     "output_shape"),
    ("patch_discriminator", _PD_MODULE.replace("<forward>", "x = layer(x)").replace(
        "        return x", "        return x + x.mean()"), "receptive_field"),
    ("patch_discriminator", "from torch import nn\ndef patch_discriminator(in_channels, features, layers):\n"
                            "    return [nn.Conv2d(in_channels, 1, 4, 2, 1)]\n", "not_a_module"),
    ("cycle_loss", _CYCLE.replace("BODY", "F.mse_loss(G_BA(G_AB(x_a)), x_a) + F.mse_loss(G_AB(G_BA(x_b)), x_b)"),
     "l2"),
    ("cycle_loss", _CYCLE.replace("BODY", "F.l1_loss(G_BA(G_AB(x_a)), x_a)"), "one_direction"),
    ("cycle_loss", _CYCLE.replace("BODY", "F.l1_loss(G_AB(G_BA(x_b)), x_b)"), "other_direction_only"),
    ("cycle_loss", _CYCLE.replace("BODY", "(G_BA(G_AB(x_a)) - x_b).abs().mean() + "
                                          "(G_AB(G_BA(x_b)) - x_a).abs().mean()"), "wrong_domain"),
    ("cycle_loss", _CYCLE.replace("BODY", "F.l1_loss(G_AB(G_BA(x_a)), x_a) + F.l1_loss(G_BA(G_AB(x_b)), x_b)"),
     "wrong_generator"),
    ("cycle_loss", _CYCLE.replace("BODY", "(G_BA(G_AB(x_a)) - x_a).abs().sum() + "
                                          "(G_AB(G_BA(x_b)) - x_b).abs().sum()"), "sum"),
    ("cycle_loss", _CYCLE.replace("BODY", "(F.l1_loss(G_BA(G_AB(x_a)), x_a) + F.l1_loss(G_AB(G_BA(x_b)), x_b)) / 2"),
     "averaged"),
    ("cycle_loss", _CYCLE.replace("BODY", "F.l1_loss(G_BA(G_AB(x_a).detach()), x_a) + "
                                          "F.l1_loss(G_AB(G_BA(x_b)), x_b)"), "no_gradient"),
    ("cycle_loss", _CYCLE.replace("    return BODY", '''    with torch.no_grad():
        return F.l1_loss(G_BA(G_AB(x_a)), x_a) + F.l1_loss(G_AB(G_BA(x_b)), x_b)'''), "no_gradient"),
    ("cycle_loss", _CYCLE.replace("BODY", "(F.l1_loss(G_BA(G_AB(x_a)), x_a) + "
                                          "F.l1_loss(G_AB(G_BA(x_b)), x_b)).item()"), "no_gradient"),
    ("image_pool", _pool({"<draw>": "False"}), "never_old"),
    ("image_pool", _pool({"<draw>": "True"}), "always_old"),
    ("image_pool", _pool({"<draw>": "torch.rand(1).item() < 0.2"}), "probability"),
    ("image_pool", _pool({"<replace>": "pass"}), "not_replaced"),
    ("image_pool", _pool({"<replace>": "self.images[torch.randint(self.size, (1,)).item()] = image.detach()"}),
     "not_replaced"),
    ("image_pool", _pool({"<store>": "image", "<replace>": "self.images[i] = image"}), "not_detached"),
    ("image_pool", _pool(zero=("        if self.size == 0:\n            return images\n", "")), "size_zero"),
    ("image_pool", _pool({"<draw>": "swap"}, once=("        for image in images:",
                                                  "        swap = torch.rand(1).item() < 0.5\n"
                                                  "        for image in images:")), "per_batch"),
    ("image_pool", _pool(new=(_RETURN_NEW, _RETURN_NEW + "\n                "
                              "self.images[torch.randint(self.size, (1,)).item()] = image.detach()")), "stored_new"),
    ("image_pool", _pool(out=("return torch.stack(out)", "return out")), "shape"),
]


@pytest.mark.parametrize("name, code, mistake", WRONG, ids=[f"{n}-{m}-{i}" for i, (n, _, m) in enumerate(WRONG)])
def test_check_names_the_mistake(name, code, mistake, capsys):
    result = run_check(name, code, f"wrong_{name}_{mistake}")
    out = capsys.readouterr().out
    assert not result.passed and result.mistake == mistake, (result, out)
    assert out.startswith(f"✗ {name}: ") and "likely mistake:" in out, out


def test_every_exercise_of_the_chapter_has_wrong_answers():
    assert {n for n, _, _ in WRONG} == set(NAMES) and set(NAMES) <= set(CHECKS)


def test_the_package_s_own_versions_pass_the_checks(capsys):
    """The notebook's exercises and the package agree: what chapter 11 trains with passes the learner's checks."""
    from gan_helpers.games.cycle import cycle_loss
    from gan_helpers.games.image_pool import ImagePool
    from gan_helpers.models.patchgan import PatchDiscriminator, receptive_field

    def patch_discriminator(in_channels, features, layers):
        return PatchDiscriminator(in_channels=in_channels, features=features, layers=layers)

    package = {"receptive_field": receptive_field, "patch_discriminator": patch_discriminator,
               "cycle_loss": cycle_loss, "image_pool": ImagePool}
    for name, version in package.items():
        assert CHECKS[name][0](version), capsys.readouterr().out
