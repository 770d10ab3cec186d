"""What the kernels share: whether they run (:func:`available`, :func:`use_kernels`), how they are compiled
(:func:`jit`), how a batch is read (:func:`source`) and how it is split between the worker threads
(:func:`parts`, :func:`parallel`)."""

from __future__ import annotations

import os

import numpy as np
import torch

from seiswork.threads import run, width

try:  # numba is a dependency; a broken install falls back to the torch path instead of failing
    import numba
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None

__all__ = ["available", "use_kernels", "jit", "source", "parts", "parallel", "CHUNK_BYTES", "MIN_PART"]

# bytes of frames per spectrum chunk (28 events of 1700 samples, 3 channels): small chunks pay the fixed cost of
# each FFT call too often, large ones fall out of cache (timings: benchmarks/bench_augment.py)
CHUNK_BYTES = 1024 * 1024
# fewer events than this per thread are not worth a thread hand-off
MIN_PART = 8


def available() -> bool:
    """True when the compiled CPU kernels are used (numba importable and not turned off)."""
    switch = os.environ.get("SEISWORK_KERNELS", "1").strip().lower()
    return numba is not None and switch not in ("0", "false", "no", "off")


def use_kernels(x: torch.Tensor) -> bool:
    """Whether the batch ``x`` is computed by these kernels (True) or by torch: the one place that decides.

    Kernels run on CPU tensors while :func:`available`; every caller (augmentations, the spectrum, the fused
    ``Pipeline`` pass) asks here.
    """
    return x.device.type == "cpu" and available()


def jit(fn):
    # reassociation lets sums vectorise (the result then depends on the compiled code, not on the run: same
    # machine, same numbers); NaN and inf keep their IEEE meaning, and division by zero gives inf as in torch
    if numba is None:
        return fn
    return numba.njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc", "contract", "nsz"})(fn)


def source(x: torch.Tensor) -> tuple[bool, np.ndarray]:
    """``x (batch, time, channel)`` as the kernels read it: the channel-first array under a transposed view (what
    every augmentation returns; no copy), else ``(batch, time, channel)`` contiguous."""
    channel_first = x.transpose(1, 2).is_contiguous()
    return channel_first, (x.transpose(1, 2) if channel_first else x.contiguous()).numpy()


def parts(n: int, min_part: int) -> int:
    """How many parts ``n`` events are cut into: one per core (:func:`seiswork.threads.width`), each at least
    ``min_part`` events."""
    return max(1, min(width(), n // max(min_part, 1)))


def parallel(n: int, fn, n_parts: int) -> None:
    """``fn(lo, hi)`` over ``[0, n)`` cut into ``n_parts`` contiguous ranges, one per worker thread."""
    bounds = [n * k // n_parts for k in range(n_parts + 1)]
    run(lambda r: fn(*r), list(zip(bounds[:-1], bounds[1:])))
