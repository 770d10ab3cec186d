"""The augmentation tuner of notebook 03: pick an event, switch augmentations on/off, set their probability
and ranges with sliders, look at waveform and spectrum before/after, save the pipeline for training.

The logic lives in :class:`TunerState`, a plain dataclass with no widgets (tested without a browser);
:class:`AugmentationTuner` only lays out ipywidgets around it. :func:`static_preview` draws the same
before/after figure without widgets, for headless (papermill) runs where widget state does not survive.

Typical use (notebook 03)::

    tuner = AugmentationTuner(adapter.x, adapter.y, classes=adapter.classes, sampling_rate=100.0,
                              save_path=run_dir / "augmentation.json", seed=seed)
    tuner                      # shows the widget; "Save pipeline" writes the JSON
    tuner.save()               # headless: write the current (default or parameter) pipeline
    fig = static_preview(adapter.x, adapter.y, tuner.pipeline, index=0, classes=adapter.classes)
"""

from __future__ import annotations

import copy
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from seiswork import plots

if TYPE_CHECKING:  # torch is imported only when a pipeline is built
    from matplotlib.figure import Figure
    from torch import nn

    from seiswork.augment import Compose
    from seiswork.transforms import Pipeline

__all__ = [
    "AugmentationSpec", "AugmentationSetting", "TunerState", "AugmentationTuner", "static_preview", "describe_draw", "SPECS",
]


# --------------------------------------------------------------------------------------------- specification
@dataclass(frozen=True)
class AugmentationSpec:
    """What the tuner knows about one augmentation class of :mod:`seiswork.augment`.

    ``params``: constructor argument names, one (a single slider) or two (``min``, ``max``: a range slider).
    ``valid``: the closed interval every parameter must lie in (what the augmentation accepts);
    ``slider``: the interval the slider spans by default (widened when a value lies outside).
    """

    name: str
    params: tuple[str, ...]
    default: tuple[float, ...]
    p: float
    valid: tuple[float, float]
    slider: tuple[float, float]
    step: float
    label: str

    @property
    def is_range(self) -> bool:
        return len(self.params) == 2


# The seed's pipeline, in the seed's order (the order matters: it is the order of application).
SPECS: dict[str, AugmentationSpec] = {
    s.name: s
    for s in (
        AugmentationSpec("TimeShift", ("max_shift",), (0.1,), 0.5, (0.0, 0.999), (0.0, 0.5), 0.01, "max shift (fraction)"),
        AugmentationSpec("AddNoise", ("snr_min", "snr_max"), (15.0, 40.0), 0.5, (-200.0, 400.0), (-10.0, 60.0), 0.5, "SNR (dB)"),
        AugmentationSpec("AmplitudeScale", ("scale_min", "scale_max"), (0.9, 1.1), 0.3, (1e-6, 1e6), (0.1, 3.0), 0.01, "scale (×)"),
        AugmentationSpec("TimeStretch", ("rate_min", "rate_max"), (0.95, 1.05), 0.3, (1e-3, 1e3), (0.5, 2.0), 0.01, "rate (×)"),
    )
}


@dataclass
class AugmentationSetting:
    """One augmentation in the tuner: on/off, probability ``p``, the tuned constructor parameters and
    ``extra`` constructor settings the tuner keeps but has no slider for (e.g. TimeStretch's ``pad_mode``)."""

    enabled: bool
    p: float
    params: dict[str, float]
    extra: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> "AugmentationSetting":
        return AugmentationSetting(self.enabled, self.p, dict(self.params), dict(self.extra))


def _default_settings() -> dict[str, AugmentationSetting]:
    return {name: AugmentationSetting(True, s.p, dict(zip(s.params, s.default))) for name, s in SPECS.items()}


