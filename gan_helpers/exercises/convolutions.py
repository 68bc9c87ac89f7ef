"""Checks for the DCGAN exercises of chapters 02 and 04: sizes, one generator block, the widths.

    check_conv_transpose_out(conv_transpose_out)   the output side of nn.ConvTranspose2d
    check_generator_block(generator_block)         ConvTranspose2d(4, 2, 1, no bias) -> BatchNorm2d -> ReLU
    check_generator_widths(generator_widths)       the out_channels of every layer of DCGANGenerator
"""
from __future__ import annotations

import itertools

import torch
from torch import nn

from ..models import DCGANGenerator
from .report import Mismatch, call, describe, run_check

COMBINATIONS = [(n, k, s, p) for n, k, s, p in itertools.product((1, 2, 3, 5, 7, 14), (1, 2, 3, 4, 5, 7), (1, 2, 3),
                                                                (0, 1, 2))
                if (n - 1) * s - 2 * p + k > 0 and p < k]

WRONG_SIZES = {  # key: (formula, likely mistake)
    "n_not_n_minus_1": (lambda n, k, s, p: n * s - 2 * p + k,
                        "(n - 1) * stride, not n * stride: the first input pixel paints at offset 0, each further "
                        "one `stride` pixels later, so n pixels span (n - 1) strides plus one kernel."),
    "off_by_one_low": (lambda n, k, s, p: (n - 1) * s - 2 * p + k - 1, "one too few: a '- 1' too many."),
    "off_by_one_high": (lambda n, k, s, p: (n - 1) * s - 2 * p + k + 1,
                        "one too many: the '+ 1' belongs to the ordinary convolution's formula."),
    "padding_sign": (lambda n, k, s, p: (n - 1) * s + 2 * p + k,
                     "padding makes a transposed convolution's output SMALLER: - 2 * padding."),
    "padding_once": (lambda n, k, s, p: (n - 1) * s - p + k, "padding is cut from both sides: - 2 * padding."),
    "conv_formula": (lambda n, k, s, p: (n + 2 * p - k) // s + 1,
                     "that is the ordinary (strided) convolution's formula; the transposed one runs it backwards."),
}


def check_conv_transpose_out(conv_transpose_out):
    """conv_transpose_out(n, kernel, stride, padding) against real nn.ConvTranspose2d layers."""

    def body() -> str:
        got, want = {}, {}
        for n, k, s, p in COMBINATIONS:
            got[n, k, s, p] = call(conv_transpose_out, n, k, s, p)
            want[n, k, s, p] = nn.ConvTranspose2d(1, 1, k, s, p)(torch.zeros(1, 1, n, n)).shape[-1]
        wrong = [c for c in COMBINATIONS if got[c] != want[c]]
        if wrong:
            n, k, s, p = wrong[0]
            key, likely = "wrong", "the size is (n - 1) * stride - 2 * padding + kernel."
            for name, (formula, explanation) in WRONG_SIZES.items():
                if all(got[c] == formula(*c) for c in COMBINATIONS):
                    key, likely = name, explanation
                    break
            raise Mismatch(f"wrong for {len(wrong)} of {len(COMBINATIONS)} layers, e.g. n={n}, kernel={k}, "
                           f"stride={s}, padding={p}", expected=f"{want[wrong[0]]} (what PyTorch's layer gives)",
                           got=describe(got[wrong[0]]), likely=likely, key=key)
        return (f"the sizes of {len(COMBINATIONS)} nn.ConvTranspose2d layers (sides 1 to 14, kernels 1 to 7, "
                "strides 1 to 3, paddings 0 to 2) are right.")

    return run_check("conv_transpose_out", body)


def _layers(block: nn.Module) -> list[nn.Module]:
    return [m for m in block.modules() if not list(m.children())]


