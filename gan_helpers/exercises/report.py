"""How an exercise check reports: a verdict that teaches, never a bare AssertionError.

A check runs the learner's function on fixed inputs and compares what comes out with a known answer
(a closed form, or the package). It prints one verdict:

    ✓ d_step: D's weights equal gan_step's after two steps; no gradient reached G.
    ✗ d_step: a gradient reached G in D's update.
        expected: no gradient in G's weights after d_step
        got:      gradients in 4 of G's tensors (norm 0.31)
        likely mistake: x_fake was not detached: use D(x_fake.detach()) in D's loss.
    … d_step: not written yet. <the stub's hint>

and returns a `CheckResult`, which is truthy when the check passed. Inside a check, `call` runs the
learner's code (its errors become verdicts, while a bug in the check itself still raises) and
`Mismatch` stops the check with what was expected, what came out and the likely mistake.
"""
from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import torch

WIDTH = 100
STUB = "not written"        # CheckResult.mistake of a function that still raises NotImplementedError
CRASHED = "raised"          # ... of a function that raised another error that the check does not recognise


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: `passed`, a short key naming the `mistake` it recognised (None when it
    passed), and the `message` it printed."""
    name: str
    passed: bool
    mistake: str | None
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult({self.name!r}, passed={self.passed}, mistake={self.mistake!r})"


class Mismatch(Exception):
    """Raised inside a check: what was compared, expected and got, and the likely mistake.

    key: a short name of the mistake (tests use it to prove that a check recognises a wrong answer)."""

    def __init__(self, what: str, *, expected: str, got: str, likely: str, key: str = "wrong"):
        super().__init__(what)
        self.what, self.expected, self.got, self.likely, self.key = what, expected, got, likely, key


class LearnerError(Exception):
    """The learner's function raised `error` (wrapped by `call`, so that the check can report it)."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


def call(fn: Callable, *args, **kwargs):
    """fn(*args, **kwargs), with any exception it raises wrapped in LearnerError."""
    try:
        return fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - every error of the learner's code becomes a verdict
        raise LearnerError(err) from err


def run_check(name: str, body: Callable[[], str], *,
              diagnose: Callable[[BaseException], tuple[str, str] | None] | None = None) -> CheckResult:
    """Run `body` (which returns what passed, or raises Mismatch or LearnerError) and print the verdict.

    diagnose(error) may name a known mistake behind an error of the learner's code: (key, explanation)."""
    try:
        with torch.random.fork_rng(devices=[]):      # a check leaves the notebook's random numbers as they were
            passed = body()
    except Mismatch as m:
        lines = [f"✗ {name}: {m.what}", f"expected: {m.expected}", f"got:      {m.got}",
                 f"likely mistake: {m.likely}"]
        return _report(CheckResult(name, False, m.key, ""), lines)
    except LearnerError as wrapped:
        err = wrapped.error
        if isinstance(err, NotImplementedError):
            hint = str(err) or "replace the raise NotImplementedError line with your code."
            return _report(CheckResult(name, False, STUB, ""), [f"… {name}: not written yet. Hint: {hint}"])
        known = diagnose(err) if diagnose else None
        key, likely = known or (CRASHED, "read the error above the line that raised it; the hint in the "
                                         "docstring says what each step needs.")
        lines = [f"✗ {name}: your function raised {type(err).__name__}: {_first_line(err)}",
                 f"likely mistake: {likely}"]
        return _report(CheckResult(name, False, key, ""), lines)
    return _report(CheckResult(name, True, None, ""), [f"✓ {name}: {passed}"])


def _report(result: CheckResult, lines: list[str]) -> CheckResult:
    text = "\n".join(textwrap.fill(line, WIDTH, initial_indent="    " * (i > 0), subsequent_indent="    " * (i > 0)
                                   + " " * (10 if line.startswith(("expected:", "got:")) else 0))
                     for i, line in enumerate(lines))
    print(text)
    return CheckResult(result.name, result.passed, result.mistake, text)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else "(no message)"


def describe(value) -> str:
    """A short text for a value the learner returned: a tensor's shape, dtype and first numbers."""
    if isinstance(value, torch.Tensor):
        numbers = value.detach().flatten()[:4].tolist()
        shown = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in numbers)
        more = ", ..." if value.numel() > 4 else ""
        return f"tensor of shape {tuple(value.shape)}, {value.dtype}: [{shown}{more}]"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value)
    return text if len(text) < 120 else text[:117] + "..."


def as_float(value, what: str) -> float:
    """A number the learner returned (a float, int or one-element tensor) as a float, or Mismatch."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise Mismatch(f"{what} is not a number", expected="one number (a float or a tensor with one element)",
                   got=describe(value), likely="return the value itself, not a list or a tensor of many values.",
                   key="not_a_number")


def close(a: float | torch.Tensor, b: float | torch.Tensor, *, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """True when a and b agree within rtol/atol (tensors: every element, and the same shape)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
        return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))
    return abs(a - b) <= atol + rtol * abs(b)