def _check_setting(name: str, setting: AugmentationSetting) -> None:
    """Raise ValueError naming the augmentation, parameter and bad value."""
    if name not in SPECS:
        raise ValueError(f"unknown augmentation {name!r}; the tuner knows {list(SPECS)}")
    spec = SPECS[name]
    if not isinstance(setting.enabled, (bool, np.bool_)):
        raise TypeError(f"{name}.enabled must be True or False, got {setting.enabled!r}")
    p = setting.p
    if isinstance(p, bool) or not isinstance(p, (int, float, np.number)) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"{name}: p must be a probability in [0, 1], got {p!r}")
    if set(setting.params) != set(spec.params):
        raise ValueError(f"{name}: parameters must be {list(spec.params)}, got {sorted(setting.params)}")
    lo, hi = spec.valid
    for k in spec.params:
        v = setting.params[k]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not math.isfinite(float(v)):
            raise ValueError(f"{name}.{k} must be a finite number, got {v!r}")
        if not lo <= float(v) <= hi:
            raise ValueError(f"{name}.{k}={v!r} is out of range; it must lie in [{lo:g}, {hi:g}]")
    if spec.is_range:
        a, b = (float(setting.params[k]) for k in spec.params)
        if a > b:
            raise ValueError(
                f"{name}: {spec.params[0]}={a:g} is larger than {spec.params[1]}={b:g}; the range must have min <= max"
            )


