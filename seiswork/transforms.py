"""Spectrum and tensor conversion modules, plus pipeline seeding and JSON (de)serialisation.

A train pipeline is ``nn.Sequential(Compose([...]), FFTTransform(512), ToTensor())``, a test one
``nn.Sequential(FFTTransform(512), ToTensor())``; both run on one event or on a batch on any device.
:class:`Pipeline` is an ``nn.Sequential`` that runs an augmentation and the spectrum after it in one pass on
the CPU (same results); ``load_pipeline`` and ``seiswork.train.default_pipelines`` return it.
``FFTTransform`` and ``ToTensor`` are deterministic and ignore ``train()``/``eval()``.

JSON format (``save_pipeline``; ``pipeline_to_dict`` gives the ``"pipeline"`` part)::

    {"format": "seiswork.pipeline", "version": 1,
     "pipeline": {"type": "Sequential", "modules": [
        {"type": "Compose", "seed": 0, "transforms": [
            {"type": "RandomApply", "p": 0.5, "transform": {"type": "TimeShift", "max_shift": 0.1}}, ...]},
        {"type": "FFTTransform", "fft_size": 512, "mode": "welch", "log": false, "window": "hann"},
        {"type": "ToTensor"}]}}

Every module is ``{"type": class name, **constructor settings}``; ``seed`` is written only for modules that own
their random stream (an outer ``Compose``/``RandomApply`` or an augmentation used alone). The saved seed is the
constructor/``reseed`` seed, not the generator's current position: a loaded pipeline starts its stream afresh.
"""

from __future__ import annotations

import json
import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.modules import module as _torch_module

from seiswork import functional as F
from seiswork import kernels
from seiswork.augment import AddNoise, AmplitudeScale, Augmentation, Compose, RandomApply, TimeShift, TimeStretch
from seiswork.augment import _program
from seiswork.paths import atomic_write

__all__ = [
    "Pipeline",
    "FFTTransform",
    "ToTensor",
    "seed_pipeline",
    "pipeline_to_dict",
    "pipeline_from_dict",
    "save_pipeline",
    "load_pipeline",
    "FORMAT",
    "VERSION",
]

FORMAT = "seiswork.pipeline"
VERSION = 1


class FFTTransform(nn.Module):
    """One-sided magnitude spectrum per channel: ``(time, channel) -> (fft_size // 2 + 1, channel)``.

    Also ``(batch, time, channel) -> (batch, fft_size // 2 + 1, channel)``; bins run from 0 Hz to Nyquist
    (bin ``k`` = ``k * sampling_rate / fft_size`` Hz). ``mode="welch"`` (default) averages Hann-windowed segments
    of ``fft_size`` samples with 50% overlap over the whole event; ``mode="first"`` uses only the first
    ``fft_size`` samples. Normalised so white noise of unit variance reads about 1 in every bin; ``log=True``
    returns ``log1p`` of the magnitude. Details: :func:`seiswork.functional.spectrum`. numpy in -> numpy out.
    """

    def __init__(self, fft_size: int = 512, mode: str = "welch", log: bool = False, window: str = "hann") -> None:
        super().__init__()
        if isinstance(fft_size, bool) or not isinstance(fft_size, numbers.Integral) or fft_size < 2 or fft_size % 2:
            raise ValueError(f"FFTTransform: fft_size must be a positive even integer, got {fft_size!r}")
        if mode not in F.SPECTRUM_MODES:
            raise ValueError(f"FFTTransform: mode must be one of {F.SPECTRUM_MODES}, got {mode!r}")
        if not isinstance(log, bool):
            raise TypeError(f"FFTTransform: log must be True or False, got {log!r}")
        if window not in F.WINDOWS:
            raise ValueError(f"FFTTransform: window must be one of {F.WINDOWS}, got {window!r}")
        self.fft_size, self.mode, self.log, self.window = int(fft_size), mode, log, window

    @property
    def n_bins(self) -> int:
        return self.fft_size // 2 + 1

    def get_config(self) -> dict:
        return {"fft_size": self.fft_size, "mode": self.mode, "log": self.log, "window": self.window}

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())

    def check_length(self, x: Any) -> None:
        """Raise a ValueError naming the fix when the events of ``x`` are shorter than ``fft_size``."""
        length = x.shape[-2] if hasattr(x, "shape") and len(x.shape) >= 2 else None
        if length is not None and length < self.fft_size:
            raise ValueError(
                f"FFTTransform(fft_size={self.fft_size}): events have {length} samples (input shape "
                f"{tuple(x.shape)}), fewer than fft_size; use FFTTransform(fft_size=<= {length}, even) or bring "
                f"events to >= {self.fft_size} samples (e.g. a fixed TRIMMING target length)"
            )

    def forward(self, x: Any) -> Any:
        self.check_length(x)
        return F.spectrum(x, self.fft_size, self.mode, self.log, self.window)


