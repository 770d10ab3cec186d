"""Fan charts: the median and quantile bands of a class of events, per channel, as envelopes, signed
waveforms or amplitude spectra; and the class medians overlaid per channel, to compare classes.

Why envelopes: z-scored signed traces have a median near 0 and symmetric bands on any data set, so the
features a seismologist compares (a weak P before a strong S, a long coda, late surface waves) cancel out.
The moving RMS of each trace keeps them: plotted on a log amplitude axis, each phase stands out as a step.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure

from seiswork.data.events import check_sampling_rate, finite_rows, label_names, stack_events, to_numpy
from seiswork.plots.style import DEFAULT_CHANNELS, freq_axis, legend_outside, new_grid, palette, time_axis


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


def rms_envelope(x: Any, window: int, chunk: int = 256) -> np.ndarray:
    """Moving RMS over ``window`` samples (centred) of (time, channel) or (n, time, channel) → same shape, float32.

    Units are those of ``x``. NaN samples (padding) are left out of each window's mean and stay NaN.
    """
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive number of samples, got {window!r}")
    a = np.asarray(to_numpy(x))
    if a.ndim not in (2, 3):
        raise ValueError(f"x must be (time, channel) or (n, time, channel), got shape {a.shape}")
    batch = a if a.ndim == 3 else a[None]
    t = batch.shape[1]
    start = np.clip(np.arange(t) - window // 2, 0, t)
    stop = np.clip(np.arange(t) - window // 2 + window, 0, t)
    out = np.empty(batch.shape, dtype=np.float32)
    for s in range(0, batch.shape[0], chunk):  # chunks keep the float64 running sums small
        part = batch[s : s + chunk].astype(float)
        ok = np.isfinite(part)
        sums = np.zeros((part.shape[0], t + 1, part.shape[2]))
        counts = np.zeros_like(sums)
        np.cumsum(np.where(ok, part * part, 0.0), axis=1, out=sums[:, 1:])
        np.cumsum(ok, axis=1, out=counts[:, 1:])
        power = (sums[:, stop] - sums[:, start]) / np.maximum(counts[:, stop] - counts[:, start], 1)
        out[s : s + chunk] = np.where(ok, np.sqrt(np.maximum(power, 0.0)), np.nan)
    return out if a.ndim == 3 else out[0]


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


DOMAINS = ("envelope", "time", "frequency")
_DEFAULT_WINDOW_S = 0.5  # RMS window of the envelope: short enough to separate P from S at 10 km
_DEFAULT_WINDOW_SAMPLES = 50  # the same without a sampling rate (0.5 s at 100 Hz)


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


def _window_samples(envelope_window: float | None, sampling_rate: float | None) -> tuple[int, str]:
    """The envelope's RMS window in samples, and how to name it on the axis."""
    if envelope_window is None:
        envelope_window = _DEFAULT_WINDOW_S if sampling_rate else _DEFAULT_WINDOW_SAMPLES
    if not (np.isfinite(envelope_window) and envelope_window > 0):
        raise ValueError(f"envelope_window must be a positive length (s, or samples without a sampling_rate), "
                         f"got {envelope_window!r}")
    if sampling_rate:
        return max(1, int(round(envelope_window * sampling_rate))), f"{envelope_window:g} s"
    return max(1, int(round(envelope_window))), f"{int(round(envelope_window))} samples"


