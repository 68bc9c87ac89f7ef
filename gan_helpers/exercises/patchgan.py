"""Checks for chapter 11's PatchGAN exercises: the receptive-field arithmetic and pix2pix's discriminator.

    check_receptive_field(receptive_field)          receptive_field([(kernel, stride), ...]) -> input pixels seen
    check_patch_discriminator(patch_discriminator)  patch_discriminator(in_channels, features, layers) -> D
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .report import Mismatch, as_float, call, describe, run_check

CASES = ([(4, 2), (4, 2), (4, 1), (4, 1)],            # pix2pix's D with layers = 2: 34
         [(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)],    # layers = 3, the paper's 70 x 70 PatchGAN
         [(7, 2), (3, 2), (3, 1)], [(3, 1), (3, 1), (3, 1)], [(5, 3)], [])


def _walk_back(layers, *, start=1):
    r = start
    for k, s in reversed(layers):
        r = (r - 1) * s + k
    return r


def _stride_too_early(layers):
    r, jump = 1, 1
    for k, s in layers:
        jump *= s
        r += (k - 1) * jump
    return r


WRONG_FIELDS = {  # mistake -> (what it computes, what to tell the learner)
    "no_strides": (lambda ls: 1 + sum(k - 1 for k, _ in ls),
                   "the strides are ignored: a unit of a layer after a stride-2 layer steps 2 input pixels, so walk "
                   "back from the output, r = (r - 1) * stride + kernel."),
    "sum_of_kernels": (lambda ls: sum(k for k, _ in ls),
                       "the kernels are added up: strides ignored, and each layer after the first adds kernel - 1 "
                       "pixels, not kernel. Walk back from the output: r = (r - 1) * stride + kernel, from r = 1."),
    "from_input": (lambda ls: _walk_back(list(reversed(ls))),
                   "the layers are walked from the input: r = (r - 1) * stride + kernel runs from the OUTPUT back, "
                   "over reversed(layers)."),
    "off_by_one": (lambda ls: _walk_back(ls, start=0),
                   "r starts at 0: one output unit sees itself, r = 1, before the first step back."),
    "product_of_kernels": (lambda ls: math.prod(k for k, _ in ls),
                           "the kernels are multiplied: a field grows by (kernel - 1) * (the product of the strides "
                           "before it) per layer, not by a factor."),
    "stride_too_early": (_stride_too_early,
                         "from the input, a layer's own stride was applied before its kernel: r += (k - 1) * jump "
                         "with the jump of the layers BEFORE it; multiply jump by s after."),
}


def check_receptive_field(receptive_field):
    """receptive_field(layers) against r = 1; r = (r - 1) * s + k over reversed(layers), naming strides ignored,
    the layers walked from the input, a start at 0, multiplied kernels, and a list changed in place."""

    def body() -> str:
        got = []
        for case in CASES:
            layers = list(case)
            got.append(call(receptive_field, layers))
            if layers != list(case):
                raise Mismatch("your function changed its argument", expected=f"layers still {case}",
                               got=f"layers now {layers}", key="mutates",
                               likely="layers.reverse() reverses the caller's list in place: loop over "
                                      "reversed(layers) instead.")
        values = [as_float(g, f"receptive_field({case})") for g, case in zip(got, CASES, strict=True)]
        want = [_walk_back(case) for case in CASES]
        for value, expected, case in zip(values, want, CASES, strict=True):
            if value != expected:
                key, likely = "wrong", "r = 1 (one output unit); for (k, s) in reversed(layers): r = (r - 1) * s + k."
                for name, (field, explanation) in WRONG_FIELDS.items():
                    if values == [field(c) for c in CASES]:
                        key, likely = name, explanation
                        break
                raise Mismatch(f"wrong for layers = {case}", expected=str(expected),
                               got=describe(got[CASES.index(case)]), likely=likely, key=key)
        return ("pix2pix's D sees 34 x 34 input pixels with layers = 2 and 70 x 70 with layers = 3 (the paper's "
                "PatchGAN); a 1 x 1 field for no layers.")

    return run_check("receptive_field", body)


def _reference_widths(in_channels, features, layers):
    """(in, out) of each conv of pix2pix's D: the width doubles at each conv, at most 8 * features, then 1."""
    widths = [features * min(2 ** n, 8) for n in range(layers + 1)]
    return list(zip([in_channels, *widths], [*widths, 1], strict=True))


