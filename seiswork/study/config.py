"""One definition of a study: every parameter of a run with its single default.

Notebooks (their ``parameters`` cells), ``python -m seiswork train``, ``run`` and ``sweep`` all read
:class:`Study`; a test checks that each notebook's literals equal these defaults. Validation happens
here, once, when a study is made: the message names the parameter (or the command-line flag) and the fix.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from seiswork import defaults
from seiswork.paths import PROJECT_DIR

__all__ = ["Study", "StudyError", "parse_channels"]

# legacy spelling "ZNE": one letter per channel, only for these component letters
_COMPONENT_LETTERS = set("ZNE123")


class StudyError(ValueError):
    """A study parameter is invalid; ``name`` is the parameter (``flag`` its command-line spelling)."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(f"study parameter {name!r}: {message}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _p(default: Any, help: str, **extra: Any) -> Any:
    """A study field with its help text (shown by ``--help`` and ``run --list-parameters``)."""
    factory = extra.pop("factory", None)
    meta = {"help": help, **extra}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def parse_channels(value: str | Sequence[str]) -> tuple[str, ...]:
    """Channel names from the command line or a notebook: ``"Z,N,E"``, ``["BHZ", "BHN"]``, ``"HHZ"``, or the
    legacy one-letter-each ``"ZNE"`` (only when every letter is a component code Z, N, E, 1, 2 or 3)."""
    if isinstance(value, str):
        if "," in value:
            names = [c.strip() for c in value.split(",")]
        elif set(value) <= _COMPONENT_LETTERS and len(set(value)) == len(value):
            names = list(value)
        else:
            names = [value.strip()]
    else:
        names = [str(c).strip() for c in value]
    if not names or any(not c for c in names):
        raise StudyError("channels", f"needs one or more non-empty channel names, got {value!r} "
                                     "(e.g. Z,N,E or BHZ,BHN,BHE)")
    if len(set(names)) != len(names):
        raise StudyError("channels", f"names a channel twice: {names}")
    return tuple(names)


