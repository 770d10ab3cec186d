"""Worker threads for CPU work split over cores: the LSTM's CPU shards and the compiled kernels.

Torch's intra-op threads spread one operation over the cores; the work here instead runs independent parts
(a shard of the batch, a range of events) side by side, one part per thread, each thread running torch on one
intra-op thread of its own so that the parts do not fight over the cores.

The calling thread's own OpenMP threads are the other thing the parts fight with: after each parallel torch op
GNU OpenMP's threads keep spinning for a while, waiting for the next one, on the cores the workers need. A
training step alternates such ops (batch norm, concatenations, the optimizer) with shard work, so they spin
through much of it unless the caller runs on one intra-op thread (:func:`cores_to_workers`), which ``fit``
uses on the CPU for models that declare they want the cores for their shards
(:func:`seiswork.training.runtime.cpu_threads`).

How many threads: :func:`budget`, one per core this process may use, or what the user or the launcher
(a sweep's Dask worker, ``torchrun``) gives it, so that processes sharing a machine do not oversubscribe it.
Idle OpenMP threads sleep rather than spin (``OMP_WAIT_POLICY``, set in ``seiswork/__init__.py``); the worker
threads here block on their queue when idle.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import torch

from seiswork.cluster import THREADS_VARIABLE, thread_budget, usable_cores

__all__ = ["budget", "torch_threads", "workers", "run", "width", "cores_to_workers"]

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()
_local = threading.local()  # .width: set by cores_to_workers in the thread that entered it


def _whole(name: str, value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return n


def budget() -> int:
    """CPU threads for this process's torch work, shard workers and kernels.

    In order: ``SEISWORK_THREADS`` when set; in a ``torchrun`` launch of several processes per machine that
    left ``OMP_NUM_THREADS`` unset, the usable cores shared out among them (``LOCAL_WORLD_SIZE``); else torch's
    thread count (``torch.set_num_threads``, or ``OMP_NUM_THREADS`` at start, or torch's default) capped at
    the usable cores (:func:`usable_cores`).
    """
    value = os.environ.get(THREADS_VARIABLE, "").strip()
    if value:
        return _whole(THREADS_VARIABLE, value)
    local = os.environ.get("LOCAL_WORLD_SIZE", "").strip()
    if local and "OMP_NUM_THREADS" not in os.environ:
        return thread_budget(_whole("LOCAL_WORLD_SIZE", local), None)
    return max(1, min(torch.get_num_threads(), usable_cores()))


@contextmanager
def torch_threads(n: int) -> Iterator[int]:
    """Torch runs on ``n`` intra-op threads within the block; the caller's count is restored on exit."""
    threads = torch.get_num_threads()
    if n != threads:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if n != threads:
            torch.set_num_threads(threads)


def _one_thread() -> None:
    # torch sets a thread's count lazily on its first parallel op, from the process-wide default; trigger that
    # first, or it would later overwrite the 1 with the caller's count
    torch.get_num_threads()
    torch.set_num_threads(1)


def workers(n: int) -> ThreadPoolExecutor:
    """A pool of at least ``n`` threads that each run torch with one intra-op thread (created once, reused).

    Asking for more threads than the pool has replaces it with a larger one; a smaller request reuses it, so
    callers that need different counts (kernels, shards) do not rebuild it in turn. A replaced pool is not shut
    down: a caller may still be submitting to it, and its threads end once nothing refers to it.
    """
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < n:
            main_threads = torch.get_num_threads()
            _pool, _pool_size = ThreadPoolExecutor(n, thread_name_prefix="seiswork-worker", initializer=_one_thread), n
            ready = threading.Barrier(n)
            for f in [_pool.submit(ready.wait) for _ in range(n)]:  # every worker has run its initializer
                f.result()
            # set_num_threads also records a process-wide default for threads torch starts later: put it back
            torch.set_num_threads(main_threads)
        return _pool


def run(fn, items: list) -> list:
    """``[fn(item) for item in items]``, the items spread over up to :func:`width` worker threads (in order;
    on the calling thread when there is one item or one core)."""
    threads = min(len(items), width())
    if threads <= 1:
        return [fn(item) for item in items]
    return list(workers(threads).map(fn, items))


def width() -> int:
    """How many parts to cut parallel CPU work into: the core count held by an enclosing
    :func:`cores_to_workers` in this thread, else ``torch.get_num_threads()``."""
    return getattr(_local, "width", None) or torch.get_num_threads()


@contextmanager
def cores_to_workers(cores: int | None = None) -> Iterator[int]:
    """Within the block the calling thread runs torch on one intra-op thread and :func:`width` is ``cores``.

    ``cores`` defaults to the caller's ``torch.get_num_threads()``. Parallel work (LSTM shards, kernels) still
    uses that many worker threads, while the caller's small ops between them run on its own thread, so no
    idle OpenMP thread of the caller spins on a worker's core (see the module docstring). The caller's thread
    count and width are restored on exit; nested blocks keep the outer width. Yields the width.
    ``torch.set_num_threads`` also sets torch's default for threads that first use torch later, so a thread
    started inside the block and first using torch there keeps one intra-op thread.
    """
    outer = getattr(_local, "width", None)
    threads = torch.get_num_threads()
    n = outer or (threads if cores is None else max(1, int(cores)))
    _local.width = n
    torch.set_num_threads(1)
    try:
        yield n
    finally:
        _local.width = outer
        torch.set_num_threads(threads)


def _forget_pool() -> None:  # a forked child has no worker threads, only the parent's bookkeeping
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)
