"""Verdicts on how a training run turned out: checks that teach instead of crashing.

A notebook's `assert` states a fact that must hold whatever the run did: a shape, a range, a closed
form. When one fails, something is broken. Whether training went *well* is another kind of statement:
a healthy run on another machine, GPU or seed can land somewhere else, and an AssertionError would
look like a bug. `verdict` prints such an outcome instead, with the numbers, what they mean, and, when
they differ from the course's runs, what to try. It never stops the notebook.

    verdict("FID fell over the run", fid[-1] < 0.8 * fid[0], numbers=f"{fid[0]:.0f} -> {fid[-1]:.0f}",
            meaning="the samples got measurably closer to real digits", advice="train for more epochs")
"""
from __future__ import annotations

import textwrap

from .config import fast_mode

WIDTH = 100


def verdict(claim: str, holds: bool, *, numbers: str, meaning: str, advice: str) -> bool:
    """Print whether `claim` holds in this run (with `numbers`), what it means, and `advice` when it does
    not. Returns `holds`. In fast mode (GAN_FAST=1) the line says that so short a run shows nothing."""
    holds = bool(holds)
    head = (f"As in the course's runs: {claim} ({numbers})." if holds
            else f"Not in this run: {claim} ({numbers}).")
    lines = [("✔ " if holds else "✘ ") + head, meaning]
    if not holds:
        lines.append(f"What to try: {advice}")
    if fast_mode():
        lines.append("(Fast mode: a few training steps cannot show this; the verdict only shows the check.)")
    print("\n".join(textwrap.fill(line, WIDTH, initial_indent="  " * (i > 0), subsequent_indent="  ")
                    for i, line in enumerate(lines)))
    return holds
