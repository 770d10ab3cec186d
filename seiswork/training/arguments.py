"""``fit``'s arguments checked once (:class:`FitSettings`), and the checks the engine shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from seiswork.checks import check_int, check_positive

__all__ = ["FitSettings"]


@dataclass(frozen=True)
class FitSettings:
    """``fit``'s numeric and scheduling arguments, checked (see :func:`seiswork.training.loop.fit`)."""

    epochs: int
    batch_size: int
    lr: float
    seed: int
    patience: int | None
    min_delta: float
    weight_decay: float
    grad_clip: float | None
    scheduler: str | None
    amp: bool
    num_workers: int
    eval_batch_size: int
    ema: float | None = None

    @classmethod
    def check(cls, model: Any, train_transform: Any, eval_transform: Any, resume: bool, checkpoint_dir: Any,
              **args: Any) -> FitSettings:
        """Check ``fit``'s arguments in the order ``fit`` documents them; raise on the first bad one."""
        epochs = check_int("epochs", args["epochs"])
        batch_size = check_int("batch_size", args["batch_size"])
        lr = check_positive("lr", args["lr"])
        seed = check_int("seed", args["seed"], minimum=0)
        weight_decay = check_positive("weight_decay", args["weight_decay"], allow_zero=True)
        min_delta = check_positive("min_delta", args["min_delta"], allow_zero=True)
        num_workers = check_int("num_workers", args["num_workers"], minimum=0)
        patience, grad_clip, scheduler = args["patience"], args["grad_clip"], args["scheduler"]
        if patience is not None:
            patience = check_int("patience", patience)
        if grad_clip is not None:
            grad_clip = check_positive("grad_clip", grad_clip)
        if scheduler not in (None, "plateau", "cosine"):
            raise ValueError(f"scheduler must be None, 'plateau' or 'cosine', got {scheduler!r}")
        eval_batch_size = args["eval_batch_size"]
        eval_batch_size = (max(batch_size, 256) if eval_batch_size is None
                           else check_int("eval_batch_size", eval_batch_size))
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        for name, t in (("train_transform", train_transform), ("eval_transform", eval_transform)):
            if t is not None and not callable(t):
                raise TypeError(f"{name} must be callable (an nn.Module pipeline) or None, got {type(t).__name__}")
        ema = args.get("ema")
        if ema is not None:
            if isinstance(ema, bool) or not isinstance(ema, (int, float)) or not 0.0 < float(ema) <= 1.0:
                raise ValueError(f"ema must be a number in (0, 1] (the newest epoch's weight) or None, got {ema!r}")
            ema = None if float(ema) == 1.0 else float(ema)  # 1: the newest weights alone, i.e. no average
        if resume and checkpoint_dir is None:
            raise ValueError("resume=True needs checkpoint_dir (the folder holding last.pt)")
        return cls(epochs, batch_size, lr, seed, patience, min_delta, weight_decay, grad_clip, scheduler,
                   bool(args["amp"]), num_workers, eval_batch_size, ema)

    def checkpoint_args(self, class_weights: np.ndarray | None) -> dict[str, Any]:
        """The arguments a checkpoint records (a resume with other values warns)."""
        return {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "seed": self.seed,
                "patience": self.patience, "min_delta": self.min_delta, "weight_decay": self.weight_decay,
                "grad_clip": self.grad_clip, "scheduler": self.scheduler, "amp": self.amp, "ema": self.ema,
                "class_weights": None if class_weights is None else class_weights.tolist()}
