"""Checks for chapter 11's CycleGAN exercises: the cycle-consistency loss and the image history buffer.

    check_cycle_loss(cycle_loss)   cycle_loss(G_AB, G_BA, x_a, x_b) -> mean |G_BA(G_AB(x_a)) - x_a| + mean |... - x_b|
    check_image_pool(ImagePool)    ImagePool(size)(images) -> the batch with about half of it swapped for stored ones

The PatchGAN exercises' checks are in patchgan.py.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .image_pool import check_image_pool
from .report import LearnerError, Mismatch, call, close, describe, run_check

__all__ = ["check_cycle_loss", "check_image_pool"]


def _generators() -> tuple[nn.Module, nn.Module]:
    """Small random G_AB (A: 1 channel -> B: 3 channels) and G_BA (3 -> 1): a direction mistake changes a shape."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(111)
        G_AB = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.Tanh())
        G_BA = nn.Sequential(nn.Conv2d(3, 1, 3, padding=1), nn.Tanh())
    return G_AB, G_BA


def _variants(G_AB, G_BA, x_a, x_b) -> dict[str, tuple[torch.Tensor, str]]:
    """The losses of typical mistakes (computed without gradients), and what to tell the learner."""
    with torch.no_grad():
        back_a, back_b = G_BA(G_AB(x_a)), G_AB(G_BA(x_b))     # (B, 1, H, W) and (B, 3, H, W)
        l1_a, l1_b = (back_a - x_a).abs().mean(), (back_b - x_b).abs().mean()
        return {
            "l2": (F.mse_loss(back_a, x_a) + F.mse_loss(back_b, x_b),
                   "squared errors: the cycle loss is the L1 distance (the mean absolute error)."),
            "one_direction": (l1_a, "only A -> B -> A: add the other round trip, B -> A -> B, compared with x_b."),
            "other_direction_only": (l1_b, "only B -> A -> B: add the round trip A -> B -> A, compared with x_a."),
            "wrong_domain": ((back_a - x_b).abs().mean() + (back_b - x_a).abs().mean(),
                             "each round trip is compared with the other domain's images: G_BA(G_AB(x_a)) comes "
                             "back to A, so compare it with x_a; G_AB(G_BA(x_b)) with x_b (broadcasting hid the "
                             "different channels)."),
            "sum": ((back_a - x_a).abs().sum() + (back_b - x_b).abs().sum(),
                    "summed over the pixels: take the mean (F.l1_loss), so that the weight lambda does not depend "
                    "on the image size and the batch."),
            "averaged": ((l1_a + l1_b) / 2, "the two round trips are averaged: Zhu et al.'s eq. 2 adds them."),
        }


def check_cycle_loss(cycle_loss):
    """cycle_loss(G_AB, G_BA, x_a, x_b) against F.l1_loss(G_BA(G_AB(x_a)), x_a) + F.l1_loss(G_AB(G_BA(x_b)), x_b),
    its gradients in both Gs included; names L2, one direction only, the wrong domain, a sum instead of a mean,
    a generator applied to the other domain's images, and gradients cut by detach or torch.no_grad."""

    def body() -> str:
        G_AB, G_BA = _generators()
        g = torch.Generator().manual_seed(112)
        x_a = -torch.rand(4, 1, 8, 8, generator=g)          # domain A: dark, 1 channel
        x_b = torch.rand(4, 3, 8, 8, generator=g)           # domain B: bright, 3 channels
        want = F.l1_loss(G_BA(G_AB(x_a)), x_a) + F.l1_loss(G_AB(G_BA(x_b)), x_b)
        params = [*G_AB.parameters(), *G_BA.parameters()]
        want_grads = torch.autograd.grad(want, params)
        want = want.detach()
        try:
            got = call(cycle_loss, G_AB, G_BA, x_a, x_b)
        except LearnerError as wrapped:
            if isinstance(wrapped.error, RuntimeError) and "channels" in str(wrapped.error):
                raise Mismatch("a generator got images of the wrong domain", expected="G_AB on A (1 channel), "
                               "G_BA on B (3 channels)", got=f"RuntimeError: {str(wrapped.error)[:120]}",
                               key="wrong_generator",
                               likely="the round trip of x_a is G_BA(G_AB(x_a)): G_AB first (A -> B), then G_BA "
                                      "back; for x_b, G_AB(G_BA(x_b)).") from None
            raise
        if isinstance(got, (int, float)) and not isinstance(got, bool):
            got_value = float(got)
        elif isinstance(got, torch.Tensor) and got.numel() == 1:
            got_value = float(got.detach())
        else:
            raise Mismatch("not one number", expected="a tensor with one element", got=describe(got), key="shape",
                           likely="take the mean of each round trip's absolute error, and add the two means.")
        if not close(got_value, float(want), rtol=1e-4, atol=1e-6):
            key, likely = "wrong", "F.l1_loss(G_BA(G_AB(x_a)), x_a) + F.l1_loss(G_AB(G_BA(x_b)), x_b)."
            for name, (value, explanation) in _variants(G_AB, G_BA, x_a, x_b).items():
                if close(got_value, float(value), rtol=1e-4, atol=1e-6):
                    key, likely = name, explanation
                    break
            raise Mismatch("differs from the cycle loss", expected=describe(want), got=describe(got),
                           likely=likely, key=key)
        cut = ("the loss must train both generators: no .detach(), .item() or torch.no_grad() in it (D's loss "
               "detaches fakes; the cycle loss is G's).")
        if not isinstance(got, torch.Tensor) or got.grad_fn is None:
            raise Mismatch("no gradient", expected="a loss with a graph back to G_AB and G_BA",
                           got="a number without a graph (requires_grad=False)", key="no_gradient", likely=cut)
        got_grads = torch.autograd.grad(got, params, allow_unused=True)
        for p, grad, want_grad in zip(params, got_grads, want_grads, strict=True):
            if grad is None or not torch.allclose(grad, want_grad, rtol=1e-4, atol=1e-6):
                owner = "G_AB" if any(p is q for q in G_AB.parameters()) else "G_BA"
                raise Mismatch(f"the gradient in {owner}'s weights", expected=describe(want_grad),
                               got="no gradient" if grad is None else describe(grad), key="no_gradient", likely=cut)
        return ("mean |G_BA(G_AB(x_a)) - x_a| + mean |G_AB(G_BA(x_b)) - x_b|, with gradients in both generators "
                "(Zhu et al. 2017, eq. 2).")

    return run_check("cycle_loss", body)
