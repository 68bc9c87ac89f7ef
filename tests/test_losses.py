"""The losses against their closed forms, and numerical safety on extreme logits."""
import pytest
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


# --- the hinge and Wasserstein games, label smoothing ---------------------------------------------------------

from gan_helpers import d_loss_hinge, d_loss_wasserstein, g_loss_score, loss_functions  # noqa: E402


def test_hinge_loss_only_counts_scores_inside_the_margin():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-3.0, 0.0, 1.5])
    # real: max(0, 1 - s) = 0, 0.5, 2;  fake: max(0, 1 + s) = 0, 1, 2.5
    torch.testing.assert_close(d_loss_hinge(real, fake), torch.tensor((0 + 0.5 + 2) / 3 + (0 + 1 + 2.5) / 3))
    assert d_loss_hinge(torch.full((3,), 5.0), torch.full((3,), -5.0)) == 0  # beyond the margin: no push


def test_wasserstein_losses_are_differences_of_mean_scores():
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([-1.0, 0.0])
    torch.testing.assert_close(d_loss_wasserstein(real, fake), torch.tensor(-0.5 - 3.0))
    torch.testing.assert_close(g_loss_score(fake), torch.tensor(0.5))


def test_one_sided_label_smoothing_moves_only_the_real_target():
    d_smooth, g = loss_functions("bce", label_smoothing=0.1)
    assert g is g_loss
    expected = (-(0.9 * torch.log(sigmoid(logits_real)) + 0.1 * torch.log(1 - sigmoid(logits_real))).mean()
                - torch.log(1 - sigmoid(logits_fake)).mean())  # fakes keep target 0
    torch.testing.assert_close(d_smooth(logits_real, logits_fake), expected)
    # The smoothed loss is smallest at D(x) = 0.9, not at D(x) -> 1: D cannot grow arbitrarily confident.
    grid = torch.linspace(-6, 6, 1201)
    best = grid[torch.stack([d_smooth(g_.view(1), torch.tensor([-30.0])) for g_ in grid]).argmin()]
    assert abs(sigmoid(best).item() - 0.9) < 0.01


def test_loss_functions_name_the_choices_on_bad_input():
    assert loss_functions("hinge") == (d_loss_hinge, g_loss_score)
    assert loss_functions("wasserstein") == (d_loss_wasserstein, g_loss_score)
    with pytest.raises(ValueError, match="bce, minimax, hinge, wasserstein"):
        loss_functions("lsgan")
    with pytest.raises(ValueError, match="no targets"):
        loss_functions("hinge", label_smoothing=0.1)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        loss_functions("bce", label_smoothing=1.0)
