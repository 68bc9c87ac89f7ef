"""Data parallelism: N processes (one per GPU, or CPU processes) train one GAN together.

    torchrun --standalone --nproc-per-node 2 -m gan_helpers train mnist-dcgan

torchrun starts N copies of the program and tells each its RANK (0 .. N-1) and the WORLD_SIZE N.
`fit` sees them and then, in every process:

    - holds the same G and D: DistributedDataParallel (DDP) starts them from rank 0's weights, and
      after every backward it averages the gradients of all ranks, so every optimizer takes the
      same step and the weights stay the same everywhere;
    - takes its own slice of every batch: cfg.batch_size is the GLOBAL batch, and rank r trains on
      images r * b .. (r + 1) * b - 1 of it, b = cfg.batch_size / N. The noise z is drawn for the
      whole batch (every rank's random numbers are the same) and sliced the same way;
    - so one step of N ranks computes what one process computes on the whole batch: the mean of the
      N gradients of b images each is the gradient of the global batch. Without BatchNorm the weights
      match one process's to float rounding; BatchNorm normalises over each rank's b images unless
      cfg.sync_batchnorm (CUDA only) computes the statistics over all ranks.

Only rank 0 writes checkpoints, calls the callbacks and shows progress; the losses it records
are the means over all ranks. The checkpoint is the same as a single process's: either resumes the
other. A rank that dies ends the job: the others' next exchange fails (gloo, NCCL) or times out.
"""
from __future__ import annotations

import datetime
import os
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

TIMEOUT = datetime.timedelta(minutes=10)   # the longest a rank waits for the others (rank 0 may be computing FID)


class DistributedError(RuntimeError):
    """Another process of a torchrun job stopped or cannot be reached: the job ends."""
    reported = False        # True once printed to stderr


@dataclass(frozen=True)
class Shard:
    """Which part of every global batch this process trains on: rows rank * b .. (rank + 1) * b - 1."""
    rank: int = 0
    world_size: int = 1

    def take(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's rows of a global batch (the whole batch for one process)."""
        if self.world_size == 1:
            return batch
        b = len(batch) // self.world_size
        return batch[self.rank * b:(self.rank + 1) * b]


def launched() -> bool:
    """True in a process that torchrun started as one of several (WORLD_SIZE > 1)."""
    return launched_world_size() > 1


def launched_rank() -> int:
    """This process's RANK as torchrun set it (0 without torchrun)."""
    return _whole_number_from_env("RANK", 0)


def launched_world_size() -> int:
    """The number of processes torchrun started (1 without torchrun)."""
    return _whole_number_from_env("WORLD_SIZE", 1)


def local_rank() -> int:
    """This process's number on its machine (torchrun's LOCAL_RANK): which GPU it drives."""
    return _whole_number_from_env("LOCAL_RANK", 0)


def _whole_number_from_env(name: str, default: int) -> int:
    """The whole number in the environment variable `name` (default when unset); a ValueError naming it."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < (1 if name == "WORLD_SIZE" else 0):
        raise ValueError(f"The environment variable {name}={text!r} is not a process number: torchrun sets it "
                         f"(start several processes with torchrun --nproc-per-node N); unset it to train in one "
                         "process.")
    return value


class Ranks:
    """The processes of one training job, from this process's side. A single process (no torchrun) is
    a job of one: every method then does nothing. Use as a context manager: the process group that
    it starts is closed at the end."""

    def __init__(self, device: torch.device, *, batch_size: int, timeout: datetime.timedelta = TIMEOUT):
        self.device, self._owns_group = device, False
        if launched() and not dist.is_initialized():
            # DDP imports torch.distributed.nn on first use, whose functions take `group=group.WORLD` as a
            # default argument: imported after the group exists, they would hold it (and gloo's threads)
            # until the process exits, where those threads can abort it. Imported first, they hold None.
            import torch.distributed.nn  # noqa: F401
            backend = "nccl" if device.type == "cuda" else "gloo"
            dist.init_process_group(backend, timeout=timeout)
            self._owns_group = True
        self.world_size = dist.get_world_size() if dist.is_initialized() else 1
        self.rank = dist.get_rank() if dist.is_initialized() else 0
        if batch_size % self.world_size:
            self.close()
            raise ValueError(f"The global batch of {batch_size} images cannot be split evenly over "
                             f"{self.world_size} processes: choose a batch size divisible by {self.world_size}.")
        self.shard = Shard(self.rank, self.world_size)

    @property
    def main(self) -> bool:
        """True on rank 0, the process that writes files and shows progress."""
        return self.rank == 0

    def wrap(self, model: nn.Module) -> nn.Module:
        """The model as the training step calls it: in DDP when there are several ranks; the model itself
        for one process."""
        if self.world_size == 1:
            return model
        ids = [self.device] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def mean(self, numbers: list[float]) -> list[float]:
        """The mean of each number over all ranks (the losses of the global batch)."""
        if self.world_size == 1:
            return numbers
        t = torch.tensor(numbers, dtype=torch.float64, device=self._comm_device)
        dist.all_reduce(t)
        return (t / self.world_size).tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank when `flag` is True on at least one (stop together)."""
        if self.world_size == 1:
            return flag
        t = torch.tensor([float(flag)], device=self._comm_device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    @property
    def _comm_device(self) -> torch.device:
        return self.device if dist.get_backend() == "nccl" else torch.device("cpu")

    def failure(self, err: BaseException) -> DistributedError:
        """The error that ends this rank when the exchange with the others failed (fit raises it for any
        failed exchange: these collectives, and DDP's gradient averaging inside backward). It is printed
        to stderr at once, too: torchrun is about to stop this process (SIGTERM), maybe before Python
        could show the traceback."""
        said = str(err).splitlines()[0].split(". This is typically")[0] if str(err) else ""   # gloo's advice is
        failure = DistributedError(                                                         # for its developers
            f"Rank {self.rank} of {self.world_size}: the exchange with the other processes failed "
            f"({type(err).__name__}: {said}). Another rank stopped, was "
            "killed or cannot be reached, so the job ends. Look for its error above; the newest checkpoint "
            "(written by rank 0 after every epoch) resumes the run, with torchrun or in one process.")
        print(f"error: {failure}", file=sys.stderr, flush=True)
        failure.reported = True                 # the command line does not say it twice
        return failure

    def close(self) -> None:
        if self._owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self._owns_group = False

    def __enter__(self) -> Ranks:
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        if exc_type is None and self._owns_group and dist.is_initialized():
            dist.barrier()          # every rank done (rank 0 with its last save) before the group is torn down
        self.close()


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DDP wrapper (or the model itself)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
