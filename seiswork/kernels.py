"""The CPU kernel backend: compiled (numba) kernels for augmentation draws and the Welch spectrum, and the one
place that decides between them and torch (:func:`use_kernels`).

The torch code in :mod:`seiswork.functional` runs each augmentation as a few whole-batch passes (a gather, a
copy back through ``RandomApply``'s selection, a multiply, ...), each one streaming the batch through memory.
On the CPU these kernels instead take one event at a time through every step while it sits in the core's cache,
and split the batch between the cores (one worker thread per core, :func:`seiswork.threads.width`, from the pool
the LSTM shards use). They compute what :mod:`seiswork.functional` computes, in float32 with power sums in
float64, so results agree with the torch path to float rounding (tests/test_kernels.py) and do not depend on how
the batch is split; CUDA tensors and anything these kernels do not cover take the torch path.

- :class:`Program`: an augmentation draw as kernel steps (shift, noise, scale, stretch, each with a per-event
  on/off mask and per-event parameters). Each augmentation declares its own :class:`Step`
  (``kernel_step``); :func:`seiswork.augment.backend.program` collects them from a ``Compose``/``RandomApply``.
- :func:`augment`: run a program on a batch.
- :func:`spectrum`: the one-sided magnitude spectrum (``welch`` or ``first``), in chunks of events: the kernel
  cuts and windows the frames of a chunk, ``torch.fft.rfft`` transforms them (the same FFT as the torch path),
  the kernel sums the power over segments, while the chunk is still in cache. Given a program it augments each
  chunk first (``seiswork.transforms.Pipeline``'s one pass).

The kernels are compiled on first use and cached on disk (``__pycache__``), so later processes start at once.
``SEISWORK_KERNELS=0`` turns them off (the torch path everywhere).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch

from seiswork.threads import run, width

try:  # numba is a dependency; a broken install falls back to the torch path instead of failing
    import numba
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None

__all__ = [
    "available", "use_kernels", "Step", "Program", "augment", "spectrum", "cumulative_power",
    "SHIFT", "NOISE", "SCALE", "STRETCH", "PAD_CODES",
]

SHIFT, NOISE, SCALE, STRETCH = 0, 1, 2, 3
PAD_CODES = {"reflect": 0, "edge": 1, "zeros": 2}
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


class Step(NamedTuple):
    """One augmentation's kernel step for the events that drew it (what ``kernel_step(params)`` returns).

    ``op``: ``SHIFT``, ``NOISE``, ``SCALE`` or ``STRETCH``; ``floats`` ``(n,)``: SNR in dB, scale factor or stretch
    rate; ``ints`` ``(n, channel)`` or ``(n, 1)``: shift in samples or noise window offsets; ``pad``: a
    :data:`PAD_CODES` value; ``bank``: the module whose noise bank the step reads (its ``cpu_bank()`` gives the
    bank and :func:`cumulative_power`), one per program.
    """

    op: int
    floats: np.ndarray | None = None
    ints: np.ndarray | None = None
    pad: int = 0
    bank: Any = None


@dataclass
class Program:
    """An augmentation draw as the arrays :func:`augment` reads.

    ``ops`` (steps,) step codes, ``pads`` (steps,) stretch pad codes, ``mask`` (steps, batch) bool: which events
    each step applies to; ``fpar`` (steps, batch) float64, ``ipar`` (steps, batch, channel) int64: the
    parameters of :class:`Step` scattered to batch positions; ``bank`` (1-D float32) and ``bank_power``
    (``len(bank) + 1`` float64, :func:`cumulative_power`), so a noise window's power costs two reads.
    A program of no step (no event drew anything) is false.
    """

    ops: np.ndarray
    pads: np.ndarray
    mask: np.ndarray
    fpar: np.ndarray
    ipar: np.ndarray
    bank: np.ndarray
    bank_power: np.ndarray

    def __bool__(self) -> bool:
        return len(self.ops) > 0

    @classmethod
    def build(cls, steps: Sequence[tuple[Step, np.ndarray]], batch: int, channels: int) -> "Program | None":
        """A program from ``(step, rows)`` pairs in order of application (``rows``: the events the step applies
        to); None when the steps read two different noise banks (those run module by module)."""
        banks = {id(step.bank): step.bank for step, _ in steps if step.bank is not None}
        if len(banks) > 1:
            return None
        n = len(steps)
        mask = np.zeros((n, batch), np.bool_)
        fpar = np.zeros((n, batch), np.float64)
        ipar = np.zeros((n, batch, channels), np.int64)
        for s, (step, rows) in enumerate(steps):
            mask[s, rows] = True
            if step.floats is not None:  # the torch path computes with float32 parameters
                fpar[s, rows] = step.floats.astype(np.float32)
            if step.ints is not None:
                ipar[s, rows] = step.ints
        bank, power = next(iter(banks.values())).cpu_bank() if banks else (None, None)
        return cls(
            np.asarray([step.op for step, _ in steps], dtype=np.int64),
            np.asarray([step.pad for step, _ in steps], dtype=np.int64),
            mask, fpar, ipar,
            bank.numpy() if bank is not None else np.zeros(1, np.float32),
            power if power is not None else np.zeros(1, np.float64),
        )

    def arrays(self) -> tuple:
        """The arguments of the augmentation kernel, in its order."""
        return self.ops, self.pads, self.mask, self.fpar, self.ipar, self.bank, self.bank_power


def _jit(fn):
    # reassociation lets sums vectorise (the result then depends on the compiled code, not on the run: same
    # machine, same numbers); NaN and inf keep their IEEE meaning, and division by zero gives inf as in torch
    if numba is None:
        return fn
    return numba.njit(nogil=True, cache=True, error_model="numpy", fastmath={"reassoc", "contract", "nsz"})(fn)


def _source(x: torch.Tensor) -> tuple[bool, np.ndarray]:
    """``x (batch, time, channel)`` as the kernels read it: the channel-first array under a transposed view (what
    every augmentation returns; no copy), else ``(batch, time, channel)`` contiguous."""
    channel_first = x.transpose(1, 2).is_contiguous()
    return channel_first, (x.transpose(1, 2) if channel_first else x.contiguous()).numpy()


# ---------------------------------------------------------------------------------------------- augmentation
@_jit
def _augment_kernel(x, channel_first, out, ops, pads, mask, fpar, ipar, bank, bank_power, start, stop, out_start):
    # x (B, T, C), or (B, C, T) when channel_first; event b goes to out[b - out_start] (C, T); step s applies to
    # event b when mask[s, b].
    # Inner loops run over one channel's 1-D row: numba vectorises those, not loops over 2-D indices.
    n_channels, n_time = out.shape[1], out.shape[2]
    scratch = np.empty((n_channels, n_time), np.float32)
    index = np.empty(n_time, np.int64)
    weight = np.empty(n_time, np.float32)
    keep = np.empty(n_time, np.float32)
    one, half, last = np.float32(1.0), np.float32(0.5), n_time - 1
    n_steps = ops.shape[0]
    for b in range(start, stop):
        # a shift as the first step applied is done while copying the event in; the copy goes to whichever
        # buffer makes the last swapping step (shift, stretch) write into out, so no copy is left at the end
        first = 0
        while first < n_steps and not mask[first, b]:
            first += 1
        k = 0
        if first < n_steps and ops[first] == SHIFT:
            k = ipar[first, b, 0] % n_time
            first += 1
        swaps = 0  # must count exactly the steps below that swap cur and nxt
        for s in range(first, n_steps):
            if mask[s, b] and (ops[s] == SHIFT or (ops[s] == STRETCH and n_time > 1)):
                swaps += 1
        at_out = swaps % 2 == 0
        cur = out[b - out_start] if at_out else scratch
        nxt = scratch if at_out else out[b - out_start]
        for c in range(n_channels):  # cur[c, j] = x[b, (j - k) mod T, c], as two straight copies of sub-rows
            head, tail = cur[c, :k], cur[c, k:]
            if channel_first:
                src_end, src_start = x[b, c, n_time - k:], x[b, c, :n_time - k]
                for t in range(k):
                    head[t] = src_end[t]
                for t in range(n_time - k):
                    tail[t] = src_start[t]
            else:
                src_end, src_start = x[b, n_time - k:], x[b, :n_time - k]
                for t in range(k):
                    head[t] = src_end[t, c]
                for t in range(n_time - k):
                    tail[t] = src_start[t, c]
        for s in range(first, n_steps):
            if not mask[s, b]:
                continue
            op = ops[s]
            if op == SHIFT:  # out[j] = x[(j - k) mod T], as np.roll
                k = ipar[s, b, 0] % n_time
                for c in range(n_channels):
                    head, tail, src_end, src_start = nxt[c, :k], nxt[c, k:], cur[c, n_time - k:], cur[c, :n_time - k]
                    for t in range(k):
                        head[t] = src_end[t]
                    for t in range(n_time - k):
                        tail[t] = src_start[t]
                cur, nxt, at_out = nxt, cur, not at_out
            elif op == NOISE:  # scaled so that 10 log10(P_signal / P_noise) = snr_db, power joint over channels
                p_sig = 0.0
                p_noise = 0.0
                for c in range(n_channels):
                    o = ipar[s, b, c]
                    p_noise += bank_power[o + n_time] - bank_power[o]
                    row = cur[c]
                    for t in range(n_time):
                        p_sig += row[t] * row[t]
                p_noise = max(p_noise, 1.1754943508222875e-38 * n_channels * n_time)  # float32 tiny, as torch
                g = np.float32(math.sqrt(p_sig / (p_noise * 10.0 ** (fpar[s, b] / 10.0))))
                for c in range(n_channels):
                    row, noise = cur[c], bank[ipar[s, b, c]:]
                    for t in range(n_time):
                        row[t] += noise[t] * g
            elif op == SCALE:
                g = np.float32(fpar[s, b])
                for c in range(n_channels):
                    row = cur[c]
                    for t in range(n_time):
                        row[t] *= g
            elif op == STRETCH and n_time > 1:  # y[j] = x(j / rate), linear interpolation (seiswork.functional)
                rate = np.float32(fpar[s, b])
                period = np.float32(2 * last)
                pad = pads[s]
                for j in range(n_time):  # positions first (vectorised), then a branch-free pass per channel
                    weight[j] = np.float32(j) / rate
                if pad == 0 and weight[last] >= period:  # rate < 0.5: fold positions beyond one period back
                    for j in range(n_time):
                        pos = weight[j]
                        weight[j] = pos - period * np.float32(math.floor(pos / period))
                for j in range(n_time):
                    pos = weight[j]
                    keep[j] = np.float32(0.0) if pad == 2 and pos > last else one
                    pos = min(pos, period - pos) if pad == 0 else min(pos, np.float32(last))
                    i0 = min(np.int64(pos), last - 1)
                    index[j] = i0
                    weight[j] = pos - np.float32(i0)
                for c in range(n_channels):
                    src, dst = cur[c], nxt[c]
                    for j in range(n_time):
                        a, e, w = src[index[j]], src[index[j] + 1], weight[j]
                        # torch.lerp's formula, exact at w = 0 and w = 1
                        y = a + w * (e - a) if w < half else e - (e - a) * (one - w)
                        dst[j] = y * keep[j]
                cur, nxt, at_out = nxt, cur, not at_out


def augment(x: torch.Tensor, program: Program) -> torch.Tensor:
    """Run ``program`` on a CPU batch ``x (batch, time, channel)`` float32.

    Returns a new ``(batch, time, channel)`` view of channel-first memory (``x`` is not modified).
    """
    b, t, c = x.shape
    channel_first, src = _source(x)
    out = torch.empty((b, c, t), dtype=torch.float32)
    dst = out.numpy()
    args = program.arrays()
    _parallel(b, lambda lo, hi: _augment_kernel(src, channel_first, dst, *args, lo, hi, 0), _parts(b, MIN_PART))
    return out.transpose(1, 2)


def cumulative_power(bank: torch.Tensor) -> np.ndarray:
    """``[0, cumsum(bank**2)]`` in float64: the power of ``bank[o : o + n]`` is ``cp[o + n] - cp[o]``."""
    out = np.zeros(bank.numel() + 1, np.float64)
    np.cumsum(np.square(bank.numpy(), dtype=np.float64), out=out[1:])
    return out


# ---------------------------------------------------------------------------------------------- spectrum
@_jit
def _frames_kernel(x, channel_first, frames, window, starts, start):
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


@_jit
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
    channel_first, src = _source(x)
    w = window.numpy()
    starts_np = np.asarray(starts, dtype=np.int64)
    out = torch.empty((b, n_fft // 2 + 1, c), dtype=torch.float32)
    if b == 0:
        return out
    dst = out.numpy()
    norm32 = np.float32(norm)
    args = None if not program else program.arrays()

    parts = _parts(b, MIN_PART)
    chunk = max(1, min(CHUNK_BYTES // (4 * c * len(starts_np) * n_fft), -(-b // parts)))  # events per chunk

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
                _frames_kernel(src, channel_first, f.numpy(), w, starts_np, e0)
            else:
                _augment_kernel(src, channel_first, scratch, *args, e0, e0 + n, e0)
                _frames_kernel(scratch, True, f.numpy(), w, starts_np, 0)
            torch.fft.rfft(f, dim=-1, out=sp)
            _power_kernel(torch.view_as_real(sp).flatten(-2).numpy(), dst, e0, norm32, log, acc)

    _parallel(b, work, parts)
    return out


# ---------------------------------------------------------------------------------------------- threads
def _parts(n: int, min_part: int) -> int:
    """How many parts ``n`` events are cut into: one per core (:func:`seiswork.threads.width`), each at least
    ``min_part`` events."""
    return max(1, min(width(), n // max(min_part, 1)))


def _parallel(n: int, fn, parts: int) -> None:
    """``fn(lo, hi)`` over ``[0, n)`` cut into ``parts`` contiguous ranges, one per worker thread."""
    bounds = [n * k // parts for k in range(parts + 1)]
    run(lambda r: fn(*r), list(zip(bounds[:-1], bounds[1:])))
