"""End to end: the notebook sequence run headless with papermill, as `python -m seiswork run` does.

The committed notebooks themselves are also checked by nbval (``--nbval-lax``, cells marked
``# NBVAL_CHECK_OUTPUT`` compared), collected from ``notebooks/`` by the pytest configuration.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from seiswork import runner

pytestmark = pytest.mark.slow

SMALL = ["-p", "epochs", "2", "-p", "hidden", "16", "-p", "batch_size", "32", "--no-progress"]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    from seiswork import synthetic

    return synthetic.write_default(tmp_path_factory.mktemp("data") / "small.pkl", n_events=180, seed=3)


def _run(out, small_data, *extra):
    cmd = [sys.executable, "-m", "seiswork", "run", "--out", str(out), "-p", "data_paths", f"[{small_data}]", *SMALL, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, small_data):
    out = tmp_path_factory.mktemp("runs") / "full"
    _run(out, small_data)
    return out


def test_run_writes_every_artifact(full_run):
    for name in runner.NOTEBOOKS:
        nb = nbformat.read(full_run / "notebooks" / f"{name}.ipynb", as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{name}: {errors[:1]}"
    params = (full_run / "parameters.yaml").read_text()
    assert "epochs: 2" in params and "hidden: 16" in params
    for path in ["preprocessed.npz", "augmentation.json", "lstm/best.pt", "lstm_attention/best.pt",
                 "lstm/metrics.json", "lstm_attention/metrics.json"]:
        assert (full_run / path).exists(), path
    figures = {p.name for p in (full_run / "figures").glob("*.png")}
    assert {"01_class_counts.png", "02_fan_time.png", "02_fan_frequency.png", "03_pipeline_preview.png",
            "lstm_learning_curves.png", "lstm_attention_confusion.png", "comparison.png"} <= figures
    metrics = json.loads((full_run / "metrics.json").read_text())
    assert set(metrics) == {"lstm", "lstm_attention", "baseline_logistic", "baseline_random_forest"}
    for model in metrics.values():
        assert 0 <= model["balanced_accuracy"] <= 1 and "confusion_matrix" in model


def test_same_parameters_same_metrics(full_run, small_data, tmp_path):
    again = tmp_path / "again"
    _run(again, small_data, "--only", "01", "04")
    first = json.loads((full_run / "metrics.json").read_text())["lstm"]
    second = json.loads((again / "metrics.json").read_text())["lstm"]
    assert first == second


def test_failing_notebook_names_notebook_and_keeps_partial_output(tmp_path, small_data):
    out = tmp_path / "bad"
    cmd = [sys.executable, "-m", "seiswork", "run", "--out", str(out), "--only", "01", "--no-progress",
           "-p", "data_paths", f"[{tmp_path / 'missing.pkl'}]"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "01_load_preprocess.ipynb failed in cell" in proc.stderr and "missing.pkl" in proc.stderr
    assert (out / "notebooks" / "01_load_preprocess.ipynb").exists()


def test_training_notebook_runs_alone_with_papermill(tmp_path, small_data):
    import papermill

    papermill.execute_notebook(
        str(runner.notebook_path("04")), str(tmp_path / "out.ipynb"), cwd=str(runner.NOTEBOOKS_DIR),
        parameters={"epochs": 1, "hidden": 8, "data_paths": [str(small_data)], "run_dir": str(tmp_path / "run")},
        progress_bar=False, kernel_name="python3",
    )
    assert (tmp_path / "run" / "lstm" / "metrics.json").exists()
