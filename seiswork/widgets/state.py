"""The tuner's state as plain data (no widgets): which augmentations are on, their probability and settings.

What the tuner knows about an augmentation (:class:`AugmentationSpec`, :data:`SPECS`) is derived from the
augmentation's own declaration (``params``, ``default_p``, ``order``; :mod:`seiswork.augment.params`), and the
state serialises through the pipeline JSON format (:func:`seiswork.transforms.pipeline_to_dict`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import numpy as np

if TYPE_CHECKING:  # torch is imported only when a pipeline is built
    from seiswork.augment import Augmentation, Compose, Param

__all__ = [
    "AugmentationSpec", "SPECS", "AugmentationSetting", "TunerState", "find_compose", "unwrap", "as_state",
]

_STATE_FIELDS = ("class_name", "index", "force_all", "draw")


# --------------------------------------------------------------------------------------------- specification
@dataclass(frozen=True)
class AugmentationSpec:
    """What the tuner shows for one registered augmentation class, read from its declaration.

    ``params``: the tuned settings, one (a single slider) or a ``range_with`` pair (``min``, ``max``: a range
    slider); ``default``: their declared defaults; ``p``: the probability it starts with (its ``default_p``,
    else ``RandomApply``'s default) and ``enabled``: whether it is in the default pipeline; ``slider``: the span
    the slider shows at first (widened when a value lies outside); ``step``, ``label``: the slider's.
    """

    name: str
    cls: type
    params: tuple[str, ...]
    default: tuple[float, ...]
    p: float
    enabled: bool
    slider: tuple[float, float]
    step: float
    label: str

    @property
    def is_range(self) -> bool:
        return len(self.params) == 2

    @classmethod
    def from_class(cls, aug: type) -> "AugmentationSpec | None":
        """The spec of ``aug``, or None when its numeric settings are neither one value nor one min/max pair."""
        from seiswork.augment import RandomApply

        numeric = [p for p in aug.params if p.numeric]
        if not (len(numeric) == 1 or (len(numeric) == 2 and numeric[0].range_with == numeric[1].name)):
            return None
        first = numeric[0]
        # no typical span declared: the valid interval, or a unit either side of the defaults where it is open
        width = max(1.0, *(abs(float(p.default)) for p in numeric))
        lows = [p.low if p.low is not None else float(p.default) - width for p in numeric]
        highs = [p.high if p.high is not None else float(p.default) + width for p in numeric]
        slider = first.typical or (min(lows), max(highs))
        label = f"{first.label or first.name} ({first.unit})" if first.unit else (first.label or first.name)
        p = aug.default_p if aug.default_p is not None else RandomApply.params[0].default
        return cls(aug.__name__, aug, tuple(q.name for q in numeric), tuple(float(q.default) for q in numeric),
                   float(p), aug.default_p is not None, (float(slider[0]), float(slider[1])), first.step, label)


class _Specs(Mapping):
    """``{name: AugmentationSpec}`` of the registered augmentations in order of application, read afresh from
    the registry on every use (an augmentation registered later is there too)."""

    def _all(self) -> dict[str, AugmentationSpec]:
        from seiswork.augment import registered

        specs = (AugmentationSpec.from_class(cls) for cls in registered())
        return {s.name: s for s in specs if s is not None}

    def __getitem__(self, name: str) -> AugmentationSpec:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"SPECS({list(self)})"


SPECS: Mapping[str, AugmentationSpec] = _Specs()


def _spec(name: str) -> AugmentationSpec:
    specs = dict(SPECS)
    if name not in specs:
        raise ValueError(f"unknown augmentation {name!r}; the tuner knows {list(specs)}")
    return specs[name]


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

    @classmethod
    def default(cls, spec: AugmentationSpec, enabled: bool | None = None) -> "AugmentationSetting":
        on = spec.enabled if enabled is None else enabled
        return cls(on, spec.p, dict(zip(spec.params, spec.default)))


def _check_setting(name: str, setting: AugmentationSetting) -> None:
    """Raise ValueError/TypeError naming the augmentation, parameter and bad value (the declaration's checks)."""
    from seiswork.augment import RandomApply
    from seiswork.augment.params import check_params

    spec = _spec(name)
    if not isinstance(setting.enabled, (bool, np.bool_)):
        raise TypeError(f"{name}.enabled must be True or False, got {setting.enabled!r}")
    chance: Param = RandomApply.params[0]
    try:
        chance.check(chance.convert(setting.p, name), name)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: p must be a probability {chance.interval()}, got {setting.p!r}") from None
    if set(setting.params) != set(spec.params):
        raise ValueError(f"{name}: parameters must be {list(spec.params)}, got {sorted(setting.params)}")
    defaults = {p.name: p.default for p in spec.cls.params}
    check_params(spec.cls.params, {**defaults, **setting.extra, **setting.params}, name)


def _default_settings() -> dict[str, AugmentationSetting]:
    return {name: AugmentationSetting.default(s) for name, s in SPECS.items()}


# --------------------------------------------------------------------------------------------- state
@dataclass
class TunerState:
    """Everything the tuner's widgets set, as plain data.

    ``augmentations``: ``{name: AugmentationSetting}`` in the order of application (default: the default
    pipeline, :func:`seiswork.transforms.default_augmentation`, every other registered augmentation switched
    off). ``seed``: the pipeline's seed. ``class_name``/``index``: the previewed event (index within its class).
    ``force_all``: the preview applies every enabled augmentation (p = 1); never saved into the pipeline.
    ``draw``: preview draw number ("New draw").
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
        for name in ("seed", "index", "draw"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                what = " (event index within its class)" if name == "index" else ""
                raise ValueError(f"{name} must be a non-negative integer{what}, got {value!r}")

    def set(self, name: str, *, enabled: bool | None = None, p: float | None = None, **params: float) -> None:
        """Change one augmentation (validated first: on a bad value nothing changes).

        ``state.set("AddNoise", p=0.8, snr_min=10, snr_max=30)``; ``state.set("TimeShift", enabled=False)``.
        """
        spec = _spec(name)
        new = (self.augmentations.get(name) or AugmentationSetting.default(spec, enabled=False)).copy()
        if enabled is not None:
            new.enabled = enabled
        if p is not None:
            new.p = p
        unknown = set(params) - set(spec.params)
        if unknown:
            raise ValueError(f"{name} has no parameter(s) {sorted(unknown)}; its parameters are {list(spec.params)}")
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
    def _module(self, name: str, preview: bool = False) -> "Augmentation":
        """``RandomApply(Aug(**settings), p=p)`` of one augmentation (p = 1 in a ``force_all`` preview)."""
        from seiswork.augment import RandomApply

        s = self.augmentations[name]
        aug = _spec(name).cls(**{k: float(v) for k, v in s.params.items()}, **s.extra)
        return RandomApply(aug, p=1.0 if (preview and self.force_all) else float(s.p))

    def to_pipeline(self, preview: bool = False) -> "Compose":
        """``Compose([RandomApply(Aug(**params), p=p), ...], seed=seed)`` of the enabled augmentations.

        ``preview=True`` builds what the tuner shows: p = 1 for every enabled augmentation when
        ``force_all`` is set, and the seed offset by ``draw`` so "New draw" gives new random values.
        """
        from seiswork.augment import Compose

        self.validate()
        seed = int(self.seed) + (int(self.draw) if preview else 0)
        return Compose([self._module(name, preview) for name in self.enabled], seed=seed)

    @classmethod
    def from_pipeline(cls, pipeline: Any, **kwargs: Any) -> "TunerState":
        """Read a pipeline back: a ``Compose`` (or an ``nn.Sequential`` holding one, like the train pipeline),
        a ``RandomApply`` or a bare augmentation (p = 1). Augmentations it lacks are disabled with their
        default settings. ``kwargs`` set the other fields (``class_name``, ``index``...); the seed is the
        Compose's own when it has one.
        """
        compose = find_compose(pipeline)
        found: dict[str, AugmentationSetting] = {}
        for item in list(compose.transforms) if compose is not None else [pipeline]:
            p, aug = unwrap(item)
            name = type(aug).__name__
            if name not in SPECS or type(aug) is not SPECS[name].cls:
                raise ValueError(
                    f"the tuner cannot represent {type(aug).__name__} in the pipeline; it knows {list(SPECS)} "
                    f"(optionally inside RandomApply)"
                )
            if name in found:
                raise ValueError(f"the pipeline holds {name} twice; the tuner keeps one of each augmentation")
            found[name] = _setting_of(aug, p)
        settings = {name: found.get(name) or AugmentationSetting.default(spec, enabled=False)
                    for name, spec in SPECS.items()}  # canonical order; a pipeline in another order is reordered
        if "seed" not in kwargs:
            seed = getattr(compose, "seed", None)
            kwargs["seed"] = int(seed) if isinstance(seed, (int, np.integer)) else 0
        return cls(augmentations=settings, **kwargs)

    # -- plain data
    def to_dict(self) -> dict:
        """JSON-ready dict (round-trips through :meth:`from_dict`): ``"pipeline"``, the saved pipeline in the
        pipeline JSON format (:func:`seiswork.transforms.pipeline_to_dict`, the seed included); ``"disabled"``,
        the settings kept for the augmentations switched off, as ``RandomApply`` entries of that format; and
        the preview fields ``class_name``, ``index``, ``force_all``, ``draw``."""
        from seiswork.transforms import pipeline_to_dict

        disabled = []
        for name, setting in self.augmentations.items():
            if not setting.enabled:
                entry = pipeline_to_dict(self._module(name))
                entry.pop("seed", None)  # a disabled entry has no stream of its own
                disabled.append(entry)
        return {
            "pipeline": pipeline_to_dict(self.to_pipeline()),
            "disabled": disabled,
            "class_name": _plain(self.class_name),
            "index": int(self.index),
            "force_all": bool(self.force_all),
            "draw": int(self.draw),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "TunerState":
        """Inverse of :meth:`to_dict`; missing fields take their defaults, unknown keys raise."""
        from seiswork.transforms import pipeline_from_dict

        d = dict(d)
        known = {"pipeline", "disabled", *_STATE_FIELDS}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown TunerState field(s) {sorted(unknown)}; expected some of {sorted(known)}")
        kwargs = {k: d[k] for k in _STATE_FIELDS if k in d}
        if "pipeline" not in d:
            state = cls(**kwargs)
        else:
            state = cls.from_pipeline(pipeline_from_dict(d["pipeline"], "pipeline"), **kwargs)
        for i, entry in enumerate(d.get("disabled", [])):
            p, aug = unwrap(pipeline_from_dict(entry, f"disabled[{i}]"))
            name = type(aug).__name__
            if name not in SPECS:
                raise ValueError(f"unknown augmentation {name!r}; the tuner knows {list(SPECS)}")
            setting = _setting_of(aug, p)
            setting.enabled = False
            state.augmentations[name] = setting
        state.validate()
        return state


def _setting_of(aug: "Augmentation", p: float) -> AugmentationSetting:
    """An enabled setting from an augmentation module: its tuned settings, and the others where they differ
    from the declared defaults."""
    spec = SPECS[type(aug).__name__]
    config = dict(aug.get_config())
    params = {k: float(config.pop(k)) for k in spec.params}
    defaults = {q.name: q.default for q in spec.cls.params}
    extra = {k: v for k, v in config.items() if k not in defaults or defaults[k] != v}
    return AugmentationSetting(True, float(p), params, extra)


def _plain(v: Any) -> Any:
    """numpy scalars → Python scalars for JSON."""
    return v.item() if isinstance(v, np.generic) else v


# --------------------------------------------------------------------------------------------- pipeline reading
def find_compose(pipeline: Any) -> "Compose | None":
    """The Compose inside ``pipeline`` (itself, or the first one inside an nn.Sequential such as the train
    pipeline); None for a single (RandomApply-wrapped) augmentation."""
    from torch import nn

    from seiswork.augment import Augmentation, Compose

    if isinstance(pipeline, Compose):
        return pipeline
    if isinstance(pipeline, Augmentation):
        return None
    if not isinstance(pipeline, nn.Module):
        raise TypeError(f"expected a pipeline (Compose, nn.Sequential, RandomApply...), got {type(pipeline).__name__}")
    for m in pipeline.modules():
        if isinstance(m, Compose):
            return m
    raise ValueError(f"no Compose of augmentations found in the pipeline:\n{pipeline}")


def unwrap(item: Any) -> tuple[float, Any]:
    """(p, augmentation) of a RandomApply, or (1.0, item) for a bare augmentation."""
    from seiswork.augment import RandomApply

    if isinstance(item, RandomApply):
        return float(item.p), item.aug
    return 1.0, item


def as_state(pipeline: Any, seed: int | None = None) -> TunerState:
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
