"""Check for chapter 03's exercise: the nearest training image of each generated one.

    check_nearest_in(nearest_in)   nearest_in(queries, block) -> (index (N,), distance (N,))

distance: the mean squared difference over all of an image's numbers (C * H * W), in grey levels squared.
"""
from __future__ import annotations

import torch

from .report import Mismatch, call, describe, run_check


def _brute_force(queries: torch.Tensor, block: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    q, b = queries.flatten(1).double(), block.flatten(1).double()
    d = ((q[:, None, :] - b[None, :, :]) ** 2).mean(dim=2)            # (N, M)
    value, index = d.min(dim=1)
    return index, value


def _cases():
    gen = torch.Generator().manual_seed(5)
    block = torch.randint(0, 256, (40, 3, 8, 8), generator=gen, dtype=torch.uint8)
    queries = torch.randint(0, 256, (6, 3, 8, 8), generator=gen, dtype=torch.uint8)
    queries[0] = block[17]                                               # a copy: distance 0
    queries[1] = (block[3].int() + 2).clamp(0, 255).to(torch.uint8)      # nearly a copy
    return queries, block


def check_nearest_in(nearest_in):
    """nearest_in(queries, block) on uint8 images against a brute-force search in float64."""

    def body() -> str:
        queries, block = _cases()
        out = call(nearest_in, queries, block)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise Mismatch("nearest_in returned something else than (index, distance)", expected="a tuple of 2",
                           got=describe(out), likely="end with `return index, distance`.", key="returns")
        index, distance = (torch.as_tensor(t) for t in out)
        want_index, want_distance = _brute_force(queries, block)
        if index.shape != (len(queries),) or distance.shape != (len(queries),):
            raise Mismatch("wrong shapes", expected=f"index and distance of shape ({len(queries)},)",
                           got=f"{tuple(index.shape)} and {tuple(distance.shape)}", key="shape",
                           likely="one nearest image per query: take .min(dim=1) of the (N, M) distance matrix.")
        distance = distance.double()
        if not torch.allclose(distance, want_distance, rtol=1e-4, atol=0.05):
            q, b = queries.flatten(1), block.flatten(1)
            wrapped = ((q[:, None, :] - b[None, :, :]).double() ** 2).mean(dim=2).min(dim=1).values  # uint8 maths
            candidates = {
                "uint8": (wrapped, "uint8 arithmetic wraps around (3 - 5 = 254): convert to float first, "
                                   "e.g. queries.flatten(1).float()."),
                "sum": (want_distance * q.shape[1], "a sum over the numbers of an image: the distance is their MEAN "
                                                    "(divide by C * H * W)."),
                "sqrt": (want_distance.sqrt(), "the root of the mean (or a Euclidean norm): use the mean squared "
                                               "difference itself."),
                "farthest": (_farthest(queries, block), "the FARTHEST image: take the minimum, not the maximum."),
            }
            key, likely = "wrong", "mean over C, H, W of the squared difference, then the smallest over the block."
            for name, (value, explanation) in candidates.items():
                if torch.allclose(distance, value.double(), rtol=1e-4, atol=0.05):
                    key, likely = name, explanation
                    break
            raise Mismatch("the distances differ from a brute-force search", expected=describe(want_distance),
                           got=describe(distance), likely=likely, key=key)
        if not torch.equal(index.long(), want_index):
            raise Mismatch("the indices differ from a brute-force search", expected=str(want_index.tolist()),
                           got=str(index.tolist()), key="index",
                           likely="the index of the nearest image in the block: the second result of .min(dim=1).")
        return ("the nearest image and its mean squared distance are right for uint8 images, including an exact "
                "copy (distance 0).")

    return run_check("nearest_in", body)


def _farthest(queries: torch.Tensor, block: torch.Tensor) -> torch.Tensor:
    q, b = queries.flatten(1).double(), block.flatten(1).double()
    return ((q[:, None, :] - b[None, :, :]) ** 2).mean(dim=2).max(dim=1).values
