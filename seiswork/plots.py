"""Figures for the notebooks: class counts, event lengths, fan charts, augmentation before/after,
learning curves, confusion matrix, ROC curve and run comparison.

Every function takes data plus an optional ``ax`` (one panel) or ``axes`` (several panels) and returns
the matplotlib ``Figure``; none calls ``plt.show()``. Figures are made with pyplot, so in a notebook they
appear at the end of the cell: assign the result (``fig = plots.fan_chart(...)``) rather than ending the
cell with the call, or the figure shows twice. Call :func:`set_style` once (the notebooks do) for the
seaborn look; importing this module changes no global style.

Units on the axes: time in s (samples when no sampling rate is known), frequency in Hz (cycles/sample
without a sampling rate), amplitudes in ``unit`` (``"counts"`` by default; pass ``unit="z-score"`` for
preprocessed events).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from seiswork.paths import atomic_path

__all__ = [
    "set_style",
    "class_counts",
    "lengths_histogram",
    "fan_chart",
    "augmentation_before_after",
    "learning_curves",
    "confusion_matrix",
    "roc_curve",
    "compare_runs",
    "save_figure",
    "nanquantile",
    "magnitude_spectrum",
]

DEFAULT_CHANNELS = ("Z", "N", "E")


# --------------------------------------------------------------------------------------------- style
def set_style(context: str = "notebook", style: str = "whitegrid", palette: str = "deep", font_scale: float = 1.0) -> None:
    """Apply the seaborn theme used by the notebooks (global matplotlib state, hence not done at import)."""
    import seaborn as sns  # imported here: seaborn is slow to import and only needed for the theme

    sns.set_theme(context=context, style=style, palette=palette, font_scale=font_scale)
    plt.rcParams["figure.dpi"] = 100
    plt.rcParams["savefig.dpi"] = 100


def _colors() -> list:
    """The current colour cycle, so :func:`set_style`'s palette is respected."""
    return plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2", "C3"])


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.figure, ax


def _new_grid(axes: Any, nrows: int, ncols: int, figsize: tuple[float, float], **kw) -> tuple[Figure, np.ndarray]:
    """A (nrows, ncols) array of axes: new ones, or the caller's checked for shape."""
    if axes is None:
        fig, axs = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, **kw)
        return fig, axs
    axs = np.asarray(axes, dtype=object)
    if axs.size != nrows * ncols:
        raise ValueError(
            f"axes has {axs.size} panels but this figure needs {nrows} x {ncols} = {nrows * ncols}; "
            f"pass axes=None or plt.subplots({nrows}, {ncols})[1]"
        )
    axs = axs.reshape(nrows, ncols)
    return axs[0, 0].figure, axs


def _time_axis(n: int, sampling_rate: float | None) -> tuple[np.ndarray, str]:
    if sampling_rate:
        return np.arange(n) / float(sampling_rate), "Time (s)"
    return np.arange(n, dtype=float), "Time (samples)"


def _freq_axis(fft_size: int, sampling_rate: float | None) -> tuple[np.ndarray, str]:
    if sampling_rate:
        return np.fft.rfftfreq(fft_size, d=1.0 / float(sampling_rate)), "Frequency (Hz)"
    return np.fft.rfftfreq(fft_size), "Frequency (cycles/sample)"


def _check_sampling_rate(sampling_rate: float | None) -> None:
    if sampling_rate is not None and not (np.isfinite(sampling_rate) and sampling_rate > 0):
        raise ValueError(f"sampling_rate must be a positive number of Hz or None, got {sampling_rate!r}")


