"""What a checkpoint must hold before anything uses it, checked before a single number is loaded.

A file can pass the format check (checkpoint.py) and still be wrong: a flipped byte on a bad disk or an
interrupted copy changes a weight or a counter without breaking the file; a file edited by hand, or written
by another program, can hold a tensor of the wrong shape, an epoch that is not a number or a random number
generator's state of the wrong size. Loaded as they are, these fail deep inside torch, or worse, do not fail.
So:

    checksum(state)          SHA-256 of every tensor's bytes, shape and dtype and every number and string,
                             stored in the file when it is saved and compared when it is loaded (files written
                             before gan_helpers 0.2 have none and are read as before)
    weights_problems(...)    every tensor a model needs, with its shape; nothing it does not know
    optimizer_problems(...)  the optimizer's moments shaped as its parameters
    counter_problems(state)  epoch, step, batch_in_epoch whole numbers >= 0; the random numbers' states of
                             the size this torch uses; config and history plain dicts

Each *_problems function returns a list of short sentences, empty when all is well.
"""
from __future__ import annotations

import hashlib

import torch
from torch import nn

CHECKSUM = "checksum"        # the key under which save_checkpoint stores checksum(state)


def checksum(state: dict) -> str:
    """'sha256:...' of everything in `state` but its own checksum and the path it was loaded from."""
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in state.items() if k not in (CHECKSUM, "path")})
    return f"sha256:{digest.hexdigest()}"


def _feed(digest, value) -> None:
    """Add `value` to the digest in a form that does not depend on where the tensors are or how dicts were built."""
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        digest.update(f"tensor {t.dtype} {tuple(t.shape)}:".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy())
    elif isinstance(value, dict):
        digest.update(f"dict {len(value)}:".encode())
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__} {len(value)}:".encode())
        for item in value:
            _feed(digest, item)
    else:                                      # numbers, strings, None, bools: repr is exact (floats included)
        digest.update(f"{type(value).__name__} {value!r};".encode())


def weights_problems(name: str, saved, model: nn.Module) -> list[str]:
    """What keeps `saved` from loading into `model`: missing or unknown tensors, other shapes."""
    if not isinstance(saved, dict):
        return [f"{name} is a {type(saved).__name__}, not a state_dict"]
    expected, problems = model.state_dict(), []
    if missing := [k for k in expected if k not in saved]:
        problems.append(f"{name} lacks {_few(missing)}")
    if unknown := [k for k in saved if k not in expected]:
        problems.append(f"{name} holds {_few(unknown)}, which {type(model).__name__} does not have")
    for key in expected.keys() & saved.keys():
        if not isinstance(saved[key], torch.Tensor):
            problems.append(f"{name}.{key} is a {type(saved[key]).__name__}, not a tensor")
        elif saved[key].shape != expected[key].shape:
            problems.append(f"{name}.{key} has shape {tuple(saved[key].shape)}, the model needs "
                            f"{tuple(expected[key].shape)}")
    return problems


def optimizer_problems(name: str, saved, opt: torch.optim.Optimizer) -> list[str]:
    """What keeps `saved` from loading into `opt`: other parameter groups, moments of other shapes."""
    if not isinstance(saved, dict) or not isinstance(saved.get("state"), dict) \
            or not isinstance(saved.get("param_groups"), list):
        return [f"{name} is not an optimizer's state_dict (state, param_groups)"]
    params = [p for group in opt.param_groups for p in group["params"]]
    sizes = [len(group["params"]) for group in opt.param_groups]
    saved_sizes = [len(g.get("params", ())) if isinstance(g, dict) else -1 for g in saved["param_groups"]]
    if saved_sizes != sizes:
        return [f"{name} has parameter groups of {saved_sizes} tensors, the optimizer {sizes}"]
    problems = []
    for index, moments in saved["state"].items():
        if not isinstance(index, int) or not 0 <= index < len(params) or not isinstance(moments, dict):
            problems.append(f"{name}'s state names a parameter {index!r} that the model does not have")
            continue
        for key, t in moments.items():
            if isinstance(t, torch.Tensor) and t.ndim and t.shape != params[index].shape:
                problems.append(f"{name}'s {key} of parameter {index} has shape {tuple(t.shape)}, the parameter "
                                f"{tuple(params[index].shape)}")
    return problems


def counter_problems(state: dict, keys: tuple[str, ...]) -> list[str]:
    """The counters, random number states, config and history among `keys`, checked for type and size."""
    problems = []
    for key in ("epoch", "step", "batch_in_epoch"):
        value = state.get(key)
        if key in keys and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            problems.append(f"{key} is {value!r}, not a whole number >= 0")
    for key in ("rng", "rng_epoch_start"):
        if key in keys and (state.get(key) is not None or key == "rng"):
            problems += _rng_problems(key, state.get(key))
    for key in ("config", "history"):
        if key in keys and not isinstance(state.get(key), dict):
            problems.append(f"{key} is a {type(state.get(key)).__name__}, not a dict")
    if "history" in keys and isinstance(state.get("history"), dict):
        if bad := [k for k, v in state["history"].items() if not isinstance(v, (list, tuple))]:
            problems.append(f"history.{bad[0]} is not a list")
    return problems


def _rng_problems(key: str, rng) -> list[str]:
    size = torch.get_rng_state().numel()
    if not isinstance(rng, dict) or not isinstance(rng.get("torch"), torch.Tensor) \
            or not isinstance(rng.get("cuda"), (list, tuple)):
        return [f"{key} is not a random number state ({{'torch': tensor, 'cuda': [...]}})"]
    if rng["torch"].dtype != torch.uint8 or rng["torch"].numel() != size:
        return [f"{key}['torch'] holds {rng['torch'].numel()} {rng['torch'].dtype} values, torch's generator "
                f"{size} uint8"]
    return []


def _few(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
