"""Figures for the notebooks: class counts, event lengths, fan charts, augmentation before/after,
learning curves, confusion matrix, ROC curve and run comparison.

Every function takes data plus an optional ``ax`` (one panel) or ``axes`` (several panels) and returns
the matplotlib ``Figure``; none calls ``plt.show()``. Figures are made with pyplot, so in a notebook they
appear at the end of the cell: assign the result (``fig = plots.fan_chart(...)``) rather than ending the
cell with the call, or the figure shows twice. Call :func:`set_style` once (the notebooks do) for the
seaborn look; importing this module changes no global style.

Units on the axes: time in s (samples when no sampling rate is known), frequency in Hz (cycles/sample
without a sampling rate), amplitudes in ``unit`` (``"counts"`` by default; pass ``unit="z-score"`` for
preprocessed events). Envelopes and spectra use log amplitude axes, spectra a log frequency axis; legends sit
outside the panels.

Home of each figure: :mod:`~seiswork.plots.style` (theme, axes, saving), :mod:`~seiswork.plots.data`
(class counts, event lengths), :mod:`~seiswork.plots.fans` (fan charts of envelopes, waveforms and
spectra; class medians compared),
:mod:`~seiswork.plots.augment` (augmentation before/after: waveform and spectrum),
:mod:`~seiswork.plots.spectrogram` (augmentation before/after as the spectrogram model reads it),
:mod:`~seiswork.plots.training` (learning
curves, confusion matrix, ROC, runs compared).
"""

from __future__ import annotations

from seiswork.plots.augment import augmentation_before_after
from seiswork.plots.data import class_counts, lengths_histogram
from seiswork.plots.fans import class_medians, fan_chart, magnitude_spectrum, nanquantile, rms_envelope
from seiswork.plots.spectrogram import (
    spectrogram_before_after,
    spectrogram_db,
    spectrogram_extent,
    spectrogram_sampling_rate,
)
from seiswork.plots.style import DEFAULT_CHANNELS, save_figure, set_style
from seiswork.plots.training import compare_runs, confusion_matrix, learning_curves, roc_curve

__all__ = [
    "set_style",
    "class_counts",
    "lengths_histogram",
    "fan_chart",
    "class_medians",
    "augmentation_before_after",
    "spectrogram_before_after",
    "spectrogram_db",
    "spectrogram_extent",
    "spectrogram_sampling_rate",
    "learning_curves",
    "confusion_matrix",
    "roc_curve",
    "compare_runs",
    "save_figure",
    "nanquantile",
    "magnitude_spectrum",
    "rms_envelope",
    "DEFAULT_CHANNELS",
]