def _probe_field(D, in_channels, size=64) -> tuple[tuple, int, int]:
    """Output shape, and the height and width of the input square whose gradient one central logit reaches."""
    D.eval()                                   # BatchNorm with running statistics: no mixing across positions
    x = torch.randn(2, in_channels, size, size, requires_grad=True)
    out = call(D, x)
    if not isinstance(out, torch.Tensor) or out.dim() != 4:
        raise Mismatch("D's output is not a map of logits", expected="a tensor (B, 1, H', W')", got=describe(out),
                       likely="return the last conv's output: one logit per patch.", key="output_shape")
    if not out.requires_grad:
        raise Mismatch("no gradient reaches the input", expected="logits with a graph back to the images",
                       got=describe(out), key="no_gradient", likely="no torch.no_grad() or .detach() inside D.")
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    seen = x.grad[0].abs().sum(0) > 0
    rows, cols = seen.any(1).nonzero().flatten(), seen.any(0).nonzero().flatten()
    if len(rows) == 0:
        return tuple(out.shape), 0, 0
    return tuple(out.shape), int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def _layer_names(parts) -> str:
    return ", ".join(type(m).__name__ for m in parts) or "none"


def _check_structure(D, make, in_channels, features, layers) -> None:
    """Mismatch for the first difference from pix2pix's layer stack that can be named."""
    parts = [m for m in D.modules() if not list(m.children())]        # the layers, in the order they were added
    convs = [m for m in parts if isinstance(m, nn.Conv2d)]
    norms = [m for m in parts if isinstance(m, nn.modules.batchnorm._NormBase)]
    acts = [m for m in parts if isinstance(m, (nn.LeakyReLU, nn.ReLU))]
    if any(isinstance(m, (nn.Sigmoid, nn.Tanh)) for m in parts):
        raise Mismatch("a squashing layer", expected="logits: the last conv's output as it is",
                       got=_layer_names(parts[-2:]), key="sigmoid",
                       likely="drop the Sigmoid: the loss takes logits (BCE with logits or least squares), which is "
                              "numerically stable; a Sigmoid here squashes twice.")
    first, second = (parts.index(convs[0]), parts.index(convs[1])) if len(convs) > 1 else (0, len(parts))
    if any(m in norms for m in parts[first:second]):
        raise Mismatch("a norm on the first layer", expected="Conv, LeakyReLU: no norm on the first layer",
                       got=_layer_names(parts[first:second]), key="norm_first",
                       likely="no BatchNorm on the first layer (pix2pix, after DCGAN): it would normalise the input "
                              "images' own colours away.")
    want_strides, strides = [2] * layers + [1, 1], [m.stride[0] for m in convs]
    if len(strides) == len(want_strides) and strides[-2:] == [2, 2]:
        raise Mismatch("stride 2 in the last two convs", expected=f"strides {want_strides}",
                       got=f"strides {strides}", key="stride_at_end",
                       likely="the last two convs have stride 1 (and padding 1): with stride 2 the map of logits is "
                              "too small and each logit sees too large a patch.")
    specs = [(m.kernel_size[0], m.stride[0], m.padding[0]) for m in convs]
    want_specs = [(4, s, 1) for s in want_strides]
    if specs != want_specs:
        raise Mismatch("the convolutions differ from pix2pix's", expected=f"(kernel, stride, padding) {want_specs}",
                       got=f"{specs}", key="convs",
                       likely=f"{layers} convs 4 x 4 with stride 2 (the first one included), then two with stride 1; "
                              "padding 1 in each.")
    for n_layers in (layers, 5):
        built = D if n_layers == layers else call(make, in_channels, features, n_layers)
        widths = [(m.in_channels, m.out_channels) for m in built.modules() if isinstance(m, nn.Conv2d)]
        want = _reference_widths(in_channels, features, n_layers)
        if widths != want:
            doubled = [features * 2 ** n for n in range(n_layers + 1)]
            uncapped = n_layers > layers and [w[1] for w in widths[:-1]] == doubled
            raise Mismatch(f"the widths for layers = {n_layers}", expected=f"(in, out) {want}", got=f"{widths}",
                           key="no_width_cap" if uncapped else "widths",
                           likely="cap the width at 8 * features: min(2 ** n, 8) * features." if uncapped else
                           "the width doubles at each conv after the first (the stride-1 one too), at most "
                           "8 * features; the last conv gives 1 channel.")
    if len(acts) != layers + 1 or not all(isinstance(m, nn.LeakyReLU) for m in acts):
        relu = any(isinstance(m, nn.ReLU) for m in acts)
        raise Mismatch("the activations", expected=f"{layers + 1} LeakyReLU(0.2), one after each conv but the last",
                       got=_layer_names(acts), key="relu" if relu else "no_leaky_relu",
                       likely="ReLU passes no gradient for negative inputs: D uses LeakyReLU(0.2)." if relu else
                       "put nn.LeakyReLU(0.2) after every conv but the last: without it, stacked convs are one "
                       "linear map.")
    if any(m.negative_slope != 0.2 for m in acts):
        raise Mismatch("the LeakyReLU's slope", expected="negative_slope 0.2",
                       got=", ".join(str(m.negative_slope) for m in acts), key="slope",
                       likely="nn.LeakyReLU(0.2): the default slope is 0.01.")
    if len(norms) != layers:
        raise Mismatch("the norms", expected=f"{layers} BatchNorm2d: after each conv but the first and the last",
                       got=f"{len(norms)}", key="norms", likely="BatchNorm2d(width) after every conv between the "
                                                                "first and the last.")


