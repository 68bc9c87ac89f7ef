"""Checks for chapter 05's exercises: slerp, and a direction in z from a property of the images.

    check_slerp(my_slerp)              my_slerp(z0, z1, t) -> the point at t on the great circle
    check_ink_direction(ink_direction) ink_direction(z, ink, fraction) -> mean z of the most inky
                                       `fraction` minus mean z of the least inky
"""
from __future__ import annotations

import math

import torch

from ..latent import latent_analogy, lerp, slerp
from .report import Mismatch, call, describe, run_check


def _pairs():
    gen = torch.Generator().manual_seed(11)
    z0, z1 = torch.randn(2, 100, generator=gen)
    z2 = torch.randn(100, generator=gen)
    return [(z0, z1), (z0, z1 * z0.norm() / z1.norm()), (z2, 3 * z0)]      # random, equal length, unequal


def _slerp_variants(z0, z1, t):
    omega = torch.arccos(torch.dot(z0 / z0.norm(), z1 / z1.norm()))
    s = torch.sin(omega)
    return {
        "lerp": (lerp(z0, z1, t), "this is lerp, the straight line: its middle is shorter by cos(omega / 2). "
                                  "Weigh z0 by sin((1 - t) omega) / sin(omega) and z1 by sin(t omega) / sin(omega)."),
        "reversed": ((torch.sin(t * omega) * z0 + torch.sin((1 - t) * omega) * z1) / s,
                     "the path runs backwards: at t = 0 it must be z0, so z0's weight is sin((1 - t) omega)."),
        "no_divide": (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1,
                      "divide by sin(omega): without it the path is too short (and not at z0, z1 at its ends)."),
    }


def _parallel(my_slerp) -> None:
    """Mismatch unless my_slerp gives lerp's finite points between two points in the same direction (z and
    z, z and 2.5 z), over several seeds: there sin(omega) = 0, and rounding can put cos(omega) above 1."""
    for seed in range(8):
        z = torch.randn(100, generator=torch.Generator().manual_seed(seed))
        for z1, which in ((z.clone(), "two identical points"), (2.5 * z, "z and 2.5 z (the same direction)")):
            for t in (0.0, 0.5, 1.0):
                got, want = call(my_slerp, z, z1, t), lerp(z, z1, t)
                if not (isinstance(got, torch.Tensor) and got.shape == want.shape and torch.isfinite(got).all()
                        and torch.allclose(got, want, rtol=1e-4, atol=1e-4)):
                    raise Mismatch(f"wrong between {which} (seed {seed}, t = {t})", expected=describe(want),
                                   got=describe(got), key="parallel",
                                   likely="for points in the same direction omega = 0 and sin(omega) = 0: the "
                                          "formula divides 0 by 0 (NaN), and rounding can put cos(omega) a hair "
                                          "above 1 (arccos: NaN). Clamp the cosine to [-1, 1] and return lerp, "
                                          "(1 - t) z0 + t z1, when sin(omega) is about 0.")


def check_slerp(my_slerp):
    """my_slerp(z0, z1, t) against the package's slerp, at its ends, and the length it keeps."""

    def body() -> str:
        for k, (z0, z1) in enumerate(_pairs()):
            for t in (0.0, 0.25, 0.5, 1.0):
                got = call(my_slerp, z0, z1, t)
                want = slerp(z0, z1, t)
                if not isinstance(got, torch.Tensor) or got.shape != want.shape:
                    raise Mismatch(f"wrong result at t = {t}", expected=f"a tensor of shape {tuple(want.shape)}",
                                   got=describe(got), likely="return one point, a tensor like z0.", key="shape")
                if torch.isnan(got).any():
                    raise Mismatch(f"NaN at t = {t}", expected="a point on the great circle", got=describe(got),
                                   key="angle_not_normalised",
                                   likely="the angle: cos(omega) = z0 . z1 / (|z0| |z1|). Without dividing by the "
                                          "lengths the cosine is far outside [-1, 1] and arccos gives NaN.")
                if not torch.allclose(got, want, rtol=1e-4, atol=1e-4):
                    key, likely = "wrong", ("slerp = (sin((1 - t) omega) z0 + sin(t omega) z1) / sin(omega), "
                                            "omega the angle between z0 and z1.")
                    for name, (value, explanation) in _slerp_variants(z0, z1, t).items():
                        if torch.allclose(got, value, rtol=1e-4, atol=1e-4):
                            key, likely = name, explanation
                            break
                    which = ["two random points", "two points of equal length", "two points of unequal length"][k]
                    raise Mismatch(f"differs from the package's slerp at t = {t}, between {which}",
                                   expected=describe(want), got=describe(got), likely=likely, key=key)
        _parallel(my_slerp)
        z0, z1 = _pairs()[1]
        norms = [call(my_slerp, z0, z1, t).norm().item() for t in (0.1, 0.5, 0.9)]
        return (f"equals the package's slerp between three pairs of points, ends at z0 and z1, keeps the "
                f"length {z0.norm():.3f} between points of equal length (middle: {norms[1]:.3f}), and falls back "
                f"to lerp for points in the same direction.")

    return run_check("slerp", body)


def check_ink_direction(ink_direction):
    """ink_direction(z, ink, fraction) against latent_analogy on the top and bottom `fraction` by ink."""

    def body() -> str:
        gen = torch.Generator().manual_seed(12)
        z = torch.randn(200, 16, generator=gen)
        ink = z[:, 0] * 2 + 0.1 * torch.randn(200, generator=gen)          # ink grows with z[:, 0]
        fraction = 0.1
        got = call(ink_direction, z, ink, fraction)
        order = ink.argsort()
        k = math.floor(fraction * len(z))
        want = latent_analogy(a=z[order[-k:]], b=z[order[:k]], c=torch.zeros(16))
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            raise Mismatch("wrong shape", expected=f"one direction of shape {tuple(want.shape)}", got=describe(got),
                           likely="the difference of two MEANS over the chosen rows of z (mean(dim=0)).", key="shape")
        if not torch.allclose(got, want, atol=1e-5):
            key, likely = "wrong", ("sort by ink (argsort), take the last k = fraction * N rows of z (most ink) and "
                                    "the first k (least ink), subtract their means.")
            if torch.allclose(got, -want, atol=1e-5):
                key, likely = "reversed", "the sign: most ink MINUS least ink, so that adding it makes digits bolder."
            elif torch.allclose(got, want * k, atol=1e-4):
                key, likely = "sum", "sums instead of means: use .mean(dim=0)."
            raise Mismatch("differs from the mean of the inkiest rows minus the mean of the faintest",
                           expected=describe(want), got=describe(got), likely=likely, key=key)
        return (f"the mean z of the {k} inkiest minus that of the {k} faintest of 200 points; it points along the "
                f"axis that controls ink here (cosine {torch.cosine_similarity(got, torch.eye(16)[0], 0):.2f}).")

    return run_check("ink_direction", body)
