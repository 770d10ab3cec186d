"""The augmentation tuner of notebook 03 and its headless preview.

:class:`TunerState` (:mod:`~seiswork.widgets.state`) holds what the widgets set, as plain data, tested without a
browser; :class:`AugmentationTuner` (:mod:`~seiswork.widgets.tuner`) lays out ipywidgets around it;
:func:`static_preview` (:mod:`~seiswork.widgets.preview`) draws the same before/after figure without widgets,
for headless (papermill) runs where widget state does not survive. Every registered augmentation
(:func:`seiswork.augment.register`) gets a row, with sliders derived from its declared ``params``.

Typical use (notebook 03)::

    tuner = AugmentationTuner(adapter.x, adapter.y, classes=adapter.classes, sampling_rate=100.0,
                              save_path=run_dir / "augmentation.json", seed=seed)
    tuner                      # shows the widget; "Save pipeline" writes the JSON
    tuner.save()               # headless: write the current (default or parameter) pipeline
    fig = static_preview(adapter.x, adapter.y, tuner.pipeline, index=0, classes=adapter.classes)
"""

from __future__ import annotations

from seiswork.widgets.preview import describe_draw, static_preview
from seiswork.widgets.state import SPECS, AugmentationSetting, AugmentationSpec, TunerState
from seiswork.widgets.tuner import AugmentationTuner

__all__ = [
    "AugmentationSpec", "AugmentationSetting", "TunerState", "AugmentationTuner", "static_preview", "describe_draw",
    "SPECS",
]
