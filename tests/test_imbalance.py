"""Imbalance: on the real PhaseNet recordings cut to 115 earthquakes and 20 noise windows, the default model and
the baselines (balanced class weights, epoch chosen on validation macro F1) do not collapse onto the majority."""

from __future__ import annotations

import numpy as np
import pytest

import seiswork
from seiswork.data.eventset import EventSet
from seiswork import study as steps
from seiswork.study import Study

pytestmark = pytest.mark.slow


def test_imbalanced_phasenet_subset_does_not_collapse_to_one_class(shared_data, tmp_path, one_thread):
    events = seiswork.load_events([str(shared_data / "phasenet_eq_vs_noise" / "phasenet_eq_vs_noise.pkl")],
                                  verbose=False)
    labels = np.asarray(events.labels)
    noise = np.random.default_rng(0).choice(np.flatnonzero(labels == "noise"), 20, replace=False)
    keep = np.sort(np.concatenate([np.flatnonzero(labels == "earthquake"), noise]))
    subset = EventSet([events.events[i] for i in keep], labels[keep], meta=events.meta.iloc[keep].reset_index(drop=True),
                      channels=events.channels)
    study = Study(sampling_rate=100.0, run_dir=str(tmp_path), seed=0)
    adapter = steps.prepare_data(study, events=subset, verbose=False)
    assert dict(zip(adapter.classes, np.bincount(adapter.y))) == {"earthquake": 115, "noise": 20}
    pipelines = steps.make_pipelines(study, adapter)
    _, features = steps.input_shape(pipelines[1], adapter.dataset("train"))
    result = steps.train_model(study, steps.make_model(study, features, 2), adapter, pipelines, progress=False)
    report = steps.test_model(study, result, adapter, pipelines[1])
    assert set(report["predictions"].tolist()) == {0, 1}  # both classes predicted, not the majority alone
    assert report["balanced_accuracy"] > 0.55 and report["per_class"].loc["noise", "recall"] > 0
    for name, baseline in steps.test_baselines(study, adapter).items():
        assert set(baseline["predictions"].tolist()) == {0, 1} and baseline["balanced_accuracy"] > 0.55, name
