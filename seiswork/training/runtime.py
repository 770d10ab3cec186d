"""Where and how training runs: the device, glibc's memory setting, the CPU thread policy."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
from collections.abc import Iterator

import torch
from torch import nn

from seiswork.threads import budget, cores_to_workers, torch_threads

__all__ = ["get_device", "retain_freed_memory", "cpu_threads", "cpu_runs_bf16_lstm"]


@functools.cache
def cpu_runs_bf16_lstm() -> bool:
    """Whether this CPU runs an LSTM under bfloat16 autocast (``amp`` on the CPU). oneDNN has no bf16 LSTM kernel
    for CPUs without AVX-512 (an AVX2-only CPU raises "could not create a primitive descriptor"), so a tiny LSTM
    is tried once per process. Its initial weights are drawn inside ``fork_rng``: ``fit`` asks this before it
    forks the caller's global torch RNG, which it promises to leave untouched."""
    with torch.random.fork_rng(devices=[]):
        lstm = nn.LSTM(4, 4, batch_first=True)
    try:
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            lstm(torch.zeros(1, 2, 4))
    except RuntimeError:
        return False
    return True


def get_device(device: str | torch.device | None = None) -> torch.device:
    """The training device: ``device`` if given, else CUDA when available, else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device {device!r} is not a torch device ({exc}); use 'cpu', 'cuda' or 'cuda:N'") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available; use device='cpu' or None (auto)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) present")
    return dev


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters (malloc.h)
_retained = False


def retain_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse instead of handing it back to the kernel; True when set.

    Every training batch allocates and frees the same large buffers (batch of waveforms, FFT frames, LSTM
    gates). By default glibc serves blocks of a few MB with ``mmap`` and returns freed heap to the kernel, so
    the next batch page-faults the same memory in again; on virtual machines a fault is expensive. Setting
    ``M_TRIM_THRESHOLD`` to 1 GiB and ``M_MMAP_THRESHOLD`` to 32 MiB (glibc's maximum) keeps that memory in the
    process, as the jemalloc/tcmalloc that PyTorch's CPU tuning guide recommends would. The batched
    augmentation + spectrum gains most (``benchmarks/bench_augment.py`` with and without ``--no-retain``);
    training steps gain little.
    The cost: the process keeps its peak heap until it exits. :func:`fit` calls this; it is process-wide,
    idempotent, a no-op off glibc (macOS, Windows, musl), and ``SEISWORK_RETAIN_MEMORY=0`` turns it off.
    """
    global _retained
    if _retained:
        return True
    if os.environ.get("SEISWORK_RETAIN_MEMORY", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)) and bool(libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20))
    except (OSError, AttributeError):  # not glibc
        return False
    _retained = ok
    return ok


@contextlib.contextmanager
def cpu_threads(model: nn.Module, device: torch.device, batch_size: int, grad: bool) -> Iterator[None]:
    """The block ``fit`` and ``predict`` run their batches of ``batch_size`` in.

    On the CPU the block runs on the process's thread budget (:func:`seiswork.threads.budget`: the cores it
    may use, or ``SEISWORK_THREADS``). A seiswork model (one that has ``wants_cores_for_shards``) that wants the
    cores for its shard workers at this batch size (as ``LSTMModel`` when its batches are sharded) gets them
    (:func:`seiswork.threads.cores_to_workers`); at a batch size it does not shard, it runs on one thread:
    its ops are then too small to gain from OpenMP threads that sleep between them (``OMP_WAIT_POLICY``, see
    ``seiswork/__init__.py``; waking them costs more than they save), and one thread leaves the other cores to
    the machine's other work. Other models run torch on the budget's threads.
    """
    if device.type != "cpu":
        yield
        return
    threads = budget()
    wants = getattr(model, "wants_cores_for_shards", None)
    if not callable(wants):
        with torch_threads(threads):
            yield
        return
    with torch_threads(threads):  # the model's answer depends on the thread count
        sharded = threads >= 2 and wants(batch_size, grad)
    with cores_to_workers(threads) if sharded else torch_threads(1):
        yield