# --------------------------------------------------------------------------------------------- state
@dataclass
class TunerState:
    """Everything the tuner's widgets set, as plain data.

    ``augmentations``: ``{name: AugmentationSetting}`` in the order of application (default: the seed's
    pipeline, TimeShift(0.1) p=0.5, AddNoise(15, 40) p=0.5, AmplitudeScale(0.9, 1.1) p=0.3,
    TimeStretch(0.95, 1.05) p=0.3, all enabled). ``seed``: the pipeline's seed. ``class_name``/``index``:
    the previewed event (index within its class). ``force_all``: the preview applies every enabled
    augmentation (p = 1); never saved into the pipeline. ``draw``: preview draw number ("New draw").
    """

    augmentations: dict[str, AugmentationSetting] = field(default_factory=_default_settings)
    seed: int = 0
    class_name: Any = None
    index: int = 0
    force_all: bool = False
    draw: int = 0

    def __post_init__(self) -> None:
        self.augmentations = {k: (v.copy() if isinstance(v, AugmentationSetting) else AugmentationSetting(**v))
                              for k, v in self.augmentations.items()}
        self.validate()

    # -- checks and updates
    def validate(self) -> None:
        """Raise ValueError/TypeError on any bad setting (names the augmentation, parameter and value)."""
        for name, setting in self.augmentations.items():
            _check_setting(name, setting)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if isinstance(self.index, bool) or not isinstance(self.index, (int, np.integer)) or self.index < 0:
            raise ValueError(f"index must be a non-negative integer (event index within its class), got {self.index!r}")
        if isinstance(self.draw, bool) or not isinstance(self.draw, (int, np.integer)) or self.draw < 0:
            raise ValueError(f"draw must be a non-negative integer, got {self.draw!r}")

    def set(self, name: str, *, enabled: bool | None = None, p: float | None = None, **params: float) -> None:
        """Change one augmentation (validated first: on a bad value nothing changes).

        ``state.set("AddNoise", p=0.8, snr_min=10, snr_max=30)``; ``state.set("TimeShift", enabled=False)``.
        """
        if name not in SPECS:
            raise ValueError(f"unknown augmentation {name!r}; the tuner knows {list(SPECS)}")
        current = self.augmentations.get(name) or AugmentationSetting(False, SPECS[name].p, dict(zip(SPECS[name].params, SPECS[name].default)))
        new = current.copy()
        if enabled is not None:
            new.enabled = enabled
        if p is not None:
            new.p = p
        unknown = set(params) - set(SPECS[name].params)
        if unknown:
            raise ValueError(f"{name} has no parameter(s) {sorted(unknown)}; its parameters are {list(SPECS[name].params)}")
        new.params.update(params)
        _check_setting(name, new)
        if name in self.augmentations:
            self.augmentations[name] = new
        else:  # keep the canonical order when an augmentation is added back
            merged = {**self.augmentations, name: new}
            self.augmentations = {k: merged[k] for k in SPECS if k in merged}

    @property
    def enabled(self) -> list[str]:
        """Names of the enabled augmentations, in order of application."""
        return [k for k, v in self.augmentations.items() if v.enabled]

    # -- pipeline
    def to_pipeline(self, preview: bool = False) -> "Compose":
        """``Compose([RandomApply(Aug(**params), p=p), ...], seed=seed)`` of the enabled augmentations.

        ``preview=True`` builds what the tuner shows: p = 1 for every enabled augmentation when
        ``force_all`` is set, and the seed offset by ``draw`` so "New draw" gives new random values.
        """
        from seiswork import augment

        self.validate()
        items = []
        for name, s in self.augmentations.items():
            if not s.enabled:
                continue
            spec = SPECS[name]
            aug = getattr(augment, name)(**{k: float(s.params[k]) for k in spec.params}, **s.extra)
            p = 1.0 if (preview and self.force_all) else float(s.p)
            items.append(augment.RandomApply(aug, p=p))
        seed = int(self.seed) + (int(self.draw) if preview else 0)
        return augment.Compose(items, seed=seed)

    @classmethod
    def from_pipeline(cls, pipeline: Any, **kwargs: Any) -> "TunerState":
        """Read a pipeline back: a ``Compose`` (or an ``nn.Sequential`` holding one, like the train pipeline),
        a ``RandomApply`` or a bare augmentation (p = 1). Augmentations it lacks are disabled with their
        default settings. ``kwargs`` set the other fields (``class_name``, ``index``...); the seed is the
        Compose's own when it has one.
        """
        compose = _find_compose(pipeline)
        found: dict[str, AugmentationSetting] = {}
        for item in _children(compose) if compose is not None else [pipeline]:
            p, aug = _unwrap(item)
            name = type(aug).__name__
            if name not in SPECS:
                raise ValueError(
                    f"the tuner cannot represent {type(aug).__name__} in the pipeline; it knows {list(SPECS)} "
                    f"(optionally inside RandomApply)"
                )
            if name in found:
                raise ValueError(f"the pipeline holds {name} twice; the tuner keeps one of each augmentation")
            config = dict(aug.get_config())
            missing = [k for k in SPECS[name].params if k not in config]
            if missing:
                raise ValueError(f"{name} reports no setting(s) {missing}; cannot read it into the tuner")
            params = {k: float(config.pop(k)) for k in SPECS[name].params}
            defaults = _constructor_defaults(type(aug))
            config = {k: v for k, v in config.items() if k not in defaults or defaults[k] != v}  # keep what differs
            found[name] = AugmentationSetting(True, float(p), params, config)
        settings = {}
        for name, spec in SPECS.items():  # canonical order; a pipeline in another order is reordered
            settings[name] = found.get(name) or AugmentationSetting(False, spec.p, dict(zip(spec.params, spec.default)))
        if "seed" not in kwargs:
            seed = getattr(compose, "seed", None)
            kwargs["seed"] = int(seed) if isinstance(seed, (int, np.integer)) else 0
        return cls(augmentations=settings, **kwargs)

    # -- plain data
    def to_dict(self) -> dict:
        """JSON-ready dict (round-trips through :meth:`from_dict`)."""
        return {
            "augmentations": {
                k: {"enabled": bool(v.enabled), "p": float(v.p), "params": {pk: float(pv) for pk, pv in v.params.items()},
                    **({"extra": dict(v.extra)} if v.extra else {})}
                for k, v in self.augmentations.items()
            },
            "seed": int(self.seed),
            "class_name": _plain(self.class_name),
            "index": int(self.index),
            "force_all": bool(self.force_all),
            "draw": int(self.draw),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "TunerState":
        """Inverse of :meth:`to_dict`; missing fields take their defaults, unknown keys raise."""
        d = dict(d)
        known = {"augmentations", "seed", "class_name", "index", "force_all", "draw"}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown TunerState field(s) {sorted(unknown)}; expected some of {sorted(known)}")
        if "augmentations" in d:
            augs = {}
            for name, v in dict(d["augmentations"]).items():
                if name not in SPECS:
                    raise ValueError(f"unknown augmentation {name!r}; the tuner knows {list(SPECS)}")
                v = dict(v)
                augs[name] = AugmentationSetting(bool(v.get("enabled", True)), v.get("p", SPECS[name].p),
                                                 dict(v.get("params", dict(zip(SPECS[name].params, SPECS[name].default)))),
                                                 dict(v.get("extra", {})))
            d["augmentations"] = augs
        return cls(**d)


def _plain(v: Any) -> Any:
    """numpy scalars → Python scalars for JSON."""
    return v.item() if isinstance(v, np.generic) else v


# --------------------------------------------------------------------------------------------- pipeline reading
def _children(compose: Any) -> list:
    """The augmentations a Compose holds, in order."""
    return list(compose.transforms)


def _find_compose(pipeline: Any):
    """The Compose inside ``pipeline`` (itself, or the first one inside an nn.Sequential such as the train
    pipeline); None for a single (RandomApply-wrapped) augmentation."""
    from torch import nn

    from seiswork import augment

    if isinstance(pipeline, augment.Compose):
        return pipeline
    if isinstance(pipeline, augment.Augmentation):
        return None
    if not isinstance(pipeline, nn.Module):
        raise TypeError(f"expected a pipeline (Compose, nn.Sequential, RandomApply...), got {type(pipeline).__name__}")
    for m in pipeline.modules():
        if isinstance(m, augment.Compose):
            return m
    raise ValueError(f"no Compose of augmentations found in the pipeline:\n{pipeline}")


def _constructor_defaults(cls: type) -> dict:
    import inspect

    return {k: v.default for k, v in inspect.signature(cls.__init__).parameters.items()
            if v.default is not inspect.Parameter.empty}


def _unwrap(item: Any) -> tuple[float, Any]:
    """(p, augmentation) of a RandomApply, or (1.0, item) for a bare augmentation."""
    from seiswork import augment

    if isinstance(item, augment.RandomApply):
        return float(item.p), item.aug
    return 1.0, item


def _as_state(pipeline: Any, seed: int | None = None) -> TunerState:
    """A TunerState from None (defaults), a TunerState, a dict (to_dict), a JSON path or a pipeline module."""
    if pipeline is None:
        state = TunerState()
    elif isinstance(pipeline, TunerState):
        state = copy.deepcopy(pipeline)
    elif isinstance(pipeline, Mapping):
        state = TunerState.from_dict(pipeline)
    elif isinstance(pipeline, (str, Path)):
        from seiswork.transforms import load_pipeline

        state = TunerState.from_pipeline(load_pipeline(pipeline))
    else:
        state = TunerState.from_pipeline(pipeline)
    if seed is not None:
        state.seed = seed
        state.validate()
    return state


_UNITS = {"shift": "samples", "snr_db": "dB", "scale": "×", "rate": "×"}


def describe_draw(pipeline: Any, sampling_rate: float | None = None) -> str:
    """What the last call of ``pipeline`` on one event drew, one line per augmentation (from ``last_params``).

    E.g. ``TimeShift (p=0.50): shift=+12 samples (0.12 s)`` or ``AddNoise (p=0.50): not applied``.
    """
    compose = _find_compose(pipeline)
    items = _children(compose) if compose is not None else [pipeline]
    lines = []
    for item in items:
        p, aug = _unwrap(item)
        name = type(aug).__name__
        last = item.last_params
        if not last:  # never drawn, or in eval mode (identity)
            lines.append(f"{name} (p={p:.2f}): not drawn (eval mode or not run yet)")
            continue
        if item is not aug:  # RandomApply: {"apply": (batch,) bool, "params": params of the applied events}
            if not bool(plots._to_numpy(last["apply"]).ravel()[0]):
                lines.append(f"{name} (p={p:.2f}): not applied")
                continue
            last = last["params"]
        shown = []
        for k, v in last.items():
            v = plots._to_numpy(v)
            if v.ndim > 1:  # e.g. AddNoise's noise samples: not a parameter a reader wants to see
                continue
            value = v.ravel()[0]
            unit = _UNITS.get(k, "")
            if k == "shift":
                text = f"{k}={int(value):+d} samples" + (f" ({int(value) / sampling_rate:+.3g} s)" if sampling_rate else "")
            else:
                text = f"{k}={float(value):.4g}" + (f" {unit}" if unit else "")
            shown.append(text)
        lines.append(f"{name} (p={p:.2f}): " + (", ".join(shown) or "applied"))
    if not lines:
        return "no augmentation enabled: the event passes unchanged"
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- data access
class _Events:
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
            a = plots._to_numpy(x)
            if a.ndim != 3 or a.shape[0] == 0:
                raise ValueError(f"x must be a non-empty (n, time, channel) array or a list of events, got shape {a.shape}")
            if a.shape[2] != len(self.channels):
                raise ValueError(f"x has {a.shape[2]} channels (shape {a.shape}) but channels={self.channels}")
            self._array = a
            self._list = None
            n = a.shape[0]
        self.names, self.classes = plots._label_names(labels, n, classes)
        self.members = {c: np.flatnonzero(self.names == c) for c in self.classes}

    def event(self, i: int) -> np.ndarray:
        """Event ``i`` (global index) as float32 (time, channel), NaN edges removed, inner NaN set to 0."""
        if self._array is not None:
            a = np.asarray(self._array[i], dtype=np.float32)
        else:
            a = plots._event_array(self._list[i], self.channels, f"event {i}").astype(np.float32)
        a = plots._finite_rows(a)
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


def _apply(pipeline: Any, event: np.ndarray) -> np.ndarray:
    """Run ``pipeline`` in train mode on one event and return numpy (time, channel)."""
    pipeline.train()
    out = pipeline(event)
    return plots._to_numpy(out)


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
    fft_size: int = 512,
    seed: int | None = None,
    force_all: bool = False,
    unit: str = "z-score",
    axes: Any = None,
) -> "Figure":
    """The tuner's before/after figure without widgets (headless runs).

    ``pipeline``: a Compose / train pipeline / TunerState / dict / JSON path, or None for the seed's defaults.
    ``index``: event index within ``class_name`` when given, else into ``x``. ``seed``: reseed a copy of the
    pipeline first (the caller's pipeline is never changed). ``force_all``: every enabled augmentation applied
    (p = 1). Returns the Figure; the drawn parameters are written under its title.
    """
    events = _Events(x, labels, classes, channels)
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
        compose = _find_compose(pipeline)
        pipe = copy.deepcopy(compose if compose is not None else pipeline)
        if seed is not None:
            from seiswork.transforms import seed_pipeline

            seed_pipeline(pipe, seed)
    else:
        state = _as_state(pipeline, seed)
        state.force_all = force_all
        pipe = state.to_pipeline(preview=True)
    ev = events.event(i)
    out = _apply(pipe, ev)
    lines = describe_draw(pipe, sampling_rate).split("\n")
    note = "\n".join("; ".join(lines[k : k + 2]) for k in range(0, len(lines), 2))  # two per line: fits the width
    title = f"Augmentation preview — event {i} ({events.names[i]})"
    return plots.augmentation_before_after(ev, out, sampling_rate=sampling_rate, channels=channels,
                                           fft_size=fft_size, title=title, axes=axes, unit=unit, note=note)