class Pipeline(nn.Sequential):
    """``nn.Sequential`` for transforms: same modules, same calls, same results, faster on the CPU.

    Where an augmentation (``Compose``, ``RandomApply``, ...) is directly followed by :class:`FFTTransform`, a
    CPU batch ``(B, time, channel)`` float32 tensor goes through both in one pass per chunk of events
    (:func:`seiswork.kernels.spectrum` with the augmentation's draw): each augmented event is cut into spectrum
    frames while it is still in cache, and the augmented batch is never written out. The draw is the one the
    augmentation itself makes (``last_params`` is kept), and the output equals ``fft(aug(x))`` exactly
    (tests/test_transforms.py). Measured at batch 256 on 2 cores (seed augmentations + Welch spectrum,
    ``benchmarks/bench_augment.py --wall --threads 2 --sequential``): 114-130k events/s, against 103-113k for
    the same modules in a plain ``nn.Sequential``. Anything else (one event, numpy,
    CUDA, eval mode, a user's own augmentation or ``forward``, forward hooks) runs module by module, as
    ``nn.Sequential`` does.
    ``default_pipelines`` and ``load_pipeline`` return this class.
    """

    def forward(self, x: Any) -> Any:
        modules = list(self)
        i = 0
        while i < len(modules):
            if i + 1 < len(modules) and isinstance(modules[i], Augmentation) and type(modules[i + 1]) is FFTTransform:
                y = _augmented_spectrum(modules[i], modules[i + 1], x)
                if y is not None:
                    x, i = y, i + 2
                    continue
            x, i = modules[i](x), i + 1
        return x


def _augmented_spectrum(aug: Augmentation, fft: FFTTransform, x: Any) -> torch.Tensor | None:
    """``fft(aug(x))`` for a CPU float32 batch in training mode, fused when the draw has a kernel program; None
    (nothing drawn) for anything else, which then runs module by module: other inputs, a subclass with its own
    ``forward``, or modules with forward hooks (a fused pass would skip them)."""
    if not (isinstance(x, torch.Tensor) and x.dim() == 3 and x.dtype == torch.float32 and x.device.type == "cpu"
            and aug.training and kernels.available() and type(aug).forward is Augmentation.forward
            and not _hooked(aug) and not _hooked(fft)):
        return None
    F.as_batch(x, type(aug).__name__)  # the same input checks as the augmentation's own forward
    b, t, c = x.shape
    params = aug.draw(b, t, x.device, channels=c)  # drawn before the length check, as module by module
    fft.check_length(x)
    program = _program(aug, params, b, c) if params else None
    if params and program is None:  # no kernel for some module: apply this same draw module by module
        return fft(aug.apply(x, params))
    if program is not None and not program[0]:
        program = None  # no event drew any step: the spectrum of x
    return F._kernel_spectrum(x, fft.fft_size, fft.mode, fft.log, fft.window, program)


