"""LSTM classifiers that read a spectrum along frequency or a spectrogram along time, and a small registry.

Both models take ``(batch, seq_len, channels)`` and return class logits ``(batch, classes)`` (apply
``softmax`` for probabilities). For the default pipeline (``representation="spectrogram"``) that is the log
spectrogram, ``seq_len`` time frames of ``channels = SpectrogramTransform.n_features(3)`` features (``bins * 3``,
twice that with its ``background``), read with ``input_norm="none"`` (``seiswork.transforms.INPUT_NORM``); for
the seed's ``representation="spectrum"`` the one-sided magnitude spectrum of each channel, ``seq_len = fft_size
// 2 + 1 = 257`` frequency bins read from 0 Hz to Nyquist, ``channels = 3``.

Every model keeps its constructor arguments in ``.config`` (plain Python values), so a
checkpoint holding ``(class name, config, state_dict)`` rebuilds it (see ``seiswork.load_model``).

Modules:

- :mod:`~seiswork.models.common`: argument checks, the input normalisation (``INPUT_NORMS``), ``ConfigMixin``.
- :mod:`~seiswork.models.stacked`: :class:`StackedLSTM` (chrono initialisation, locked dropout) and its CPU
  shards (``shard_sizes``, ``MIN_SHARD``, ``MAX_TRAIN_SHARD``, ``MAX_EVAL_SHARD``).
- :mod:`~seiswork.models.lstm`: :class:`LSTMModel`; :mod:`~seiswork.models.attention`: :class:`LSTMAttentionModel`.
- :mod:`~seiswork.models.registry`: ``MODELS``, :func:`build_model`, :func:`model_name`, :func:`model_summary`.
- :mod:`~seiswork.models.ensemble`: :class:`EnsembleModel`, the averaged probabilities of several trained models.
"""

from __future__ import annotations

from seiswork.models.attention import LSTMAttentionModel
from seiswork.models.common import INPUT_NORMS, POOLINGS, InputNorm, InputSummary
from seiswork.models.ensemble import EnsembleModel
from seiswork.models.lstm import LSTMModel
from seiswork.models.registry import MODELS, build_model, model_name, model_summary
from seiswork.models.stacked import (
    MAX_EVAL_SHARD,
    MAX_TRAIN_SHARD,
    MIN_SHARD,
    StackedLSTM,
    chrono_init_,
    shard_sizes,
    shard_sizes_of,
)

__all__ = [
    "INPUT_NORMS",
    "POOLINGS",
    "InputNorm",
    "InputSummary",
    "LSTMModel",
    "LSTMAttentionModel",
    "EnsembleModel",
    "MODELS",
    "build_model",
    "model_name",
    "model_summary",
    "chrono_init_",
    "StackedLSTM",
    "MIN_SHARD",
    "MAX_TRAIN_SHARD",
    "MAX_EVAL_SHARD",
    "shard_sizes",
    "shard_sizes_of",
]
