"""A trained model as one self-contained file: :func:`save_bundle`, :func:`load_bundle` and :class:`Bundle`.

A bundle holds everything needed to classify new recordings the way the model was trained, and nothing that
runs code when read: a dict of plain values and tensors (``format`` = :data:`BUNDLE_FORMAT`), written with
``torch.save`` and read with ``torch.load(weights_only=True)``::

    {"format": "seiswork-bundle/1", "seiswork_version": "0.1.0",
     "model_class": "LSTMModel", "model_config": {...}, "model_state": {name: tensor},  # as in a checkpoint
     "classes": ["earthquake", "noise"],        # names, in the order of the model's outputs
     "channels": ["Z", "N", "E"],               # the last axis of an event (time, channel)
     "sampling_rate": 100.0,                    # Hz, or None when the training data did not record it
     "length": 2900,                            # samples per event the model was trained on
     "preprocessing": {"transforms": ["DROP_NAN", "TRIMMING", "ZSCORE"], "trim": "start",
                       "nan_policy": "drop", "max_gap": 25, "min_length": 100, "eps": 1e-06},
     "eval_transform": {"type": "Sequential", ...},   # seiswork.transforms.pipeline_to_dict
     "study": {...} or None}                    # the study's parameters, for the record

The model part is the checkpoint's (:func:`seiswork.training.checkpoints.model_entries`, rebuilt by
:func:`~seiswork.training.checkpoints.load_model`). :func:`seiswork.classify` reads a bundle and applies
the same preprocessing (:mod:`seiswork.data.preprocess`) to new events.
"""

from __future__ import annotations

import json
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seiswork.data.events import channel_names, check_sampling_rate
from seiswork.data.preprocess import NAN_POLICIES, TRIMS, TransformOP
from seiswork.paths import atomic_path

__all__ = ["BUNDLE_FORMAT", "BUNDLE_SUFFIX", "Preprocessing", "Bundle", "save_bundle", "load_bundle"]

BUNDLE_FORMAT = "seiswork-bundle/1"
BUNDLE_SUFFIX = ".seiswork"


@dataclass(frozen=True)
class Preprocessing:
    """The preprocessing a model was trained with, as :class:`~seiswork.WaveformDataAdapter` applied it.

    ``transforms``: :class:`TransformOP` names in order (``("DROP_NAN", "TRIMMING", "ZSCORE")`` by default);
    ``trim``: the side TRIMMING keeps; ``nan_policy`` / ``max_gap`` (samples): NaN gaps inside an event;
    ``min_length`` (samples); ``eps``: the relative threshold of a constant channel for ZSCORE.
    """

    transforms: tuple[str, ...] = ("DROP_NAN", "TRIMMING", "ZSCORE")
    trim: str = "start"
    nan_policy: str = "drop"
    max_gap: int = 25
    min_length: int = 100
    eps: float = 1e-6

    def __post_init__(self) -> None:
        names = [op.name for op in TransformOP]
        unknown = [t for t in self.transforms if t not in names]
        if unknown:
            raise ValueError(f"preprocessing: unknown transforms {unknown}; known: {names}")
        if self.trim not in TRIMS:
            raise ValueError(f"preprocessing: trim={self.trim!r}; choose one of {TRIMS}")
        if self.nan_policy not in NAN_POLICIES:
            raise ValueError(f"preprocessing: nan_policy={self.nan_policy!r}; choose one of {NAN_POLICIES}")

    @property
    def flags(self) -> TransformOP:
        """``transforms`` as :class:`TransformOP` flags."""
        flags = TransformOP(0)
        for name in self.transforms:
            flags |= TransformOP[name]
        return flags

    @classmethod
    def of(cls, source: Any) -> "Preprocessing":
        """From a :class:`Preprocessing`, a dict of its fields, or anything with the adapter's attributes
        (``transforms`` as :class:`TransformOP` flags, ``trim``, ``nan_policy``, ``max_gap``, ``min_length``,
        ``eps``), such as a :class:`~seiswork.WaveformDataAdapter`."""
        if isinstance(source, cls):
            return source
        if isinstance(source, Mapping):
            unknown = set(source) - set(cls.__dataclass_fields__)
            if unknown:
                raise ValueError(f"preprocessing: unknown keys {sorted(unknown)}; "
                                 f"known: {list(cls.__dataclass_fields__)}")
            values = dict(source)
            if "transforms" in values:
                values["transforms"] = tuple(values["transforms"])
            return cls(**values)
        flags = getattr(source, "transforms", None)
        if not isinstance(flags, TransformOP):
            raise TypeError(f"preprocessing: expected a Preprocessing, a dict or a WaveformDataAdapter, "
                            f"got {type(source).__name__}")
        return cls(tuple(op.name for op in TransformOP if op in flags), str(source.trim), str(source.nan_policy),
                   int(source.max_gap), int(source.min_length), float(source.eps))

    def to_dict(self) -> dict[str, Any]:
        return {"transforms": list(self.transforms), "trim": self.trim, "nan_policy": self.nan_policy,
                "max_gap": self.max_gap, "min_length": self.min_length, "eps": self.eps}


