"""Check for chapter 09's first exercise: D's update in float16 with a gradient scaler, against precision.py.

    check_amp_d_step(amp_d_step)   amp_d_step(G, D, opt_D, scaler, x_real, z) -> loss_D (float32)

The learner's step runs G and D under torch.autocast(dtype=float16), computes loss_D from float32 logits,
and goes through the scaler: scale(loss_D).backward(), scaler.step(opt_D), scaler.update().
"""
from __future__ import annotations

import torch

from ..losses import d_loss
from ..models import DCGANDiscriminator, DCGANGenerator
from ..precision import Precision
from .report import Mismatch, call, describe, run_check

HUGE = 2.0**40   # a loss scale that surely overflows float16's gradients: the step must be skipped


def _setup(seed: int = 0):
    torch.manual_seed(seed)
    G = DCGANGenerator(latent_dim=8, img_size=28, channels=1, features=8)
    D = DCGANDiscriminator(img_size=28, channels=1, features=8)
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    x_real = torch.rand(16, 1, 28, 28) * 2 - 1
    z = torch.randn(16, 8)
    return G, D, opt_D, x_real, z


def _reference_step(G, D, opt_D, precision: Precision, x_real, z) -> torch.Tensor:
    with precision.autocast():
        x_fake = G(z)
        loss_D = d_loss(D(x_real).float(), D(x_fake.detach()).float())
    precision.step(loss_D, opt_D, "D")
    return loss_D


def _weights(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def check_amp_d_step(amp_d_step):
    """Two float16 D steps of the learner's against precision.py's; a step with an overflowing scale is skipped."""

    def body() -> str:
        G, D, opt_D, x_real, z = _setup()
        scaler = torch.amp.GradScaler("cpu")
        G_before = _weights(G)
        losses = [call(amp_d_step, G, D, opt_D, scaler, x_real, z) for _ in range(2)]
        if not all(isinstance(loss, torch.Tensor) and loss.numel() == 1 for loss in losses):
            raise Mismatch("amp_d_step returned something else than loss_D", expected="a one-element tensor",
                           got=describe(losses[-1]), likely="end with `return loss_D`.", key="returns")
        if any(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters()) or any(
                not torch.equal(a, b) for a, b in zip(G_before, _weights(G), strict=True)):
            raise Mismatch("a gradient reached G in D's update", expected="no gradient in G's weights",
                           got="gradients in G", likely="detach the fakes: D(x_fake.detach()).", key="no_detach")
        if losses[0].dtype != torch.float32:
            raise Mismatch("loss_D is not a float32 number", expected="torch.float32", got=str(losses[0].dtype),
                           likely="cast D's logits to float32 before the loss: d_loss(D(x_real).float(), "
                                  "D(x_fake.detach()).float()); a 16-bit loss loses its small differences.",
                           key="half_loss")

        G2, D2, opt_D2, _, _ = _setup()
        precision = Precision("float16", "cpu")
        expected = [_reference_step(G2, D2, opt_D2, precision, x_real, z) for _ in range(2)]
        if not torch.allclose(losses[0].float(), expected[0], rtol=1e-4, atol=1e-5):
            raise Mismatch("loss_D of the first step differs", expected=describe(expected[0]),
                           got=describe(losses[0]), likely="run G and D inside torch.autocast('cpu' or the "
                           "device's type, dtype=torch.float16) and use d_loss on D's logits for x_real and "
                           "x_fake.detach().", key="wrong_loss")
        for mine, theirs in zip(_weights(D), _weights(D2), strict=True):
            if not torch.isfinite(mine).all():
                raise Mismatch("D's weights became NaN or inf", expected="finite weights", got=describe(mine),
                               likely="step through the scaler, scaler.step(opt_D): it unscales the gradients "
                                      "and skips a step whose gradients overflowed; opt_D.step() does neither.",
                               key="opt_step_not_scaler")
            if not torch.allclose(mine, theirs, rtol=1e-4, atol=1e-6):
                raise Mismatch("D's weights after two steps differ from precision.py's", expected=describe(theirs),
                               got=describe(mine), likely="backward on the SCALED loss, "
                               "scaler.scale(loss_D).backward(), then scaler.step(opt_D) and scaler.update(); "
                               "zero the gradients first.", key="loss_not_scaled")

        G, D, opt_D, x_real, z = _setup()                       # a scale too large for float16: skip, halve
        scaler = torch.amp.GradScaler("cpu", init_scale=HUGE)
        before = _weights(D)
        call(amp_d_step, G, D, opt_D, scaler, x_real, z)
        if not all(torch.equal(a, b) for a, b in zip(before, _weights(D), strict=True)):
            raise Mismatch("a step whose gradients overflowed (scale 2**40) changed D's weights",
                           expected="the step skipped: D unchanged", got="D's weights changed",
                           likely="call scaler.step(opt_D), not opt_D.step().", key="opt_step_not_scaler")
        if scaler.get_scale() != HUGE / 2:
            raise Mismatch("after an overflow the scale did not shrink", expected=f"{HUGE / 2:.3g} (2**39)",
                           got=f"{scaler.get_scale():.3g}", likely="call scaler.update() after scaler.step(opt_D): "
                           "it halves the scale after an overflow (and doubles it after 2000 good steps).",
                           key="no_update")
        return (f"two float16 steps equal precision.py's (loss_D {losses[0].item():.4f}, float32); a step at scale "
                "2**40 overflowed, was skipped, and the scale halved to 2**39.")

    return run_check("amp_d_step", body, diagnose=_diagnose)


def _diagnose(err: BaseException) -> tuple[str, str] | None:
    if "has already been called since the last update" in str(err):
        return "no_update", ("call scaler.update() after scaler.step(opt_D): it sets the scale for the next step "
                             "(halved after an overflow, doubled after 2000 good steps).")
    if "No inf checks were recorded prior to update" in str(err):
        return "opt_step_not_scaler", ("step through the scaler, scaler.step(opt_D), before scaler.update(): it "
                                       "unscales the gradients and skips a step whose gradients overflowed.")
    if "scaler.scale" in str(err) or "No inf checks were recorded" in str(err):
        return "loss_not_scaled", ("the scaler must see the loss first: scaler.scale(loss_D).backward(), then "
                                   "scaler.step(opt_D) and scaler.update().")
    return None
