"""The test-set report of :func:`seiswork.evaluate` and its JSON form (``metrics.json``)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seiswork.paths import atomic_write
from seiswork.training.metrics import epoch_metrics

__all__ = ["classification_report", "report_table", "report_to_json", "save_metrics", "HEADLINE_METRICS"]

#: the metrics that tables and summaries show, in order
HEADLINE_METRICS = ("balanced_accuracy", "macro_f1", "accuracy", "roc_auc")


def classification_report(probabilities: np.ndarray, labels: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """The report dict of :func:`seiswork.evaluate` from class probabilities ``(n, K)`` and labels ``(n,)``
    (scikit-learn); the same for a network and for the baselines (``predict_proba``)."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

    n_classes = probabilities.shape[1]
    predictions = probabilities.argmax(1).astype(np.int64)
    ids = list(range(n_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predictions, labels=ids, zero_division=0)
    per_class = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)},
        index=pd.Index(classes, name="class"))
    present = np.unique(labels)
    roc_auc = float("nan")
    if len(present) == n_classes:
        if n_classes == 2:
            roc_auc = float(roc_auc_score(labels, probabilities[:, 1]))
        else:
            roc_auc = float(roc_auc_score(labels, probabilities, multi_class="ovr", average="macro", labels=ids))
    return {
        **epoch_metrics(labels, predictions),
        "roc_auc": roc_auc,
        "confusion_matrix": confusion_matrix(labels, predictions, labels=ids).astype(np.int64),
        "per_class": per_class,
        "predictions": predictions,
        "probabilities": probabilities,
        "labels": labels.astype(np.int64),
        "classes": classes,
        "n_samples": int(len(labels)),
    }


def report_table(reports: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per method (network or baseline), the :data:`HEADLINE_METRICS` as columns."""
    rows = {name: {k: report.get(k) for k in HEADLINE_METRICS} for name, report in reports.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method").astype(float)


def report_to_json(report: dict[str, Any], include_predictions: bool = False) -> dict[str, Any]:
    """A JSON-serialisable copy of an :func:`evaluate` report (NaN -> None; arrays -> lists).

    ``predictions``/``probabilities``/``labels`` are left out unless ``include_predictions``.
    """
    def plain(value: Any) -> Any:
        if isinstance(value, pd.DataFrame):
            # per cell, not iterrows (a row Series turns the int support column into floats)
            return {str(i): {str(c): plain(value.at[i, c]) for c in value.columns} for i in value.index}
        if isinstance(value, np.ndarray):
            return [plain(v) for v in value.tolist()]
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (np.integer,)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return None if not math.isfinite(float(value)) else float(value)
        return value

    skip = () if include_predictions else ("predictions", "probabilities", "labels")
    return {k: plain(v) for k, v in report.items() if k not in skip}


def save_metrics(report: dict[str, Any], path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write ``report_to_json(report)`` (plus ``extra`` entries) to ``path`` atomically as indented JSON."""
    path = Path(path)
    payload = report_to_json(report)
    if extra:
        payload.update(report_to_json(extra, include_predictions=True))
    with atomic_write(path, "w") as f:
        json.dump(payload, f, indent=2)
    return path
