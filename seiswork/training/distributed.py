"""Training over several processes with PyTorch ``DistributedDataParallel`` (DDP), launched by ``torchrun``.

``torchrun --nproc_per_node=N -m seiswork train ...`` starts N copies of the command with ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK`` in their environment (:func:`launch_from_env` reads them). :func:`session`
joins them into one process group (NCCL on CUDA, each process on ``cuda:LOCAL_RANK``; gloo on the CPU) and
tears it down again. While the group is up, :func:`seiswork.training.fit` trains one model over all the
processes (each takes its share of every epoch's batches; DDP averages the gradients) and
:func:`seiswork.training.predict` / ``evaluate`` let each process predict a slice of the data and gather the
whole, in the data's order, on every process. Without a launch (or with ``WORLD_SIZE=1``) nothing here does
anything: no process group, the same results as a plain single-process run.

Every process of the group must make the same calls (``fit``, ``predict``, ``evaluate``, :func:`barrier`) in
the same order: they meet in collective operations there.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

__all__ = ["Launch", "launch_from_env", "session", "active", "rank", "world_size", "is_main", "local_device",
           "backend", "barrier", "broadcast_object", "all_sum", "sync_buffers", "wrap", "gather_rows", "share",
           "slice_bounds"]

ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class Launch:
    """Where this process stands in a ``torchrun`` launch (from its environment)."""

    rank: int
    world_size: int
    local_rank: int


def launch_from_env(environ: dict[str, str] | None = None) -> Launch | None:
    """The launch ``torchrun`` describes in the environment, or None when this is a plain single process
    (no ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``, or ``WORLD_SIZE=1``)."""
    env = os.environ if environ is None else environ
    present = [name for name in ENV if name in env]
    if not present:
        return None
    if len(present) < len(ENV):
        missing = sorted(set(ENV) - set(present))
        raise ValueError(f"the environment sets {', '.join(present)} but not {', '.join(missing)}: launch with "
                         "torchrun (which sets all three), or unset them for a single-process run")
    try:
        launch = Launch(*(int(env[name]) for name in ENV))
    except ValueError as exc:
        raise ValueError(f"RANK, WORLD_SIZE and LOCAL_RANK must be integers, got "
                         f"{[env[name] for name in ENV]}") from exc
    if launch.world_size < 1 or not 0 <= launch.rank < launch.world_size or launch.local_rank < 0:
        raise ValueError(f"inconsistent launch environment: RANK={launch.rank}, WORLD_SIZE={launch.world_size}, "
                         f"LOCAL_RANK={launch.local_rank}")
    return launch if launch.world_size > 1 else None


def _wants_cuda(device: str | torch.device | None) -> bool:
    if device is None:
        return torch.cuda.is_available()
    return torch.device(device).type == "cuda"


@contextlib.contextmanager
def session(device: str | torch.device | None = None, timeout_s: float = 1800.0) -> Iterator[Launch | None]:
    """Join the ``torchrun`` launch's process group for the block (a no-op without a launch); yields the launch.

    ``device`` is the training device as ``fit`` takes it (None: CUDA when present). On CUDA the group uses
    NCCL and this process's current device becomes ``cuda:LOCAL_RANK``; on the CPU it uses gloo. The rendezvous
    address comes from ``torchrun`` (``MASTER_ADDR``/``MASTER_PORT``). A group that is already up (the caller
    made it) is used as it is and left up. On leaving the block normally every process waits for the others
    before the group is destroyed. DDP holds on to the group, so its threads run until the process exits.
    """
    launch = launch_from_env()
    if launch is None or dist.is_initialized():
        yield launch
        return
    kwargs = {}
    if _wants_cuda(device):
        if launch.local_rank >= torch.cuda.device_count():
            raise ValueError(f"LOCAL_RANK={launch.local_rank} but this machine has {torch.cuda.device_count()} "
                             "CUDA device(s): start at most one process per GPU (--nproc_per_node)")
        torch.cuda.set_device(launch.local_rank)
        kwargs["device_id"] = torch.device("cuda", launch.local_rank)
    dist.init_process_group("nccl" if _wants_cuda(device) else "gloo", rank=launch.rank,
                            world_size=launch.world_size, timeout=datetime.timedelta(seconds=timeout_s), **kwargs)
    try:
        yield launch
        # every process is done with its collectives before any tears the group down
        dist.barrier()
    finally:
        dist.destroy_process_group()


def active() -> bool:
    """Whether a process group of more than one process is up (``fit`` then trains with DDP)."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank in the group (0 without one)."""
    return dist.get_rank() if active() else 0


