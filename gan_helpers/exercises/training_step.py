"""Checks for chapter 01's exercises: the two losses from logits, and one training step by hand.

    check_losses(d_loss_from_logits, g_loss_from_logits)
    check_d_step(d_step)     d_step(G, D, opt_D, x_real, z) -> (x_fake, loss_D)
    check_g_step(g_step)     g_step(D, opt_G, x_fake) -> loss_G

The steps are run twice on tiny MLP models from a fixed seed, next to the package's `gan_step` from the
same seed and the same weights, and the weights must come out the same.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from ..losses import d_loss, g_loss, g_loss_minimax
from ..models import MLPDiscriminator, MLPGenerator
from ..step import gan_step
from .report import Mismatch, as_float, call, close, describe, run_check

LATENT_DIM, BATCH = 8, 6


def _match(got: float, candidates: dict[str, tuple[float, str]]) -> tuple[str, str] | None:
    """The (key, explanation) of the wrong formula whose value `got` equals, if any."""
    for key, (value, explanation) in candidates.items():
        if close(got, value, rtol=1e-4, atol=1e-6):
            return key, explanation
    return None


def check_losses(d_loss_from_logits, g_loss_from_logits):
    """loss_D and the non-saturating loss_G from D's logits: against the package on random logits in
    float64, and on very sure logits in float32, where log(sigmoid(l)) breaks."""

    def body() -> str:
        gen = torch.Generator().manual_seed(0)
        real = 3 * torch.randn(1000, dtype=torch.float64, generator=gen)
        fake = 3 * torch.randn(1000, dtype=torch.float64, generator=gen)
        got = as_float(call(d_loss_from_logits, real, fake), "d_loss_from_logits(real_logits, fake_logits)")
        want = d_loss(real, fake).item()
        if not close(got, want):
            known = _match(got, {
                "swapped": (d_loss(fake, real).item(), "the labels are swapped: real images have target 1, "
                                                       "fakes target 0."),
                "half": (want / 2, "loss_D is the SUM of the two terms (real and fake), not their average."),
                "sum": (F.binary_cross_entropy_with_logits(real, torch.ones_like(real), reduction="sum").item()
                        + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake), reduction="sum").item(),
                        "a sum over the batch: each term is a MEAN over the images (.mean())."),
                "real_only": (F.binary_cross_entropy_with_logits(real, torch.ones_like(real)).item(),
                              "only the real images' term: add the fakes' term, target 0."),
            })
            key, likely = known or ("wrong", "compare with the equation: -mean log D(x_real) "
                                             "- mean log(1 - D(x_fake)), with D(x) = sigmoid(logit).")
            raise Mismatch("loss_D differs from the package's d_loss on 1,000 random logits",
                           expected=f"{want:.6f}", got=f"{got:.6f}", likely=likely, key=key)
        got = as_float(call(g_loss_from_logits, fake), "g_loss_from_logits(fake_logits)")
        want = g_loss(fake).item()
        if not close(got, want):
            known = _match(got, {
                "saturating": (g_loss_minimax(fake).item(), "this is the saturating (minimax) loss "
                                                             "log(1 - D(G(z))); G's loss here is -log D(G(z))."),
                "target_zero": (F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)).item(),
                                "G wants D to call its fakes REAL: target 1, not 0."),
                "sign": (-want, "the sign: the loss is -mean log D(G(z)), a positive number."),
            })
            key, likely = known or ("wrong", "the non-saturating loss is -mean log D(G(z)) = BCE with target 1.")
            raise Mismatch("loss_G differs from the package's g_loss on 1,000 random logits",
                           expected=f"{want:.6f}", got=f"{got:.6f}", likely=likely, key=key)
        sure_real, sure_fake = torch.tensor([0.0]), torch.tensor([40.0])  # D is sure a fake is real: logit 40
        got = as_float(call(d_loss_from_logits, sure_real, sure_fake), "d_loss_from_logits")
        want = d_loss(sure_real, sure_fake).item()
        got_g = as_float(call(g_loss_from_logits, torch.tensor([-120.0])), "g_loss_from_logits")  # sure it is fake
        want_g = g_loss(torch.tensor([-120.0])).item()
        if not (close(got, want, rtol=1e-4) and close(got_g, want_g, rtol=1e-4)):
            raise Mismatch("wrong for very sure logits in float32 (fake logit +40 for loss_D, -120 for loss_G)",
                           expected=f"loss_D {want:.2f}, loss_G {want_g:.2f}",
                           got=f"loss_D {got:.4g}, loss_G {got_g:.4g}",
                           likely="log(sigmoid(l)) in float32: sigmoid(40) rounds to 1 and log(1 - 1) = -inf "
                                  "(BCELoss clamps it at 100). Use F.binary_cross_entropy_with_logits on the "
                                  "logits, which never forms the sigmoid.", key="sigmoid_then_log")
        return ("both losses equal the package's on 1,000 random logits, and stay exact for very sure logits "
                "(40 and -120) in float32.")

    return run_check("losses from logits", body)


def _pair(seed: int = 0):
    torch.manual_seed(seed)
    G = MLPGenerator(latent_dim=LATENT_DIM, hidden_dims=(16,), batch_norm=True)
    D = MLPDiscriminator(hidden_dims=(16,))
    return G, D


def _adam(model):
    return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))


def _batches():
    gen = torch.Generator().manual_seed(1)
    return [torch.rand(BATCH, 1, 28, 28, generator=gen) * 2 - 1 for _ in range(2)]


def _weights(model) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def _same(a: dict, b: dict) -> bool:
    return all(torch.allclose(a[k], b[k], rtol=1e-5, atol=1e-7) for k in a)


def _reference():
    """gan_step twice from seeds 100 and 101: (G's weights, D's weights, stats) after each step."""
    G, D = _pair()
    opt_G, opt_D = _adam(G), _adam(D)
    after = []
    for i, x_real in enumerate(_batches()):
        torch.manual_seed(100 + i)                       # gan_step draws z = torch.randn(B, latent_dim)
        stats = gan_step(G, D, opt_G, opt_D, x_real)
        after.append((_weights(G), _weights(D), stats))
    return after


def _their_d_step(d_step, G, D, opt_D, x_real, z):
    out = call(d_step, G, D, opt_D, x_real, z)
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], torch.Tensor)):
        raise Mismatch("d_step returned something else than (x_fake, loss_D)", expected="a tuple (x_fake, loss_D)",
                       got=describe(out), likely="end d_step with `return x_fake, loss_D`.", key="returns")
    return out


def _diagnosis(loss: str):
    """What an error raised inside the learner's step (of `loss`, "loss_D" or "loss_G") most likely means.
    The check's own other half never uses up a graph the learner's step needs (its D step detaches), so a
    second backward through the same graph is the learner's own."""
    def diagnose(err: BaseException):
        if "does not require grad" in str(err):
            if loss == "loss_G":
                return "detached", ("G's loss does not reach G: in G's step, call D(x_fake) without .detach() "
                                    "(and do not compute x_fake under torch.no_grad()).")
            return "detached", ("loss_D has no graph: compute it from D's outputs outside torch.no_grad(), "
                                "detaching only x_fake.")
        if "backward through the graph a second time" in str(err):
            return "double_backward", (f"backward ran twice through the same graph: call {loss}.backward() once, "
                                       f"on the whole loss (a backward on each term and then on their sum goes "
                                       f"through D twice).")
        return None
    return diagnose


