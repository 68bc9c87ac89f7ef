"""Checks for chapter 06's exercises: the Fréchet distance, class coverage, and precision and recall.

    check_frechet_distance(fid_inline)   fid_inline(features_a, features_b) -> float
    check_coverage(coverage)             coverage(predicted, num_classes=10, threshold=0.01)
                                         -> (classes covered, normalised entropy)
    check_precision_recall(precision_recall_inline)
                                         precision_recall_inline(real, fake, k=3) -> (precision, recall)
"""
from __future__ import annotations

import math

import torch

from ..metrics import frechet_distance, mode_coverage, precision_recall
from .report import Mismatch, as_float, call, close, describe, run_check


def _stats(x: torch.Tensor, *, unbiased: bool = True):
    mu = x.mean(0)
    return mu, (x - mu).T @ (x - mu) / (len(x) - (1 if unbiased else 0))


def _fid_variants(a: torch.Tensor, b: torch.Tensor) -> dict[str, tuple[float, str]]:
    (mu_a, S_a), (mu_b, S_b) = _stats(a), _stats(b)
    cross = torch.linalg.eigvals(S_a @ S_b).real.clamp(min=0).sqrt().sum()
    mean_term = (mu_a - mu_b).square().sum()
    right = (mean_term + S_a.trace() + S_b.trace() - 2 * cross).item()
    (_, B_a), (_, B_b) = _stats(a, unbiased=False), _stats(b, unbiased=False)
    biased = (mean_term + B_a.trace() + B_b.trace() - 2 * torch.linalg.eigvals(B_a @ B_b).real.clamp(min=0)
              .sqrt().sum()).item()
    return {
        "no_factor_2": ((mean_term + S_a.trace() + S_b.trace() - cross).item(),
                        "the cross term counts twice: - 2 Tr((S_a S_b)^(1/2))."),
        "mean_not_squared": (((mu_a - mu_b).norm() + S_a.trace() + S_b.trace() - 2 * cross).item(),
                             "the first term is the SQUARED distance of the means: .square().sum(), not .norm()."),
        "elementwise_sqrt": ((mean_term + S_a.trace() + S_b.trace() - 2 * (S_a @ S_b).sqrt().trace()).item(),
                             "(S_a S_b)^(1/2) is a MATRIX square root: sum the square roots of the eigenvalues of "
                             "S_a @ S_b (torch.linalg.eigvals(...).real.clamp(min=0).sqrt().sum()), not .sqrt() of "
                             "each entry."),
        "sqrt_of_result": (math.sqrt(max(right, 0.0)), "FID is the squared distance: do not take its root."),
        "biased_cov": (biased, "the covariance divides by N - 1 (the unbiased estimate), as the package does."),
    }


