"""``EnsembleModel``: several models of one kind, trained from their own seeds, averaging their probabilities.

On a few hundred events one network's score moves by points with its seed alone (the initial weights, the
augmentation drawn, the epoch early stopping keeps); the average of a few such networks ("deep ensembles",
Lakshminarayanan et al. 2017) moves less and scores higher: README, "The number to beat".
:func:`seiswork.training.fit_members` trains the members and assembles them.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from seiswork.checks import check_int
from seiswork.models.common import ConfigMixin

__all__ = ["EnsembleModel"]


class EnsembleModel(ConfigMixin, nn.Module):
    """``members`` models ``MODELS[model](**config)``; ``(batch, seq_len, channels)`` -> ``(batch, classes)``, the
    log of the members' mean class probability.

    The output takes the place of a single model's logits: its softmax is the mean probability, its argmax
    the class the ensemble votes for, and ``evaluate``, ``classify`` and bundles use it unchanged.

    Args:
        model: the members' registered name (``seiswork.models.MODELS``), e.g. ``"lstm"``.
        members: how many (>= 1).
        **config: the members' constructor arguments (``channels``, ``classes``, ...).
    """

    def __init__(self, model: str = "lstm", members: int = 3, **config: Any) -> None:
        super().__init__()
        from seiswork.models.registry import MODELS  # the registry knows this class too

        if model not in MODELS:
            raise ValueError(f"EnsembleModel: unknown model {model!r}; choose one of {', '.join(sorted(MODELS))}")
        members = check_int("members", members)
        self.members = nn.ModuleList(MODELS[model](**config) for _ in range(members))
        first = self.members[0]
        self.config = {"model": model, "members": members, **first.config}
        self.channels, self.classes = first.channels, first.classes

    @classmethod
    def of(cls, models: list[nn.Module]) -> "EnsembleModel":
        """The ensemble of trained models of one registered class and configuration (their weights copied)."""
        from seiswork.models.registry import model_name

        if not models:
            raise ValueError("EnsembleModel.of: needs at least one model")
        name = model_name(models[0])
        configs = {repr(getattr(m, "config", None)) for m in models}
        if len(configs) != 1 or any(type(m) is not type(models[0]) for m in models):
            raise ValueError("EnsembleModel.of: the members must be registered seiswork models of one class and "
                             f"configuration, got {[type(m).__name__ for m in models]}")
        ensemble = cls(name, len(models), **models[0].config)
        for member, model in zip(ensemble.members, models):
            member.load_state_dict(model.state_dict())
        return ensemble.to(next(models[0].parameters()).device)

    def wants_cores_for_shards(self, batch_size: int, grad: bool) -> bool:
        return self.members[0].wants_cores_for_shards(batch_size, grad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, seq_len, channels)`` -> log mean probability ``(batch, classes)``."""
        log_p = torch.stack([torch.log_softmax(m(x).float(), dim=-1) for m in self.members])
        return torch.logsumexp(log_p, dim=0) - math.log(len(self.members))
