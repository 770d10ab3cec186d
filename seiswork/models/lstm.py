"""``LSTMModel``: a stacked LSTM over the frequency axis that classifies from its final state."""

from __future__ import annotations

import torch
from torch import nn

from seiswork.models.common import MAX_STEPS, SpectrumLSTM, check_input

__all__ = ["LSTMModel"]


class LSTMModel(SpectrumLSTM):
    """Stacked LSTM over its sequence axis (frequency for a spectrum, time frames for a spectrogram); classifies
    from the last layer's final hidden state.

    Architecture (B batch, T seq_len, C channels, H hidden, K classes)::

        x                         (B, T, C)
        InputNorm(input_norm)     (B, T, C)
        [Linear(C -> H)]          (B, T, H) with projection=True (inside the StackedLSTM)
        StackedLSTM(C | H -> H,   (B, T, H) outputs; h_n (layers, B, H)
             layers, locked       (gate biases chrono-initialised: see StackedLSTM)
             dropout between)
        h_n[-1]                   (B, H)     final hidden state of the last layer
        [+ InputSummary(x)]       (B, 2H)    with summary=True: mean and peak of each input feature over T
        Dropout(dropout)          (B, H | 2H)
        Linear(H | 2H -> K)       (B, K)     logits

    Args:
        channels: input features per step: 3 for the spectrum of Z, N, E (``FFTTransform``, read along
            frequency); for a spectrogram (``SpectrogramTransform``, read along time) its ``n_features(3)``:
            ``bins * 3``, twice that with ``background``.
        classes: number of classes (>= 2).
        hidden: LSTM hidden size.
        layers: stacked LSTM layers.
        dropout: in [0, 1); between LSTM layers (locked over time, when ``layers > 1``) and before the classifier.
        input_norm: one of ``INPUT_NORMS``; see :mod:`seiswork.models.common`.
        summary: join the mean and peak of each input feature over the sequence to the final state
            (:class:`~seiswork.models.common.InputSummary`); on for the spectrogram
            (``seiswork.transforms.INPUT_SUMMARY``), off (the seed's model) by default.
        projection: map each step's ``channels`` features to ``hidden`` with a linear layer before the first
            LSTM layer (:class:`~seiswork.models.stacked.StackedLSTM`): for the hundreds of features of a
            spectrogram frame, a low-rank factor of that layer's input weights that makes its input product four
            times cheaper. Off by default, for the spectrogram too: on the real PhaseNet recordings it cost
            about a point of cross-validated balanced accuracy (README, "The number to beat").
        max_steps: the longest sequence the chrono initialisation plans for (:func:`chrono_init_`): the default
            suits the 257 bins of the default spectrum; pass the frame count for a spectrogram.
    """


    def __init__(
        self,
        channels: int = 3,
        classes: int = 2,
        hidden: int = 64,
        layers: int = 2,
        dropout: float = 0.3,
        input_norm: str = "batch",
        max_steps: int = MAX_STEPS,
        summary: bool = False,
        projection: bool = False,
    ) -> None:
        super().__init__(channels, classes, hidden, layers, dropout, input_norm, max_steps=max_steps,
                         summary=summary, projection=projection)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(self.features_size, classes)

    def wants_cores_for_shards(self, batch_size: int, grad: bool) -> bool:
        # outside the LSTM only a batch norm and small linear layers (the summary's, the classifier): a sharded step
        # is faster with the cores given to the shard workers than with torch's threads spinning beside them
        return self.lstm.sharded(batch_size, grad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, seq_len, channels)`` -> logits ``(batch, classes)``."""
        check_input(x, self.channels)
        x = self.input_norm(x)
        _, (h_n, _) = self.lstm(x)
        return self.classifier(self.dropout(self.features(h_n[-1], x)))