def check_frechet_distance(fid_inline):
    """fid_inline(a, b) on a closed form (1-D Gaussians), three properties, and the package's frechet_distance."""

    def body() -> str:
        gen = torch.Generator().manual_seed(0)
        a1 = 1 + 2 * torch.randn(100_000, 1, generator=gen, dtype=torch.float64)
        b1 = 3 + 3 * torch.randn(100_000, 1, generator=gen, dtype=torch.float64)
        mixing = torch.randn(16, 16, generator=gen, dtype=torch.float64)
        x = torch.randn(600, 16, generator=gen, dtype=torch.float64) @ mixing
        y = 0.5 + torch.randn(500, 16, generator=gen, dtype=torch.float64) @ (0.8 * mixing)
        got = as_float(call(fid_inline, x, y), "fid_inline(x, y)")
        want = frechet_distance(x, y)
        if math.isnan(got):
            raise Mismatch("NaN between two sets of correlated features", expected=f"{want:.4f}", got="nan",
                           key="elementwise_sqrt",
                           likely="(S_a S_b)^(1/2) is a MATRIX square root: sum the square roots of the eigenvalues "
                                  "of S_a @ S_b (torch.linalg.eigvals(...).real.clamp(min=0).sqrt().sum()), not "
                                  ".sqrt() of each entry.")
        if not close(got, want, rtol=1e-5):
            key, likely = "wrong", ("|mu_a - mu_b|^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2)), S the unbiased "
                                    "covariances.")
            for name, (value, explanation) in _fid_variants(x, y).items():
                if close(got, value, rtol=1e-5):
                    key, likely = name, explanation
                    break
            raise Mismatch("differs from the package's frechet_distance on correlated 16-D features",
                           expected=f"{want:.6f}", got=f"{got:.6f}", likely=likely, key=key)
        one_d = as_float(call(fid_inline, a1, b1), "fid_inline")
        if abs(one_d - 5.0) > 0.15:
            raise Mismatch("N(1, 2^2) against N(3, 3^2), 100,000 samples each",
                           expected="about 5 = (1 - 3)^2 + (2 - 3)^2",
                           got=f"{one_d:.4f}", likely="features of shape (N, d): the mean over dim 0.", key="one_d")
        same = as_float(call(fid_inline, x, x), "fid_inline(x, x)")
        shift = torch.linspace(-1, 1, 16, dtype=torch.float64)
        shifted = as_float(call(fid_inline, x, x + shift), "fid_inline(x, x + c)")
        if abs(same) > 1e-6 or not close(shifted, shift.square().sum().item(), rtol=1e-5):
            raise Mismatch("a set against itself, or against itself shifted by c",
                           expected=f"0 and |c|^2 = {shift.square().sum().item():.4f}",
                           got=f"{same:.3g} and {shifted:.6f}",
                           likely="check the cross term: for identical sets it equals Tr(S).", key="properties")
        return (f"equals frechet_distance ({want:.3f}) on correlated features, gives {one_d:.3f} for N(1, 2^2) against "
                "N(3, 3^2) (exactly 5 in the limit), 0 for a set against itself, and |c|^2 for a shift by c.")

    return run_check("fid_inline", body)


def check_coverage(coverage):
    """coverage(predicted, num_classes, threshold) against the package's mode_coverage."""

    def body() -> str:
        cases = {
            "every digit equally often": torch.arange(1000) % 10,
            "only 1s and 7s": torch.tensor([1, 7] * 250),
            "one digit": torch.full((300,), 4),
            "a digit at 0.5%": torch.cat([torch.arange(990) % 9, torch.full((5,), 9)]),
        }
        for name, predicted in cases.items():
            out = call(coverage, predicted, 10, 0.01)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise Mismatch("coverage returned something else than (classes covered, entropy)",
                               expected="a tuple of 2", got=describe(out), likely="return covered, entropy",
                               key="returns")
            want = mode_coverage(predicted, 10, threshold=0.01)
            covered, entropy = int(as_float(out[0], "classes covered")), as_float(out[1], "entropy")
            if math.isnan(entropy):
                raise Mismatch(f"entropy NaN for {name}", expected=f"{want.entropy:.4f}", got="nan",
                               key="zero_log_zero",
                               likely="0 log 0 is NaN in floating point: sum only over the classes with p > 0.")
            if covered != want.classes_covered:
                key, likely = "covered", "count the classes with p_k >= threshold."
                if covered == sum(c > 0 for c in want.counts):
                    key, likely = "no_threshold", "a class counts as covered only from 1% of the samples (threshold)."
                raise Mismatch(f"classes covered for {name}", expected=str(want.classes_covered), got=str(covered),
                               likely=likely, key=key)
            if not close(entropy, want.entropy, atol=1e-6):
                key, likely = "entropy", "H = -sum p_k log p_k / log(num_classes)."
                if close(entropy, want.entropy * math.log(10), atol=1e-6):
                    key, likely = "not_normalised", "divide by log(num_classes), so that 10 equal classes give 1."
                elif close(entropy, -want.entropy, atol=1e-6) and want.entropy > 0:
                    key, likely = "sign", "the minus sign: H = -sum p_k log p_k is positive."
                raise Mismatch(f"entropy for {name}", expected=f"{want.entropy:.4f}", got=f"{entropy:.4f}",
                               likely=likely, key=key)
        predicted = torch.arange(300) % 3                  # another classifier: 3 classes, all equally often
        out = call(coverage, predicted, 3, 0.01)
        want = mode_coverage(predicted, 3, threshold=0.01)
        got = (int(as_float(out[0], "classes covered")), as_float(out[1], "entropy")) if (
            isinstance(out, tuple) and len(out) == 2) else None
        if got is None or got[0] != want.classes_covered or not close(got[1], want.entropy, atol=1e-6):
            raise Mismatch("wrong for 3 classes, each a third of the samples (num_classes=3)",
                           expected=f"({want.classes_covered}, {want.entropy:.4f})", got=describe(out),
                           key="ten_classes", likely="num_classes is an argument: use it (bincount's minlength, "
                                                     "log(num_classes)) instead of 10.")
        return ("classes covered and the normalised entropy equal mode_coverage's for an even, a collapsed, a "
                "one-digit and a nearly missing digit's set (0.5%, below the 1% threshold), and for 3 classes.")

    return run_check("coverage", body)


