"""Check for chapter 03's exercise: one step of Adam written out, against torch.optim.Adam.

    check_adam_step(adam_step)   adam_step(theta, grad, m, v, t, *, lr, beta1, beta2, eps) -> (theta, m, v)
"""
from __future__ import annotations

import torch

from .report import Mismatch, call, describe, run_check

SETTINGS = [dict(lr=2e-4, beta1=0.5, beta2=0.999), dict(lr=1e-3, beta1=0.9, beta2=0.999)]


def _variant(theta, grad, m, v, t, *, lr, beta1, beta2, eps=1e-8, bias_correction=True, eps_at="denominator",
             sign=1.0):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = (m / (1 - beta1**t), v / (1 - beta2**t)) if bias_correction else (m, v)
    if eps_at == "theta":                                  # theta - lr * m_hat / sqrt(v_hat) + eps
        return theta - sign * lr * m_hat / v_hat.sqrt() + eps, m, v
    step = {"denominator": m_hat / (v_hat.sqrt() + eps), "inside": m_hat / (v_hat + eps).sqrt(),
            "step": m_hat / v_hat.sqrt() + eps}[eps_at]    # "step": lr * (m_hat / sqrt(v_hat) + eps)
    return theta - sign * lr * step, m, v


WRONG = {  # key: (changes to the right update, likely mistake)
    "no_bias_correction": (dict(bias_correction=False),
                           "the bias correction: m_hat = m / (1 - beta1**t) and v_hat = v / (1 - beta2**t), with t "
                           "counting from 1. Without it the first steps are far too large (m and v start at 0)."),
    "eps_inside": (dict(eps_at="inside"), "eps goes outside the root: sqrt(v_hat) + eps."),
    "eps_precedence": (dict(eps_at="step"), "eps is added to the fraction, not to its denominator: "
                       "m_hat / v_hat.sqrt() + eps divides first. Write m_hat / (v_hat.sqrt() + eps), with the "
                       "parentheses; without them a weight whose gradient is 0 gets 0 / 0 = NaN."),
    "eps_on_theta": (dict(eps_at="theta"), "eps is added to theta: theta - lr * m_hat / v_hat.sqrt() + eps divides "
                     "first and adds eps last. Write theta - lr * m_hat / (v_hat.sqrt() + eps), with the parentheses."),
    "sign": (dict(sign=-1.0), "the sign: Adam steps AGAINST the gradient, theta - lr * m_hat / (...)."),
}


def _gradients(n_steps: int, shape=(5,)) -> list[torch.Tensor]:
    """Small random gradients, and 0 for the first weight (one that gets no gradient, as in real networks)."""
    gen = torch.Generator().manual_seed(3)
    grads = [1e-3 * torch.randn(shape, generator=gen, dtype=torch.float64) for _ in range(n_steps)]
    for g in grads:
        g[0] = 0.0
    return grads


def _difference(got, want: torch.Tensor) -> str:
    """Where and by how much got differs from want: the numbers shown may agree to the digits printed."""
    got = torch.as_tensor(got, dtype=torch.float64)
    if got.shape != want.shape:
        return f"shape {tuple(got.shape)} instead of {tuple(want.shape)}"
    nan = torch.isnan(got)
    if nan.any():
        return f"NaN at weight {nan.nonzero()[0].item()}"
    diff = (got - want).abs()
    return f"largest difference {diff.max().item():.3g}, at weight {diff.argmax().item()}"


def check_adam_step(adam_step):
    """Five steps of the learner's Adam against torch.optim.Adam, with the DCGAN's and PyTorch's settings."""

    def body() -> str:
        grads = _gradients(5)
        for adam in SETTINGS:
            weight = torch.nn.Parameter(torch.linspace(-1, 1, 5, dtype=torch.float64))
            torch_adam = torch.optim.Adam([weight], lr=adam["lr"], betas=(adam["beta1"], adam["beta2"]), eps=1e-8)
            theta = weight.detach().clone()
            m, v = torch.zeros_like(theta), torch.zeros_like(theta)
            wrong = {key: (theta.clone(), m.clone(), v.clone()) for key in WRONG}
            for t, g in enumerate(grads, start=1):
                weight.grad = g.clone()
                torch_adam.step()
                out = call(adam_step, theta, g, m, v, t, eps=1e-8, **adam)
                if not (isinstance(out, tuple) and len(out) == 3):
                    raise Mismatch("adam_step returned something else than (theta, m, v)", expected="a tuple of 3",
                                   got=describe(out), likely="end with `return theta, m, v`.", key="returns")
                theta, m, v = out
                wrong = {key: _variant(w[0], g, w[1], w[2], t, eps=1e-8, **adam, **WRONG[key][0])
                         for key, w in wrong.items()}
                if not torch.allclose(torch.as_tensor(theta, dtype=torch.float64), weight.detach(), rtol=1e-9,
                                      atol=1e-12):
                    key, likely = "wrong", ("m = beta1 * m + (1 - beta1) * grad, "
                                            "v = beta2 * v + (1 - beta2) * grad**2, "
                                            "then the bias corrections, then theta - lr * m_hat / (sqrt(v_hat) + eps).")
                    for name, (candidate, _, _) in wrong.items():
                        if torch.allclose(torch.as_tensor(theta, dtype=torch.float64), candidate, rtol=1e-9,
                                          atol=1e-12, equal_nan=True):
                            key, likely = name, WRONG[name][1]
                            break
                    setting = f"lr {adam['lr']}, beta1 {adam['beta1']}"
                    raise Mismatch(f"theta after step {t} ({setting}) differs from torch.optim.Adam's "
                                   f"(the first weight gets no gradient)", expected=describe(weight.detach()),
                                   got=f"{describe(theta)}; {_difference(theta, weight.detach())}",
                                   likely=likely, key=key)
        moved = (weight.detach() - torch.linspace(-1, 1, 5, dtype=torch.float64)).abs().max().item()
        return ("five steps equal torch.optim.Adam's with lr 2e-4, beta1 0.5 and with lr 1e-3, beta1 0.9 "
                f"(each step moves a weight by about lr: {moved:.1e} after 5 steps of lr 1e-3).")

    return run_check("adam_step", body)
