"""The train command and its pipelines (integration with the real data and transform modules)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from seiswork.models import EnsembleModel
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
    # the default ensemble of three: the ensemble's best.pt and history, one fit folder per member
    assert {"best.pt", "history.csv", "metrics.json", "member-2"} <= {p.name for p in out.iterdir()}
    assert (out / "member-0" / "last.pt").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "balanced_accuracy", "macro_f1", "confusion_matrix", "per_class", "roc_auc"} <= set(metrics)
    assert pd.read_csv(out / "history.csv")["member"].tolist() == [0, 0, 1, 1, 2, 2]
    assert isinstance(load_model(out / "best.pt"), EnsembleModel)
    # a second run into the same folder refuses to overwrite, before loading anything (a usage error, exit 2)
    with pytest.raises(SystemExit) as stopped:
        train_main(["--data", str(data), "--epochs", "1", "--out", str(out), "--quiet"])
    assert stopped.value.code == 2


def test_a_torchrun_restart_continues_from_the_last_epoch(tmp_path, monkeypatch):
    """torchrun --max-restarts runs the same command again after a failure: it resumes instead of refusing."""
    from seiswork import synthetic
    from seiswork.data.npz import save_npz
    from seiswork.cli import train_main

    events, labels, meta = synthetic.make_events(n_events=40, seed=1, stations_per_event=1)
    data = tmp_path / "events.npz"
    save_npz(data, events, labels, meta=meta)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "launch7")  # no --out: the launch id names the folder
    common = ["--data", str(data), "--hidden", "8", "--layers", "1", "--batch-size", "8", "--quiet",
              "--patience", "0"]
    assert train_main([*common, "--epochs", "1"]) == 0
    out = tmp_path / "runs" / "train-launch7"
    assert len(pd.read_csv(out / "history.csv")) == 3  # one epoch of each of the three members
    monkeypatch.setenv("TORCHELASTIC_RESTART_COUNT", "1")
    assert train_main([*common, "--epochs", "2"]) == 0
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [1, 2] * 3  # epoch 1 kept from the first attempt, epoch 2 trained now
