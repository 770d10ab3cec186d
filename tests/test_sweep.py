"""Sweeps: the same summary table one run after another and on a 2-worker Dask LocalCluster; a grid point
with a bad parameter fails alone, with its error in the table."""

from __future__ import annotations

import pandas as pd
import pytest

from seiswork.sweep import run_sweep

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    from seiswork import synthetic

    data = synthetic.write_default(tmp_path_factory.mktemp("data") / "tiny.pkl", n_events=60, seed=4)
    return {"parameters": {"data_paths": [str(data)], "hidden": 8, "batch_size": 16},
            "grid": {"epochs": [1, 0], "seed": [0, 1]},  # epochs 0 is refused: those two runs fail
            "only": ["04"]}


def test_dask_sweep_equals_sequential_sweep_and_isolates_failures(spec, tmp_path, capsys):
    sequential = run_sweep(spec, out=tmp_path / "seq", threads=1)
    on_dask = run_sweep(spec, out=tmp_path / "dask", workers=2)  # 2 cores here: one thread per run
    assert "4/4 runs done" in capsys.readouterr().out
    pd.testing.assert_frame_equal(sequential, on_dask)
    assert pd.read_csv(tmp_path / "dask" / "summary.csv").shape == on_dask.shape
    failed = on_dask[on_dask["error"] != ""]
    assert list(failed["epochs"]) == [0, 0] and failed["error"].str.contains("'epochs': must be >= 1").all()
    good = on_dask[on_dask["error"] == ""]
    assert len(good) == 2 and good["lstm.balanced_accuracy"].between(0, 1).all()
    assert (tmp_path / "dask" / "000-epochs=1-seed=0" / "lstm" / "metrics.json").exists()


def test_sweep_refuses_workers_and_scheduler_together(spec, tmp_path):
    with pytest.raises(ValueError, match="--workers .* --scheduler"):
        run_sweep(spec, out=tmp_path, workers=2, scheduler="tcp://127.0.0.1:8786")
