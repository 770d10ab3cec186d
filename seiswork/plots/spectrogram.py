"""One event before and after augmentation as the spectrogram model reads it: waveform and log spectrogram
per channel, computed by the study's own :class:`~seiswork.transforms.SpectrogramTransform`.

Colour is ``10 * transform(event)``: the log power in dB relative to the event's own mean power (the transform
normalises each event so), hence exactly the model's input in dB. A change of overall gain (``AmplitudeScale``)
therefore leaves the image unchanged; a change of how energy is spread over time, frequency or components
(``AddNoise``, ``TimeShift``, ``TimeStretch``) shows. With ``background=True`` the model also reads each bin
against its own median over the event; that block is the same image less a constant per row, so the figure
shows the first block only.
"""

from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from seiswork.data.events import check_sampling_rate, event_array, finite_rows, to_numpy
from seiswork.plots.style import DEFAULT_CHANNELS, new_grid, palette, time_axis, title_with_fixed_margins

__all__ = ["spectrogram_db", "spectrogram_extent", "spectrogram_sampling_rate", "spectrogram_before_after"]


def spectrogram_sampling_rate(transform: Any, sampling_rate: float | None = None) -> float | None:
    """The rate (Hz) of the figure's axes: the transform's own, else ``sampling_rate``, else None (samples).

    Raises ValueError when both are given and differ: the axes would then not match what the model reads.
    """
    check_sampling_rate(sampling_rate)
    own = transform.sampling_rate
    if own is not None and sampling_rate is not None and not np.isclose(own, sampling_rate):
        raise ValueError(f"sampling_rate={sampling_rate!r} Hz differs from the spectrogram transform's "
                         f"sampling_rate={own!r} Hz; pass the rate the transform was built with (or None)")
    return own if own is not None else sampling_rate


def spectrogram_db(event: Any, transform: Any, channels: Sequence[str] = DEFAULT_CHANNELS) -> np.ndarray:
    """``10 * transform(event)`` as images: (channel, bins, frames) float, dB relative to the event's mean power.

    ``event``: (time, channel) array, tensor or DataFrame (NaN padding at the edges is dropped); ``transform``:
    a :class:`~seiswork.transforms.SpectrogramTransform`, whose output is (frames, bins * channel),
    channel-major (with ``background``, the first ``bins * channel`` features). The event is cast to float32, as
    the model's batches are.
    """
    from seiswork.transforms import SpectrogramTransform  # torch: imported only when a spectrogram is drawn

    if not isinstance(transform, SpectrogramTransform):
        raise TypeError(f"transform must be a SpectrogramTransform, got {type(transform).__name__}")
    channels = tuple(channels)
    a = finite_rows(event_array(event, channels, "event")).astype(np.float32)
    out = to_numpy(transform(a))[:, :len(channels) * transform.n_bins]  # log10 of power / mean power
    return 10.0 * out.reshape(out.shape[0], len(channels), transform.n_bins).transpose(1, 2, 0).astype(float)


def spectrogram_extent(transform: Any, length: int, sampling_rate: float | None = None) -> tuple[float, ...]:
    """``(t0, t1, f0, f1)`` of the image of an event of ``length`` samples, for ``imshow(extent=...)``.

    Pixel ``j`` is centred on frame ``j``'s centre, ``(j * hop + n_fft / 2)`` samples, and is ``hop`` wide;
    pixel row ``k`` is centred on the kept bin's frequency. In s and Hz with ``sampling_rate`` (the
    transform's own when it has one), else in samples and cycles/sample.
    """
    rate = spectrogram_sampling_rate(transform, sampling_rate)
    frames = transform.n_frames(length)
    if frames < 1:
        raise ValueError(f"length={length} samples is shorter than one window (n_fft={transform.n_fft})")
    dt = 1.0 / rate if rate else 1.0
    df = (rate or 1.0) / transform.n_fft
    t0 = (transform.n_fft / 2 - transform.hop / 2) * dt
    return t0, t0 + frames * transform.hop * dt, (transform.bin_lo - 0.5) * df, (transform.bin_hi - 0.5) * df


