"""The spectrogram kernel: :func:`spectrogram`, what ``SpectrogramTransform`` computes, for a CPU batch.

Per chunk of events (split between the worker threads): :func:`~seiswork.kernels.spectrum.frames_kernel` cuts
and windows the frames, ``torch.fft.rfft`` transforms them (the FFT of the torch path), a pass per event takes
the power of the kept bins relative to the event's mean power, torch's vectorised ``log10_`` takes its log,
and with ``background`` a second pass gives each bin less its lower median over the frames, all while the
chunk is still in cache. Why a kernel: in ``fit`` the transform runs beside the LSTM's shard
workers on one torch thread, where ``torch.median`` over the frame axis alone cost as much as the rest of the
spectrogram (``benchmarks/bench_augment.py --spectrogram``). The median is found by ranking: for up to
``RANK_FRAMES`` frames every value's rank among its feature's frames, computed for all features at once in
branch-free passes that vectorise; for longer windows, a selection per feature (Wirth's algorithm).
"""

from __future__ import annotations

import numpy as np
import torch

from seiswork.kernels.base import CHUNK_BYTES, MIN_PART, jit, parallel, parts, source
from seiswork.kernels.spectrum import frames_kernel

__all__ = ["spectrogram", "RANK_FRAMES"]

# up to this many frames the median is found by ranking all values at once (S * S vectorised comparisons);
# above, by a selection per feature (O(S) each, but branchy): they cost the same near 100 frames
RANK_FRAMES = 96


@jit
def _select(v, k):
    # the k-th smallest value of v (0-based), reordering v in place: Wirth's selection
    lo, hi = 0, v.shape[0] - 1
    while lo < hi:
        pivot = v[k]
        i, j = lo, hi
        while i <= j:
            while v[i] < pivot:
                i += 1
            while pivot < v[j]:
                j -= 1
            if i <= j:
                v[i], v[j] = v[j], v[i]
                i += 1
                j -= 1
        if j < k:
            lo = i
        if k < i:
            hi = j
    return v[k]


@jit
def _relative_power_kernel(spec, out, start, lo, hi, eps, tiny):
    # spec (E, C, S, 2K) interleaved real/imaginary parts; out (B, S, F) <- power / mean power + eps in its first
    # C * (hi - lo) features; feature c * (hi - lo) + k is bin lo + k of channel c (SpectrogramTransform's layout)
    n_ch, n_fr = spec.shape[1], spec.shape[2]
    n_bins = hi - lo
    for e in range(spec.shape[0]):
        dst = out[start + e]
        total = 0.0
        for c in range(n_ch):
            for s in range(n_fr):
                row = spec[e, c, s, 2 * lo:2 * hi]
                d = dst[s, c * n_bins:(c + 1) * n_bins]
                for k in range(n_bins):
                    p = row[2 * k] * row[2 * k] + row[2 * k + 1] * row[2 * k + 1]
                    d[k] = p
                    total += p
        mean = np.float32(total / (n_ch * n_fr * n_bins))
        if mean < tiny:  # a silent event: every bin at the floor
            mean = tiny
        inv = np.float32(1.0) / mean
        for s in range(n_fr):
            d = dst[s, :n_ch * n_bins]
            for f in range(d.shape[0]):
                d[f] = d[f] * inv + eps


@jit
def _background_kernel(out, start, stop, width, columns, ranks, by_rank):
    # out (B, S, 2 * width): features [width, 2 * width) <- features [0, width) less their lower median over S
    n_fr = out.shape[1]
    middle = (n_fr - 1) // 2  # the lower median of an even count, as torch.median
    for e in range(start, stop):
        dst = out[e]
        median = columns[:, 0]
        if by_rank:
            # each value's rank among its feature's frames (ties in frame order), for all features at once:
            # S * S branch-free passes along the contiguous feature axis, which vectorise
            for s in range(n_fr):
                ranks[:] = 0
                mine = dst[s, :width]
                for o in range(n_fr):
                    other = dst[o, :width]
                    if o < s:
                        for f in range(width):
                            ranks[f] += other[f] <= mine[f]
                    else:
                        for f in range(width):
                            ranks[f] += other[f] < mine[f]
                for f in range(width):
                    if ranks[f] == middle:
                        median[f] = mine[f]
        else:
            # each feature's values over the frames as a contiguous row, then a selection: O(S) per feature
            for s in range(n_fr):
                row = dst[s]
                for f in range(width):
                    columns[f, s] = row[f]
            for f in range(width):
                columns[f, 0] = _select(columns[f], middle)
        for s in range(n_fr):
            row = dst[s]
            for f in range(width):
                row[width + f] = row[f] - median[f]


def spectrogram(x: torch.Tensor, n_fft: int, hop: int, bin_lo: int, bin_hi: int, eps: float,
                background: bool) -> torch.Tensor:
    """Log power spectrogram of a CPU batch ``x (batch, time, channel)`` float32: ``(batch, frames, bins *
    channel)``, ``(batch, frames, 2 * bins * channel)`` with ``background``, as
    :class:`seiswork.transforms.SpectrogramTransform` defines it (Hann window of ``n_fft`` samples, frames every
    ``hop`` samples, bins ``[bin_lo, bin_hi)``); ``x`` must hold at least ``n_fft`` samples."""
    b, t, c = x.shape
    n_frames = (t - n_fft) // hop + 1
    n_bins = bin_hi - bin_lo
    out = torch.empty((b, n_frames, n_bins * c * (2 if background else 1)), dtype=torch.float32)
    if b == 0:
        return out
    channel_first, src = source(x)
    window = torch.hann_window(n_fft, periodic=True).numpy()
    starts = np.arange(n_frames, dtype=np.int64) * hop
    dst = out.numpy()
    eps32, tiny = np.float32(eps), np.float32(torch.finfo(torch.float32).tiny)
    n_parts = parts(b, MIN_PART)
    chunk = max(1, min(CHUNK_BYTES // (4 * c * n_frames * n_fft), -(-b // n_parts)))  # events per chunk

    def work(lo: int, hi: int) -> None:
        size = min(chunk, hi - lo)
        frames = torch.empty((size, c, n_frames, n_fft), dtype=torch.float32)
        spec = torch.empty((size, c, n_frames, n_fft // 2 + 1), dtype=torch.complex64)
        columns = np.empty((n_bins * c, n_frames), np.float32)
        ranks = np.empty(n_bins * c, np.int32)
        for e0 in range(lo, hi, size):
            n = min(size, hi - e0)
            f, sp = frames[:n], spec[:n]
            frames_kernel(src, channel_first, f.numpy(), window, starts, e0)
            torch.fft.rfft(f, dim=-1, out=sp)
            _relative_power_kernel(torch.view_as_real(sp).flatten(-2).numpy(), dst, e0, bin_lo, bin_hi, eps32, tiny)
            out[e0:e0 + n, :, :n_bins * c].log10_()  # torch's vectorised log: several times numba's scalar one
            if background:
                _background_kernel(dst, e0, e0 + n, n_bins * c, columns, ranks, n_frames <= RANK_FRAMES)

    parallel(b, work, n_parts)
    return out
