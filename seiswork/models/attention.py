"""``LSTMAttentionModel``: a stacked LSTM, self-attention over its outputs, pooling and an MLP head."""

from __future__ import annotations

import torch
from torch import nn

from seiswork.checks import check_int
from seiswork.models.common import MAX_STEPS, POOLINGS, SpectrumLSTM, check_choice, check_dropout, check_input

__all__ = ["LSTMAttentionModel"]


class LSTMAttentionModel(SpectrumLSTM):
    """Stacked LSTM, multi-head self-attention over its outputs (residual + LayerNorm), pooling, MLP head.

    Architecture (B batch, T seq_len, C channels, H hidden, K classes)::

        x                              (B, T, C)
        InputNorm(input_norm)          (B, T, C)
        [Linear(C -> H)]               (B, T, H)  with projection=True (inside the StackedLSTM)
        StackedLSTM(C | H -> H,        (B, T, H)  every step's output, not only the last
            layers)
        MultiheadAttention(H, heads)   (B, T, H)  each frequency step attends to all others
        LayerNorm(lstm + attention)    (B, T, H)  residual connection, then normalisation
        pool over T                    (B, H)     "attention": softmax(Linear(H -> 1)) weights;
                                                  "mean": plain average over steps
        [+ InputSummary(x)]            (B, 2H)    with summary=True: mean and peak of each input feature
        Linear(H | 2H -> H), GELU,     (B, H)
            Dropout
        Linear(H -> K)                 (B, K)     logits

    The attention pooling weights of the last forward pass are kept in ``.last_pool_weights``
    ``(B, T)`` (which frequency bins the model looked at) when ``pooling="attention"``.

    Args:
        channels, classes, hidden, layers, dropout, input_norm, max_steps, summary, projection: as for
            :class:`LSTMModel`.
        heads: attention heads; ``hidden`` must be divisible by ``heads``.
        pooling: ``"attention"`` (default) or ``"mean"``.
        attention_dropout: dropout on the attention weights ``(B, heads, T, T)``, in [0, 1). Default 0: with it,
            torch's fused attention kernel cannot run, and the weights are materialised and masked element by
            element: training steps are much slower for no better accuracy
            (``benchmarks/bench_train.py --attention-study``). ``dropout`` still acts between the LSTM layers and
            in the head. Checkpoints written before this argument existed applied ``dropout`` here too; ``load_model``
            and resuming rebuild them that way.
    """

    def __init__(
        self,
        channels: int = 3,
        classes: int = 2,
        hidden: int = 64,
        layers: int = 2,
        heads: int = 2,
        dropout: float = 0.3,
        input_norm: str = "batch",
        pooling: str = "attention",
        attention_dropout: float = 0.0,
        max_steps: int = MAX_STEPS,
        summary: bool = False,
        projection: bool = False,
    ) -> None:
        hidden = check_int("hidden", hidden)
        heads = check_int("heads", heads)
        if hidden % heads:
            raise ValueError(
                f"hidden must be divisible by heads, got hidden={hidden}, heads={heads}; "
                f"choose e.g. heads in {[h for h in range(1, min(hidden, 8) + 1) if hidden % h == 0]}"
            )
        own = {"heads": heads, "pooling": check_choice("pooling", pooling, POOLINGS),
               "attention_dropout": check_dropout(attention_dropout, "attention_dropout")}
        super().__init__(channels, classes, hidden, layers, dropout, input_norm, own,
                         after=("pooling", "attention_dropout"), max_steps=max_steps, summary=summary,
                         projection=projection)
        self.pooling = pooling
        self.attention = nn.MultiheadAttention(hidden, heads, dropout=attention_dropout, batch_first=True)
        self.norm = nn.LayerNorm(hidden)
        self.pool_score = nn.Linear(hidden, 1) if pooling == "attention" else None
        self.head = nn.Sequential(
            nn.Linear(self.features_size, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, classes)
        )
        self.last_pool_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, seq_len, channels)`` -> logits ``(batch, classes)``."""
        check_input(x, self.channels)
        x = self.input_norm(x)
        h, _ = self.lstm(x)  # (B, T, H)
        a, _ = self.attention(h, h, h, need_weights=False)
        h = self.norm(h + a)
        if self.pool_score is not None:
            w = torch.softmax(self.pool_score(h).squeeze(-1), dim=1)  # (B, T)
            self.last_pool_weights = w.detach()
            pooled = torch.bmm(w.unsqueeze(1), h).squeeze(1)  # (B, H)
        else:
            pooled = h.mean(dim=1)
        return self.head(self.features(pooled, x))

