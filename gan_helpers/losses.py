r"""The GAN losses of Goodfellow et al. (2014), written on discriminator logits.

D and G play the minimax game

    min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],    D(x) = sigmoid(logit(x)).

The discriminator maximises V, so it minimises

    loss_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]

which is binary cross-entropy with label 1 for real and 0 for fake images. Early in training
D(G(z)) is close to 0, where log(1 - D(G(z))) is flat and gives G almost no gradient. So G
minimises the non-saturating loss instead (same fixed point, strong gradients early on):

    loss_G = -E_z[log D(G(z))]

Both are computed with `binary_cross_entropy_with_logits`, which folds the sigmoid into the
log (log-sum-exp), so it never takes log(0) and is safe under autocast, unlike
`Sigmoid` followed by `BCELoss`.

Three other games, where D returns a score rather than a logit:

    hinge (Lim and Ye 2017; SNGAN, BigGAN):
        loss_D = E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))]      loss_G = -E_z[D(G(z))]
    Wasserstein (Arjovsky et al. 2017), D is then called the critic:
        loss_D = E_z[D(G(z))] - E_x[D(x)]                              loss_G = -E_z[D(G(z))]

    least squares (Mao et al. 2017; CycleGAN): D regresses real images to 1 and fakes to 0
        loss_D = 1/2 (E_x[(D(x) - 1)^2] + E_z[D(G(z))^2])            loss_G = E_z[(D(G(z)) - 1)^2]
    A squared error keeps pulling fakes that D already calls real but that lie far from the real
    images, where the sigmoid of BCE has gone flat; the CycleGAN paper found it steadier.

-loss_D of the Wasserstein critic estimates the distance between the real and the generated
distributions only when D is 1-Lipschitz; WGAN-GP adds a gradient penalty for that (penalty.py).

One-sided label smoothing (Salimans et al. 2016) trains D towards 1 - s instead of 1 on real
images (fakes stay at 0), so D cannot grow arbitrarily confident: `d_loss(..., real_label=0.9)`.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, *, real_label: float = 1.0) -> torch.Tensor:
    """loss_D = -E[log D(x_real)] - E[log(1 - D(x_fake))], from D's logits.
    real_label < 1: one-sided label smoothing (the target for real images; fakes keep 0)."""
    loss_real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_label))
    loss_fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return loss_real + loss_fake


def g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss, loss_G = -E[log D(G(z))], from D's logits."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def g_loss_minimax(fake_logits: torch.Tensor) -> torch.Tensor:
    """The original (saturating) generator loss, E[log(1 - D(G(z)))], to compare gradients with.

    log(1 - sigmoid(l)) = -softplus(l), so this is -E[softplus(l)].
    """
    return -F.softplus(fake_logits).mean()


def d_loss_hinge(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """loss_D = E[max(0, 1 - D(x_real))] + E[max(0, 1 + D(x_fake))]: no reward beyond a margin of 1."""
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def d_loss_wasserstein(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """loss_D = E[D(x_fake)] - E[D(x_real)]: the critic pushes real scores up and fake scores down."""
    return fake_scores.mean() - real_scores.mean()


def g_loss_score(fake_scores: torch.Tensor) -> torch.Tensor:
    """loss_G = -E[D(G(z))], the generator loss of both the hinge and the Wasserstein game."""
    return -fake_scores.mean()


def d_loss_least_squares(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """loss_D = 1/2 (E[(D(x_real) - 1)^2] + E[D(x_fake)^2]): real images regressed to 1, fakes to 0, the sum
    halved as in the CycleGAN paper (D learns at half G's rate)."""
    return 0.5 * ((real_scores - 1).square().mean() + fake_scores.square().mean())


def g_loss_least_squares(fake_scores: torch.Tensor) -> torch.Tensor:
    """loss_G = E[(D(x_fake) - 1)^2]: G pushes D's score of its images towards the real images' 1."""
    return (fake_scores - 1).square().mean()


LOSSES: dict[str, tuple[Callable, Callable]] = {  # name -> (d_loss_fn, g_loss_fn)
    "bce": (d_loss, g_loss),
    "minimax": (d_loss, g_loss_minimax),   # the saturating original: G's gradient vanishes when D wins
    "hinge": (d_loss_hinge, g_loss_score),
    "wasserstein": (d_loss_wasserstein, g_loss_score),
    "least-squares": (d_loss_least_squares, g_loss_least_squares),
}


def loss_functions(name: str = "bce", *, label_smoothing: float = 0.0) -> tuple[Callable, Callable]:
    """(d_loss_fn, g_loss_fn) of the game `name` in LOSSES; label_smoothing s trains D towards 1 - s on
    real images (the "bce" and "minimax" games only)."""
    if name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}: choose one of {', '.join(LOSSES)}.")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing} (0.1 is usual).")
    if label_smoothing and name not in ("bce", "minimax"):
        raise ValueError(f"label_smoothing changes the BCE target of real images; the {name!r} loss has no "
                         "targets. Use loss='bce', or label_smoothing=0.")
    d_loss_fn, g_loss_fn = LOSSES[name]
    return (partial(d_loss_fn, real_label=1.0 - label_smoothing) if label_smoothing else d_loss_fn), g_loss_fn
