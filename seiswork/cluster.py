"""Independent tasks (sweep runs, cross-validation folds) one after another or on a Dask cluster.

Dask ``distributed`` does the scheduling: a ``LocalCluster`` of ``workers`` processes (one thread each), or
an existing cluster at ``scheduler`` (``tcp://HOST:8786``; its workers need seiswork installed and the data
readable at the same paths). Each task runs with a CPU thread budget so that tasks sharing a machine do not
fight over its cores: the usable cores shared out among the workers, passed to the task (and to the notebook
kernels it starts) as ``SEISWORK_THREADS`` and ``OMP_NUM_THREADS``. This module does not import torch.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

__all__ = ["THREADS_VARIABLE", "usable_cores", "thread_budget", "map_tasks"]

#: environment variable with a process's CPU thread budget (read by :func:`seiswork.threads.budget`)
THREADS_VARIABLE = "SEISWORK_THREADS"
_THREAD_VARIABLES = (THREADS_VARIABLE, "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                     "NUMBA_NUM_THREADS")


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity: a container's or ``taskset``'s share), not the
    machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_budget(workers: int | None, threads: int | None) -> int | None:
    """Threads per task: ``threads`` when given, else the usable cores shared out among ``workers``."""
    for name, value in (("--workers", workers), ("--threads", threads)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if threads is None and workers:
        threads = max(1, usable_cores() // workers)
    return threads


def _with_threads(fn: Callable[..., Any], threads: int | None, args: tuple) -> Any:
    """``fn(*args)`` on a budget of ``threads``; the caller's environment and torch threads are restored after
    (the sequential path runs tasks in the caller's own process)."""
    if threads is None:
        return fn(*args)
    import sys

    saved = {variable: os.environ.get(variable) for variable in _THREAD_VARIABLES}
    torch = sys.modules.get("torch")
    saved_threads = torch.get_num_threads() if torch is not None else None
    # child processes (notebook kernels) read the variables; this process's torch is set directly
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        return fn(*args)
    finally:
        for variable, value in saved.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value
        if saved_threads is not None:
            torch.set_num_threads(saved_threads)


def map_tasks(fn: Callable[..., Any], tasks: Sequence[tuple], *, workers: int | None = None,
              scheduler: str | None = None, threads: int | None = None, name: str = "task",
              describe: Callable[[Any], str] = str) -> list[Any]:
    """``[fn(*task) for task in tasks]``, in task order: here, or on Dask when ``workers`` or ``scheduler``
    is given. Prints ``k/N <name>s done`` as tasks finish. ``fn`` must be importable (a module-level function)."""
    if workers is not None and scheduler:
        raise ValueError("--workers starts a local cluster and --scheduler joins an existing one: pass one of them")
    threads = thread_budget(workers, threads)
    if workers is None and not scheduler:
        results = []
        for done, task in enumerate(tasks, start=1):
            results.append(_with_threads(fn, threads, task))
            print(f"[seiswork] {done}/{len(tasks)} {name}s done ({describe(results[-1])})", flush=True)
        return results

    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(_with_threads, fn, threads, tuple(task), pure=False) for task in tasks]
        for done, future in enumerate(as_completed(futures), start=1):
            print(f"[seiswork] {done}/{len(tasks)} {name}s done ({describe(future.result())})", flush=True)
        return [future.result() for future in futures]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
