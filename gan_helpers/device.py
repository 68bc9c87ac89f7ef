"""Choosing where to train."""
from __future__ import annotations

import torch


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """Return `preferred` if given, else the first available of cuda, mps, cpu."""
    if preferred is not None:
        device = torch.device(preferred)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device='cuda' was asked for, but torch sees no CUDA GPU. "
                               "On Colab: Runtime > Change runtime type > GPU. Or pass device=None.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
