"""Choosing where to train."""
from __future__ import annotations

import torch

from .advice import advise
from .distributed import launched, local_rank

DEVICES = ("cuda", "mps", "cpu")   # what fit trains on


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """Return `preferred` if given (a ValueError says why it cannot be used here), else the first
    available of cuda, mps, cpu. Under torchrun, "cuda" is this process's own GPU, cuda:LOCAL_RANK."""
    if preferred is not None:
        device = _available(preferred)
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    else:
        device = torch.device("mps" if _mps_available() else "cpu")
    if device.type == "cuda" and device.index is None and launched():
        device = _available(f"cuda:{local_rank()}")   # one GPU per process
    return device


def _available(preferred: str | torch.device) -> torch.device:
    try:
        device = torch.device(preferred)
    except (RuntimeError, TypeError):                   # 'tpu', '', 'cuda:x'
        device = None
    if device is None or device.type not in DEVICES:
        raise advise(ValueError(f"device={str(preferred)!r}: fit trains on cuda, mps or cpu ('cuda:1' for a second "
                                "GPU); or pass device=None for the best available."),
                     cli=f"--device {str(preferred)!r}: use cuda, mps or cpu (cuda:1 for a second GPU), or leave "
                         "--device out for the best available.")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise _missing("cuda", "no CUDA GPU. On Colab: Runtime > Change runtime type > GPU.")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise _missing(str(device), f"only {torch.cuda.device_count()} GPU(s), numbered from 0.")
    if device.type == "mps" and not _mps_available():
        raise _missing("mps", "no MPS (the GPU of an Apple-silicon Mac).")
    return device


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def _missing(name: str, what: str) -> ValueError:
    asked = f"device='{name}' was asked for, but torch sees {what}"
    return advise(ValueError(f"{asked} Or pass device=None for the best available."),
                  cli=f"--device {name} was asked for, but torch sees {what} Or leave --device out for the best "
                      "available.")
