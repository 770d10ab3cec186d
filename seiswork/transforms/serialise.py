"""Pipelines as JSON: :func:`pipeline_to_dict`/:func:`pipeline_from_dict`, :func:`save_pipeline`/:func:`load_pipeline`.

Format (``save_pipeline``; ``pipeline_to_dict`` gives the ``"pipeline"`` part)::

    {"format": "seiswork.pipeline", "version": 1,
     "pipeline": {"type": "Sequential", "modules": [
        {"type": "Compose", "seed": 0, "transforms": [
            {"type": "RandomApply", "p": 0.5, "transform": {"type": "TimeShift", "max_shift": 0.1}}, ...]},
        {"type": "FFTTransform", "fft_size": 512, "mode": "welch", "log": false, "window": "hann"},
        {"type": "ToTensor"}]}}

Every module is ``{"type": class name, **constructor settings}`` (an augmentation's settings are its declared
``params``; every registered augmentation is known, :func:`seiswork.augment.register`); ``seed`` is written only
for modules that own their random stream (an outer ``Compose``/``RandomApply`` or an augmentation used alone).
The saved seed is the constructor/``reseed`` seed, not the generator's current position: a loaded pipeline
starts its stream afresh.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from torch import nn

from seiswork.augment import Augmentation, Compose, RandomApply, lookup, registered
from seiswork.paths import atomic_write
from seiswork.transforms.pipeline import Pipeline
from seiswork.transforms.spectrogram import SpectrogramTransform
from seiswork.transforms.spectrum import FFTTransform, ToTensor

__all__ = ["pipeline_to_dict", "pipeline_from_dict", "save_pipeline", "load_pipeline", "FORMAT", "VERSION"]

FORMAT = "seiswork.pipeline"
VERSION = 1

_REPRESENTATIONS = {cls.__name__: cls for cls in (FFTTransform, SpectrogramTransform, ToTensor)}


def _leaf(kind: str) -> type | None:
    """The class of a module without children called ``kind``: a registered augmentation or a representation."""
    return lookup(kind) or _REPRESENTATIONS.get(kind)


def _types() -> list[str]:
    return sorted([cls.__name__ for cls in registered()] + list(_REPRESENTATIONS)
                  + ["RandomApply", "Compose", "Sequential", "Identity"])


def pipeline_to_dict(module: nn.Module) -> dict:
    """A JSON-ready dict describing ``module`` (see the module docstring for the format)."""
    if isinstance(module, nn.Sequential):
        return {"type": "Sequential", "modules": [pipeline_to_dict(m) for m in module]}
    if isinstance(module, nn.Identity):
        return {"type": "Identity"}
    if _leaf(type(module).__name__) is None and not isinstance(module, (RandomApply, Compose)):
        raise TypeError(
            f"pipeline_to_dict: cannot serialise {type(module).__name__}; only nn.Sequential, nn.Identity and the "
            f"seiswork modules {_types()} are supported"
        )
    d: dict = {"type": type(module).__name__, **module.get_config()}
    if isinstance(module, Augmentation) and module.owns_generator:
        d["seed"] = module.seed
    if isinstance(module, RandomApply):
        d["transform"] = pipeline_to_dict(module.aug)
    elif isinstance(module, Compose):
        d["transforms"] = [pipeline_to_dict(m) for m in module.transforms]
    return d


def pipeline_from_dict(d: dict, _where: str = "pipeline") -> nn.Module:
    """Rebuild a module from :func:`pipeline_to_dict` output (or the whole saved JSON document)."""
    if isinstance(d, dict) and "format" in d and "pipeline" in d:
        if d["format"] != FORMAT or d.get("version") != VERSION:
            raise ValueError(
                f"{_where}: unsupported pipeline document format={d['format']!r} version={d.get('version')!r}; "
                f"expected format={FORMAT!r} version={VERSION}"
            )
        d = d["pipeline"]
    if not isinstance(d, dict) or "type" not in d:
        raise ValueError(f"{_where}: expected a dict with a 'type' key, got {d!r:.200}")
    kind = d["type"]
    kwargs = {k: v for k, v in d.items() if k != "type"}
    try:
        if kind == "Sequential":
            return Pipeline(*[pipeline_from_dict(m, f"{_where}.modules[{i}]") for i, m in enumerate(kwargs["modules"])])
        if kind == "Identity":
            return nn.Identity()
        if kind == "Compose":
            children = [pipeline_from_dict(m, f"{_where}.transforms[{i}]") for i, m in enumerate(kwargs.pop("transforms"))]
            return Compose(children, **kwargs)
        if kind == "RandomApply":
            return RandomApply(pipeline_from_dict(kwargs.pop("transform"), f"{_where}.transform"), **kwargs)
        cls = _leaf(kind)
        if cls is not None:
            return cls(**kwargs)
    except KeyError as e:
        raise ValueError(f"{_where}: {kind} is missing the key {e}") from e
    except TypeError as e:
        if "unexpected keyword" in str(e) or "positional argument" in str(e):
            raise ValueError(f"{_where}: bad settings for {kind}: {e}") from e
        raise
    raise ValueError(f"{_where}: unknown module type {kind!r}; known types: {_types()}")


def save_pipeline(module: nn.Module, path: str | os.PathLike, overwrite: bool = True) -> Path:
    """Write ``module`` as JSON to ``path`` atomically; returns the path."""
    doc = {"format": FORMAT, "version": VERSION, "pipeline": pipeline_to_dict(module)}
    path = Path(path)
    with atomic_write(path, "w", overwrite=overwrite) as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return path


def load_pipeline(path: str | os.PathLike) -> nn.Module:
    """Read a pipeline written by :func:`save_pipeline` (in train mode, not frozen)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_pipeline: {path} does not exist; save one with save_pipeline(module, path)")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"load_pipeline: {path} is not valid JSON ({e}); was it written by save_pipeline?") from e
    if not isinstance(doc, dict) or "pipeline" not in doc:
        raise ValueError(f"load_pipeline: {path} has no 'pipeline' entry; was it written by save_pipeline?")
    return pipeline_from_dict(doc, _where=str(path))
