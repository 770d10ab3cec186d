"""The spectrum kernels: :func:`spectrum` (the Welch or single-window magnitude spectrum of a batch, optionally
of its augmentation in the same pass) and :func:`frames_kernel`, which cuts and windows frames."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from seiswork.kernels.augment import Program, augment_kernel
from seiswork.kernels.base import CHUNK_BYTES, MIN_PART, jit, parallel, parts, source

__all__ = ["spectrum", "frames_kernel"]


@jit
def frames_kernel(x, channel_first, frames, window, starts, start):
    # frames (E, C, S, N) <- window * x[start + e, c, starts[s] : starts[s] + N]; 1-D row loops (they vectorise)
    n_fft = frames.shape[3]
    n_need = n_fft  # samples the frames reach: not the whole event for mode "first"
    for s in range(starts.shape[0]):
        n_need = max(n_need, starts[s] + n_fft)
    rows = np.empty((frames.shape[1], n_need), np.float32)
    for e in range(frames.shape[0]):
        b = start + e
        if channel_first:
            sig = x[b]
        else:  # (T, C) -> (C, T) once, so the frames are cut from contiguous rows
            src = x[b]
            for c in range(frames.shape[1]):
                row = rows[c]
                for t in range(n_need):
                    row[t] = src[t, c]
            sig = rows
        for c in range(frames.shape[1]):
            for s in range(frames.shape[2]):
                o = starts[s]
                dst, src = frames[e, c, s], sig[c, o:o + n_fft]
                for n in range(n_fft):
                    dst[n] = src[n] * window[n]


@jit
def _power_kernel(spec, out, start, norm, log, acc):
    # spec (E, C, S, 2K) interleaved real/imaginary parts; out (B, K, C) <- sqrt(mean over S of |spec|^2) / norm
    n_seg, n_bins = spec.shape[2], spec.shape[3] // 2
    inv = np.float32(1.0 / n_seg)
    mag = np.empty(n_bins, np.float32)
    for e in range(spec.shape[0]):
        dst = out[start + e]
        for c in range(spec.shape[1]):
            row = spec[e, c, 0]
            for m in range(2 * n_bins):  # squares of the real and imaginary parts summed over segments
                acc[m] = row[m] * row[m]
            for s in range(1, n_seg):
                row = spec[e, c, s]
                for m in range(2 * n_bins):
                    acc[m] += row[m] * row[m]
            for k in range(n_bins):
                mag[k] = np.sqrt((acc[2 * k] + acc[2 * k + 1]) * inv) / norm
            if log:
                for k in range(n_bins):
                    mag[k] = np.float32(math.log1p(mag[k]))
            for k in range(n_bins):
                dst[k, c] = mag[k]


def spectrum(
    x: torch.Tensor, window: torch.Tensor, norm: float, starts: Sequence[int], log: bool,
    program: Program | None = None,
) -> torch.Tensor:
    """Magnitude spectrum of a CPU batch ``x (batch, time, channel)``: ``(batch, fft_size // 2 + 1, channel)``.

    Segments of ``len(window)`` samples start at ``starts``; each is multiplied by ``window``, transformed with
    ``torch.fft.rfft``; the result is ``sqrt(mean over segments of |rfft|**2) / norm`` (``log1p`` of it with
    ``log``), as :func:`seiswork.functional.spectrum` computes it. With ``program`` each chunk of events is
    augmented first, into a buffer that stays in cache: the spectrum of ``augment(x, program)`` in one pass,
    without writing the augmented batch out.
    """
    b, t, c = x.shape
    n_fft = window.shape[0]
    channel_first, src = source(x)
    w = window.numpy()
    starts_np = np.asarray(starts, dtype=np.int64)
    out = torch.empty((b, n_fft // 2 + 1, c), dtype=torch.float32)
    if b == 0:
        return out
    dst = out.numpy()
    norm32 = np.float32(norm)
    args = None if not program else program.arrays()

    n_parts = parts(b, MIN_PART)
    chunk = max(1, min(CHUNK_BYTES // (4 * c * len(starts_np) * n_fft), -(-b // n_parts)))  # events per chunk

    def work(lo: int, hi: int) -> None:
        size = min(chunk, hi - lo)
        frames = torch.empty((size, c, len(starts_np), n_fft), dtype=torch.float32)
        spec = torch.empty((size, c, len(starts_np), n_fft // 2 + 1), dtype=torch.complex64)
        acc = np.empty(2 * (n_fft // 2 + 1), np.float32)
        scratch = None if args is None else np.empty((size, c, t), np.float32)
        for e0 in range(lo, hi, size):
            n = min(size, hi - e0)
            f, sp = frames[:n], spec[:n]
            if args is None:
                frames_kernel(src, channel_first, f.numpy(), w, starts_np, e0)
            else:
                augment_kernel(src, channel_first, scratch, *args, e0, e0 + n, e0)
                frames_kernel(scratch, True, f.numpy(), w, starts_np, 0)
            torch.fft.rfft(f, dim=-1, out=sp)
            _power_kernel(torch.view_as_real(sp).flatten(-2).numpy(), dst, e0, norm32, log, acc)

    parallel(b, work, n_parts)
    return out