def _hooked(module: nn.Module) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks or _torch_module._global_forward_hooks
                or _torch_module._global_forward_pre_hooks)


class ToTensor(nn.Module):
    """Any event/batch (numpy, array-like, tensor) -> float32 ``torch.Tensor`` (same shape, same device)."""

    def get_config(self) -> dict:
        return {}

    def forward(self, x: Any) -> torch.Tensor:
        if isinstance(x, torch.Tensor):
            if x.is_complex():
                raise TypeError(f"ToTensor: expected real values, got dtype {x.dtype}")
            return x if x.dtype == torch.float32 else x.to(torch.float32)
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"ToTensor: expected real numbers, got dtype {arr.dtype}")
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if not arr.flags.writeable:
            arr = arr.copy()
        return torch.from_numpy(arr)


# ---------------------------------------------------------------------------------------------- seeding
def _derived_seed(seed: int, k: int) -> int:
    return int(np.random.SeedSequence([seed, k]).generate_state(1, np.uint64)[0])


def _user_streams(module: nn.Module) -> list[nn.Module]:
    """A user's own random modules: the outermost non-seiswork modules with a ``reseed(seed)`` method
    (their children are theirs to reseed)."""
    if isinstance(module, Augmentation):
        return []
    if callable(getattr(module, "reseed", None)):
        return [module]
    return [m for child in module.children() for m in _user_streams(child)]


def seed_pipeline(module: Any, seed: int) -> None:
    """Reseed every random stream inside ``module`` (an augmentation, Compose, nn.Sequential, ...).

    The streams are the modules that own their generator, in ``module.modules()`` order: the first gets
    ``seed`` itself (so for the usual single outer ``Compose`` this equals ``compose.reseed(seed)``), the k-th
    a seed derived from ``(seed, k)``, so sibling modules never share a stream. A user's own module with a
    ``reseed(seed)`` method is a stream too (after the seiswork ones). Anything that is not an
    ``nn.Module`` (``None``, a plain function) is left alone. Use a different ``seed`` per DataLoader worker.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed_pipeline: seed must be an integer in [0, 2**64), got {seed!r}")
    if not isinstance(module, nn.Module):
        return
    owners = [m for m in module.modules() if isinstance(m, Augmentation) and m.owns_generator]
    owners += _user_streams(module)
    for k, m in enumerate(owners):
        m.reseed(int(seed) if k == 0 else _derived_seed(int(seed), k))


# ---------------------------------------------------------------------------------------------- JSON
_LEAVES = {cls.__name__: cls for cls in (TimeShift, AddNoise, AmplitudeScale, TimeStretch, FFTTransform, ToTensor)}
_TYPES = sorted(list(_LEAVES) + ["RandomApply", "Compose", "Sequential", "Identity"])


def pipeline_to_dict(module: nn.Module) -> dict:
    """A JSON-ready dict describing ``module`` (see the module docstring for the format)."""
    if isinstance(module, nn.Sequential):
        return {"type": "Sequential", "modules": [pipeline_to_dict(m) for m in module]}
    if isinstance(module, nn.Identity):
        return {"type": "Identity"}
    if type(module).__name__ not in _LEAVES and not isinstance(module, (RandomApply, Compose)):
        raise TypeError(
            f"pipeline_to_dict: cannot serialise {type(module).__name__}; only nn.Sequential, nn.Identity and the "
            f"seiswork modules {_TYPES} are supported"
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
        if kind in _LEAVES:
            return _LEAVES[kind](**kwargs)
    except KeyError as e:
        raise ValueError(f"{_where}: {kind} is missing the key {e}") from e
    except TypeError as e:
        if "unexpected keyword" in str(e) or "positional argument" in str(e):
            raise ValueError(f"{_where}: bad settings for {kind}: {e}") from e
        raise
    raise ValueError(f"{_where}: unknown module type {kind!r}; known types: {_TYPES}")


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
