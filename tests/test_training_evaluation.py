"""evaluate and its report: agreement with scikit-learn, missing classes, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from seiswork.training import evaluate, report_to_json, save_metrics
from tests.training_standins import ArrayDataset


pytestmark = pytest.mark.usefixtures("one_thread")


class FixedLogits(nn.Module):
    """Returns preset logits, one row per input in order (a stub model for exact metric checks)."""

    def __init__(self, logits):
        super().__init__()
        self.register_buffer("logits", torch.as_tensor(logits, dtype=torch.float32))
        self.pos = 0

    def forward(self, x):
        out = self.logits[self.pos:self.pos + len(x)]
        self.pos += len(x)
        return out


def test_evaluate_agrees_with_scikit_learn():
    from sklearn import metrics

    rng = np.random.default_rng(0)
    n = 50
    labels = rng.integers(0, 2, n)
    logits = rng.normal(size=(n, 2)) + np.eye(2)[labels] * 0.8
    ds = ArrayDataset(np.zeros((n, 4, 1), np.float32), labels, classes=("earthquake", "explosion"))
    report = evaluate(FixedLogits(logits), ds, device="cpu", batch_size=7)
    pred = logits.argmax(1)
    assert report["accuracy"] == pytest.approx(metrics.accuracy_score(labels, pred))
    assert report["balanced_accuracy"] == pytest.approx(metrics.balanced_accuracy_score(labels, pred))
    assert report["macro_f1"] == pytest.approx(metrics.f1_score(labels, pred, average="macro"))
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert report["roc_auc"] == pytest.approx(metrics.roc_auc_score(labels, prob[:, 1]))
    np.testing.assert_array_equal(report["confusion_matrix"], metrics.confusion_matrix(labels, pred))
    np.testing.assert_allclose(report["probabilities"], prob, rtol=1e-6)
    np.testing.assert_array_equal(report["predictions"], pred)
    np.testing.assert_array_equal(report["labels"], labels)
    per = report["per_class"]
    assert list(per.index) == ["earthquake", "explosion"] and list(per.columns) == ["precision", "recall", "f1", "support"]
    p, r, f, s = metrics.precision_recall_fscore_support(labels, pred)
    np.testing.assert_allclose(per["precision"], p)
    np.testing.assert_allclose(per["recall"], r)
    np.testing.assert_array_equal(per["support"], s)
    assert report["classes"] == ["earthquake", "explosion"] and report["n_samples"] == n

    blob = report_to_json(report)
    text = json.dumps(blob, allow_nan=False)
    support = json.loads(text)["per_class"]["earthquake"]["support"]
    assert "predictions" not in blob and support == s[0] and isinstance(support, int)
    assert len(report_to_json(report, include_predictions=True)["predictions"]) == n


def test_evaluate_three_classes_and_missing_class(tmp_path):
    logits = np.array([[3, 0, 0], [0, 3, 0], [0, 0, 3], [3, 0, 0]], np.float32)
    ds = ArrayDataset(np.zeros((4, 2, 1), np.float32), np.array([0, 1, 2, 1]), classes=("a", "b", "c"))
    report = evaluate(FixedLogits(logits), ds, device="cpu")
    assert report["accuracy"] == 0.75 and report["confusion_matrix"].shape == (3, 3)
    assert 0 <= report["roc_auc"] <= 1
    only_a = ArrayDataset(np.zeros((2, 2, 1), np.float32), np.array([0, 0]), classes=("a", "b", "c"))
    report = evaluate(FixedLogits(logits[:2]), only_a, device="cpu")
    assert np.isnan(report["roc_auc"]) and report["confusion_matrix"].shape == (3, 3)
    path = save_metrics(report, tmp_path / "metrics.json", extra={"model": "stub"})
    blob = json.loads(path.read_text())
    assert blob["roc_auc"] is None and blob["model"] == "stub"
    with pytest.raises(ValueError, match="2 class names"):
        evaluate(FixedLogits(logits), ds, device="cpu", classes=["a", "b"])
