"""Errors that say what to do, in the words of the interface in use.

In a notebook the fix for an interrupted run is `fit(..., resume=True)`; at the command line it is
`--resume`. An error raised as `advise(err, cli=...)` carries both: str(err) gives the Python wording,
and the command line (cli.py) prints `cli_wording(err)`.

    raise advise(ValueError(f"... set TrainConfig(batch_size={n})."), cli=f"... use --batch-size {n}.")
"""
from __future__ import annotations

from typing import TypeVar

E = TypeVar("E", bound=BaseException)


def advise(err: E, *, cli: str) -> E:
    """`err`, with the message a command-line user should read instead of str(err)."""
    err.cli_message = cli
    return err


def cli_wording(err: BaseException) -> str:
    """What to show at the command line: the command line's own wording when the error has one."""
    return getattr(err, "cli_message", None) or str(err)
