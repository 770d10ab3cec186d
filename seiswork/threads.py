"""Worker threads for CPU work split over cores: the LSTM's CPU shards and the compiled kernels.

Torch's intra-op threads spread one operation over the cores; the work here instead runs independent parts
(a shard of the batch, a range of events) side by side, one part per thread, each thread running torch on one
intra-op thread of its own so that the parts do not fight over the cores.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import torch

__all__ = ["workers"]

_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _one_thread() -> None:
    # torch sets a thread's count lazily on its first parallel op, from the process-wide default; trigger that
    # first, or it would later overwrite the 1 with the caller's count
    torch.get_num_threads()
    torch.set_num_threads(1)


def workers(n: int) -> ThreadPoolExecutor:
    """A pool of ``n`` threads that each run torch with one intra-op thread (created once, reused)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != n:
            if _pool is not None:
                _pool.shutdown(wait=True)
            main_threads = torch.get_num_threads()
            _pool, _pool_size = ThreadPoolExecutor(n, thread_name_prefix="seiswork-worker", initializer=_one_thread), n
            ready = threading.Barrier(n)
            for f in [_pool.submit(ready.wait) for _ in range(n)]:  # every worker has run its initializer
                f.result()
            # set_num_threads also records a process-wide default for threads torch starts later: put it back
            torch.set_num_threads(main_threads)
        return _pool


def _forget_pool() -> None:  # a forked child has no worker threads, only the parent's bookkeeping
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)
