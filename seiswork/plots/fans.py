"""Fan charts: the median and quantile bands of a class of events, per channel, in time and frequency."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure

from seiswork.data.events import check_sampling_rate, finite_rows, label_names, stack_events, to_numpy
from seiswork.plots.style import DEFAULT_CHANNELS, freq_axis, new_grid, palette, time_axis


def nanquantile(a: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Quantiles over axis 0 ignoring NaN, vectorised (numpy's ``nanquantile`` loops over columns).

    ``a`` (n, ...) → (len(q), ...), float64, linear interpolation as ``np.nanquantile``; a column with
    no finite value gives NaN, without a warning.
    """
    a = np.sort(np.asarray(a), axis=0)  # NaN sort last, so the first `valid` entries are the data
    valid = np.sum(~np.isnan(a), axis=0)
    out = np.empty((len(q),) + a.shape[1:], dtype=float)
    for i, qi in enumerate(q):
        if not 0.0 <= qi <= 1.0:
            raise ValueError(f"quantiles must lie in [0, 1], got {qi}")
        pos = qi * np.maximum(valid - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(valid - 1, 0))
        vlo = np.take_along_axis(a, lo[None], axis=0)[0].astype(float)
        vhi = np.take_along_axis(a, hi[None], axis=0)[0].astype(float)
        t = pos - lo
        res = vlo + t * (vhi - vlo)
        out[i] = np.where(valid > 0, res, np.nan)
    return out


def magnitude_spectrum(event: Any, fft_size: int = 512) -> np.ndarray:
    """One-sided magnitude spectrum of one event (time, channel) or a batch (n, time, channel).

    The package's spectrum (:func:`seiswork.functional.spectrum`: whole event, Hann-windowed half-overlapping
    segments of ``fft_size``, no amplitude compression), so plots show what the models see. Events shorter
    than ``fft_size`` are zero-padded at the end. Returns float64 (..., fft_size // 2 + 1, channel).
    NaN rows at the edges must be removed first.
    """
    from seiswork.functional import spectrum  # imports torch: only paid for when a spectrum is drawn

    a = np.asarray(to_numpy(event), dtype=np.float32)
    if a.ndim in (2, 3) and a.shape[-2] < fft_size:
        pad = [(0, 0)] * a.ndim
        pad[-2] = (0, fft_size - a.shape[-2])
        a = np.pad(a, pad)
    return np.asarray(spectrum(a, fft_size=fft_size), dtype=float)


def _spectra(stack: np.ndarray, fft_size: int, chunk: int = 256) -> np.ndarray:
    """Spectra of every event of a NaN-padded stack → (n, fft_size // 2 + 1, channel), NaN for empty events."""
    n, _, c = stack.shape
    out = np.full((n, fft_size // 2 + 1, c), np.nan)
    if np.isfinite(stack).all():  # equal lengths, no padding: chunks of events at once
        for s in range(0, n, chunk):
            out[s : s + chunk] = magnitude_spectrum(stack[s : s + chunk], fft_size)
        return out
    for i in range(n):
        ev = finite_rows(stack[i])
        if ev.shape[0] == 0:
            continue
        # interior NaN gaps (rare) are zero-filled so one bad sample does not blank the whole spectrum
        out[i] = magnitude_spectrum(np.nan_to_num(ev), fft_size)
    return out


def _band_pairs(quantiles: Sequence[float]) -> list[tuple[float, float]]:
    """(low, high) quantile pairs, outermost first: (0.1, 0.25, 0.75, 0.9) → [(0.1, 0.9), (0.25, 0.75)]."""
    q = sorted(float(v) for v in quantiles)
    lows = [v for v in q if v < 0.5]
    highs = [v for v in q if v > 0.5]
    if len(lows) != len(highs) or any(not 0 <= v <= 1 for v in q):
        raise ValueError(
            f"quantiles must come in pairs around the median within [0, 1], e.g. (0.1, 0.25, 0.75, 0.9); got {tuple(quantiles)}"
        )
    return list(zip(lows, highs[::-1]))


def fan_chart(
    x: Any,
    labels: Any,
    classes: Sequence | None = None,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    sampling_rate: float | None = None,
    quantiles: Sequence[float] = (0.1, 0.25, 0.75, 0.9),
    domain: str = "time",
    fft_size: int = 512,
    axes: Any = None,
    unit: str = "counts",
    title: str | None = None,
) -> Figure:
    """Median with quantile bands per class (rows) and channel (columns).

    ``x``: (n, time, channel) array/tensor, or a list of events (DataFrames read by channel name, or
    arrays (time, channel)) of unequal length, padded with NaN to the longest; NaN never counts (the bands
    at a time step use only the events that have a sample there). ``domain="frequency"`` plots magnitude
    spectra (see :func:`magnitude_spectrum`, whole event, NaN padding removed) on a log y axis.
    ``axes``: optional (n_classes, n_channels) axes. Lines carry labels ``"median"`` and ``"q10–q90"`` etc.
    """
    if domain not in ("time", "frequency"):
        raise ValueError(f"domain must be 'time' or 'frequency', got {domain!r}")
    check_sampling_rate(sampling_rate)
    pairs = _band_pairs(quantiles)
    channels = tuple(channels)
    stack = stack_events(x, channels)
    names, order = label_names(labels, stack.shape[0], classes)

    if domain == "frequency":
        if fft_size < 2:
            raise ValueError(f"fft_size must be at least 2, got {fft_size}")
        data = _spectra(stack, fft_size)
        xaxis, xlabel = freq_axis(fft_size, sampling_rate)
        ylabel = f"Magnitude ({unit})"
    else:
        data = stack
        xaxis, xlabel = time_axis(stack.shape[1], sampling_rate)
        ylabel = f"Amplitude ({unit})"

    k, c = len(order), len(channels)
    fig, axs = new_grid(axes, k, c, (3.4 * c + 0.6, 2.3 * k + 0.9), sharex=True, sharey="row")
    colors = palette()
    qs = [0.5] + [v for p in pairs for v in p]
    for r, cls in enumerate(order):
        members = data[names == cls]
        color = colors[r % len(colors)]
        q = nanquantile(members, qs)  # (len(qs), T, C), one vectorised pass per class
        for j, ch in enumerate(channels):
            ax = axs[r, j]
            for b, (lo, hi) in enumerate(pairs):
                ax.fill_between(xaxis, q[1 + 2 * b][:, j], q[2 + 2 * b][:, j], color=color, lw=0,
                                alpha=0.18 + 0.17 * b, label=f"q{100 * lo:g}–q{100 * hi:g}")
            ax.plot(xaxis, q[0][:, j], color=color, lw=1.0, label="median")
            ax.set_title(f"{cls} — {ch} (n={len(members)})", fontsize="medium")
            if domain == "frequency":
                ax.set_yscale("log")
            if r == k - 1:
                ax.set_xlabel(xlabel)
            if j == 0:
                ax.set_ylabel(ylabel)
        axs[r, 0].legend(fontsize="x-small", loc="upper right")
    fig.suptitle(title or f"Fan chart per class and channel ({'waveforms' if domain == 'time' else 'magnitude spectra'})")
    fig.tight_layout()
    return fig

