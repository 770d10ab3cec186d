"""Plots of a data set before training: events per class (and per split part), event lengths."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from seiswork.data.events import check_sampling_rate, event_array, finite_rows, label_names, to_numpy
from seiswork.plots.style import DEFAULT_CHANNELS, legend_outside, new_axes, palette


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
            names, part_order = label_names(lab, len(to_numpy(lab).ravel()), classes)
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
        fig, ax = new_axes(ax, (1.6 + 1.2 * len(counts) * max(1, counts.shape[1]) ** 0.5, 3.6))
        n_parts = counts.shape[1]
        width = 0.8 / n_parts
        xs = np.arange(len(counts))
        colors = palette()
        for j, part in enumerate(counts.columns):
            bars = ax.bar(xs + (j - (n_parts - 1) / 2) * width, counts[part].to_numpy(), width,
                          label=str(part), color=colors[j % len(colors)])
            ax.bar_label(bars, fmt="%d", fontsize="small")
        ax.set_xticks(xs, [str(c) for c in counts.index])
        legend_outside(ax, title="part")
        total = int(np.nansum(counts.to_numpy()))
    else:
        names, order = label_names(labels, len(to_numpy(labels).ravel()), classes)
        if len(names) == 0:
            raise ValueError("class_counts got no labels")
        vc = pd.Series(names).value_counts()
        heights = [int(vc.get(c, 0)) for c in order]
        fig, ax = new_axes(ax, (1.6 + 1.2 * len(order), 3.6))
        colors = palette()
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
    is overlaid. The shortest length (what TRIMMING cuts to by default) is marked. The legend sits right of
    the panel.
    """
    check_sampling_rate(sampling_rate)
    if isinstance(lengths, (list, tuple)) and lengths and not np.isscalar(lengths[0]):
        lens = np.array([finite_rows(event_array(e, channels, f"event {i}")).shape[0] for i, e in enumerate(lengths)], dtype=float)
    else:
        lens = np.asarray(to_numpy(lengths), dtype=float).ravel()
    if lens.size == 0:
        raise ValueError("lengths_histogram got no lengths")
    if np.any(~np.isfinite(lens)) or np.any(lens < 0):
        raise ValueError("lengths must be finite and non-negative numbers of samples")
    unit = "s" if sampling_rate else "samples"
    vals = lens / sampling_rate if sampling_rate else lens
    fig, ax = new_axes(ax, (7.6, 3.6))
    edges = np.histogram_bin_edges(vals, bins=bins)
    if labels is None:
        ax.hist(vals, bins=edges, color=palette()[0], edgecolor="white")
    else:
        names, order = label_names(labels, len(vals), None)
        for i, c in enumerate(order):
            ax.hist(vals[names == c], bins=edges, alpha=0.6, label=f"{c} (n={int(np.sum(names == c))})",
                    color=palette()[i % len(palette())], edgecolor="white")
    shortest = vals.min()
    ax.axvline(shortest, color="k", ls="--", lw=1, label=f"shortest: {shortest:.4g} {unit}")
    ax.axvline(np.median(vals), color="0.4", ls=":", lw=1, label=f"median: {np.median(vals):.4g} {unit}")
    legend_outside(ax, fontsize="small")
    ax.set_xlabel(f"Length ({unit})")
    ax.set_ylabel("Events (count)")
    ax.set_title(f"{title} (n={len(vals)})")
    return fig

