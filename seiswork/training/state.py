"""The state of a training run between epochs: history, best epoch and score, patience, early stop.

Model-free, so early stopping and resuming can be tested without training anything: :meth:`RunState.update`
takes an epoch's history record and its validation score, :meth:`RunState.to_checkpoint` gives the entries a
checkpoint stores, :meth:`RunState.resume_from` reads them back.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunState"]


@dataclass
class RunState:
    """Where a run stands after ``epoch`` epochs; the score is validation macro F1 (higher is better).

    An epoch improves when its score beats ``best_score + min_delta``; after ``patience`` epochs in a row
    without improvement the run stops early (``patience=None``: never).
    """

    patience: int | None = None
    min_delta: float = 0.0
    epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = -math.inf
    bad_epochs: int = 0
    stopped_early: bool = False

    def running(self, epochs: int) -> bool:
        """Whether another epoch runs in a fit of ``epochs`` epochs."""
        return self.epoch < epochs and not self.stopped_early

    def update(self, record: dict[str, Any], score: float) -> bool:
        """Count one finished epoch with its history ``record`` and validation ``score``; True when it improved."""
        self.history.append(record)
        self.epoch += 1
        improved = score > self.best_score + self.min_delta
        if improved:
            self.best_epoch, self.best_score, self.bad_epochs = self.epoch, score, 0
        else:
            self.bad_epochs += 1
        if self.patience is not None and self.bad_epochs >= self.patience:
            self.stopped_early = True
        return improved

    def to_checkpoint(self) -> dict[str, Any]:
        """The checkpoint entries of this state (a copy: later epochs do not change it)."""
        return {
            "epoch": self.epoch,
            "history": copy.deepcopy(self.history),
            "best_epoch": self.best_epoch,
            "best_score": self.best_score,
            "bad_epochs": self.bad_epochs,
            "stopped_early": self.stopped_early,
        }

    def resume_from(self, ckpt: dict[str, Any]) -> None:
        """Continue from a checkpoint's entries; ``patience`` and ``min_delta`` stay this run's."""
        self.history = list(ckpt["history"])
        self.epoch, self.best_epoch, self.best_score = ckpt["epoch"], ckpt["best_epoch"], ckpt["best_score"]
        self.bad_epochs, self.stopped_early = ckpt["bad_epochs"], ckpt["stopped_early"]
