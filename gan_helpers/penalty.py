r"""Gradient penalties on D: WGAN-GP's (Gulrajani et al. 2017) and R1 (Mescheder et al. 2018).

WGAN-GP, "Improved Training of Wasserstein GANs":

The Wasserstein critic D must be 1-Lipschitz. An optimal critic has gradient norm 1 almost
everywhere on the lines between real and generated images, so WGAN-GP penalises deviations
from 1 at random points on those lines:

    x_hat = eps * x_real + (1 - eps) * x_fake,        eps ~ U[0, 1], ONE eps PER IMAGE
    GP    = E[(||grad_x_hat D(x_hat)||_2 - 1)^2],     the norm over ALL of an image's numbers (C, H, W)
    loss_D = E[D(x_fake)] - E[D(x_real)] + lambda * GP,   lambda = 10

Two mistakes are common in public code, and both quietly train something else: drawing eps
per pixel (the points are then not on the line between two images) and taking the norm over
one dimension only (e.g. per row or channel). The tests pin both down.

BatchNorm in the critic makes D(x_hat) of one image depend on the others in the batch, so its
gradient is not a per-image gradient: use norm="layer" (or "instance", "none") in D.

R1, "Which Training Methods for GANs do actually Converge?": a ZERO-centred penalty on the real
images only, for any loss (StyleGAN2 and R3GAN use it with the non-saturating loss):

    R1 = E[||grad_x D(x_real)||_2^2],        loss_D = ... + (gamma / 2) * R1

It pushes D to be flat around the real data, so that D cannot keep G oscillating around it.
Lazy regularisation (StyleGAN2) computes it only every N-th D step, multiplied by N.
"""
from __future__ import annotations

import torch
from torch import nn


def interpolate(x_real: torch.Tensor, x_fake: torch.Tensor, *,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Random points x_hat = eps * x_real + (1 - eps) * x_fake, one eps ~ U[0, 1] per image."""
    if x_real.shape != x_fake.shape:
        raise ValueError(f"x_real {tuple(x_real.shape)} and x_fake {tuple(x_fake.shape)} must have the same shape.")
    eps_shape = (len(x_real),) + (1,) * (x_real.ndim - 1)   # (B, 1, 1, 1): broadcast over C, H, W
    eps = torch.rand(eps_shape, device=x_real.device, dtype=x_real.dtype, generator=generator)
    return eps * x_real + (1 - eps) * x_fake


def gradient_penalty(D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor, labels: torch.Tensor | None = None,
                     *, generator: torch.Generator | None = None) -> torch.Tensor:
    """GP = mean over images of (||grad D(x_hat)|| - 1)^2, differentiable w.r.t. D's weights.

    x_fake is detached: the penalty trains D only. A conditional D is called as D(x_hat, labels).
    """
    x_hat = interpolate(x_real.detach(), x_fake.detach(), generator=generator).requires_grad_(True)
    grad = _input_gradient(D, x_hat, labels)
    norms = grad.flatten(1).norm(2, dim=1)                                 # (B, C, H, W) -> (B,)
    return ((norms - 1) ** 2).mean()


def r1_penalty(D: nn.Module, x_real: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """R1 = mean over real images of ||grad_x D(x_real)||^2 (squared norm over all of an image's numbers),
    differentiable w.r.t. D's weights. A conditional D is called as D(x_real, labels)."""
    grad = _input_gradient(D, x_real.detach().requires_grad_(True), labels)
    return grad.flatten(1).pow(2).sum(dim=1).mean()                       # (B, C, H, W) -> (B,) -> ()


def _input_gradient(D: nn.Module, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """d(sum of D's scores) / dx in float32, kept differentiable (create_graph) so the penalty trains D.
    Each score depends only on its own image, so the gradient of the sum is every image's own gradient.

    Under autocast (precision.py) D's layers compute this gradient in the 16-bit type. It is not
    multiplied by float16's loss scale first, as PyTorch's AMP example does: an image's gradient is of
    order 1e-3 to 1 per pixel, well inside float16's range, while 65536 times it overflowed through a
    DCGAN's D on its first step (a NaN penalty). The weights' gradients of the whole loss are scaled."""
    scores = (D(x) if labels is None else D(x, labels)).float()
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.float()
