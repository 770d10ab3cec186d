"""What every seiswork model shares: argument checks, the input normalisation, ``.config``.

Input normalisation (``input_norm``). The models normalise their input themselves, so they do not depend on
the scale a particular spectrum transform produces (seiswork's ``FFTTransform`` reads about 1 per bin for
white noise of unit variance; other transforms, ``fft_size`` or ``log=True`` give other scales):

- ``"batch"`` (default): a per-channel ``BatchNorm1d`` over (batch, frequency): centres and scales each
  channel with running statistics that are saved in the checkpoint (for a spectrogram: each bin x channel
  feature over (batch, frames)).
- ``"log_batch"``: symmetric log compression ``sign(x) * log1p(|x|)``, then the per-channel batch norm.
- ``"log"``: the log compression alone.
- ``"none"``: the raw input. The choice for the log spectrogram (``SpectrogramTransform``), whose values are
  already log power relative to each event's mean (``seiswork.transforms.INPUT_NORM`` maps each
  representation to its norm): there a batch norm per feature (bin x channel) lowered cross-validated
  balanced accuracy on real recordings (``benchmarks/bench_quality.py``).

Input summary (``summary=True``): the mean and the peak of every input feature over the sequence, through
dropout, ``Linear(2C -> H)`` and a ReLU, join the recurrent features before the classifier
(:class:`InputSummary`). For a spectrogram these are each band's mean and peak log power over the window: the
band powers of the classical baseline, which the recurrent state alone loses on long windows where the event
fills a small part (a 40 Hz, 150-180 s, Z-only stand-in: 0.59 -> 0.81 cross-validated balanced accuracy, 3
averaged; README, "The number to beat"). ``seiswork.transforms.INPUT_SUMMARY`` turns it on for the spectrogram;
off (the default) the models are the seed's.

``benchmarks/bench_train.py --norm-study`` compares them: compressing the peaks throws away contrast the
classifier uses; the batch norm only rescales. A LayerNorm over the channel axis is not offered: with 3
channels it normalises across Z/N/E at each frequency and throws away the spectral shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from seiswork.checks import check_int
from seiswork.models.stacked import StackedLSTM

__all__ = ["INPUT_NORMS", "MAX_STEPS", "POOLINGS", "InputNorm", "InputSummary", "ConfigMixin", "SpectrumLSTM",
           "check_dropout", "check_choice", "check_input"]

INPUT_NORMS = ("batch", "log_batch", "log", "none")
# chrono initialisation range: the 257 frequency steps of the default spectrum (FFTTransform(512))
MAX_STEPS = 257
POOLINGS = ("attention", "mean")


def check_dropout(value: Any, name: str = "dropout") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float in [0, 1), got {value!r} ({type(value).__name__})")
    if not (0.0 <= float(value) < 1.0) or math.isnan(float(value)):
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_input(x: torch.Tensor, channels: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"model input must be a torch.Tensor (batch, seq_len, channels), got {type(x).__name__}")
    if x.dim() != 3 or x.shape[-1] != channels:
        raise ValueError(
            f"model input must have shape (batch, seq_len, channels={channels}), got {tuple(x.shape)}; "
            "a single event needs a batch axis: x.unsqueeze(0)"
        )


class InputNorm(nn.Module):
    """Normalise ``(batch, seq_len, channels)`` spectra before the LSTM; see the module docstring."""

    def __init__(self, channels: int, mode: str = "batch") -> None:
        super().__init__()
        self.mode = check_choice("input_norm", mode, INPUT_NORMS)
        self.log = mode in ("log_batch", "log")
        self.norm = nn.BatchNorm1d(channels) if mode in ("log_batch", "batch") else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.log:
            # symmetric, so an input that is already log-scaled (negative values) stays finite
            x = torch.sign(x) * torch.log1p(x.abs())
        if self.norm is not None:
            # BatchNorm1d wants (batch, channels, length)
            x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        return x

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"


class InputSummary(nn.Module):
    """``(batch, seq_len, channels) -> (batch, hidden)``: ``ReLU(Linear(2 * channels -> hidden))`` of the mean and
    the maximum of each channel over ``seq_len``, with ``dropout`` on those ``2 * channels`` values while training
    (hundreds of them for a spectrogram: without it the summary over-fits small sets); see the module
    docstring."""

    def __init__(self, channels: int, hidden: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.project = nn.Linear(2 * channels, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.project(self.dropout(torch.cat([x.mean(dim=1), x.amax(dim=1)], dim=-1))))


class ConfigMixin:
    """``.config`` holds the constructor arguments; ``repr`` of a model shows them first.

    :meth:`wants_cores_for_shards` is how a model declares its CPU thread needs to the training runtime
    (:func:`seiswork.training.runtime.cpu_threads`): True when nearly all of a step's CPU work on a batch of
    ``batch_size`` runs in :class:`~seiswork.models.stacked.StackedLSTM` shards, so the cores go to the shard
    workers (:func:`seiswork.threads.cores_to_workers`). The default, False, keeps torch's threads.
    """

    config: dict[str, Any]

    def wants_cores_for_shards(self, batch_size: int, grad: bool) -> bool:
        return False

    def extra_repr(self) -> str:  # nn.Module prints this on the first line
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items())


class SpectrumLSTM(ConfigMixin, nn.Module):
    """What the models share: the checked arguments ``channels``, ``classes``, ``hidden``, ``layers``,
    ``dropout``, ``input_norm``, ``summary``, ``projection``, ``max_steps``, the input normalisation
    (``.input_norm``), the recurrent stack (``.lstm``, chrono-initialised for sequences of up to ``max_steps``
    steps, with its input projection when ``projection``) and the input summary (``.summary``, an
    :class:`InputSummary` or None; :meth:`features` joins it). ``.config`` holds ``summary`` and ``projection``
    only when True and ``max_steps`` only when it is not the default ``MAX_STEPS``, so the configs of models and
    checkpoints written before these arguments existed read the same.

    ``extra`` holds a model's own, already checked, arguments; ``.config`` lists them after ``layers`` and
    ``after`` (names of ``extra``) after ``input_norm``.
    """

    def __init__(self, channels: int, classes: int, hidden: int, layers: int, dropout: float, input_norm: str,
                 extra: dict[str, Any] | None = None, after: tuple[str, ...] = (), max_steps: int = MAX_STEPS,
                 summary: bool = False, projection: bool = False) -> None:
        super().__init__()
        extra = extra or {}
        shared = {
            "channels": check_int("channels", channels),
            "classes": check_int("classes", classes, minimum=2),
            "hidden": check_int("hidden", hidden),
            "layers": check_int("layers", layers),
        }
        shared.update({k: v for k, v in extra.items() if k not in after})
        shared["dropout"] = check_dropout(dropout)
        shared["input_norm"] = check_choice("input_norm", input_norm, INPUT_NORMS)
        shared.update({k: extra[k] for k in after})
        if not isinstance(summary, (bool, np.bool_)):
            raise TypeError(f"summary must be True or False, got {summary!r} ({type(summary).__name__})")
        if summary:
            shared["summary"] = True
        if not isinstance(projection, (bool, np.bool_)):
            raise TypeError(f"projection must be True or False, got {projection!r} ({type(projection).__name__})")
        if projection:
            shared["projection"] = True
        max_steps = check_int("max_steps", max_steps, minimum=3)
        if max_steps != MAX_STEPS:
            # only when set: configs and checkpoints written before the argument existed stay equal to new ones
            shared["max_steps"] = max_steps
        self.config = shared
        self.channels, self.classes = channels, classes
        self.input_norm = InputNorm(channels, input_norm)
        self.lstm = StackedLSTM(channels, hidden, layers, dropout, max_steps, projection=bool(projection))
        self.summary = InputSummary(channels, hidden, dropout) if summary else None
        # what the head reads: the recurrent features, then the summary's
        self.features_size = hidden * (2 if summary else 1)

    def features(self, recurrent: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``recurrent`` ``(B, hidden)`` joined with the summary of the (normalised) input ``x`` ``(B, T, C)``:
        ``(B, features_size)``."""
        if self.summary is None:
            return recurrent
        return torch.cat([recurrent, self.summary(x)], dim=-1)
