"""The losses against their closed forms, and numerical safety on extreme logits."""
import torch

from gan_helpers import d_loss, g_loss, g_loss_minimax

logits_real = torch.tensor([2.0, -1.0, 0.5])
logits_fake = torch.tensor([-3.0, 0.0, 1.5])


def sigmoid(t):
    return 1 / (1 + torch.exp(-t))


def test_d_loss_is_minus_log_likelihood_of_real_and_fake():
    expected = -torch.log(sigmoid(logits_real)).mean() - torch.log(1 - sigmoid(logits_fake)).mean()
    torch.testing.assert_close(d_loss(logits_real, logits_fake), expected)


def test_g_loss_is_non_saturating():
    torch.testing.assert_close(g_loss(logits_fake), -torch.log(sigmoid(logits_fake)).mean())


def test_g_loss_minimax_is_the_original_objective():
    torch.testing.assert_close(g_loss_minimax(logits_fake), torch.log(1 - sigmoid(logits_fake)).mean())


def test_perfect_discriminator_has_loss_near_zero_and_log4_at_chance():
    assert d_loss(torch.full((4,), 20.0), torch.full((4,), -20.0)) < 1e-6
    torch.testing.assert_close(d_loss(torch.zeros(4), torch.zeros(4)), torch.log(torch.tensor(4.0)))


def test_extreme_logits_stay_finite_with_finite_gradients():
    logits = torch.tensor([-200.0, 200.0], requires_grad=True)
    for loss in (d_loss(logits, logits), g_loss(logits), g_loss_minimax(logits)):
        (grad,) = torch.autograd.grad(loss, logits)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()


def test_non_saturating_loss_gives_strong_gradient_when_d_rejects_fakes():
    logit = torch.tensor([-7.0], requires_grad=True)  # D(G(z)) ~ 0.001
    (ns,) = torch.autograd.grad(g_loss(logit), logit)
    (mm,) = torch.autograd.grad(g_loss_minimax(logit), logit)
    assert ns.abs() > 0.99 and mm.abs() < 0.001
