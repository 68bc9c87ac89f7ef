"""Checks for chapter 07's exercises: WGAN-GP's gradient penalty, and one power iteration step.

    check_gradient_penalty(gradient_penalty_inline)   gradient_penalty_inline(D, x_real, x_fake, generator=None)
    check_power_iteration(power_iteration_step)       power_iteration_step(W, u) -> (u, v, sigma)

The penalty is tried on critics whose gradient is known: a linear critic <w, x> has gradient w at every
point, so its penalty is exactly (|w| - 1)^2; a recording critic keeps the points x_hat it was asked
about, which shows whether there is one interpolation weight per image.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..models import DCGANDiscriminator
from ..penalty import gradient_penalty, interpolate
from .report import Mismatch, as_float, call, close, describe, run_check


class _LinearCritic(nn.Module):
    """D(x) = <w, x>, its gradient w everywhere; remembers the last input it scored."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)
        self.seen: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen = x.detach().clone()
        return (x * self.w).flatten(1).sum(1)


def _images(gen: torch.Generator, n: int = 8, shape=(1, 28, 28)) -> torch.Tensor:
    return torch.rand(n, *shape, generator=gen) * 2 - 1


def _norm_variants(w: torch.Tensor) -> dict[str, tuple[float, str]]:
    return {
        "norm_last_dim": (((w.norm(dim=-1) - 1) ** 2).mean().item(),
                          "the norm over the last dimension only (each row of pixels): flatten each image's gradient, "
                          "grad.flatten(1).norm(dim=1), the norm over all of C, H, W."),
        "norm_per_number": (((w.abs() - 1) ** 2).mean().item(),
                            "the size of every number on its own: the norm is over all of an image's numbers."),
        "squared_norm": (((w.norm() ** 2 - 1) ** 2).item(), "the norm, not the squared norm: (|grad| - 1)^2."),
        "no_minus_one": ((w.norm() ** 2).item(), "the penalty is (|grad| - 1)^2: the critic's slope should be 1."),
    }