def spectrogram_before_after(
    event: Any,
    augmented: Any,
    transform: Any,
    sampling_rate: float | None = None,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    title: str | None = None,
    axes: Any = None,
    unit: str = "counts",
    note: str | None = None,
    cmap: str = "magma",
) -> Figure:
    """Per channel (rows): waveform before (grey) and after (colour) overlaid, then the log spectrogram before
    and after augmentation, on one colour scale (dB re the event's mean power) with one colour bar.

    ``event``, ``augmented``: (time, channel) arrays, tensors or DataFrames; ``transform``: the study's
    :class:`~seiswork.transforms.SpectrogramTransform` (e.g. the one inside the eval pipeline), so the images are
    what the model reads. Time in s and frequency in Hz (linear: the bins the model reads are evenly spaced)
    when the rate is known. ``axes``: optional (n_channels, 3) axes. ``note``: text under the title.
    """
    rate = spectrogram_sampling_rate(transform, sampling_rate)
    channels = tuple(channels)
    before = finite_rows(event_array(event, channels, "event"))
    after = finite_rows(event_array(augmented, channels, "augmented event"))
    if before.shape[0] == 0 or after.shape[0] == 0:
        raise ValueError("spectrogram_before_after needs events with finite samples; got an all-NaN event")
    images = [spectrogram_db(before, transform, channels), spectrogram_db(after, transform, channels)]
    extents = [spectrogram_extent(transform, len(a), rate) for a in (before, after)]
    # one colour scale for both, so a change of level between them is a change of colour
    vmin = min(float(im.min()) for im in images)
    vmax = max(float(im.max()) for im in images)
    c = len(channels)
    if axes is None:
        fig = plt.figure(figsize=(13.0, 2.2 * c + 1.2))
        grid = fig.add_gridspec(c, 4, width_ratios=[1.15, 1.0, 1.0, 0.035])
        axs = np.array([[fig.add_subplot(grid[j, k]) for k in range(3)] for j in range(c)], dtype=object)
        cax = fig.add_subplot(grid[:, 3])
    else:
        fig, axs = new_grid(axes, c, 3, (13.0, 2.2 * c + 1.2))
        cax = None
    color = palette()[1]
    tb, xlabel = time_axis(before.shape[0], rate)
    ta, _ = time_axis(after.shape[0], rate)
    duration = max(tb[-1], ta[-1])
    flabel = "Frequency (Hz)" if rate else "Frequency (cycles/sample)"
    image = None
    for j, ch in enumerate(channels):
        ax = axs[j, 0]
        ax.plot(tb, before[:, j], color="0.55", lw=0.8, label="before")
        ax.plot(ta, after[:, j], color=color, lw=0.8, alpha=0.85, label="after")
        # the legend as words in the title: a legend box would cover part of the trace
        ax.set_title(f"{ch} — waveform" + (": before grey, after coloured" if j == 0 else ""), fontsize="medium")
        ax.set_ylabel(f"Amplitude ({unit})")
        for k, (what, im, ext) in enumerate(zip(("before", "after"), images, extents), start=1):
            ax = axs[j, k]
            image = ax.imshow(im[j], origin="lower", aspect="auto", extent=ext, cmap=cmap, vmin=vmin, vmax=vmax,
                              interpolation="nearest")
            ax.set_title(f"{ch} — spectrogram {what}", fontsize="medium")
            ax.set_ylabel(flabel)
            ax.set_ylim(max(0.0, ext[2]), ext[3])
            ax.grid(False)  # grid lines over an image read as data
        for ax in axs[j]:
            ax.set_xlim(0.0, duration)  # same time axis in a row: frames line up with the trace above them
            if j == c - 1:
                ax.set_xlabel(xlabel)
    bar = fig.colorbar(image, cax=cax) if cax is not None else fig.colorbar(image, ax=list(axs[:, 1:].ravel()))
    bar.set_label("Power (dB re event mean)")
    title_with_fixed_margins(fig, title or "Augmentation: before and after (spectrogram)", note, axes is None,
                             left=0.06, right=0.95, bottom_in=0.55, top_in=0.35, hspace=0.6, wspace=0.28)
    return fig