def check_generator_block(generator_block):
    """generator_block(in_channels, out_channels) doubles the side and equals a block of DCGANGenerator."""

    def body() -> str:
        block = call(generator_block, 8, 4)
        if not isinstance(block, nn.Module):
            raise Mismatch("generator_block did not return a module", expected="an nn.Module (e.g. nn.Sequential)",
                           got=describe(block), likely="return nn.Sequential(layer, layer, layer).", key="returns")
        for side in (4, 7):
            out = call(block, torch.randn(2, 8, side, side))
            if tuple(out.shape) != (2, 4, 2 * side, 2 * side):
                key, likely = "size", "kernel 4, stride 2, padding 1: (n - 1) * 2 - 2 + 4 = 2n."
                if out.shape[-1] == 2 * side - 1:
                    key, likely = "size_off_by_one", ("2n - 1: kernel 3 with stride 2 and padding 1 loses a pixel "
                                                      "(and paints unevenly): use kernel 4.")
                raise Mismatch(f"wrong output shape for an input of (2, 8, {side}, {side})",
                               expected=f"(2, 4, {2 * side}, {2 * side})", got=str(tuple(out.shape)),
                               likely=likely, key=key)
        layers = _layers(block)
        kinds = [type(m) for m in layers]
        if nn.LeakyReLU in kinds:
            raise Mismatch("the block uses LeakyReLU", expected="ReLU (LeakyReLU is D's activation)", got="LeakyReLU",
                           likely="the DCGAN recipe: ReLU in G, LeakyReLU(0.2) in D.", key="leaky")
        if kinds != [nn.ConvTranspose2d, nn.BatchNorm2d, nn.ReLU]:
            raise Mismatch("the layers are not the recipe's",
                           expected="ConvTranspose2d, BatchNorm2d, ReLU (in that order)",
                           got=", ".join(k.__name__ for k in kinds) or "no layers",
                           likely="normalise the convolution's output, then apply the nonlinearity.", key="layers")
        conv = layers[0]
        if conv.bias is not None:
            raise Mismatch("the transposed convolution has a bias", expected="bias=False", got="a bias of 4 numbers",
                           likely="BatchNorm subtracts the mean right after, which undoes any bias.", key="bias")
        G = DCGANGenerator(latent_dim=8, img_size=28, channels=1, features=4)
        ours = G.net[3:6]                                            # (B, 8, 7, 7) -> (B, 4, 14, 14)
        with torch.no_grad():
            for mine, theirs in zip(_layers(ours), layers, strict=True):
                for name, tensor in mine.named_parameters():
                    getattr(theirs, name).copy_(tensor)
        x = torch.randn(3, 8, 7, 7)
        if not torch.allclose(call(block, x), ours(x), atol=1e-5):
            raise Mismatch("with the package's weights, the block computes something else",
                           expected="the output of DCGANGenerator's block", got="other numbers",
                           likely="kernel 4, stride 2, padding 1, then BatchNorm2d(out_channels), then ReLU.",
                           key="other")
        return ("ConvTranspose2d(kernel 4, stride 2, padding 1, no bias) -> BatchNorm2d -> ReLU doubles the side "
                "and computes exactly the block of the package's DCGANGenerator.")

    return run_check("generator_block", body)


def _widths(img_size: int, features: int, channels: int) -> list[int]:
    G = DCGANGenerator(latent_dim=8, img_size=img_size, channels=channels, features=features)
    return [m.out_channels for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]


def check_generator_widths(generator_widths):
    """generator_widths(img_size, features, channels) against the layers of DCGANGenerator."""

    def body() -> str:
        cases = [(64, 64, 3), (32, 64, 3), (28, 32, 1), (128, 32, 3), (16, 8, 1)]
        for case in cases:
            want, got = _widths(*case), call(generator_widths, *case)
            got = list(got) if isinstance(got, (list, tuple)) else got
            if got != want:
                key, likely = "wrong", ("one layer from 1x1 to the start side (7 for 28, else 4), then one doubling "
                                        "per layer; the widths halve from features * 2**(layers - 2) to features, and "
                                        "the last layer has `channels` outputs.")
                if isinstance(got, list) and len(got) == len(want) and got[:-1] == [2 * w for w in want[:-1]]:
                    key, likely = "paper_width", ("twice the widths: that is the DCGAN paper's 1024 channels at 4x4; "
                                                  "features=64 gives the PyTorch example's 512.")
                elif isinstance(got, list) and got == want[:-1]:
                    key, likely = "missing_output", "the last layer, to `channels` (3 for colour), is missing."
                elif isinstance(got, list) and len(got) != len(want):
                    key, likely = "layers", ("the number of layers: 1 + log2(img_size / start), with start 7 for 28 "
                                             "pixels and 4 otherwise.")
                raise Mismatch(f"wrong widths for img_size={case[0]}, features={case[1]}, channels={case[2]}",
                               expected=str(want), got=describe(got), likely=likely, key=key)
        return f"the widths of DCGANGenerator at {len(cases)} sizes, e.g. 64 px, features 64: {_widths(64, 64, 3)}."

    return run_check("generator_widths", body)