def _reduction_variants(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> dict[str, tuple[float, str]]:
    """Penalties of the right points (the package's eps, seed 1) reduced over the batch the wrong way. (A
    linear critic cannot tell these apart: its gradient has the same norm for every image.)"""
    x_hat = interpolate(real, fake, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
    norms = grad.flatten(1).norm(dim=1).detach()
    return {
        "mean_before_square": (((norms.mean() - 1) ** 2).item(),
                               "the mean is taken before the square: the penalty is the MEAN over images of "
                               "(|grad| - 1)^2, ((norms - 1) ** 2).mean(), not (norms.mean() - 1) ** 2."),
        "sum_over_images": (((norms - 1) ** 2).sum().item(),
                            "a sum over the images: the penalty is their MEAN, ((norms - 1) ** 2).mean()."),
    }


def _gp_diagnosis(err: BaseException):
    text = str(err)
    if "does not require grad" in text or "One of the differentiated Tensors" in text:
        return "no_requires_grad", ("x_hat needs .requires_grad_(True) before D sees it, so autograd can give the "
                                    "gradient of D's scores with respect to it; and create_graph=True.")
    return None


def check_gradient_penalty(gradient_penalty_inline):
    """The penalty of a linear critic (exactly 4), one eps per image, trainability, and the package's value."""

    def body() -> str:
        gen = torch.Generator().manual_seed(0)
        w = torch.randn(1, 28, 28, generator=gen)
        critic = _LinearCritic(3 * w / w.norm())                       # |w| = 3: penalty (3 - 1)^2 = 4
        x_real, x_fake = _images(gen), _images(gen)
        gp = call(gradient_penalty_inline, critic, x_real, x_fake)
        value = as_float(gp, "the penalty")
        if not close(value, 4.0, rtol=1e-4):
            key, likely = "wrong", "mean over images of (|grad D(x_hat)| - 1)^2, the norm over all of C, H, W."
            for name, (candidate, explanation) in _norm_variants(critic.w.detach()).items():
                if close(value, candidate, rtol=1e-4):
                    key, likely = name, explanation
                    break
            raise Mismatch("wrong penalty for the linear critic D(x) = <w, x> with |w| = 3",
                           expected="(3 - 1)^2 = 4, whatever the points", got=f"{value:.6f}", likely=likely, key=key)
        x_hat = critic.seen
        if x_hat is None or x_hat.shape != x_real.shape:
            raise Mismatch("the critic was not asked about a batch of points like x_real",
                           expected=f"one call D(x_hat), x_hat of shape {tuple(x_real.shape)}",
                           got=describe(x_hat), likely="x_hat = eps * x_real + (1 - eps) * x_fake.", key="x_hat")
        weight = ((x_hat - x_fake) / (x_real - x_fake)).flatten(1)     # eps, for every number of every image
        if (weight.std(dim=1) > 1e-4).any():
            raise Mismatch("the interpolation weight changes within an image",
                           expected="one eps per image, the same for all its pixels: eps of shape (B, 1, 1, 1)",
                           got=f"weights from {weight[0].min():.2f} to {weight[0].max():.2f} inside the first image",
                           likely="eps drawn per pixel (torch.rand_like(x_real)): the points are then not on the line "
                                  "between the two images. Draw torch.rand(len(x_real), 1, 1, 1).",
                           key="per_pixel_eps")
        per_image = weight.mean(dim=1)
        if per_image.std() < 1e-6:
            raise Mismatch("every image got the same interpolation weight", expected="a new eps ~ U[0, 1] per image",
                           got=f"eps = {per_image[0]:.3f} for all {len(per_image)} images", key="one_eps",
                           likely="draw B weights, one per image: torch.rand(len(x_real), 1, 1, 1).")
        if (per_image < -1e-6).any() or (per_image > 1 + 1e-6).any():
            raise Mismatch("points off the segment between the images", expected="eps in [0, 1]",
                           got=f"eps from {per_image.min():.2f} to {per_image.max():.2f}", key="eps_range",
                           likely="eps ~ U[0, 1]: torch.rand, not torch.randn.")
        if not (isinstance(gp, torch.Tensor) and gp.requires_grad):
            raise Mismatch("the penalty cannot train the critic",
                           expected="a tensor that backpropagates to D's weights",
                           got=describe(gp), key="no_create_graph",
                           likely="torch.autograd.grad(..., create_graph=True): the penalty depends on D's weights "
                                  "through the gradient, and D is trained on it.")
        gp.backward()
        if critic.w.grad is None or not critic.w.grad.any():
            raise Mismatch("no gradient reached the critic's weights", expected="a gradient on w", got="none",
                           likely="create_graph=True in torch.autograd.grad.", key="no_create_graph")
        torch.manual_seed(0)
        conv_critic = DCGANDiscriminator(img_size=16, channels=1, features=4, norm="layer")
        real, fake = _images(gen, 4, (1, 16, 16)), _images(gen, 4, (1, 16, 16))
        same_eps = torch.Generator().manual_seed(1)
        theirs = as_float(call(gradient_penalty_inline, conv_critic, real, fake, generator=same_eps), "the penalty")
        ours = gradient_penalty(conv_critic, real, fake, generator=torch.Generator().manual_seed(1)).item()
        if not close(theirs, ours, rtol=1e-4):
            key, likely = "package", ("draw eps with torch.rand(len(x_real), 1, 1, 1, generator=generator), "
                                      "then x_hat = eps * x_real + (1 - eps) * x_fake; D(x_hat).sum(); norm over "
                                      "flatten(1).")
            for name, (candidate, explanation) in _reduction_variants(conv_critic, real, fake).items():
                if close(theirs, candidate, rtol=1e-4):
                    key, likely = name, explanation
                    break
            raise Mismatch("differs from the package's gradient_penalty on a LayerNorm critic, with the same eps",
                           expected=f"{ours:.6f}", got=f"{theirs:.6f}", key=key, likely=likely)
        return ("exactly 4 for a linear critic with |w| = 3; one eps in [0, 1] per image; trains the critic "
                "(create_graph); and equals the package's gradient_penalty on a LayerNorm critic.")

    return run_check("gradient_penalty_inline", body, diagnose=_gp_diagnosis)


def _power_diagnosis(err: BaseException):
    text = str(err)
    if "shape" in text or "size" in text:
        return "transpose", ("v lives in W's input space (W.shape[1] numbers): v = W.T @ u, then u = W @ v.")
    return None


def check_power_iteration(power_iteration_step):
    """One step against the paper's Algorithm 1, then 300 steps against the largest singular value."""

    def body() -> str:
        gen = torch.Generator().manual_seed(0)
        W = torch.randn(24, 40, generator=gen, dtype=torch.float64) / 6
        u0 = F.normalize(torch.randn(24, generator=gen, dtype=torch.float64), dim=0)
        out = call(power_iteration_step, W, u0)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise Mismatch("power_iteration_step returned something else than (u, v, sigma)", expected="a tuple of 3",
                           got=describe(out), likely="end with `return u, v, sigma`.", key="returns")
        u, v, sigma = out
        v_want = F.normalize(W.T @ u0, dim=0)
        u_want = F.normalize(W @ v_want, dim=0)
        if not (isinstance(u, torch.Tensor) and isinstance(v, torch.Tensor)) or u.shape != (24,) or v.shape != (40,):
            raise Mismatch("u and v have the wrong shapes",
                           expected="u of shape (24,) and v of shape (40,) for W (24, 40)",
                           got=f"{describe(u)} and {describe(v)}", key="order",
                           likely="return u (W's output space) first, then v (its input space), then sigma.")
        if not (close(u.norm().item(), 1.0) and close(v.norm().item(), 1.0)):
            raise Mismatch("u and v are not unit vectors", expected="|u| = |v| = 1",
                           got=f"|u| = {u.norm():.4f}, |v| = {v.norm():.4f}", key="not_normalised",
                           likely="normalise after each product: F.normalize(W.T @ u, dim=0), "
                                  "F.normalize(W @ v, dim=0).")
        if not (torch.allclose(v, v_want, atol=1e-8) and torch.allclose(u, u_want, atol=1e-8)):
            raise Mismatch("u or v differs from one step of Algorithm 1", expected=f"v = {describe(v_want)}",
                           got=f"v = {describe(v)}", key="wrong_step",
                           likely="first v = normalise(W.T @ u) with the u given, then u = normalise(W @ v) "
                                  "with that v.")
        s = as_float(sigma, "sigma")
        want = (u_want @ W @ v_want).item()
        if not close(s, want, rtol=1e-8):
            old = (u0 @ W @ v_want).item()
            key, likely = "sigma", "sigma = u @ W @ v with the NEW u and v."
            if close(s, old, rtol=1e-8):
                key, likely = "old_u", "sigma from the old u: compute it after updating u, sigma = u @ W @ v."
            raise Mismatch("sigma differs from u^T W v", expected=f"{want:.8f}", got=f"{s:.8f}", likely=likely, key=key)
        u = u0
        for _ in range(300):
            u, v, sigma = call(power_iteration_step, W, u)
        exact = torch.linalg.matrix_norm(W, ord=2).item()
        if not close(as_float(sigma, "sigma"), exact, rtol=1e-4):
            raise Mismatch("300 steps do not reach the largest singular value", expected=f"{exact:.6f}",
                           got=f"{as_float(sigma, 'sigma'):.6f}", likely="pass the returned u to the next step.",
                           key="converge")
        return (f"one step equals Algorithm 1 of Miyato et al. (v, then u, then sigma = u W v), and 300 steps reach "
                f"the largest singular value {exact:.5f} (torch.linalg.matrix_norm(W, ord=2)).")

    return run_check("power_iteration_step", body, diagnose=_power_diagnosis)
