"""The augmentation kernel: an augmentation draw as a :class:`Program` of :class:`Step` s, run on a batch by
:func:`augment`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch

from seiswork.kernels.base import MIN_PART, jit, parallel, parts, source

__all__ = ["Step", "Program", "augment", "augment_kernel", "cumulative_power", "SHIFT", "NOISE", "SCALE", "STRETCH",
           "PAD_CODES"]

SHIFT, NOISE, SCALE, STRETCH = 0, 1, 2, 3
PAD_CODES = {"reflect": 0, "edge": 1, "zeros": 2}


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


@jit
def augment_kernel(x, channel_first, out, ops, pads, mask, fpar, ipar, bank, bank_power, start, stop, out_start):
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
    channel_first, src = source(x)
    out = torch.empty((b, c, t), dtype=torch.float32)
    dst = out.numpy()
    args = program.arrays()
    parallel(b, lambda lo, hi: augment_kernel(src, channel_first, dst, *args, lo, hi, 0), parts(b, MIN_PART))
    return out.transpose(1, 2)


def cumulative_power(bank: torch.Tensor) -> np.ndarray:
    """``[0, cumsum(bank**2)]`` in float64: the power of ``bank[o : o + n]`` is ``cp[o + n] - cp[o]``."""
    out = np.zeros(bank.numel() + 1, np.float64)
    np.cumsum(np.square(bank.numpy(), dtype=np.float64), out=out[1:])
    return out