def world_size() -> int:
    """The number of processes in the group (1 without one)."""
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """Whether this process writes files and prints: rank 0 of the group, or of the ``torchrun`` launch once
    the group is torn down, or a single process."""
    if active():
        return dist.get_rank() == 0
    launch = launch_from_env()
    return launch is None or launch.rank == 0


def local_device(device: torch.device) -> torch.device:
    """``device``, made this process's own GPU (``cuda:LOCAL_RANK``) when it is CUDA and a group is up."""
    if not (active() and device.type == "cuda"):
        return device
    launch = launch_from_env()
    own = launch.local_rank if launch is not None else torch.cuda.current_device()
    if device.index is not None and device.index != own:
        raise ValueError(f"device {str(device)!r} on the process of LOCAL_RANK {own}: across processes each one "
                         "trains on its own GPU, cuda:LOCAL_RANK; pass device 'cuda' (or none) instead")
    return torch.device("cuda", own)


def backend() -> str | None:
    """The group's backend (``"nccl"``, ``"gloo"``), or None without a group."""
    return str(dist.get_backend()) if active() else None


def barrier() -> None:
    """Wait until every process of the group arrives here (a no-op without a group)."""
    if active():
        dist.barrier()


def broadcast_object(obj: object) -> object:
    """Rank 0's ``obj`` (any picklable value) on every process; without a group ``obj`` itself."""
    if not active():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def all_sum(t: torch.Tensor) -> torch.Tensor:
    """``t`` summed over the group's processes (in place; on the group's device: CUDA for NCCL). Without a
    group: ``t``."""
    if active():
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def sync_buffers(module: torch.nn.Module) -> None:
    """Give every process rank 0's buffers (batch-norm running statistics): each process's last training
    batches moved its own, and evaluation and the checkpoint rank 0 writes must use one set."""
    if active():
        for buf in module.buffers():
            dist.broadcast(buf, src=0)


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` in ``DistributedDataParallel`` when a group is up (gradients averaged over the processes at
    each backward), else ``model`` itself. DDP starts every process from rank 0's weights."""
    if not active():
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def slice_bounds(n: int, parts: int, part: int) -> tuple[int, int]:
    """``[start, stop)`` of part ``part`` of ``n`` items cut into ``parts`` contiguous parts of sizes differing
    by at most one (the first ``n % parts`` parts one larger), like ``numpy.array_split``."""
    base, extra = divmod(n, parts)
    start = part * base + min(part, extra)
    return start, start + base + (part < extra)


def share(order: torch.Tensor, parts: int, part: int) -> torch.Tensor:
    """Part ``part``'s share of one epoch's shuffled ``order`` (``(n,)`` indices): every ``parts``-th item from
    ``part`` on, after padding ``order`` with its own first items to a multiple of ``parts``, as
    ``torch.utils.data.DistributedSampler`` does. Every part gets ``ceil(n / parts)`` items, so all processes
    take the same number of steps (a DDP step is a collective)."""
    n = len(order)
    padded = -(-n // parts) * parts
    if padded > n:
        order = order[torch.arange(padded, device=order.device) % n]
    return order[part::parts]


def gather_rows(array: np.ndarray, sizes: list[int]) -> np.ndarray:
    """Concatenate, in rank order, every process's ``array`` (``(sizes[rank], ...)``; same trailing shape and
    dtype on all of them) into ``(sum(sizes), ...)`` on every process. Without a group: ``array`` itself."""
    if not active():
        return array
    if len(sizes) != dist.get_world_size() or len(array) != sizes[dist.get_rank()]:
        raise ValueError(f"gather_rows: {len(array)} rows on rank {dist.get_rank()}, sizes {sizes}")
    device = torch.device("cuda", torch.cuda.current_device()) if backend() == "nccl" else torch.device("cpu")
    most = max(sizes)
    t = torch.from_numpy(np.ascontiguousarray(array)).to(device)
    if len(t) < most:  # all_gather needs equal shapes: pad, then cut the padding off again
        t = torch.cat([t, t.new_zeros((most - len(t), *t.shape[1:]))])
    parts = [torch.empty_like(t) for _ in sizes]
    dist.all_gather(parts, t)
    return torch.cat([p[:k] for p, k in zip(parts, sizes)]).cpu().numpy()
