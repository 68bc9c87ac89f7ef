"""Checks for chapter 10's exercises: the mapping network, the modulated convolution and truncation.

    check_mapping(map_z)                  map_z(z, layers) -> w: normalise z, then Linear + LeakyReLU * sqrt(2)
    check_modulated_conv(modulated_conv)  modulated_conv(x, weight, styles) -> one grouped convolution
    check_truncation(truncate)            truncate(w, w_avg, psi) -> w_avg + psi (w - w_avg)
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..models.mapping import truncate as package_truncate
from ..models.modulated_conv import modulated_conv2d
from .report import Mismatch, call, describe, run_check


def _mapping_reference(z, layers, *, normalise="rms", activation=True, gain=True):
    x = z
    if normalise == "rms":
        x = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
    elif normalise == "l2":
        x = F.normalize(z, dim=1)
    for layer in layers:
        x = layer(x)
        if activation:
            x = F.leaky_relu(x, 0.2) * (math.sqrt(2) if gain else 1.0)
    return x


def check_mapping(map_z):
    """map_z(z, layers) against the definition, with the mistakes it names: z not normalised, normalised to
    unit length instead of unit mean square, no activation, the activation without its sqrt(2) gain."""

    def body() -> str:
        g = torch.Generator().manual_seed(21)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(21)
            layers = nn.ModuleList(nn.Linear(a, 32) for a in (16, 32, 32))
        z = 3 * torch.randn(5, 16, generator=g)
        with torch.no_grad():
            got, want = call(map_z, z, layers), _mapping_reference(z, layers)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            raise Mismatch("wrong shape", expected=f"w of shape {tuple(want.shape)}", got=describe(got),
                           likely="apply every layer of `layers` in turn: w has the last layer's width.", key="shape")
        if not torch.allclose(got, want, atol=1e-5, rtol=1e-4):
            variants = {
                "no_normalisation": (dict(normalise=None), "z is not normalised: divide it by sqrt(mean(z^2)) over "
                                                           "its features first (then f(2 z) = f(z))."),
                "unit_length": (dict(normalise="l2"), "z is divided by its length: divide by the root of its MEAN "
                                                      "square instead (z.square().mean(dim=1, keepdim=True))."),
                "no_activation": (dict(activation=False), "no nonlinearity: after each Linear comes "
                                                          "LeakyReLU(0.2); without it the MLP is one linear map, "
                                                          "which cannot untangle anything."),
                "no_gain": (dict(gain=False), "the LeakyReLU without its gain: multiply by sqrt(2), which keeps the "
                                              "activations' scale from layer to layer."),
            }
            key, likely = "wrong", ("x = z / sqrt(mean(z^2) + 1e-8); then for each layer "
                                    "x = leaky_relu(layer(x), 0.2) * sqrt(2).")
            for name, (options, explanation) in variants.items():
                with torch.no_grad():
                    if torch.allclose(got, _mapping_reference(z, layers, **options), atol=1e-5, rtol=1e-4):
                        key, likely = name, explanation
                        break
            raise Mismatch("differs from the mapping network's definition", expected=describe(want),
                           got=describe(got), likely=likely, key=key)
        return ("normalises z, then three Linear + LeakyReLU(0.2) * sqrt(2) layers, as StyleGAN's mapping "
                "network (f(2 z) = f(z)).")

    return run_check("mapping", body)


def _per_sample(x, weight, styles, demod_dims=(1, 2, 3)):
    out = []
    for b in range(len(x)):
        w = weight * styles[b][None, :, None, None]
        if demod_dims:
            w = w * torch.rsqrt(w.square().sum(dim=demod_dims, keepdim=True) + 1e-8)
        out.append(F.conv2d(x[b:b + 1], w, padding=weight.shape[-1] // 2))
    return torch.cat(out)


def check_modulated_conv(modulated_conv):
    """modulated_conv(x, weight, styles) against a per-sample loop on random weights (1e-5), naming a missing
    demodulation, demodulation over the wrong axes, and a grouped convolution without the batch folded in."""

    def body() -> str:
        g = torch.Generator().manual_seed(22)
        x, weight, styles = (torch.randn(4, 6, 8, 8, generator=g), torch.randn(5, 6, 3, 3, generator=g),
                             torch.rand(4, 6, generator=g) + 0.5)
        got, want = call(modulated_conv, x, weight, styles), _per_sample(x, weight, styles)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            raise Mismatch("wrong shape", expected=f"a tensor of shape {tuple(want.shape)} (B, C_out, H, W)",
                           got=describe(got), key="shape",
                           likely="reshape the grouped convolution's output (1, B * C_out, H, W) back to "
                                  "(B, C_out, H, W), and pad by k // 2 so that H and W stay.")
        if not torch.allclose(got, want, atol=1e-5, rtol=1e-5):
            key, likely = "wrong", ("modulate w'[b] = weight * styles[b] over the INPUT channels, demodulate each "
                                    "output filter, fold the batch into the channels and convolve with groups=B.")
            variants = {
                "no_demodulation": ((), "no demodulation: divide each output filter w'[b, j] by "
                                        "sqrt(sum over the input channels and taps of w'^2 + 1e-8)."),
                "wrong_axes_out": ((0, 2, 3), "demodulated over the wrong axes: the sum runs over the OUTPUT "
                                              "channels; it must run over the input channels and the taps (C_in, k, "
                                              "k), one factor per output filter."),
                "wrong_axes_taps": ((2, 3), "demodulated over the kernel taps only: sum over the input channels "
                                            "too (C_in, k, k)."),
            }
            for name, (dims, explanation) in variants.items():
                if torch.allclose(got, _per_sample(x, weight, styles, dims), atol=1e-5, rtol=1e-5):
                    key, likely = name, explanation
                    break
            first_only = _per_sample(x, weight, styles[:1].expand_as(styles))
            if key == "wrong" and torch.allclose(got, first_only, atol=1e-5, rtol=1e-5):
                key, likely = "one_style", ("every image used image 0's style: modulate per image, "
                                            "(B, C_out, C_in, k, k).")
            raise Mismatch("differs from a per-sample loop", expected=describe(want), got=describe(got),
                           likely=likely, key=key)
        signed = x, weight, torch.randn(4, 6, generator=g)            # styles of both signs
        got, want = call(modulated_conv, *signed), modulated_conv2d(*signed)
        if not torch.allclose(got, want, atol=1e-5, rtol=1e-5):
            raise Mismatch("differs from a per-sample loop for styles of both signs", expected=describe(want),
                           got=describe(got), key="wrong",
                           likely="square the modulated weights in the demodulation (w'^2), not the styles' "
                                  "absolute values or the weights alone.")
        return ("equals a loop over the images (each with its own modulated, demodulated weights) to 1e-5, "
                "in one grouped convolution.")

    def diagnose(error: BaseException):
        text = str(error)
        if "groups" in text or "expected input" in text or "to have" in text:
            return ("batch_not_folded", "a grouped convolution needs the batch folded into the channels: "
                    "x.reshape(1, B * C_in, H, W), weights (B * C_out, C_in, k, k), groups=B.")
        return None

    return run_check("modulated_conv", body, diagnose=diagnose)


def check_truncation(truncate):
    """truncate(w, w_avg, psi) against w_avg + psi (w - w_avg), naming a reversed lerp and pulling towards 0."""

    def body() -> str:
        g = torch.Generator().manual_seed(23)
        w, w_avg = torch.randn(6, 8, generator=g), torch.randn(8, generator=g)
        for psi in (0.0, 0.7, 1.0):
            got, want = call(truncate, w, w_avg, psi), package_truncate(w, w_avg, psi)
            if not isinstance(got, torch.Tensor) or got.shape != want.shape:
                raise Mismatch(f"wrong shape at psi = {psi}", expected=f"shape {tuple(want.shape)}",
                               got=describe(got), likely="w_avg (w_dim,) broadcasts over the batch of w.",
                               key="shape")
            if not torch.allclose(got, want, atol=1e-6):
                key, likely = "wrong", "w' = w_avg + psi * (w - w_avg)."
                if torch.allclose(got, w + psi * (w_avg - w), atol=1e-6):
                    key, likely = "reversed", "reversed: psi = 1 must leave w unchanged, psi = 0 give w_avg."
                elif torch.allclose(got, psi * w, atol=1e-6):
                    key, likely = "towards_zero", ("pulled towards 0, not towards the MEAN w: W is not centred at "
                                                   "0 (as z is), so psi * w leaves the data.")
                raise Mismatch(f"wrong at psi = {psi}", expected=describe(want), got=describe(got), likely=likely,
                               key=key)
        return "psi = 1 leaves w, psi = 0 gives the mean w, and in between it moves on the line towards it."

    return run_check("truncation", body)
