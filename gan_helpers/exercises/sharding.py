"""Check for chapter 09's second exercise: this rank's part of a global batch, as distributed.Shard takes it.

    check_shard(my_shard)   my_shard(batch, rank, world_size) -> rows rank * b .. (rank + 1) * b - 1

and, with the learner's shards, that the mean of the ranks' gradients is the whole batch's gradient.
"""
from __future__ import annotations

import torch

from ..distributed import Shard
from .report import Mismatch, call, describe, run_check


def _mistake(batch, rank, world_size, got) -> tuple[str, str]:
    b = len(batch) // world_size
    if torch.equal(got, batch):
        return "whole_batch", ("every rank took the whole batch: each must take b = len(batch) // world_size "
                               "rows, so that N ranks together train on the global batch once.")
    if torch.equal(got, batch[:b]) and rank:
        return "same_rows", "rank is not used: every rank took the first rows. Start at rank * b."
    if torch.equal(got, batch[rank::world_size]):
        return "interleaved", ("rows rank, rank + N, ... also split the batch, but fit gives each rank a block and "
                               "slices the noise z in the same blocks: take batch[rank * b:(rank + 1) * b].")
    for split in (torch.chunk(batch, world_size), torch.tensor_split(batch, world_size)):
        if rank < len(split) and torch.equal(got, split[rank]):
            return "unequal_parts", (f"torch.chunk / tensor_split give unequal parts when the batch does not divide "
                                     f"({len(batch)} rows over {world_size} ranks: "
                                     f"{', '.join(str(len(s)) for s in split)}); every rank must take the same "
                                     f"b = len(batch) // world_size rows, batch[rank * b:(rank + 1) * b], as fit does.")
    if torch.equal(got, batch[rank:rank + b]):
        return "overlap", "the start must be rank * b, not rank: neighbouring ranks would share rows."
    return "wrong", "b = len(batch) // world_size, then batch[rank * b:(rank + 1) * b]."


def check_shard(my_shard):
    """The learner's shards against Shard.take for 2, 3 and 4 ranks; then the gradient identity."""

    def body() -> str:
        for batch, world_size in [(torch.arange(12).float(), n) for n in (2, 3, 4)] + [(torch.arange(10).float(), 4)]:
            for rank in range(world_size):
                want, got = Shard(rank, world_size).take(batch), call(my_shard, batch, rank, world_size)
                if not isinstance(got, torch.Tensor) or got.shape != want.shape or not torch.equal(got, want):
                    key, likely = (_mistake(batch, rank, world_size, got) if isinstance(got, torch.Tensor)
                                   and got.ndim == 1 and len(got) else ("wrong", "return a slice of the batch."))
                    raise Mismatch(f"rank {rank} of {world_size}'s part of a batch of {len(batch)}",
                                   expected=describe(want),
                                   got=describe(got), likely=likely, key=key)
        torch.manual_seed(0)                               # why it matters: a linear D's loss on 12 images
        x, w = torch.randn(12, 5), torch.randn(5, requires_grad=True)
        (whole,) = torch.autograd.grad((x @ w).square().mean(), w)
        parts = [torch.autograd.grad((my_shard(x, r, 4) @ w).square().mean(), w)[0] for r in range(4)]
        mean = torch.stack(parts).mean(0)
        if not torch.allclose(mean, whole, atol=1e-6):     # (it holds for any shard that passed the above)
            raise Mismatch("the mean of the ranks' gradients differs from the whole batch's", expected=describe(whole),
                           got=describe(mean), likely="equal parts that together are the batch once.", key="wrong")
        return ("every rank's block matches Shard.take for 2, 3 and 4 ranks (and for 4 ranks on a batch of 10, "
                "which does not divide), and the mean of 4 ranks' gradients "
                f"on your shards equals the gradient on the whole batch (largest difference "
                f"{(mean - whole).abs().max().item():.1e}): what DDP's averaging relies on.")

    return run_check("shard", body)