def _per_domain(x: Any, channels: tuple[str, ...], domain: str, sampling_rate: float | None, fft_size: int,
                envelope_window: float | None, unit: str) -> tuple[np.ndarray, np.ndarray, str, str, str]:
    """The values to plot per event (n, x, channel), the x values, the x and the y label, what is shown."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
    check_sampling_rate(sampling_rate)
    stack = stack_events(x, channels)
    if domain == "frequency":
        if fft_size < 2:
            raise ValueError(f"fft_size must be at least 2, got {fft_size}")
        xaxis, xlabel = freq_axis(fft_size, sampling_rate)
        what = "amplitude spectra, white noise of std s reads s; log–log, 0 Hz not shown"
        return _spectra(stack, fft_size), xaxis, xlabel, f"Relative amplitude ({unit})", what
    xaxis, xlabel = time_axis(stack.shape[1], sampling_rate)
    if domain == "envelope":
        window, named = _window_samples(envelope_window, sampling_rate)
        what = f"envelopes: moving RMS over {named}, log amplitude"
        return rms_envelope(stack, window), xaxis, xlabel, f"RMS envelope ({unit})", what
    return stack, xaxis, xlabel, f"Amplitude ({unit})", "signed waveforms"


def _scale_axes(ax: Any, domain: str, xaxis: np.ndarray) -> None:
    """Log amplitude for envelopes and spectra; log frequency without 0 Hz (DC) for spectra."""
    if domain == "time":
        return
    ax.set_yscale("log")
    if domain == "frequency":
        ax.set_xscale("log", nonpositive="mask")  # the 0 Hz bin (DC) cannot sit on a log axis: hidden
        if len(xaxis) > 2:
            ax.set_xlim(xaxis[1], xaxis[-1])


def _band_x(domain: str, xaxis: np.ndarray) -> slice:
    """Bands on a log frequency axis start above 0 Hz (a polygon through x = 0 has no place on it)."""
    return slice(1, None) if domain == "frequency" else slice(None)


def sample_per_class(x: Any, names: np.ndarray, order: Sequence, max_events: int | None, seed: int = 0):
    """``(x, names, totals)`` with at most ``max_events`` events per class, drawn without replacement from a
    seeded generator (rows kept in order): quantiles of a few thousand events are as good as of all of them,
    and a memory-mapped set larger than memory is then read only where drawn. ``totals``: events per class."""
    totals = {cls: int(np.count_nonzero(names == cls)) for cls in order}
    if max_events is None or all(n <= max_events for n in totals.values()):
        return x, names, totals
    if max_events < 1:
        raise ValueError(f"max_events must be at least 1 (or None for every event), got {max_events}")
    rng = np.random.default_rng(seed)
    rows = np.sort(np.concatenate([
        rng.choice(np.flatnonzero(names == cls), min(max_events, totals[cls]), replace=False) for cls in order]))
    picked = [x[i] for i in rows] if isinstance(x, (list, tuple)) else x[rows]
    return picked, names[rows], totals


def _count(shown: int, total: int) -> str:
    return f"n={shown}" if shown == total else f"n={shown} of {total}"


def fan_chart(
    x: Any,
    labels: Any,
    classes: Sequence | None = None,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    sampling_rate: float | None = None,
    quantiles: Sequence[float] = (0.1, 0.25, 0.75, 0.9),
    domain: str = "envelope",
    fft_size: int = 512,
    axes: Any = None,
    unit: str = "counts",
    title: str | None = None,
    envelope_window: float | None = None,
    max_events: int | None = 2000,
) -> Figure:
    """Median with quantile bands per class (rows) and channel (columns).

    ``x``: (n, time, channel) array/tensor, or a list of events (DataFrames read by channel name, or
    arrays (time, channel)) of unequal length, padded with NaN to the longest; NaN never counts (the bands
    at a time step use only the events that have a sample there).

    ``domain``: ``"envelope"`` (default) the moving RMS of each trace (:func:`rms_envelope` over
    ``envelope_window``: s with a ``sampling_rate``, else samples; default 0.5 s or 50 samples) on a log
    amplitude axis; ``"time"`` the signed traces; ``"frequency"`` amplitude spectra (see
    :func:`magnitude_spectrum`, whole event, NaN padding removed) on log–log axes, 0 Hz not shown.
    The panels of a row share one y scale. ``axes``: optional (n_classes, n_channels) axes. Lines carry
    labels ``"median"`` and ``"q10–q90"`` etc.; the legend sits outside the panels. A class with more than
    ``max_events`` events is shown by a seeded random draw of that many (:func:`sample_per_class`).
    """
    pairs = _band_pairs(quantiles)
    channels = tuple(channels)
    names, order = label_names(labels, len(x), classes)
    x, names, totals = sample_per_class(x, names, order, max_events)
    data, xaxis, xlabel, ylabel, what = _per_domain(x, channels, domain, sampling_rate, fft_size, envelope_window,
                                                    unit)

    k, c = len(order), len(channels)
    fig, axs = new_grid(axes, k, c, (3.4 * c + 1.8, 2.3 * k + 0.9), sharex=True, sharey="row")
    colors = palette()
    qs = [0.5] + [v for p in pairs for v in p]
    xs = _band_x(domain, xaxis)
    for r, cls in enumerate(order):
        members = data[names == cls]
        color = colors[r % len(colors)]
        q = nanquantile(members, qs)  # (len(qs), T, C), one vectorised pass per class
        for j, ch in enumerate(channels):
            ax = axs[r, j]
            for b, (lo, hi) in enumerate(pairs):
                ax.fill_between(xaxis[xs], q[1 + 2 * b][xs, j], q[2 + 2 * b][xs, j], color=color, lw=0,
                                alpha=0.18 + 0.17 * b, label=f"q{100 * lo:g}–q{100 * hi:g}")
            ax.plot(xaxis, q[0][:, j], color=color, lw=1.0, label="median")
            ax.set_title(f"{cls} — {ch} ({_count(len(members), totals[cls])})", fontsize="medium")
            _scale_axes(ax, domain, xaxis)
            if r == k - 1:
                ax.set_xlabel(xlabel)
            if j == 0:
                ax.set_ylabel(ylabel)
        legend_outside(axs[r, -1], fontsize="x-small")
    fig.suptitle(title or f"Fan chart per class and channel ({what})")
    fig.tight_layout()
    return fig


def class_medians(
    x: Any,
    labels: Any,
    classes: Sequence | None = None,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    sampling_rate: float | None = None,
    domain: str = "frequency",
    band: tuple[float, float] | None = (0.25, 0.75),
    fft_size: int = 512,
    axes: Any = None,
    unit: str = "counts",
    title: str | None = None,
    envelope_window: float | None = None,
    max_events: int | None = 2000,
) -> Figure:
    """The median of every class overlaid, one panel per channel, so classes can be compared directly.

    Same inputs and ``domain`` values as :func:`fan_chart` (default ``"frequency"``: log–log amplitude
    spectra); ``band``: a light (low, high) quantile band around each median, None for medians only.
    All panels share one y scale. ``axes``: optional n_channels axes. Lines are labelled with the class
    name and its count, in a legend outside the panels. ``max_events``: as in :func:`fan_chart`.
    """
    channels = tuple(channels)
    names, order = label_names(labels, len(x), classes)
    x, names, totals = sample_per_class(x, names, order, max_events)
    data, xaxis, xlabel, ylabel, what = _per_domain(x, channels, domain, sampling_rate, fft_size, envelope_window,
                                                    unit)
    qs = [0.5]
    if band is not None:
        if len(band) != 2 or not 0 <= band[0] < 0.5 < band[1] <= 1:
            raise ValueError(f"band must be (low, high) quantiles with low < 0.5 < high, e.g. (0.25, 0.75); "
                             f"got {band!r}")
        qs += [float(band[0]), float(band[1])]
    c = len(channels)
    fig, axs = new_grid(axes, 1, c, (3.8 * c + 1.8, 3.4), sharex=True, sharey=True)
    colors = palette()
    xs = _band_x(domain, xaxis)
    for r, cls in enumerate(order):
        members = data[names == cls]
        q = nanquantile(members, qs)
        color = colors[r % len(colors)]
        for j in range(c):
            ax = axs[0, j]
            if band is not None:
                ax.fill_between(xaxis[xs], q[1][xs, j], q[2][xs, j], color=color, lw=0, alpha=0.15)
            ax.plot(xaxis, q[0][:, j], color=color, lw=1.3, label=f"{cls} ({_count(len(members), totals[cls])})")
    for j, ch in enumerate(channels):
        ax = axs[0, j]
        ax.set_title(ch, fontsize="medium")
        _scale_axes(ax, domain, xaxis)
        ax.set_xlabel(xlabel)
    axs[0, 0].set_ylabel(ylabel)
    note = f"; band q{100 * band[0]:g}–q{100 * band[1]:g}" if band is not None else ""
    legend_outside(axs[0, -1], fontsize="small", title=f"median per class{note}", title_fontsize="small")
    fig.suptitle(title or f"Classes compared per channel ({what})")
    fig.tight_layout()
    return fig
