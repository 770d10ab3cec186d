"""Figure plumbing shared by every plot: the seaborn theme, the colour cycle, new or given axes, time and
frequency axes with their labels, and atomic saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from seiswork import defaults
from seiswork.paths import atomic_path

DEFAULT_CHANNELS = defaults.CHANNELS


def set_style(context: str = "notebook", style: str = "whitegrid", palette: str = "deep", font_scale: float = 1.0) -> None:
    """Apply the seaborn theme used by the notebooks (global matplotlib state, hence not done at import)."""
    import seaborn as sns  # imported here: seaborn is slow to import and only needed for the theme

    sns.set_theme(context=context, style=style, palette=palette, font_scale=font_scale)
    plt.rcParams["figure.dpi"] = 100
    plt.rcParams["savefig.dpi"] = 100


def palette() -> list:
    """The current colour cycle, so :func:`set_style`'s palette is respected."""
    return plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2", "C3"])


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """A new figure with one panel of ``figsize`` inches, or the caller's ``ax`` and its figure."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.figure, ax


def new_grid(axes: Any, nrows: int, ncols: int, figsize: tuple[float, float], **kw: Any) -> tuple[Figure, np.ndarray]:
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


def title_with_fixed_margins(fig: Figure, head: str, note: str | None, fixed: bool, *, left: float, right: float,
                             bottom_in: float, top_in: float, hspace: float, wspace: float) -> None:
    """``head`` (and ``note`` below it) as the figure title; with ``fixed``, margins set from the figure height
    (``bottom_in``/``top_in``: inches, the top growing with the title's lines) instead of ``tight_layout``: the
    tuner redraws its figures on every slider move, and tight_layout (log-axis tick extents) costs about as much
    as drawing them."""
    fig.suptitle(head if not note else f"{head}\n{note}", fontsize="medium")
    if fixed:
        height = fig.get_figheight()
        lines = head.count("\n") + 1 + (note.count("\n") + 1 if note else 0)
        fig.subplots_adjust(left=left, right=right, bottom=bottom_in / height, top=1 - (top_in + 0.27 * lines) / height,
                            hspace=hspace, wspace=wspace)


def legend_outside(ax: Axes, **kw: Any) -> Any:
    """The legend of ``ax`` to the right of its panel, top-aligned, so it never covers data."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)


def time_axis(n: int, sampling_rate: float | None) -> tuple[np.ndarray, str]:
    """Times of ``n`` samples and the axis label: s with a sampling rate [Hz], else samples."""
    if sampling_rate:
        return np.arange(n) / float(sampling_rate), "Time (s)"
    return np.arange(n, dtype=float), "Time (samples)"


def freq_axis(fft_size: int, sampling_rate: float | None) -> tuple[np.ndarray, str]:
    """The ``fft_size // 2 + 1`` one-sided frequencies and the axis label: Hz, else cycles/sample."""
    if sampling_rate:
        return np.fft.rfftfreq(fft_size, d=1.0 / float(sampling_rate)), "Frequency (Hz)"
    return np.fft.rfftfreq(fft_size), "Frequency (cycles/sample)"


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
