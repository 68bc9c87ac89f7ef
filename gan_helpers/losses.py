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
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """loss_D = -E[log D(x_real)] - E[log(1 - D(x_fake))], from D's logits."""
    loss_real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
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
