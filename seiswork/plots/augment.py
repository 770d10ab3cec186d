"""One event before and after augmentation: waveform and magnitude spectrum per channel."""

from __future__ import annotations

from typing import Any, Sequence

from matplotlib.figure import Figure

from seiswork.data.events import check_sampling_rate, event_array, finite_rows
from seiswork.plots.fans import magnitude_spectrum
from seiswork.plots.style import DEFAULT_CHANNELS, freq_axis, new_grid, palette, time_axis, title_with_fixed_margins


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
    check_sampling_rate(sampling_rate)
    channels = tuple(channels)
    before = finite_rows(event_array(event, channels, "event"))
    after = finite_rows(event_array(augmented, channels, "augmented event"))
    if before.shape[0] == 0 or after.shape[0] == 0:
        raise ValueError("augmentation_before_after needs events with finite samples; got an all-NaN event")
    c = len(channels)
    fig, axs = new_grid(axes, c, 2, (11.0, 2.1 * c + 1.0))
    color = palette()[1]
    tb, xlabel = time_axis(before.shape[0], sampling_rate)
    ta, _ = time_axis(after.shape[0], sampling_rate)
    f, flabel = freq_axis(fft_size, sampling_rate)
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
        ax.set_ylabel(f"Relative amplitude ({unit})")
        if j == c - 1:
            axs[j, 0].set_xlabel(xlabel)
            axs[j, 1].set_xlabel(flabel)
    axs[0, 0].legend(fontsize="small", loc="upper right")
    axs[0, 1].legend(fontsize="small", loc="upper right")
    title_with_fixed_margins(fig, title or "Augmentation: before and after", note, axes is None, left=0.07,
                             right=0.985, bottom_in=0.5, top_in=0.3, hspace=0.55, wspace=0.2)
    return fig

