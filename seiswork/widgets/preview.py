"""The tuner's figure without widgets: events by class, :func:`describe_draw`, :func:`preview_figure` (the
before/after figure of the study's representation) and :func:`static_preview`."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from seiswork import defaults, plots
from seiswork.data.events import event_array, finite_rows, label_names, to_numpy
from seiswork.widgets.state import TunerState, as_state, find_compose, unwrap

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["describe_draw", "static_preview", "preview_figure", "representation_of", "check_representation", "Events",
           "apply_pipeline"]


def describe_draw(pipeline: Any, sampling_rate: float | None = None) -> str:
    """What the last call of ``pipeline`` on one event drew, one line per augmentation (from ``last_params``).

    E.g. ``TimeShift (p=0.50): shift=+12 samples (0.12 s)`` or ``AddNoise (p=0.50): not applied``.
    """
    compose = find_compose(pipeline)
    items = list(compose.transforms) if compose is not None else [pipeline]
    lines = []
    for item in items:
        p, aug = unwrap(item)
        name = type(aug).__name__
        last = item.last_params
        if not last:  # never drawn, or in eval mode (identity)
            lines.append(f"{name} (p={p:.2f}): not drawn (eval mode or not run yet)")
            continue
        if item is not aug:  # RandomApply: {"apply": (batch,) bool, "params": params of the applied events}
            if not bool(to_numpy(last["apply"]).ravel()[0]):
                lines.append(f"{name} (p={p:.2f}): not applied")
                continue
            last = last["params"]
        shown = []
        for k, v in last.items():
            v = to_numpy(v)
            if v.ndim > 1:  # e.g. AddNoise's noise offsets: not a parameter a reader wants to see
                continue
            value = v.ravel()[0]
            unit = getattr(aug, "draw_units", {}).get(k, "")
            if unit == "samples":
                text = f"{k}={int(value):+d} samples" + (f" ({int(value) / sampling_rate:+.3g} s)" if sampling_rate else "")
            else:
                text = f"{k}={float(value):.4g}" + (f" {unit}" if unit else "")
            shown.append(text)
        lines.append(f"{name} (p={p:.2f}): " + (", ".join(shown) or "applied"))
    if not lines:
        return "no augmentation enabled: the event passes unchanged"
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- representation
def representation_of(transform: Any) -> Any:
    """The representation module the model reads through: ``transform`` itself when it is a
    :class:`~seiswork.transforms.SpectrogramTransform` or :class:`~seiswork.transforms.FFTTransform`, else the
    first one inside it (e.g. the eval pipeline of :func:`seiswork.default_pipelines`); None for ``None``."""
    if transform is None:
        return None
    from torch import nn

    from seiswork.transforms import FFTTransform, SpectrogramTransform

    kinds = (SpectrogramTransform, FFTTransform)
    if isinstance(transform, kinds):
        return transform
    if isinstance(transform, nn.Module):
        for m in transform.modules():
            if isinstance(m, kinds):
                return m
    raise ValueError(f"transform must be the study's eval pipeline (or a SpectrogramTransform / FFTTransform), "
                     f"got {type(transform).__name__} without either inside")


def check_representation(transform: Any, sampling_rate: float | None, fft_size: int | None) -> tuple[Any, int]:
    """``(representation module or None, fft_size)`` for :func:`preview_figure`, checked before any drawing.

    ``fft_size`` None: the FFTTransform's, else :data:`seiswork.defaults.FFT_SIZE`; a value that differs from
    the FFTTransform's, or a ``sampling_rate`` that differs from the SpectrogramTransform's, is a ValueError
    naming it (the figure would not show what the model reads).
    """
    from seiswork.transforms import FFTTransform, SpectrogramTransform

    rep = representation_of(transform)
    if isinstance(rep, SpectrogramTransform):
        plots.spectrogram_sampling_rate(rep, sampling_rate)  # raises on a mismatch
    if isinstance(rep, FFTTransform):
        if fft_size is not None and int(fft_size) != rep.fft_size:
            raise ValueError(f"fft_size={fft_size} differs from the transform's FFTTransform(fft_size={rep.fft_size}); "
                             "leave fft_size out (None) and the transform's is used")
        return rep, rep.fft_size
    return rep, defaults.FFT_SIZE if fft_size is None else int(fft_size)


def preview_figure(
    event: Any,
    augmented: Any,
    transform: Any = None,
    sampling_rate: float | None = None,
    channels: Sequence[str] = plots.DEFAULT_CHANNELS,
    fft_size: int | None = None,
    title: str | None = None,
    note: str | None = None,
    unit: str = "z-score",
    axes: Any = None,
) -> "Figure":
    """The before/after figure of the representation in ``transform`` (the study's eval pipeline).

    A :class:`~seiswork.transforms.SpectrogramTransform` inside: waveform and log spectrogram per channel
    (:func:`seiswork.plots.spectrogram_before_after`); an FFTTransform or None: waveform and magnitude spectrum
    (:func:`seiswork.plots.augmentation_before_after`, ``fft_size`` from the FFTTransform). ``event``,
    ``augmented``: (time, channel).
    """
    from seiswork.transforms import SpectrogramTransform

    rep, fft_size = check_representation(transform, sampling_rate, fft_size)
    if isinstance(rep, SpectrogramTransform):
        return plots.spectrogram_before_after(event, augmented, rep, sampling_rate=sampling_rate, channels=channels,
                                              title=title, axes=axes, unit=unit, note=note)
    return plots.augmentation_before_after(event, augmented, sampling_rate=sampling_rate, channels=channels,
                                           fft_size=fft_size, title=title, axes=axes, unit=unit, note=note)


# --------------------------------------------------------------------------------------------- data access
class Events:
    """Events and labels as the tuner reads them: class names, members per class, one event as float32."""

    def __init__(self, x: Any, labels: Any, classes: Sequence | None, channels: Sequence[str]):
        self.channels = tuple(channels)
        if isinstance(x, (list, tuple)):
            if not x:
                raise ValueError("the tuner needs at least one event: x is empty")
            self._list = list(x)
            n = len(self._list)
            self._array = None
        else:
            a = to_numpy(x)
            if a.ndim != 3 or a.shape[0] == 0:
                raise ValueError(f"x must be a non-empty (n, time, channel) array or a list of events, got shape {a.shape}")
            if a.shape[2] != len(self.channels):
                raise ValueError(f"x has {a.shape[2]} channels (shape {a.shape}) but channels={self.channels}")
            self._array = a
            self._list = None
            n = a.shape[0]
        self.names, self.classes = label_names(labels, n, classes)
        self.members = {c: np.flatnonzero(self.names == c) for c in self.classes}

    def event(self, i: int) -> np.ndarray:
        """Event ``i`` (global index) as float32 (time, channel), NaN edges removed, inner NaN set to 0."""
        if self._array is not None:
            a = np.asarray(self._array[i], dtype=np.float32)
        else:
            a = event_array(self._list[i], self.channels, f"event {i}").astype(np.float32)
        a = finite_rows(a)
        if a.shape[0] == 0:
            raise ValueError(f"event {i} holds no finite samples (all NaN); pick another event")
        return np.nan_to_num(a) if not np.isfinite(a).all() else a.copy()

    def global_index(self, class_name: Any, index: int) -> int:
        if class_name not in self.members:
            raise ValueError(f"unknown class {class_name!r}; classes are {list(self.classes)}")
        idx = self.members[class_name]
        if not 0 <= index < len(idx):
            raise ValueError(f"index {index} is out of range for class {class_name!r}, which has {len(idx)} events (0..{len(idx) - 1})")
        return int(idx[index])


def apply_pipeline(pipeline: Any, event: np.ndarray) -> np.ndarray:
    """Run ``pipeline`` in train mode on one event and return numpy (time, channel)."""
    pipeline.train()
    out = pipeline(event)
    return to_numpy(out)


# --------------------------------------------------------------------------------------------- static preview
def static_preview(
    x: Any,
    labels: Any,
    pipeline: Any = None,
    index: int = 0,
    class_name: Any = None,
    classes: Sequence | None = None,
    channels: Sequence[str] = plots.DEFAULT_CHANNELS,
    sampling_rate: float | None = 100.0,
    fft_size: int | None = None,
    seed: int | None = None,
    force_all: bool = False,
    unit: str = "z-score",
    axes: Any = None,
    transform: Any = None,
) -> "Figure":
    """The tuner's before/after figure without widgets (headless runs).

    ``transform``: the study's eval pipeline (:func:`seiswork.study.make_pipelines`), so the figure shows the
    representation the model reads (:func:`preview_figure`): a spectrogram before/after for the spectrogram,
    waveform and spectrum for the spectrum or None.

    ``pipeline``: a Compose / train pipeline / TunerState / dict / JSON path, or None for the seed's defaults.
    ``index``: event index within ``class_name`` when given, else into ``x``. ``seed``: reseed a copy of the
    pipeline first (the caller's pipeline is never changed). ``force_all``: every enabled augmentation applied
    (p = 1). Returns the Figure; the drawn parameters are written under its title.
    """
    check_representation(transform, sampling_rate, fft_size)  # before any work: a mismatch names the parameter
    events = Events(x, labels, classes, channels)
    if class_name is not None:
        i = events.global_index(class_name, index)
    else:
        n = len(events.names)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
            raise ValueError(f"index must be an event index in 0..{n - 1}, got {index!r}")
        i = int(index)
    plain_module = pipeline is not None and not isinstance(pipeline, (TunerState, Mapping, str, Path))
    if plain_module and not force_all:
        # only the augmentations (not a train pipeline's FFT), on a copy: applying changes RNG state and last_params
        compose = find_compose(pipeline)
        pipe = copy.deepcopy(compose if compose is not None else pipeline)
        if seed is not None:
            from seiswork.transforms import seed_pipeline

            seed_pipeline(pipe, seed)
    else:
        state = as_state(pipeline, seed)
        state.force_all = force_all
        pipe = state.to_pipeline(preview=True)
    ev = events.event(i)
    out = apply_pipeline(pipe, ev)
    lines = describe_draw(pipe, sampling_rate).split("\n")
    note = "\n".join("; ".join(lines[k : k + 2]) for k in range(0, len(lines), 2))  # two per line: fits the width
    title = f"Augmentation preview — event {i} ({events.names[i]})"
    return preview_figure(ev, out, transform, sampling_rate=sampling_rate, channels=channels, fft_size=fft_size,
                          title=title, note=note, unit=unit, axes=axes)
