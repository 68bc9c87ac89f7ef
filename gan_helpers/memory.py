"""Memory, estimated before it is asked for.

A model too wide for the machine (`--features 100000`), a grid of a billion images (`sample --n`), or a
checkpoint whose recorded sizes were tampered with, would otherwise fail inside torch's allocator with its
own message, or on Linux be killed by the kernel without one. The sizes are cheap to know beforehand: a
model built on torch's "meta" device has the shapes of its tensors but no storage.

    bytes_needed = model_bytes(lambda: build_model(spec))       # nothing allocated
    check_fits(4 * bytes_needed, what="--features 4096", fix="Use a smaller --features.")
"""
from __future__ import annotations

import os
from collections.abc import Callable

import torch
from torch import nn

GB = 1024**3


def available_bytes() -> int | None:
    """The memory a new allocation can have without swapping: MemAvailable on Linux, else the free
    physical pages; None where neither is known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def model_bytes(build: Callable[[], nn.Module | tuple[nn.Module, ...]]) -> int:
    """The bytes of the weights and buffers of what `build()` makes, built on the meta device (no storage)."""
    with torch.device("meta"):
        built = build()
    models = built if isinstance(built, tuple) else (built,)
    return sum(t.numel() * t.element_size() for m in models for t in [*m.parameters(), *m.buffers()])


def check_fits(needed: int, *, what: str, fix: str) -> None:
    """A MemoryError that says `what` needs `needed` bytes, more than the machine has free, and `fix`."""
    free = available_bytes()
    if free is not None and needed > free:
        raise MemoryError(f"{what} needs about {_gb(needed)} of memory, more than the {_gb(free)} free on this "
                          f"machine. {fix}")


def _gb(size: int) -> str:
    return f"{size / GB:.1f} GB" if size < 100 * GB else f"{size / GB:,.0f} GB"