def _did_not_move(model, name: str, opt: str, loss: str) -> Mismatch:
    """Why `model`'s weights did not move in its own update, read from the gradients left in them."""
    grads = [p.grad for p in model.parameters()]
    if all(g is None for g in grads):
        key, likely = "detached", (f"no gradient reached {name}: {loss} must be computed from {name}'s output "
                                   f"without .detach() (and outside torch.no_grad()), then {loss}.backward().")
    elif all(g is None or not g.any() for g in grads):
        key, likely = "zeroed_after", f"the gradients are zero: call {opt}.zero_grad() BEFORE {loss}.backward()."
    else:
        key, likely = "no_step", f"the gradients are there, but {opt}.step() was not called after {loss}.backward()."
    return Mismatch(f"{name}'s weights did not move", expected=f"one Adam step on {name}'s weights",
                    got="the same weights as before the update", likely=likely, key=key)


def check_d_step(d_step):
    """D's update by hand: the same D weights as gan_step after two steps, and no gradient into G."""

    def body() -> str:
        reference = _reference()
        G, D = _pair()
        opt_G, opt_D = _adam(G), _adam(D)
        for i, x_real in enumerate(_batches()):
            torch.manual_seed(100 + i)
            z = torch.randn(BATCH, LATENT_DIM)
            G.zero_grad(set_to_none=True)                # G's step below sets them again
            G_before, D_before = _weights(G), _weights(D)
            G_start, D_start = copy.deepcopy(G), copy.deepcopy(D)      # to name a wrong loss_D below
            x_fake, loss_D = _their_d_step(d_step, G, D, opt_D, x_real, z)
            reached = [name for name, p in G.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0]
            if reached:
                raise Mismatch("a gradient reached G in D's update",
                               expected="no gradient in G's weights after d_step",
                               got=f"gradients in {len(reached)} of G's tensors ({', '.join(reached[:3])}, ...)",
                               likely="x_fake was not detached: use D(x_fake.detach()) in D's loss, so that "
                                      "loss_D.backward() stops at x_fake.", key="no_detach")
            if not _same(_weights(G), G_before):
                raise Mismatch("G's weights changed in D's update", expected="only D's weights change",
                               got="G's weights moved", likely="d_step must only step opt_D.", key="moved_G")
            if _same(_weights(D), D_before):
                raise _did_not_move(D, "D", "opt_D", "loss_D")
            G_ref, D_ref, stats = reference[i]
            loss = as_float(loss_D, "loss_D")
            if not close(loss, stats.loss_D, rtol=1e-4):
                with torch.no_grad():
                    real_logits, fake_logits = D_start(x_real), D_start(G_start(z))
                known = _match(loss, {
                    "swapped": (d_loss(fake_logits, real_logits).item(),
                                "the logits are swapped: d_loss(real_logits, fake_logits) takes D's logits of the "
                                "real batch first, then those of the fakes."),
                    "sign": (-d_loss(real_logits, fake_logits).item(),
                             "the sign: loss_D = d_loss(...) is already the loss to minimise (a positive number)."),
                    "g_loss": (g_loss(fake_logits).item(), "this is G's loss: D's loss is d_loss(D(x_real), "
                                                           "D(x_fake.detach())), both kinds of image."),
                    "real_only": (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)).item(),
                                  "only the real images' term: d_loss takes the fakes' logits too."),
                })
                key, likely = known or ("wrong_loss", "loss_D = d_loss(D(x_real), D(x_fake.detach())) with x_fake = "
                                                      "G(z) from the z given (real logits first, then fake).")
                raise Mismatch(f"loss_D of step {i + 1} differs from gan_step's", expected=f"{stats.loss_D:.6f}",
                               got=f"{loss:.6f}", key=key, likely=likely)
            if not _same(_weights(D), D_ref):
                raise Mismatch(f"D's weights after step {i + 1} differ from gan_step's",
                               expected="the weights of gan_step from the same seed", got="other weights",
                               likely=("gradients piled up: G's step (run by the check between your D steps) "
                                       "leaves gradients in D's weights, so call opt_D.zero_grad() before "
                                       "loss_D.backward()." if i else "one zero_grad, one backward, one step."),
                               key="no_zero_grad" if i else "wrong_update")
            if not x_fake.requires_grad:
                raise Mismatch("the x_fake returned has no graph", expected="x_fake = G(z), still attached to G",
                               got="a detached tensor", key="returned_detached",
                               likely="detach only inside D's loss: return x_fake itself, G's step needs its graph.")
            loss_G = g_loss(D(x_fake))                   # G's step, as in gan_step
            opt_G.zero_grad(set_to_none=True)
            loss_G.backward()
            opt_G.step()
        return ("D's weights and loss_D equal gan_step's after two steps from the same seed, and no gradient "
                "reached G (detach).")

    return run_check("d_step", body, diagnose=_diagnosis("loss_D"))