@dataclass(frozen=True)
class Study:
    """Every parameter of one study (data, split, representation, model, training) with its default.

    ``data_paths`` may be relative: a notebook reads them from the project folder, the command line from
    the folder it was started in (it makes them absolute before a notebook sees them).
    """

    data_paths: tuple[str, ...] = _p((), "event files or folders (pickled DataFrames, .npz, SeisBench, "
                                         "miniSEED/SAC); empty: the built-in default data", factory=tuple)
    channels: tuple[str, ...] = _p(defaults.CHANNELS, "channel order, e.g. Z,N,E or BHZ,BHN,BHE")
    label_column: str = _p("source_event_category", "the class column of SeisBench metadata and ObsPy catalogs")
    classes: tuple[str, ...] = _p((), "keep only these classes (empty: every class)", factory=tuple)
    min_class_events: int = _p(0, "classes with fewer events are dropped or merged (see rare_classes; 0: keep all)")
    rare_classes: str = _p("drop", "what happens to classes below min_class_events: drop, or merge into 'other'")
    split_column: str | None = _p(None, "a metadata column naming each event's part (train, dev, test), e.g. "
                                        "SeisBench's split; None: draw a split")
    test_ratio: float = _p(defaults.TEST_RATIO, "fraction of all events held out for the test report")
    val_ratio: float = _p(defaults.VAL_RATIO,
                          "fraction of the training part used for early stopping and model selection")
    seed: int = _p(defaults.SEED, "seed of the split, augmentations, shuffling, dropout and initial weights")
    lazy: bool | str = _p(defaults.LAZY, "keep the waveforms on disk and stream them into a memory-mapped cache "
                          "(SeisBench sets, .npz files): true, false, or auto (when the data files exceed "
                          f"{defaults.LAZY_ABOVE_BYTES / 1e9:g} GB)")
    run_dir: str | None = _p(None, "run folder; None: runs/interactive (notebooks) or a new folder (commands)")
    sampling_rate: float | None = _p(None, "Hz; None: from the data's metadata (needed when the data has none)")
    representation: str = _p(defaults.REPRESENTATION, "what the model reads: spectrogram (log power in time "
                             "frames, read along time) or spectrum (the seed's one spectrum, read along frequency)")
    fft_size: int = _p(defaults.FFT_SIZE, "spectrum: FFT segment length in samples (fft_size // 2 + 1 bins)")
    n_fft: int | None = _p(None, "spectrogram: window in samples; None: 2.56 s at the sampling rate")
    hop: int | None = _p(None, "spectrogram: hop between frames in samples; None: 1 s at the sampling rate")
    band: tuple[float, float] | None = _p(None, "spectrogram: keep this frequency band in Hz, e.g. 1,20; None: all")
    background: bool = _p(defaults.SPECTROGRAM_BACKGROUND, "spectrogram: also each bin's log power relative to "
                          "its median over the event (its background level), a per-band signal-to-noise ratio")
    augment: bool = _p(True, "augment training batches (TimeShift, AddNoise, AmplitudeScale, TimeStretch)")
    model: str = _p("lstm", "model name: lstm or lstm_attention")
    hidden: int = _p(defaults.HIDDEN, "LSTM hidden units")
    layers: int = _p(defaults.LAYERS, "LSTM layers")
    heads: int = _p(defaults.HEADS, "attention heads (lstm_attention only)")
    dropout: float = _p(defaults.DROPOUT, "dropout between LSTM layers and before the classifier")
    epochs: int = _p(defaults.EPOCHS, "maximum number of epochs")
    batch_size: int = _p(defaults.BATCH_SIZE, "training batch size")
    lr: float = _p(defaults.LR, "AdamW learning rate")
    weight_decay: float = _p(defaults.WEIGHT_DECAY, "AdamW weight decay")
    patience: int = _p(defaults.PATIENCE,
                       "early stopping after this many epochs without a validation macro F1 gain (0: never)")
    ema: float = _p(defaults.EMA, "the kept weights are an average over epochs, the newest weighing this (1: none)")
    members: int = _p(defaults.MEMBERS, "models trained from their own seeds whose probabilities are averaged "
                                        "(an ensemble; 1: one model)")
    class_weights: bool = _p(True, "weight the loss by inverse class frequency")
    amp: bool = _p(False, "mixed precision (bf16 on CPU, fp16 on CUDA)")
    device: str | None = _p(None, "cpu, cuda or cuda:N; None: CUDA when present")

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if self.data_paths is None:
            put("data_paths", ())
        elif isinstance(self.data_paths, (str, os.PathLike)):
            put("data_paths", (self.data_paths,))
        elif not isinstance(self.data_paths, Sequence):
            raise StudyError("data_paths", f"must be a list of paths, got {self.data_paths!r}")
        put("data_paths", tuple(os.fspath(p) for p in self.data_paths))
        put("channels", parse_channels(self.channels))
        if not isinstance(self.label_column, str) or not self.label_column:
            raise StudyError("label_column", f"must be a column name, got {self.label_column!r}")
        classes = (self.classes,) if isinstance(self.classes, str) else self.classes
        if classes is None or not isinstance(classes, Sequence):
            raise StudyError("classes", f"must be a list of class names, got {self.classes!r}")
        put("classes", tuple(str(c) for c in classes))
        put("min_class_events", _int("min_class_events", self.min_class_events, 0))
        if self.split_column is not None and (not isinstance(self.split_column, str) or not self.split_column):
            raise StudyError("split_column", f"must be a column name or None, got {self.split_column!r}")
        if self.rare_classes not in ("drop", "merge"):
            raise StudyError("rare_classes", f"must be 'drop' or 'merge', got {self.rare_classes!r}")
        for name in ("test_ratio", "val_ratio"):
            put(name, _real(name, getattr(self, name), low=0.0, high=1.0, open_low=True, open_high=True))
        put("seed", _int("seed", self.seed, 0))
        lazy = {"true": True, "yes": True, "false": False, "no": False, "auto": "auto"}.get(
            str(self.lazy).strip().lower()) if isinstance(self.lazy, str) else self.lazy
        if lazy is None or not isinstance(lazy, (bool, str)):
            raise StudyError("lazy", f"must be true, false or auto, got {self.lazy!r}")
        put("lazy", lazy)
        put("fft_size", _int("fft_size", self.fft_size, 2))
        from seiswork.transforms import REPRESENTATIONS  # imports torch: only once a study is made

        if self.representation not in REPRESENTATIONS:
            raise StudyError("representation", f"must be one of {', '.join(REPRESENTATIONS)}, "
                                               f"got {self.representation!r}")
        for name in ("n_fft", "hop"):
            if getattr(self, name) is not None:
                put(name, _int(name, getattr(self, name), 2 if name == "n_fft" else 1))
        if self.band is not None:
            band = [float(v) for v in str(self.band).strip("()[] ").split(",")] if isinstance(self.band, str) \
                else list(self.band)
            if len(band) != 2:
                raise StudyError("band", f"must be two frequencies in Hz (fmin, fmax), got {self.band!r}")
            lo, hi = (_real("band", v, low=0.0) for v in band)
            if lo >= hi:
                raise StudyError("band", f"needs fmin < fmax, got {self.band!r}")
            put("band", (lo, hi))
        for name in ("hidden", "layers", "heads", "epochs", "batch_size"):
            put(name, _int(name, getattr(self, name), 1))
        put("patience", _int("patience", self.patience, 0))
        put("members", _int("members", self.members, 1))
        put("ema", _real("ema", self.ema, low=0.0, high=1.0, open_low=True))
        put("dropout", _real("dropout", self.dropout, low=0.0, high=1.0, open_high=True))
        put("lr", _real("lr", self.lr, low=0.0, open_low=True))
        put("weight_decay", _real("weight_decay", self.weight_decay, low=0.0))
        for name in ("background", "augment", "class_weights", "amp"):
            if not isinstance(getattr(self, name), bool):
                raise StudyError(name, f"must be true or false, got {getattr(self, name)!r}")
        from seiswork.models import MODELS  # imports torch: only once a study is made

        if self.model not in MODELS:
            raise StudyError("model", f"unknown model {self.model!r}; choose one of {', '.join(sorted(MODELS))}")
        if self.sampling_rate is not None:
            put("sampling_rate", _real("sampling_rate", self.sampling_rate, low=0.0, open_low=True))
        if self.run_dir is not None:
            put("run_dir", os.fspath(self.run_dir))

    # ------------------------------------------------------------------ construction
    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """``{name: default}`` for every parameter, in declaration order."""
        return {f.name: (f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default)
                for f in fields(cls)}

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> "Study":
        """A study from a mapping; an unknown name is an error naming it and the known ones."""
        unknown = sorted(set(parameters) - set(cls.names()))
        if unknown:
            raise StudyError(unknown[0], f"unknown parameter(s) {unknown}; known: {', '.join(cls.names())}")
        return cls(**dict(parameters))

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]) -> "Study":
        """A study from a notebook's variables (``globals()`` after its ``parameters`` cell): the names that
        are study parameters are taken, every other variable is ignored."""
        return cls(**{name: namespace[name] for name in cls.names() if name in namespace})

    def replace(self, **changes: Any) -> "Study":
        return dataclasses.replace(self, **changes)

    def to_dict(self, where: bool = True) -> dict[str, Any]:
        """Plain JSON/YAML values (lists, not tuples); ``where=False`` leaves out ``run_dir``, so that
        the same study run in two folders records the same parameters."""
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}
        if not where:
            del out["run_dir"]
        return out

    # ------------------------------------------------------------------ derived values
    def resolved_data_paths(self, base: str | os.PathLike | None = None) -> list[Path]:
        """``data_paths`` as absolute paths; relative ones are read from ``base`` (default: the project
        folder, where ``resources/`` lives). Glob patterns stay patterns."""
        root = Path(base) if base is not None else PROJECT_DIR
        return [Path(p) if Path(p).expanduser().is_absolute() else root / p for p in
                (os.path.expanduser(p) for p in self.data_paths)]

    def model_kwargs(self, features: int, classes: int) -> dict[str, Any]:
        """Constructor arguments for ``build_model(self.model, ...)``; only those the model takes."""
        import inspect

        from seiswork.models import MODELS

        from seiswork.transforms import model_inputs

        wanted = {"channels": features, "classes": classes, "hidden": self.hidden, "layers": self.layers,
                  "heads": self.heads, "dropout": self.dropout, **model_inputs(self.representation)}
        accepted = inspect.signature(MODELS[self.model]).parameters
        return {k: v for k, v in wanted.items() if k in accepted}

    # ------------------------------------------------------------------ command line
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, skip: Sequence[str] = ()) -> None:
        """One flag per parameter, its default shown in ``--help``: ``--batch-size 32``, ``--no-augment``."""
        for f in fields(cls):
            if f.name in skip:
                continue
            flag = "--" + f.name.replace("_", "-")
            default = cls.defaults()[f.name]
            text = f"{f.metadata['help']} (default: {_shown(default)})"
            if isinstance(default, bool):
                parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=default,
                                    help=text)
            elif f.name == "data_paths":
                parser.add_argument("--data", flag, dest=f.name, nargs="+", default=list(default), metavar="PATH",
                                    help=text)
            elif f.name in ("n_fft", "hop"):
                parser.add_argument(flag, dest=f.name, type=int, default=default, help=text)
            elif f.name in ("channels", "classes"):
                parser.add_argument(flag, dest=f.name, nargs="+", default=list(default), metavar="NAME", help=text)
            else:
                kind = type(default) if default is not None else (float if f.name == "sampling_rate" else str)
                parser.add_argument(flag, dest=f.name, type=kind, default=default, help=text)

    @classmethod
    def from_args(cls, args: argparse.Namespace, cwd: str | os.PathLike | None = None) -> "Study":
        """The study of parsed command-line arguments; relative data paths are taken from ``cwd``."""
        values = {name: getattr(args, name) for name in cls.names() if hasattr(args, name)}
        channels = values.get("channels")
        if isinstance(channels, list) and len(channels) == 1:
            values["channels"] = channels[0]  # "Z,N,E", "ZNE" or one name such as "HHZ"
        base = Path(cwd) if cwd is not None else Path.cwd()
        values["data_paths"] = [os.fspath(base / os.path.expanduser(p)) for p in values.get("data_paths") or []]
        return cls(**values)


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(value) if value else "none"
    return repr(value) if isinstance(value, str) else str(value)


def _int(name: str, value: Any, minimum: int) -> int:
    whole = isinstance(value, numbers.Integral) or isinstance(value, float) and value.is_integer()
    if isinstance(value, bool) or not whole:
        raise StudyError(name, f"must be a whole number >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise StudyError(name, f"must be >= {minimum}, got {value}")
    return int(value)


def _real(name: str, value: Any, low: float | None = None, high: float | None = None,
          open_low: bool = False, open_high: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise StudyError(name, f"must be a number, got {value!r}")
    x = float(value)
    bad = not math.isfinite(x)
    bad |= low is not None and (x <= low if open_low else x < low)
    bad |= high is not None and (x >= high if open_high else x > high)
    if bad:
        lo = "(" if open_low else "["
        hi = ")" if open_high else "]"
        span = f"{lo}{low if low is not None else '-inf'}, {high if high is not None else 'inf'}{hi}"
        raise StudyError(name, f"must lie in {span}, got {value!r}")
    return x