@dataclass
class Bundle:
    """A model ready to classify new events (see the module docstring for what each field means).

    ``model`` is on the CPU in eval mode; ``eval_transform`` (None: the model reads waveforms) in eval mode
    maps a batch ``(B, length, channel)`` to the model's input; ``path`` is the file it was read from.
    """

    model: nn.Module
    classes: list[str]
    channels: tuple[str, ...]
    sampling_rate: float | None
    length: int
    preprocessing: Preprocessing
    eval_transform: nn.Module | None
    version: str
    study: dict[str, Any] | None = None
    path: Path | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        rate = "unknown" if self.sampling_rate is None else f"{self.sampling_rate:g} Hz"
        return (f"Bundle({type(self.model).__name__}, classes={self.classes}, channels={list(self.channels)}, "
                f"length={self.length} samples, sampling_rate={rate}, "
                f"preprocessing={'|'.join(self.preprocessing.transforms) or 'none'}, seiswork {self.version})")


def save_bundle(
    path: str | os.PathLike,
    model: nn.Module,
    *,
    classes: Any,
    channels: Any,
    sampling_rate: float | None,
    length: int,
    preprocessing: Any,
    eval_transform: nn.Module | None,
    study: Any = None,
) -> Path:
    """Write ``model`` and how to feed it as one bundle file at ``path`` (atomically); returns the path.

    Args:
        model: a ``seiswork.models`` model (it has a ``.config``), reading ``eval_transform``'s output.
        classes: class names in the order of the model's outputs.
        channels: channel names, the last axis of an event ``(time, channel)``.
        sampling_rate: Hz of the training events, or None when unknown (new events are then not checked).
        length: samples per event the model was trained on (``adapter.x.shape[1]``).
        preprocessing: :class:`Preprocessing`, a dict of its fields, or the ``WaveformDataAdapter`` that
            prepared the training events.
        eval_transform: the evaluation pipeline (spectrum only; JSON-serialisable with
            :func:`seiswork.transforms.pipeline_to_dict`), or None.
        study: the :class:`~seiswork.Study` (or a dict of its parameters), kept for the record.
    """
    from seiswork import __version__
    from seiswork.training.checkpoints import model_entries
    from seiswork.training.metrics import model_classes
    from seiswork.transforms import pipeline_to_dict

    classes = [str(c) for c in classes]
    outputs = model_classes(model)
    if outputs is not None and outputs != len(classes):
        raise ValueError(f"save_bundle: {len(classes)} classes {classes} for a model with {outputs} outputs")
    if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 2:
        raise ValueError(f"save_bundle: length must be the number of samples per event (an int >= 2), "
                         f"got {length!r}")
    if sampling_rate is not None:
        sampling_rate = float(sampling_rate)
        check_sampling_rate(sampling_rate)
    payload = {
        "format": BUNDLE_FORMAT,
        "seiswork_version": __version__,
        **model_entries(model),
        "classes": classes,
        "channels": list(channel_names(channels)),
        "sampling_rate": sampling_rate,
        "length": int(length),
        "preprocessing": Preprocessing.of(preprocessing).to_dict(),
        "eval_transform": None if eval_transform is None else pipeline_to_dict(eval_transform),
        "study": _plain(study.to_dict() if hasattr(study, "to_dict") else study),
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_bundle(path: str | os.PathLike) -> Bundle:
    """Read a bundle written by :func:`save_bundle` (no code executed: ``weights_only``); model on the CPU."""
    from seiswork.training.checkpoints import load_model, read_torch_file
    from seiswork.transforms import pipeline_from_dict

    path = Path(path)
    payload = read_torch_file(path, "model bundle")
    if not isinstance(payload, dict) or payload.get("format") != BUNDLE_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        hint = (" (a training checkpoint: the model bundle is model.seiswork in the same run folder)"
                if isinstance(payload, dict) and str(found).startswith("seiswork-checkpoint") else "")
        raise ValueError(f"{path} is not a seiswork model bundle (format {found!r}, expected "
                         f"{BUNDLE_FORMAT!r}){hint}")
    transform = payload["eval_transform"]
    if transform is not None:
        try:
            transform = pipeline_from_dict(transform).eval()
        except ValueError as exc:
            raise ValueError(f"{path}: its eval_transform cannot be rebuilt: {exc}") from exc
    return Bundle(
        model=load_model(payload), classes=list(payload["classes"]), channels=tuple(payload["channels"]),
        sampling_rate=payload["sampling_rate"], length=int(payload["length"]),
        preprocessing=Preprocessing.of(payload["preprocessing"]), eval_transform=transform,
        version=str(payload["seiswork_version"]), study=payload.get("study"), path=path)


def _plain(value: Any) -> Any:
    """``value`` as plain JSON values (what ``weights_only`` reads back); paths and the like become strings."""
    return None if value is None else json.loads(json.dumps(value, default=str))