def check_g_step(g_step):
    """G's update by hand: the same G weights as gan_step after two steps, and D left alone."""

    def body() -> str:
        reference = _reference()
        G, D = _pair()
        opt_G, opt_D = _adam(G), _adam(D)
        for i, x_real in enumerate(_batches()):
            torch.manual_seed(100 + i)
            z = torch.randn(BATCH, LATENT_DIM)
            x_fake = G(z)                                # D's step, as in gan_step
            loss_D = d_loss(D(x_real), D(x_fake.detach()))
            opt_D.zero_grad(set_to_none=True)
            loss_D.backward()
            opt_D.step()
            G_before, D_before = _weights(G), _weights(D)
            loss_G = call(g_step, D, opt_G, x_fake)
            if not _same(_weights(D), D_before):
                raise Mismatch("D's weights changed in G's update", expected="only G's weights change",
                               got="D's weights moved", likely="g_step must only step opt_G.", key="moved_D")
            if _same(_weights(G), G_before):
                raise _did_not_move(G, "G", "opt_G", "loss_G")
            G_ref, _, stats = reference[i]
            loss = as_float(loss_G, "loss_G")
            if not close(loss, stats.loss_G, rtol=1e-4):
                with torch.no_grad():
                    logits = D(x_fake)
                known = _match(loss, {
                    "saturating": (g_loss_minimax(logits).item(), "this is the saturating loss log(1 - D(G(z))); "
                                                                  "use the non-saturating g_loss(D(x_fake))."),
                    "target_zero": (F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits)).item(),
                                    "G's target is 1 (real): g_loss(D(x_fake)), not D's loss."),
                    "sign": (-g_loss(logits).item(), "the sign: loss_G = g_loss(D(x_fake)) is already the loss G "
                                                     "minimises (a positive number); minus it trains G to lose."),
                })
                key, likely = known or ("wrong_loss", "loss_G = g_loss(D(x_fake)), asking the D that was just updated.")
                raise Mismatch(f"loss_G of step {i + 1} differs from gan_step's", expected=f"{stats.loss_G:.6f}",
                               got=f"{loss:.6f}", likely=likely, key=key)
            if not _same(_weights(G), G_ref):
                raise Mismatch(f"G's weights after step {i + 1} differ from gan_step's",
                               expected="the weights of gan_step from the same seed", got="other weights",
                               likely=("gradients piled up from the previous step: call opt_G.zero_grad() before "
                                       "loss_G.backward()." if i else "one zero_grad, one backward, one step."),
                               key="no_zero_grad" if i else "wrong_update")
        return "G's weights and loss_G equal gan_step's after two steps from the same seed; D was left alone."

    return run_check("g_step", body, diagnose=_diagnosis("loss_G"))

