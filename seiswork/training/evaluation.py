"""Predictions of a trained model on a dataset, and its test-set report.

While a process group is up (:mod:`seiswork.training.distributed`) every process predicts one contiguous slice
of the data and the slices are gathered, in rank order, on every process: each gets the logits of the whole
data set in its order. Every process of the group must then make the call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from seiswork.training import distributed
from seiswork.checks import check_int
from seiswork.training.batches import Batches, apply_transform, dataset_classes, set_mode, transform_to_device
from seiswork.training.report import classification_report
from seiswork.training.runtime import cpu_threads, get_device

__all__ = ["predict_batches", "predict", "evaluate"]


def predict_batches(
    model: nn.Module, batches: Batches, transform: Any, device: torch.device, amp: bool = False,
    amp_dtype: torch.dtype = torch.bfloat16,
) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``(n, classes)`` float32 and labels ``(n,)`` of ``batches`` in order, model and transform in eval
    mode (their modes are restored afterwards). Batches shared out over processes (``batches.world > 1``) are
    gathered from all of them: ``n`` is the whole data set."""
    was_training = model.training
    previous = set_mode(transform, False)
    model.eval()
    logits, labels = [], []
    try:
        with torch.no_grad(), cpu_threads(model, device, batches.batch_size, grad=False):
            for xb, yb in batches.epoch(None):
                xb = apply_transform(transform, xb, device)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                    out = model(xb)
                logits.append(out.float())
                labels.append(yb)
    finally:
        model.train(was_training)
        if previous is not None:
            set_mode(transform, previous)
    logits_np, labels_np = torch.cat(logits).cpu().numpy(), torch.cat(labels).cpu().numpy()
    if batches.world > 1:
        sizes = batches.sizes()
        logits_np, labels_np = distributed.gather_rows(logits_np, sizes), distributed.gather_rows(labels_np, sizes)
    return logits_np, labels_np


def predict(
    model: nn.Module, data: Any, transform: Any = None, device: str | torch.device | None = None,
    batch_size: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``(n, classes)`` float32 and labels ``(n,)`` int64 of a dataset, in dataset order (model in eval mode).

    Inside a process group every process predicts a slice and gets the whole (see the module docstring)."""
    device = distributed.local_device(get_device(device))
    model.to(device)
    transform_to_device(transform, device)
    batches = Batches(data, check_int("batch_size", batch_size), device, 0, "test", rank=distributed.rank(),
                      world=distributed.world_size())
    return predict_batches(model, batches, transform, device)


def evaluate(
    model: nn.Module,
    test: Any,
    transform: Any = None,
    device: str | torch.device | None = None,
    batch_size: int = 256,
    classes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Test-set report computed with scikit-learn.

    ``transform`` is the eval pipeline (spectrum only) applied to batches of ``test`` when its items are raw
    waveforms. Returns a dict: ``accuracy``, ``balanced_accuracy``, ``macro_f1`` (floats), ``roc_auc``
    (two classes: AUC of the class-1 probability; more classes: one-vs-rest macro AUC; NaN when a class is
    absent from ``test``), ``confusion_matrix`` (int64 ``(K, K)``, rows true class, columns predicted),
    ``per_class`` (DataFrame precision/recall/f1/support indexed by class name), ``predictions`` ``(n,)``,
    ``probabilities`` ``(n, K)`` (softmax), ``labels`` ``(n,)``, ``classes`` (names), ``n_samples``.
    See :func:`report_to_json` for a JSON-friendly version.
    """
    logits, labels = predict(model, test, transform, device, batch_size)
    n_classes = logits.shape[1]
    if classes is None:
        classes = dataset_classes(test)
    classes = [str(c) for c in classes] if classes is not None else [str(i) for i in range(n_classes)]
    if len(classes) != n_classes:
        raise ValueError(f"{len(classes)} class names {classes} for a model with {n_classes} outputs")
    probabilities = torch.softmax(torch.from_numpy(logits).double(), dim=1).numpy()
    return classification_report(probabilities, labels, classes)