def check_patch_discriminator(patch_discriminator):
    """patch_discriminator(4, 8, 2) against pix2pix's PatchGAN: the convs (4 x 4, strides 2 then 1, widths), no
    norm on the first layer, BatchNorm and LeakyReLU(0.2) after the others, logits out (no Sigmoid), a
    (2, 1, 14, 14) map for a 64 px batch, and a receptive field of 34 pixels measured by a gradient probe."""

    def body() -> str:
        in_channels, features, layers = 4, 8, 2
        D = call(patch_discriminator, in_channels, features, layers)
        if not isinstance(D, nn.Module):
            raise Mismatch("not a module", expected="an nn.Sequential of layers", got=describe(D), key="not_a_module",
                           likely="return nn.Sequential(*the layers), not a list of them.")
        _check_structure(D, patch_discriminator, in_channels, features, layers)
        shape, height, width = _probe_field(D, in_channels)
        if shape != (2, 1, 14, 14):
            raise Mismatch("the map of logits for a (2, 4, 64, 64) batch", expected="shape (2, 1, 14, 14)",
                           got=f"shape {shape}", key="output_shape",
                           likely="64 -> 32 -> 16 by the stride-2 convs, then 15 -> 14 by the stride-1 ones.")
        if (height, width) != (34, 34):
            raise Mismatch("the receptive field of one logit", expected="34 x 34 input pixels",
                           got=f"{height} x {width}", key="receptive_field",
                           likely="one logit must see a 34 x 34 patch: apply the layers in order, each to the "
                                  "previous one's output.")
        return ("pix2pix's PatchGAN: a (2, 1, 14, 14) map of logits for 64 px images, each logit judging a 34 x 34 "
                "patch (measured by backpropagating one logit).")

    return run_check("patch_discriminator", body)
