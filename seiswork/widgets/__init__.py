"""The augmentation tuner of notebook 03 and its headless preview.

:class:`TunerState` (:mod:`~seiswork.widgets.state`) holds what the widgets set, as plain data, tested without a
browser; :class:`AugmentationTuner` (:mod:`~seiswork.widgets.tuner`) lays out ipywidgets around it;
:func:`static_preview` (:mod:`~seiswork.widgets.preview`) draws the same before/after figure without widgets,
for headless (papermill) runs where widget state does not survive. Every registered augmentation
(:func:`seiswork.augment.register`) gets a row, with sliders derived from its declared ``params``.

Typical use (notebook 03)::

    eval_transform = steps.make_pipelines(study, adapter)[1]   # what the model reads: the figure shows it
    tuner = AugmentationTuner(adapter.x, adapter.y, classes=adapter.classes, sampling_rate=100.0,
                              save_path=run_dir / "augmentation.json", seed=seed, transform=eval_transform)
    tuner                      # shows the widget; "Save pipeline" writes the JSON
    tuner.save()               # headless: write the current (default or parameter) pipeline
    fig = static_preview(adapter.x, adapter.y, tuner.pipeline, index=0, classes=adapter.classes,
                         transform=eval_transform)

With a spectrogram representation the figure is the waveform and the log spectrogram (dB re the event's mean
power, computed by the study's own SpectrogramTransform) before and after; with the spectrum, waveform and
spectrum (:func:`preview_figure`).
"""

from __future__ import annotations

from seiswork.widgets.preview import describe_draw, preview_figure, static_preview
from seiswork.widgets.state import SPECS, AugmentationSetting, AugmentationSpec, TunerState
from seiswork.widgets.tuner import AugmentationTuner

__all__ = [
    "AugmentationSpec", "AugmentationSetting", "TunerState", "AugmentationTuner", "static_preview", "describe_draw",
    "preview_figure",
    "SPECS",
]