# --------------------------------------------------------------------------------------------- the widget
class AugmentationTuner:
    """ipywidgets UI around a :class:`TunerState`.

    ``x``: (n, time, channel) events (normally ``adapter.x``: preprocessed, as the augmentations see them)
    or a list of events; ``labels``: one per event (``adapter.y`` with ``classes=adapter.classes``, or names).
    ``pipeline``: the starting point (None = the seed's pipeline; a Compose, train pipeline, TunerState,
    dict or JSON path). ``seed``: the pipeline's seed (None: the starting pipeline's own, else 0).
    ``save_path``: where "Save pipeline" writes the JSON (:func:`seiswork.transforms.save_pipeline`).

    Attributes for code and tests: ``state``, ``widget`` (the container), ``controls`` (``{name: {"enabled",
    "p", "range"}}`` widgets), ``class_dropdown``, ``event_slider``, ``seed_box``, ``force_all_box``,
    ``draw_button``, ``save_button``, ``status``, ``image`` (the figure as PNG, CSS class
    ``seiswork-tuner-figure``), ``params_text`` (the drawn parameters), ``figure`` (last Figure, closed), ``png`` (its bytes),
    ``n_redraws``, ``last_error``.
    """

    def __init__(
        self,
        x: Any,
        labels: Any,
        classes: Sequence | None = None,
        channels: Sequence[str] = plots.DEFAULT_CHANNELS,
        sampling_rate: float | None = 100.0,
        fft_size: int = 512,
        pipeline: Any = None,
        save_path: str | Path | None = None,
        seed: int | None = None,
        unit: str = "z-score",
        dpi: int = 80,
    ) -> None:
        import ipywidgets as w

        plots._check_sampling_rate(sampling_rate)
        self.channels = tuple(channels)
        self.sampling_rate = sampling_rate
        self.fft_size = int(fft_size)
        self.save_path = Path(save_path) if save_path is not None else None
        self.unit = unit
        self.dpi = dpi
        self.events = _Events(x, labels, classes, self.channels)
        self.state = _as_state(pipeline, seed)
        if self.state.class_name not in self.events.members:
            self.state.class_name = self.events.classes[0]
        self.state.index = min(self.state.index, len(self.events.members[self.state.class_name]) - 1)
        self.figure = None
        self.png = b""
        self.n_redraws = 0
        self.last_error: str | None = None
        self.last_draw = ""
        self._syncing = False  # True while code (not the user) sets widget values: no cascade of redraws

        s = self.state
        self.class_dropdown = w.Dropdown(options=[(str(c), c) for c in self.events.classes], value=s.class_name,
                                         description="class")
        self.event_slider = w.IntSlider(value=s.index, min=0, max=len(self.events.members[s.class_name]) - 1,
                                        description="event", continuous_update=False)
        self.seed_box = w.BoundedIntText(value=s.seed, min=0, max=2**31 - 1, description="seed",
                                         layout=w.Layout(width="170px"))
        self.force_all_box = w.Checkbox(value=s.force_all, description="force all (p=1) in preview", indent=False)
        self.controls: dict[str, dict[str, Any]] = {}
        rows = []
        for name, spec in SPECS.items():
            setting = s.augmentations[name]
            enabled = w.Checkbox(value=setting.enabled, description=name, indent=False, layout=w.Layout(width="150px"))
            p = w.FloatSlider(value=setting.p, min=0.0, max=1.0, step=0.05, description="p", continuous_update=False,
                              readout_format=".2f")
            vals = [setting.params[k] for k in spec.params]
            lo, hi = min(spec.slider[0], *vals), max(spec.slider[1], *vals)
            style = {"description_width": "initial"}
            if spec.is_range:
                rng = w.FloatRangeSlider(value=vals, min=lo, max=hi, step=spec.step, description=spec.label,
                                         continuous_update=False, readout_format=".3g", style=style,
                                         layout=w.Layout(width="420px"))
            else:
                rng = w.FloatSlider(value=vals[0], min=lo, max=hi, step=spec.step, description=spec.label,
                                    continuous_update=False, readout_format=".3g", style=style,
                                    layout=w.Layout(width="420px"))
            self.controls[name] = {"enabled": enabled, "p": p, "range": rng}
            p.disabled = rng.disabled = not setting.enabled
            for widget in (enabled, p, rng):
                widget.observe(self._on_augmentation_change, names="value")
            rows.append(w.HBox([enabled, p, rng]))
        self.draw_button = w.Button(description="New draw", icon="refresh", tooltip="draw new random parameters")
        self.save_button = w.Button(description="Save pipeline", icon="save", button_style="primary",
                                    tooltip=f"write the pipeline JSON to {self.save_path}" if self.save_path else "set save_path first")
        self.status = w.HTML(value="")
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.image.add_class("seiswork-tuner-figure")
        self.params_text = w.Textarea(value="", description="drawn", disabled=True,
                                      layout=w.Layout(width="100%", height="6em"))
        self.params_text.add_class("seiswork-tuner-params")

        self.class_dropdown.observe(self._on_class_change, names="value")
        self.event_slider.observe(self._on_event_change, names="value")
        self.seed_box.observe(self._on_seed_change, names="value")
        self.force_all_box.observe(self._on_force_all_change, names="value")
        self.draw_button.on_click(lambda _b: self.new_draw())
        self.save_button.on_click(self._on_save_click)

        self.widget = w.VBox([
            w.HBox([self.class_dropdown, self.event_slider, self.seed_box]),
            w.VBox(rows),
            w.HBox([self.force_all_box, self.draw_button, self.save_button, self.status]),
            self.image,
            self.params_text,
        ])
        self.widget.add_class("seiswork-tuner")
        self.redraw()

    # -- public API
    @property
    def pipeline(self) -> "Compose":
        """The pipeline as it will run in training (``force_all`` and ``draw`` do not apply)."""
        return self.state.to_pipeline()

    @property
    def event_index(self) -> int:
        """Global index (into ``x``) of the previewed event."""
        return self.events.global_index(self.state.class_name, self.state.index)

    def train_pipeline(self, fft_size: int = 512) -> "Pipeline":
        """``Pipeline(pipeline, FFTTransform(fft_size), ToTensor())`` (an ``nn.Sequential``): the full train
        transform."""
        from seiswork.transforms import FFTTransform, Pipeline, ToTensor

        return Pipeline(self.pipeline, FFTTransform(fft_size=fft_size), ToTensor())

    def redraw(self) -> None:
        """Apply the preview pipeline to the selected event and update the figure and the drawn parameters."""
        import matplotlib.pyplot as plt

        i = self.event_index
        event = self.events.event(i)
        pipe = self.state.to_pipeline(preview=True)
        augmented = _apply(pipe, event)
        self.last_draw = describe_draw(pipe, self.sampling_rate)
        forced = " — preview forces p=1" if self.state.force_all else ""
        title = (f"{self.events.names[i]} event {self.state.index} (#{i}), seed {self.state.seed}, "
                 f"draw {self.state.draw}{forced}")
        fig = plots.augmentation_before_after(event, augmented, sampling_rate=self.sampling_rate,
                                              channels=self.channels, fft_size=self.fft_size, title=title, unit=self.unit)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=self.dpi)
        plt.close(fig)  # the PNG is what is shown; an open pyplot figure would also leak and print twice inline
        self.figure = fig
        self.png = buf.getvalue()
        self.image.value = self.png
        self.params_text.value = self.last_draw
        self.n_redraws += 1

    def new_draw(self) -> None:
        """Same settings, new random draw."""
        self.state.draw += 1
        self._safe_redraw()

    def save(self, path: str | Path | None = None) -> Path:
        """Write the current pipeline as JSON (``seiswork.transforms.save_pipeline``) and return the path."""
        from seiswork.transforms import save_pipeline

        path = Path(path) if path is not None else self.save_path
        if path is None:
            raise ValueError("no path to save to: pass tuner.save(path) or AugmentationTuner(..., save_path=...)")
        result = save_pipeline(self.pipeline, path)
        path = Path(result) if isinstance(result, (str, Path)) else path
        n = len(self.state.enabled)
        self.status.value = f"saved {n} augmentation{'s' if n != 1 else ''} to <code>{path}</code>"
        return path

    def set_state(self, state: TunerState | Mapping) -> None:
        """Replace the state (e.g. ``TunerState.from_dict(params)``) and update the widgets and the figure."""
        new = _as_state(state)
        if new.class_name not in self.events.members:
            new.class_name = self.events.classes[0]
        self.events.global_index(new.class_name, new.index)  # raises on a bad index
        self.state = new
        self._sync_widgets()
        self.redraw()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return (f"AugmentationTuner({len(self.events.names)} events, classes={list(self.events.classes)}, "
                f"enabled={self.state.enabled}, seed={self.state.seed})")

    # -- widget callbacks
    def _safe_redraw(self) -> None:
        """Redraw from a callback: an error goes to the status line instead of vanishing in the widget log."""
        try:
            self.redraw()
            self.last_error = None
        except Exception as exc:  # shown to the user; the previous figure stays
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.status.value = f"<span style='color:#b00'>{_escape(self.last_error)}</span>"

    def _on_augmentation_change(self, change: dict) -> None:
        if self._syncing:
            return
        for name, c in self.controls.items():
            if change["owner"] in c.values():
                spec = SPECS[name]
                value = c["range"].value
                values = tuple(value) if spec.is_range else (value,)
                try:
                    self.state.set(name, enabled=bool(c["enabled"].value), p=float(c["p"].value),
                                   **{k: float(v) for k, v in zip(spec.params, values)})
                except (ValueError, TypeError) as exc:
                    self.last_error = str(exc)
                    self.status.value = f"<span style='color:#b00'>{_escape(str(exc))}</span>"
                    return
                # a disabled augmentation's sliders are greyed out: they do nothing until it is on again
                c["p"].disabled = c["range"].disabled = not c["enabled"].value
                break
        self._safe_redraw()

    def _on_class_change(self, change: dict) -> None:
        if self._syncing:
            return
        self.state.class_name = change["new"]
        self.state.index = 0
        self._syncing = True
        try:  # moving the slider's max may move its value: that must not trigger a second redraw
            self.event_slider.value = 0
            self.event_slider.max = len(self.events.members[self.state.class_name]) - 1
        finally:
            self._syncing = False
        self._safe_redraw()

    def _on_event_change(self, change: dict) -> None:
        if self._syncing:
            return
        self.state.index = int(change["new"])
        self._safe_redraw()

    def _on_seed_change(self, change: dict) -> None:
        if self._syncing:
            return
        self.state.seed = int(change["new"])
        self._safe_redraw()

    def _on_force_all_change(self, change: dict) -> None:
        if self._syncing:
            return
        self.state.force_all = bool(change["new"])
        self._safe_redraw()

    def _on_save_click(self, _button: Any) -> None:
        try:
            self.save()
        except Exception as exc:  # a button has no caller to raise to: show it
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.status.value = f"<span style='color:#b00'>save failed: {_escape(self.last_error)}</span>"

    def _sync_widgets(self) -> None:
        """Set every widget from ``self.state`` without triggering callbacks."""
        s = self.state
        self._syncing = True
        try:
            self.class_dropdown.value = s.class_name
            self.event_slider.max = len(self.events.members[s.class_name]) - 1
            self.event_slider.value = s.index
            self.seed_box.value = s.seed
            self.force_all_box.value = s.force_all
            for name, c in self.controls.items():
                spec = SPECS[name]
                setting = s.augmentations[name]
                vals = [setting.params[k] for k in spec.params]
                c["range"].min = min(c["range"].min, *vals)
                c["range"].max = max(c["range"].max, *vals)
                c["range"].value = tuple(vals) if spec.is_range else vals[0]
                c["p"].value = setting.p
                c["enabled"].value = setting.enabled
                c["p"].disabled = c["range"].disabled = not setting.enabled
        finally:
            self._syncing = False


def _escape(text: str) -> str:
    import html

    return html.escape(text)
