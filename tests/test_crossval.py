"""Cross-validation: folds keep every event id on one side, and every method is scored on the same folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seiswork.study import Study
from seiswork.study.crossval import cross_validate, fold_indices


def test_folds_keep_each_event_id_inside_one_part_and_test_each_event_once():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(60), 3)  # three stations per event
    y = np.repeat(rng.integers(0, 2, 60), 3)
    parts = fold_indices(y, groups, folds=5, val_ratio=0.15, seed=0)
    tested = np.concatenate([test for _, _, test in parts])
    assert sorted(tested.tolist()) == list(range(len(y)))  # each event in exactly one test fold
    for train, val, test in parts:
        sides = [set(groups[train]), set(groups[val]), set(groups[test])]
        assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])
        assert set(y[test]) == {0, 1} and len(val) > 0


def test_too_many_folds_for_the_rarest_class_is_refused():
    y, groups = np.array([0] * 10 + [1] * 3), np.arange(13)
    with pytest.raises(ValueError, match=r"folds must lie in \[2, 3\]"):
        fold_indices(y, groups, folds=5, val_ratio=0.15, seed=0)


@pytest.mark.slow
def test_cross_validate_scores_models_and_baselines_on_the_same_folds(tmp_path, one_thread):
    from seiswork import synthetic

    data = synthetic.write_default(tmp_path / "tiny.pkl", n_events=60, seed=5)
    study = Study(data_paths=[str(data)], epochs=1, hidden=8, batch_size=16)
    table, summary = cross_validate(study, folds=2, out=tmp_path / "cv")
    assert (table["error"] == "").all()
    assert set(table["method"]) == {"lstm", "baseline_logistic", "baseline_random_forest"}
    assert all(sorted(folds) == [0, 1] for folds in table.groupby("method")["fold"].apply(list))
    assert list(summary["folds"]) == [2, 2, 2] and summary["balanced_accuracy_mean"].between(0, 1).all()
    written = pd.read_csv(tmp_path / "cv" / "cv_summary.csv", index_col=0)
    assert set(written.index) == set(summary.index)