# --------------------------------------------------------------------------------------------- data helpers
def _to_numpy(a: Any) -> np.ndarray:
    """numpy view of a numpy array, torch tensor (any device) or DataFrame."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # torch tensor, without importing torch here
        return a.detach().cpu().numpy()
    if isinstance(a, pd.DataFrame):
        return a.to_numpy()
    return np.asarray(a)


def _event_array(event: Any, channels: Sequence[str], where: str = "event") -> np.ndarray:
    """One event as a float array (time, channel); DataFrames are read by channel name."""
    if isinstance(event, pd.DataFrame):
        missing = [c for c in channels if c not in event.columns]
        if missing:
            raise ValueError(
                f"{where} lacks channel column(s) {missing}; it has {list(event.columns)}. "
                f"Pass channels= matching the data."
            )
        return event[list(channels)].to_numpy(dtype=float)
    a = _to_numpy(event)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{where} must be 2-D (time, channel), got shape {a.shape}")
    if a.shape[1] != len(channels):
        raise ValueError(
            f"{where} has {a.shape[1]} channels (shape {a.shape}, layout (time, channel)) but channels={tuple(channels)}"
        )
    return a.astype(float, copy=False)


def _stack_events(x: Any, channels: Sequence[str]) -> np.ndarray:
    """(n, time, channel) float32, events of unequal length padded at the end with NaN."""
    if isinstance(x, (list, tuple)):
        if len(x) == 0:
            raise ValueError("no events to plot: x is empty")
        arrays = [_event_array(e, channels, where=f"event {i}") for i, e in enumerate(x)]
        longest = max(a.shape[0] for a in arrays)
        out = np.full((len(arrays), longest, len(channels)), np.nan, dtype=np.float32)
        for i, a in enumerate(arrays):
            out[i, : a.shape[0]] = a
        return out
    a = _to_numpy(x)
    if a.ndim != 3:
        raise ValueError(
            f"x must be a (n, time, channel) array or a list of events, got an array of shape {a.shape}"
        )
    if a.shape[0] == 0:
        raise ValueError("no events to plot: x is empty")
    if a.shape[2] != len(channels):
        raise ValueError(f"x has {a.shape[2]} channels (shape {a.shape}) but channels={tuple(channels)}")
    return a


def _label_names(labels: Any, n: int, classes: Sequence | None) -> tuple[np.ndarray, list]:
    """Labels as displayed names plus the class order.

    Integer labels with string ``classes`` are read as indices into ``classes`` (``adapter.y`` with
    ``adapter.classes``); otherwise ``classes`` selects and orders the classes to show.
    """
    lab = _to_numpy(labels).ravel()
    if lab.shape[0] != n:
        raise ValueError(f"labels has {lab.shape[0]} entries but there are {n} events; they must match one to one")
    if classes is None:
        return lab, sorted(pd.unique(lab).tolist(), key=str)
    classes = list(_to_numpy(classes).ravel()) if not isinstance(classes, (list, tuple)) else list(classes)
    if np.issubdtype(lab.dtype, np.integer) and classes and all(isinstance(c, str) for c in classes):
        if lab.size and (lab.min() < 0 or lab.max() >= len(classes)):
            raise ValueError(f"integer labels must lie in 0..{len(classes) - 1} to index classes={classes}, got {lab.min()}..{lab.max()}")
        return np.asarray(classes, dtype=object)[lab], classes
    unknown = [c for c in classes if not np.any(lab == c)]
    if unknown:
        raise ValueError(f"classes {unknown} do not occur in labels (labels hold {sorted(pd.unique(lab).tolist(), key=str)})")
    return lab, classes


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

    a = np.asarray(_to_numpy(event), dtype=np.float32)
    if a.ndim in (2, 3) and a.shape[-2] < fft_size:
        pad = [(0, 0)] * a.ndim
        pad[-2] = (0, fft_size - a.shape[-2])
        a = np.pad(a, pad)
    return np.asarray(spectrum(a, fft_size=fft_size), dtype=float)


def _finite_rows(a: np.ndarray) -> np.ndarray:
    """The rows of (time, channel) between the first and last all-finite row (NaN padding removed)."""
    ok = np.all(np.isfinite(a), axis=1)
    if not ok.any():
        return a[:0]
    idx = np.flatnonzero(ok)
    return a[idx[0] : idx[-1] + 1]


def _spectra(stack: np.ndarray, fft_size: int, chunk: int = 256) -> np.ndarray:
    """Spectra of every event of a NaN-padded stack → (n, fft_size // 2 + 1, channel), NaN for empty events."""
    n, _, c = stack.shape
    out = np.full((n, fft_size // 2 + 1, c), np.nan)
    if np.isfinite(stack).all():  # equal lengths, no padding: chunks of events at once
        for s in range(0, n, chunk):
            out[s : s + chunk] = magnitude_spectrum(stack[s : s + chunk], fft_size)
        return out
    for i in range(n):
        ev = _finite_rows(stack[i])
        if ev.shape[0] == 0:
            continue
        # interior NaN gaps (rare) are zero-filled so one bad sample does not blank the whole spectrum
        out[i] = magnitude_spectrum(np.nan_to_num(ev), fft_size)
    return out


# --------------------------------------------------------------------------------------------- class counts
def class_counts(
    labels: Any,
    ax: Axes | None = None,
    classes: Sequence | None = None,
    title: str = "Class distribution",
) -> Figure:
    """Bar chart of events per class, counts written on the bars.

    ``labels``: one label per event (array-like); or a split summary, either a DataFrame of counts with
    one row per class and one column per part (``train``/``val``/``test``) or a mapping
    ``{part: labels}``, drawn as grouped bars (a ``total`` row/column, as in
    ``WaveformDataAdapter.summary()``, is left out). ``classes`` orders (and names, for integer labels) the classes.
    """
    if isinstance(labels, Mapping) and not isinstance(labels, pd.DataFrame):
        parts, order = {}, []
        for part, lab in labels.items():
            names, part_order = _label_names(lab, len(_to_numpy(lab).ravel()), classes)
            parts[part] = pd.Series(names).value_counts()
            order += [c for c in part_order if c not in order]
        labels = pd.DataFrame(parts).reindex(order).fillna(0).astype(int)
        classes = None  # already applied (and mapped to names for integer labels)
    if isinstance(labels, pd.DataFrame):
        # a split summary may carry a "total" row and column (WaveformDataAdapter.summary()): the bars show parts
        counts = labels.drop(index=[i for i in labels.index if str(i).lower() == "total"],
                             columns=[c for c in labels.columns if str(c).lower() == "total"])
        if counts.empty:
            raise ValueError("class_counts got an empty DataFrame of counts")
        if classes is not None:
            classes = list(np.asarray(classes).ravel())
            missing = [c for c in classes if c not in counts.index]
            if missing:
                raise ValueError(f"classes {missing} are not rows of the counts table (rows: {list(counts.index)})")
            counts = counts.loc[classes]
        fig, ax = _new_axes(ax, (1.6 + 1.2 * len(counts) * max(1, counts.shape[1]) ** 0.5, 3.6))
        n_parts = counts.shape[1]
        width = 0.8 / n_parts
        xs = np.arange(len(counts))
        colors = _colors()
        for j, part in enumerate(counts.columns):
            bars = ax.bar(xs + (j - (n_parts - 1) / 2) * width, counts[part].to_numpy(), width,
                          label=str(part), color=colors[j % len(colors)])
            ax.bar_label(bars, fmt="%d", fontsize="small")
        ax.set_xticks(xs, [str(c) for c in counts.index])
        ax.legend(title="part")
        total = int(np.nansum(counts.to_numpy()))
    else:
        names, order = _label_names(labels, len(_to_numpy(labels).ravel()), classes)
        if len(names) == 0:
            raise ValueError("class_counts got no labels")
        vc = pd.Series(names).value_counts()
        heights = [int(vc.get(c, 0)) for c in order]
        fig, ax = _new_axes(ax, (1.6 + 1.2 * len(order), 3.6))
        colors = _colors()
        bars = ax.bar([str(c) for c in order], heights, color=[colors[i % len(colors)] for i in range(len(order))])
        ax.bar_label(bars, labels=[f"{h} ({100 * h / len(names):.0f}%)" for h in heights], fontsize="small")
        total = len(names)
    ax.set_xlabel("Class")
    ax.set_ylabel("Events (count)")
    ax.set_title(f"{title} (n={total})")
    ax.margins(y=0.15)  # room for the annotations
    return fig


# --------------------------------------------------------------------------------------------- lengths
def lengths_histogram(
    lengths: Any,
    sampling_rate: float | None = None,
    labels: Any = None,
    ax: Axes | None = None,
    bins: int | str = "auto",
    channels: Sequence[str] = DEFAULT_CHANNELS,
    title: str = "Event lengths",
) -> Figure:
    """Histogram of event lengths, in s with a ``sampling_rate`` else in samples.

    ``lengths``: numbers of samples, or the events themselves (list of DataFrames/arrays (time, channel)),
    whose length is counted without the NaN padding at the edges. With ``labels`` one histogram per class
    is overlaid. The shortest length (what TRIMMING cuts to by default) is marked.
    """
    _check_sampling_rate(sampling_rate)
    if isinstance(lengths, (list, tuple)) and lengths and not np.isscalar(lengths[0]):
        lens = np.array([_finite_rows(_event_array(e, channels, f"event {i}")).shape[0] for i, e in enumerate(lengths)], dtype=float)
    else:
        lens = np.asarray(_to_numpy(lengths), dtype=float).ravel()
    if lens.size == 0:
        raise ValueError("lengths_histogram got no lengths")
    if np.any(~np.isfinite(lens)) or np.any(lens < 0):
        raise ValueError("lengths must be finite and non-negative numbers of samples")
    unit = "s" if sampling_rate else "samples"
    vals = lens / sampling_rate if sampling_rate else lens
    fig, ax = _new_axes(ax, (6.0, 3.6))
    edges = np.histogram_bin_edges(vals, bins=bins)
    if labels is None:
        ax.hist(vals, bins=edges, color=_colors()[0], edgecolor="white")
    else:
        names, order = _label_names(labels, len(vals), None)
        for i, c in enumerate(order):
            ax.hist(vals[names == c], bins=edges, alpha=0.6, label=f"{c} (n={int(np.sum(names == c))})",
                    color=_colors()[i % len(_colors())], edgecolor="white")
    shortest = vals.min()
    ax.axvline(shortest, color="k", ls="--", lw=1, label=f"shortest: {shortest:.4g} {unit}")
    ax.axvline(np.median(vals), color="0.4", ls=":", lw=1, label=f"median: {np.median(vals):.4g} {unit}")
    ax.legend(fontsize="small")
    ax.set_xlabel(f"Length ({unit})")
    ax.set_ylabel("Events (count)")
    ax.set_title(f"{title} (n={len(vals)})")
    return fig


# --------------------------------------------------------------------------------------------- fan chart
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
    _check_sampling_rate(sampling_rate)
    pairs = _band_pairs(quantiles)
    channels = tuple(channels)
    stack = _stack_events(x, channels)
    names, order = _label_names(labels, stack.shape[0], classes)

    if domain == "frequency":
        if fft_size < 2:
            raise ValueError(f"fft_size must be at least 2, got {fft_size}")
        data = _spectra(stack, fft_size)
        xaxis, xlabel = _freq_axis(fft_size, sampling_rate)
        ylabel = f"Magnitude ({unit})"
    else:
        data = stack
        xaxis, xlabel = _time_axis(stack.shape[1], sampling_rate)
        ylabel = f"Amplitude ({unit})"

    k, c = len(order), len(channels)
    fig, axs = _new_grid(axes, k, c, (3.4 * c + 0.6, 2.3 * k + 0.9), sharex=True, sharey="row")
    colors = _colors()
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


# --------------------------------------------------------------------------------------------- augmentation
def augmentation_before_after(
    event: Any,
    augmented: Any,
    sampling_rate: float | None = None,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    fft_size: int = 512,
    title: str | None = None,
    axes: Any = None,
    unit: str = "counts",
    note: str | None = None,
) -> Figure:
    """Waveform (left column) and magnitude spectrum (right column) per channel (rows), before and after
    augmentation overlaid: before in grey, after in colour.

    ``event``, ``augmented``: (time, channel) arrays, tensors or DataFrames (their lengths may differ).
    ``axes``: optional (n_channels, 2) axes. ``note``: a line of text under the title (e.g. drawn parameters).
    """
    _check_sampling_rate(sampling_rate)
    channels = tuple(channels)
    before = _finite_rows(_event_array(event, channels, "event"))
    after = _finite_rows(_event_array(augmented, channels, "augmented event"))
    if before.shape[0] == 0 or after.shape[0] == 0:
        raise ValueError("augmentation_before_after needs events with finite samples; got an all-NaN event")
    c = len(channels)
    fig, axs = _new_grid(axes, c, 2, (11.0, 2.1 * c + 1.0))
    color = _colors()[1]
    tb, xlabel = _time_axis(before.shape[0], sampling_rate)
    ta, _ = _time_axis(after.shape[0], sampling_rate)
    f, flabel = _freq_axis(fft_size, sampling_rate)
    sb = magnitude_spectrum(before, fft_size)
    sa = magnitude_spectrum(after, fft_size)
    for j, ch in enumerate(channels):
        ax = axs[j, 0]
        ax.plot(tb, before[:, j], color="0.55", lw=0.8, label="before")
        ax.plot(ta, after[:, j], color=color, lw=0.8, alpha=0.85, label="after")
        ax.set_title(f"{ch} — waveform", fontsize="medium")
        ax.set_ylabel(f"Amplitude ({unit})")
        ax = axs[j, 1]
        ax.semilogy(f, sb[:, j], color="0.55", lw=1.0, label="before")
        ax.semilogy(f, sa[:, j], color=color, lw=1.0, alpha=0.85, label="after")
        ax.set_title(f"{ch} — magnitude spectrum (fft_size={fft_size})", fontsize="medium")
        ax.set_ylabel(f"Magnitude ({unit})")
        if j == c - 1:
            axs[j, 0].set_xlabel(xlabel)
            axs[j, 1].set_xlabel(flabel)
    axs[0, 0].legend(fontsize="small", loc="upper right")
    axs[0, 1].legend(fontsize="small", loc="upper right")
    head = title or "Augmentation: before and after"
    fig.suptitle(head if not note else f"{head}\n{note}", fontsize="medium")
    if axes is None:
        # fixed margins instead of tight_layout: the tuner redraws this figure on every slider move, and
        # tight_layout (log-axis tick extents) costs about as much as drawing it
        height = fig.get_figheight()
        lines = head.count("\n") + 1 + (note.count("\n") + 1 if note else 0)
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.5 / height, top=1 - (0.3 + 0.27 * lines) / height,
                            hspace=0.55, wspace=0.2)
    return fig


# --------------------------------------------------------------------------------------------- training
_NOT_METRICS = {"epoch", "lr", "learning_rate", "time", "seconds", "elapsed", "duration", "best", "is_best"}


def learning_curves(history: pd.DataFrame | Mapping, axes: Any = None, title: str = "Learning curves") -> Figure:
    """Loss (left) and metrics (right) per epoch for training and validation.

    ``history``: DataFrame (or dict of lists) with one row per epoch, columns such as ``train_loss``,
    ``val_loss``, ``train_accuracy``, ``val_macro_f1``; an ``epoch`` column, when present, is the x axis.
    Columns containing ``loss`` go to the left panel, other numeric train_/val_ columns to the right one.
    The epoch with the lowest ``val_loss`` is marked. ``axes``: optional pair of axes.
    """
    h = pd.DataFrame(history)
    if h.empty:
        raise ValueError("history is empty: train for at least one epoch first")
    epochs = h["epoch"].to_numpy() if "epoch" in h.columns else np.arange(1, len(h) + 1)
    numeric = [col for col in h.columns if pd.api.types.is_numeric_dtype(h[col]) and col not in _NOT_METRICS]
    loss_cols = [col for col in numeric if "loss" in col]
    metric_cols = [col for col in numeric if "loss" not in col and (col.startswith(("train", "val")))]
    if not loss_cols:
        raise ValueError(f"history has no loss column (columns: {list(h.columns)}); expected e.g. train_loss, val_loss")
    fig, axs = _new_grid(axes, 1, 2, (11.0, 3.8))
    ax_l, ax_m = axs[0]
    styles = {"train": "-", "val": "--"}
    colors = _colors()
    for i, col in enumerate(loss_cols):
        ax_l.plot(epochs, h[col], styles.get(col.split("_")[0], "-"), marker="o", ms=3, label=col, color=colors[i % len(colors)])
    ax_l.set_title("Loss")
    ax_l.set_xlabel("Epoch")
    ax_l.set_ylabel("Loss (cross-entropy)")
    # mark the epoch fit() keeps: best validation macro F1 (the first of ties), else lowest validation loss
    for col, pick in (("val_macro_f1", np.nanargmax), ("val_loss", np.nanargmin)):
        if col in h.columns and h[col].notna().any():
            best = int(pick(h[col].to_numpy(dtype=float)))
            for ax in (ax_l, ax_m):
                ax.axvline(epochs[best], color="0.5", ls=":", lw=1)
            ax_l.plot([], [], color="0.5", ls=":", label=f"best {col} (epoch {epochs[best]})")
            break
    ax_l.legend(fontsize="small")
    # one colour per metric name, line style per part
    bases = sorted({col.split("_", 1)[1] if "_" in col else col for col in metric_cols})
    for col in metric_cols:
        base = col.split("_", 1)[1] if "_" in col else col
        ax_m.plot(epochs, h[col], styles.get(col.split("_")[0], "-"), marker="o", ms=3, label=col,
                  color=colors[(len(loss_cols) + bases.index(base)) % len(colors)])
    for ax in (ax_l, ax_m):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_m.set_title("Metrics")
    ax_m.set_xlabel("Epoch")
    ax_m.set_ylabel("Score (0–1)")
    if metric_cols:
        ax_m.legend(fontsize="small")
    else:
        ax_m.text(0.5, 0.5, "no metric columns in history", ha="center", va="center", transform=ax_m.transAxes)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(
    cm: Any,
    classes: Sequence,
    normalize: bool = True,
    ax: Axes | None = None,
    title: str = "Confusion matrix",
    cmap: str = "Blues",
) -> Figure:
    """Heatmap of a confusion matrix (rows: true class, columns: predicted class).

    Each cell is annotated ``count\\n(row %)``; the colour shows row fractions (recall per class) with
    ``normalize=True``, raw counts otherwise.
    """
    m = np.asarray(_to_numpy(cm))
    classes = [str(c) for c in classes]
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"cm must be a square (k, k) matrix, got shape {m.shape}")
    if m.shape[0] != len(classes):
        raise ValueError(f"cm is {m.shape[0]}x{m.shape[0]} but {len(classes)} class names were given: {classes}")
    if np.any(m < 0):
        raise ValueError("cm holds negative counts")
    rows = m.sum(axis=1, keepdims=True)
    frac = np.divide(m, rows, out=np.zeros(m.shape, dtype=float), where=rows > 0)
    shown = frac if normalize else m
    k = len(classes)
    fig, ax = _new_axes(ax, (2.2 + 1.1 * k, 1.8 + 1.0 * k))
    im = ax.imshow(shown, cmap=cmap, vmin=0, vmax=1 if normalize else max(1, m.max()))
    ax.grid(False)
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("Fraction of true class" if normalize else "Events (count)")
    hi = (1 if normalize else max(1, m.max())) * 0.6
    for i in range(k):
        for j in range(k):
            count = int(m[i, j]) if float(m[i, j]).is_integer() else m[i, j]
            ax.text(j, i, f"{count}\n({100 * frac[i, j]:.1f}%)", ha="center", va="center", fontsize="small",
                    color="white" if shown[i, j] > hi else "black")
    ax.set_xticks(range(k), classes, rotation=30 if max(map(len, classes)) > 8 else 0, ha="right" if max(map(len, classes)) > 8 else "center")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    ax.set_title(f"{title} (n={int(m.sum())})")
    return fig


def roc_curve(
    labels: Any,
    scores: Any,
    pos_label: Any = None,
    ax: Axes | None = None,
    classes: Sequence | None = None,
    title: str = "ROC curve",
) -> Figure:
    """ROC curve for two classes (sklearn), AUC in the legend.

    ``labels``: true labels (ints or names). ``scores``: score of the positive class per event (n,), or
    (n, 2) probabilities/logits (column 1 is used), or a mapping ``{run name: scores}`` to overlay runs.
    ``pos_label``: the positive class (default: the second of ``classes``/the sorted labels). With integer
    labels, ``classes`` names them in the legend.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.metrics import roc_curve as _roc

    y = _to_numpy(labels).ravel()
    uniq = sorted(pd.unique(y).tolist(), key=str)
    if len(uniq) != 2:
        raise ValueError(f"roc_curve needs exactly two classes in labels, got {len(uniq)}: {uniq}")
    if pos_label is None:
        if classes is not None and not np.issubdtype(y.dtype, np.integer):
            pos_label = list(classes)[1]
        else:
            pos_label = uniq[1]
    if pos_label not in uniq:
        raise ValueError(f"pos_label {pos_label!r} is not one of the labels {uniq}")
    pos_name = pos_label
    if classes is not None and np.issubdtype(y.dtype, np.integer) and isinstance(pos_label, (int, np.integer)):
        pos_name = list(classes)[int(pos_label)]
    runs = dict(scores) if isinstance(scores, Mapping) else {None: scores}
    fig, ax = _new_axes(ax, (4.8, 4.4))
    for i, (name, s) in enumerate(runs.items()):
        s = np.asarray(_to_numpy(s), dtype=float)
        if s.ndim == 2:
            if s.shape[1] != 2:
                raise ValueError(f"scores for {name or 'the run'} have shape {s.shape}; pass (n,) or (n, 2)")
            s = s[:, 1]
        if s.shape[0] != y.shape[0]:
            raise ValueError(f"scores for {name or 'the run'} have {s.shape[0]} entries but labels have {y.shape[0]}")
        fpr, tpr, _ = _roc(y, s, pos_label=pos_label)
        auc = roc_auc_score(y == pos_label, s)
        label = f"{name + ': ' if name else ''}AUC = {auc:.3f}"
        ax.plot(fpr, tpr, lw=1.5, label=label, color=_colors()[i % len(_colors())])
    ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1, label="chance (AUC = 0.5)")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    ax.set_title(f"{title} (positive class: {pos_name})")
    ax.legend(loc="lower right", fontsize="small")
    return fig


def compare_runs(
    metrics: Mapping[str, Any],
    keys: Sequence[str] = ("accuracy", "balanced_accuracy", "macro_f1"),
    ax: Axes | None = None,
    title: str = "Test metrics per model",
) -> Figure:
    """Grouped bars: one group per metric, one bar per run (e.g. ``{"lstm": report, "lstm_attention": report}``).

    Each value is a dict/Series of metrics (``evaluate``'s report, or the ``metrics.json`` summary);
    the value is written on each bar.
    """
    if not metrics:
        raise ValueError("compare_runs needs at least one run: metrics is empty")
    table = {}
    for name, report in metrics.items():
        report = dict(report)
        for nested in ("test", "metrics"):  # a metrics.json may nest the test metrics one level down
            if not all(k in report for k in keys) and isinstance(report.get(nested), Mapping):
                report = {**dict(report[nested]), **report}
        missing = [k for k in keys if k not in report]
        if missing:
            raise ValueError(f"run {name!r} has no metric(s) {missing}; it has {sorted(map(str, report))}. "
                             f"Pass keys= that every run has")
        table[name] = [float(report[k]) if report[k] is not None else np.nan for k in keys]
    fig, ax = _new_axes(ax, (1.8 + 1.6 * len(keys), 3.8))
    n = len(table)
    width = 0.8 / n
    xs = np.arange(len(keys))
    for i, (name, vals) in enumerate(table.items()):
        bars = ax.bar(xs + (i - (n - 1) / 2) * width, vals, width, label=str(name), color=_colors()[i % len(_colors())])
        ax.bar_label(bars, fmt="%.3f", fontsize="x-small")
    ax.set_xticks(xs, [k.replace("_", " ") for k in keys])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("Score (0–1)")
    ax.set_xlabel("Metric")
    ax.set_title(title)
    ax.legend(title="run", fontsize="small", loc="lower right")
    return fig


# --------------------------------------------------------------------------------------------- saving
def save_figure(fig: Figure, path: str | Path, dpi: int = 100, overwrite: bool = True) -> Path:
    """Write ``fig`` atomically (format from the suffix, PNG by default) and return the path."""
    if not isinstance(fig, Figure):
        raise TypeError(f"save_figure needs a matplotlib Figure, got {type(fig).__name__}")
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    with atomic_path(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".").lower())
    return path