def _pr_slips(real: torch.Tensor, fake: torch.Tensor, k: int) -> dict[str, tuple[tuple[float, float], str]]:
    """(precision, recall) that the usual slips give, and what each slip is: each is the package's
    precision_recall with another k, or its two numbers swapped."""
    right, with_k_minus_1, with_3 = (precision_recall(real, fake, k=kk) for kk in (k, k - 1, 3))
    return {
        "counts_itself": ((with_k_minus_1.precision, with_k_minus_1.recall),   # its own 0 taken as a neighbour
                          f"each point's distance to itself (0) is the smallest of its row, so the k-th nearest "
                          f"OTHER point is .kthvalue(k + 1, dim=1): here the {k + 1}th value, not the {k}th."),
        "swapped": ((right.recall, right.precision),
                    "precision and recall are swapped: precision is the fraction of FAKES inside the real manifold "
                    "(balls around the real features), recall the fraction of REALS inside the fake manifold."),
        "k_fixed": ((with_3.precision, with_3.recall),
                    "k is an argument: use it (kthvalue(k + 1)) instead of a fixed 3."),
    }


def check_precision_recall(precision_recall_inline):
    """precision_recall_inline(real, fake, k) against the package's precision_recall, on features where the usual
    slips (a point counted as its own neighbour, precision and recall swapped, k ignored) give other answers."""

    def body() -> str:
        gen = torch.Generator().manual_seed(0)
        real = torch.randn(400, 8, generator=gen, dtype=torch.float64)
        fake = torch.cat([torch.randn(200, 8, generator=gen, dtype=torch.float64) * 0.6,           # a part of the data
                          torch.randn(100, 8, generator=gen, dtype=torch.float64) + 2.5])          # and some off it
        for k in (3, 5):
            out = call(precision_recall_inline, real, fake, k)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise Mismatch("precision_recall_inline returned something else than (precision, recall)",
                               expected="a tuple of 2 floats", got=describe(out), likely="return precision, recall",
                               key="returns")
            got = (as_float(out[0], "precision"), as_float(out[1], "recall"))
            want = precision_recall(real, fake, k=k)
            one_point = 1.5 / min(len(real), len(fake))                   # rounding may move one point across
            if close(got[0], want.precision, atol=one_point) and close(got[1], want.recall, atol=one_point):
                continue
            key, likely = "wrong", ("precision: the fraction of fakes within radius r_k of some real feature; recall: "
                                    "the same with the roles swapped; r_k: distance to the k-th nearest other point.")
            for name, (values, explanation) in _pr_slips(real, fake, k).items():
                if name == "k_fixed" and k == 3:
                    continue
                if close(got[0], values[0], atol=one_point) and close(got[1], values[1], atol=one_point):
                    key, likely = name, explanation
                    break
            raise Mismatch(f"(precision, recall) with k={k}, 400 real and 300 fake features",
                           expected=f"({want.precision:.4f}, {want.recall:.4f})", got=f"({got[0]:.4f}, {got[1]:.4f})",
                           likely=likely, key=key)
        return (f"equals the package's precision_recall for k = 3 and k = 5 ({want.precision:.3f}, {want.recall:.3f} "
                "with k = 5) on a fake set that covers part of the real data and adds some points off it.")

    return run_check("precision_recall", body)
