"""The train command and its pipelines (integration with the real data and transform modules)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from torch import nn

from seiswork.training import load_model


pytestmark = pytest.mark.usefixtures("one_thread")


def test_train_main_end_to_end(tmp_path):
    from seiswork import synthetic
    from seiswork.data.npz import save_npz
    from seiswork.cli import train_main

    events, labels, meta = synthetic.make_events(n_events=48, seed=0, stations_per_event=1)
    data = tmp_path / "events.npz"
    save_npz(data, events, labels, meta=meta)
    out = tmp_path / "run"
    code = train_main(["--model", "lstm_attention", "--data", str(data), "--epochs", "2", "--hidden", "8",
                       "--layers", "1", "--fft-size", "64", "--batch-size", "8", "--out", str(out), "--quiet"])
    assert code == 0
    assert {"best.pt", "last.pt", "history.csv", "metrics.json"} <= {p.name for p in out.iterdir()}
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "balanced_accuracy", "macro_f1", "confusion_matrix", "per_class", "roc_auc"} <= set(metrics)
    assert len(pd.read_csv(out / "history.csv")) == 2
    assert isinstance(load_model(out / "best.pt"), nn.Module)
    # a second run into the same folder refuses to overwrite, before loading anything (a usage error, exit 2)
    with pytest.raises(SystemExit) as stopped:
        train_main(["--data", str(data), "--epochs", "1", "--out", str(out), "--quiet"])
    assert stopped.value.code == 2


def test_default_pipelines_take_a_saved_augmentation(tmp_path):
    from seiswork.augment import AddNoise, Compose, RandomApply, TimeShift
    from seiswork.train_command import default_pipelines
    from seiswork.transforms import save_pipeline

    tuned = Compose([RandomApply(TimeShift(0.3), p=1.0)], seed=99)
    path = save_pipeline(tuned, tmp_path / "augmentation.json")
    from_path, eval_t = default_pipelines(fft_size=64, seed=4, augmentation=path)
    from_module, _ = default_pipelines(fft_size=64, seed=4, augmentation=Compose([RandomApply(TimeShift(0.3), p=1.0)]))
    tuned.reseed(4)  # the saved pipeline's own seed gives way to the run's
    assert repr(from_path[0]) == repr(tuned) and not any(isinstance(m, AddNoise) for m in from_path.modules())
    x = torch.randn(3, 200, 3)
    torch.testing.assert_close(from_path(x), from_module(x), rtol=0, atol=0)  # both reseeded from seed=4
    assert from_path(x).shape == eval_t(x).shape == (3, 33, 3)
    no_aug, _ = default_pipelines(fft_size=64, augment=False, augmentation=path)
    torch.testing.assert_close(no_aug(x), eval_t(x))
