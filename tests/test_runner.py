"""The run machinery without executing notebooks: parameters, notebook names, grids, summaries, CLI errors."""

from __future__ import annotations

import json

import pytest
import yaml

from seiswork import cli, runner, runs, sweep


def test_literal_reads_python_and_yaml_values():
    assert runner.parse_value("None") is None
    assert runner.parse_value("2") == 2 and runner.parse_value("2e-3") == 0.002
    assert runner.parse_value("[a.pkl, b.pkl]") == ["a.pkl", "b.pkl"]
    assert runner.parse_value('["Z", "N"]') == ["Z", "N"]
    assert runner.parse_value("lstm") == "lstm"
    assert runner.parse_value("False") is False and runner.parse_value("true") is True


def test_notebook_path_accepts_number_stem_and_file_name():
    assert runner.notebook_path("04").name == "04_train_lstm.ipynb"
    assert runner.notebook_path("02_fan_charts").name == "02_fan_charts.ipynb"
    assert runner.notebook_path("05_train_attention.ipynb").name == "05_train_attention.ipynb"
    with pytest.raises(ValueError, match="unknown notebook '07'"):
        runner.notebook_path("07")


def test_every_notebook_declares_the_shared_parameters():
    for name in runner.NOTEBOOKS:
        declared = runner.declared_parameters(runner.NOTEBOOKS_DIR / f"{name}.ipynb")
        assert {"run_dir", "seed", "channels", "data_paths"} <= set(declared), name
        assert declared["run_dir"] is None and declared["data_paths"] == []


def test_expand_grid_is_the_cartesian_product_in_order():
    assert sweep.expand_grid({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    with pytest.raises(ValueError, match="grid entry 'a'"):
        sweep.expand_grid({"a": 3})


def test_unknown_parameter_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(ValueError, match="epochz"):
        runner.run_notebooks({"epochz": 1}, out=tmp_path / "run", only=["04"])
    assert not (tmp_path / "run" / "notebooks" / "04_train_lstm.ipynb").exists()


def test_non_empty_run_folder_is_not_reused(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        runner.run_notebooks({}, out=tmp_path, only=["01"])
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_summarize_run_gathers_model_metrics(tmp_path):
    (tmp_path / "lstm").mkdir()
    (tmp_path / "lstm" / "metrics.json").write_text(json.dumps({"accuracy": 0.9}))
    (tmp_path / "figures").mkdir()
    assert runs.summarize_run(tmp_path) == {"lstm": {"accuracy": 0.9}}
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"lstm": {"accuracy": 0.9}}


def test_sweep_file_with_unknown_keys_is_refused(tmp_path):
    with pytest.raises(ValueError, match="grid is required"):
        sweep.run_sweep({"parameters": {"epochs": 1}}, out=tmp_path)


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump(["not", "a", "mapping"]))
    assert cli.main(["run", "-f", str(params), "--out", str(tmp_path / "r")]) == 1
    assert "must hold a mapping" in capsys.readouterr().err


def test_bad_parameter_value_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(ValueError, match="'epochs': must be >= 1"):
        runner.run_notebooks({"epochs": 0}, out=tmp_path / "run", only=["04"])
    assert not (tmp_path / "run" / "notebooks").exists()


def test_list_parameters_prints_every_notebook_with_defaults(capsys):
    assert cli.main(["run", "--list-parameters"]) == 0
    out = capsys.readouterr().out
    assert "04_train_lstm:" in out and "  epochs = 60" in out and "  model = 'lstm_attention'" in out
