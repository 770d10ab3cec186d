"""Per-epoch metrics, the history columns, and the loss's class weights."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["HISTORY_COLUMNS", "epoch_metrics", "compute_class_weights", "loss_weights", "model_classes"]

HISTORY_COLUMNS = [
    "epoch",
    "train_loss",
    "train_accuracy",
    "train_balanced_accuracy",
    "train_macro_f1",
    "val_loss",
    "val_accuracy",
    "val_balanced_accuracy",
    "val_macro_f1",
    "lr",
    "seconds",
]


def epoch_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """``accuracy``, ``balanced_accuracy`` and ``macro_f1`` of predicted against true labels (scikit-learn)."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    with warnings.catch_warnings():
        # per-epoch metrics on a small split: a class that is never predicted is expected early on
        warnings.simplefilter("ignore")
        return {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        }


def compute_class_weights(labels: Sequence[int] | np.ndarray, n_classes: int) -> np.ndarray:
    """``"balanced"`` class weights ``n_samples / (n_present_classes * count)``, as scikit-learn computes them.

    A class absent from ``labels`` gets weight 0 (it never contributes to the loss) with a warning.
    Returns float64 ``(n_classes,)``.
    """
    labels = np.asarray(labels).astype(np.int64, copy=False)
    if labels.size == 0:
        raise ValueError("cannot compute class weights from an empty label array")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must lie in [0, {n_classes}), got values from {labels.min()} to {labels.max()}")
    counts = np.bincount(labels, minlength=n_classes)
    present = counts > 0
    if not present.all():
        warnings.warn(f"classes {np.flatnonzero(~present).tolist()} have no training samples; their weight is 0")
    weights = np.zeros(n_classes)
    weights[present] = labels.size / (present.sum() * counts[present])
    return weights


def loss_weights(
    class_weights: bool | str | Sequence[float] | None, labels: np.ndarray, n_classes: int
) -> np.ndarray | None:
    """The loss's class weights float64 ``(n_classes,)`` from ``fit``'s ``class_weights`` (None: unweighted).

    True / ``"balanced"``: :func:`compute_class_weights` of the training ``labels``; False / None: unweighted;
    or one finite non-negative weight per class.
    """
    if isinstance(class_weights, str) and class_weights != "balanced":
        raise ValueError(
            f"class_weights must be True, 'balanced', False or one weight per class; got {class_weights!r}")
    if class_weights is True or isinstance(class_weights, str):
        return compute_class_weights(labels, n_classes)
    if class_weights is False or class_weights is None:
        return None
    weights = np.asarray(class_weights, dtype=np.float64)
    if weights.shape != (n_classes,) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(
            f"class_weights must be True, 'balanced', False or {n_classes} finite non-negative numbers; "
            f"got {class_weights!r}")
    return weights


def model_classes(model: Any) -> int | None:
    """The class count a model declares in its ``.config`` (None when it has none)."""
    config = getattr(model, "config", None)
    if isinstance(config, dict) and "classes" in config:
        return int(config["classes"])
    return None
