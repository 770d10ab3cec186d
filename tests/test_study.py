"""The study definition and its workflow steps: one set of defaults, checks that name the parameter or flag,
a preprocessed-data cache that is never reused for other inputs, paths resolved from the right folder."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

import seiswork
from seiswork import cli, runner
from seiswork.study import Study, StudyError, parse_channels, prepare_data, run_training, select_classes


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    from seiswork import synthetic

    root = tmp_path_factory.mktemp("data")
    a = synthetic.write_default(root / "a.pkl", n_events=60, seed=1)
    b = synthetic.write_default(root / "b.pkl", n_events=80, seed=2)
    return a, b


def test_every_notebook_parameter_that_is_a_study_parameter_has_the_study_default():
    defaults = Study.defaults()
    for name in runner.NOTEBOOKS:
        declared = runner.declared_parameters(runner.NOTEBOOKS_DIR / f"{name}.ipynb")
        for key, value in declared.items():
            if key in defaults and key != "model":
                expected = list(defaults[key]) if isinstance(defaults[key], tuple) else defaults[key]
                assert value == expected, f"{name}: {key} = {value!r}, the study default is {expected!r}"


def test_training_notebooks_differ_only_in_the_model_they_train():
    import nbformat

    def code(nb):
        cells = nbformat.read(runner.notebook_path(nb), as_version=4).cells
        return [c.source for c in cells if c.cell_type == "code"]

    lstm, attention = code("04"), code("05")
    differ = [i for i, (a, b) in enumerate(zip(lstm, attention)) if a != b]
    assert len(lstm) == len(attention) and differ == [0]  # the parameters cell
    assert lstm[0].replace('"lstm"', '"lstm_attention"') == attention[0]


@pytest.mark.parametrize("given, expected", [
    ("Z,N,E", ("Z", "N", "E")), ("ZNE", ("Z", "N", "E")), ("Z", ("Z",)), ("HHZ", ("HHZ",)),
    ("BHZ,BHN,BHE", ("BHZ", "BHN", "BHE")), (["HHZ", "HHN"], ("HHZ", "HHN")),
])
def test_channel_names_of_several_letters(given, expected):
    assert parse_channels(given) == expected


def test_invalid_values_name_the_parameter():
    with pytest.raises(StudyError, match="'val_ratio': must lie in \\(0.0, 1.0\\), got 1.5"):
        Study(val_ratio=1.5)
    with pytest.raises(StudyError, match="'model': unknown model 'cnn'; choose one of lstm, lstm_attention"):
        Study(model="cnn")
    with pytest.raises(StudyError, match="'channels': names a channel twice"):
        Study(channels=["Z", "Z"])
    with pytest.raises(StudyError, match="'augment': must be true or false"):
        Study(augment="yes")
    with pytest.raises(StudyError, match="'background': must be true or false"):
        Study(background="yes")
    with pytest.raises(StudyError, match="unknown parameter.*'epochz'"):
        Study.from_parameters({"epochz": 3})
    with pytest.raises(StudyError, match="'members': must be >= 1, got 0"):
        Study(members=0)
    with pytest.raises(StudyError, match="'ema': must lie in \\(0.0, 1.0\\], got 0"):
        Study(ema=0)


def test_train_command_flags_show_defaults_and_errors_speak_in_flags(capsys):
    parser = cli._train_parser()
    help_text = " ".join(parser.format_help().split())  # unwrapped
    assert "--batch-size" in help_text and "(default: 32)" in help_text and "(default: Z,N,E)" in help_text
    args = parser.parse_args(["--channels", "BHZ,BHN,BHE", "--data", "x.pkl", "--no-augment", "--no-background"])
    study = Study.from_args(args, cwd="/data/here")
    assert study.channels == ("BHZ", "BHN", "BHE") and study.augment is False and study.background is False
    # the study's pipelines are built with it: one block of features instead of two
    from seiswork.study import steps

    plain = steps.make_pipelines(study.replace(sampling_rate=100.0), from_run=False)[1][0]
    default = steps.make_pipelines(Study(sampling_rate=100.0), from_run=False)[1][0]
    assert not plain.background and default.background and default.n_features(3) == 2 * plain.n_features(3)
    assert study.data_paths == ("/data/here/x.pkl",)
    with pytest.raises(SystemExit):
        cli.train_main(["--epochs", "0"])
    assert "argument --epochs: must be >= 1, got 0" in capsys.readouterr().err


def test_train_command_refuses_an_output_folder_with_checkpoints_before_loading(tmp_path, capsys):
    (tmp_path / "last.pt").write_bytes(b"")
    with pytest.raises(SystemExit):
        cli.train_main(["--out", str(tmp_path), "--data", str(tmp_path / "never-read.pkl")])
    err = capsys.readouterr().err
    assert "--out" in err and "--resume" in err and "--overwrite" in err


def test_relative_data_paths_are_read_from_the_project_folder_in_notebooks():
    from seiswork.paths import PROJECT_DIR

    assert Study(data_paths=["resources/x.pkl"]).resolved_data_paths() == [PROJECT_DIR / "resources" / "x.pkl"]


def test_cache_is_reused_only_for_the_same_inputs(tmp_path, two_files):
    a, b = two_files
    run = tmp_path / "run"
    first = prepare_data(Study(data_paths=[str(a)], run_dir=str(run)), verbose=False)
    cached = run / "preprocessed.npz"
    stamp = cached.stat().st_mtime_ns
    again = prepare_data(Study(data_paths=[str(a)], run_dir=str(run)), verbose=False)
    assert cached.stat().st_mtime_ns == stamp and again.x.shape == first.x.shape  # reused
    other = prepare_data(Study(data_paths=[str(b)], run_dir=str(run)), verbose=False)
    assert len(other.y) != len(first.y)  # other data: rebuilt, not the cache of a.pkl
    assert json.loads((run / "preprocessed.json").read_text())["files"][0][0] == str(b.resolve())
    reseeded = prepare_data(Study(data_paths=[str(b)], run_dir=str(run), seed=5), verbose=False)
    assert reseeded.seed == 5


def test_cache_is_rebuilt_when_a_data_file_changes(tmp_path, two_files):
    import shutil

    from seiswork import synthetic

    data = shutil.copy(two_files[0], tmp_path / "data.pkl")
    run = tmp_path / "run"
    study = Study(data_paths=[str(data)], run_dir=str(run))
    first = prepare_data(study, verbose=False)
    synthetic.write_default(data, n_events=40, seed=9, overwrite=True)  # same name, other content
    os.utime(data, ns=(first_ns := os.stat(data).st_mtime_ns, first_ns + 10**9))
    assert len(prepare_data(study, verbose=False).y) != len(first.y)


def test_cache_without_a_fingerprint_is_not_trusted(tmp_path, two_files, capsys):
    run = tmp_path / "run"
    prepare_data(Study(data_paths=[str(two_files[0])], run_dir=str(run)))
    (run / "preprocessed.json").unlink()  # e.g. a run folder written before fingerprints existed
    prepare_data(Study(data_paths=[str(two_files[0])], run_dir=str(run)))
    assert "no record of the inputs" in capsys.readouterr().out
    assert (run / "preprocessed.json").exists()


@pytest.mark.slow
def test_run_training_writes_metrics_with_every_parameter(tmp_path, two_files, one_thread):
    study = Study(data_paths=[str(two_files[1])], epochs=1, hidden=8, batch_size=16)
    report = run_training(study, tmp_path / "out", progress=False, verbose=False)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["balanced_accuracy"] == pytest.approx(report["balanced_accuracy"])
    assert metrics["study"] == study.to_dict(where=False) and metrics["data"] == [str(two_files[1])]
    assert metrics["training"]["epochs_run"] == 1 and len(metrics["training"]["members"]) == study.members == 3
    # the default ensemble: one fit folder per member, the ensemble's best.pt and the members' history
    for name in ("best.pt", "history.csv", "member-0/last.pt", "member-2/best.pt"):
        assert (tmp_path / "out" / name).exists()
    ensemble = seiswork.load_model(tmp_path / "out" / "best.pt")
    assert isinstance(ensemble, seiswork.EnsembleModel) and ensemble.config["hidden"] == 8


@pytest.mark.slow
def test_run_resolves_relative_data_paths_from_where_it_started(tmp_path, two_files, monkeypatch):
    import shutil

    (tmp_path / "mine").mkdir()
    shutil.copy(two_files[0], tmp_path / "mine" / "events.pkl")
    monkeypatch.chdir(tmp_path)
    run = runner.run_notebooks({"data_paths": ["mine/events.pkl"]}, out=tmp_path / "run", only=["01"], progress=False)
    record = json.loads((run / "preprocessed.json").read_text())
    assert record["files"][0][0] == str((tmp_path / "mine" / "events.pkl").resolve())


def _three_classes():
    from seiswork.data.eventset import EventSet
    from tests.conftest import make_seed_events

    events, labels, ids = make_seed_events(n=30, classes=("earthquake", "explosion", "rockfall"))
    labels = np.where(np.arange(30) < 3, "rockfall", np.where(labels == "rockfall", "earthquake", labels))
    meta = pd.DataFrame({"source": "x.pkl", "index": np.arange(30), "label": labels, "event_id": ids})
    return EventSet(events, labels, meta=meta)


def test_class_selection_keeps_drops_or_merges_and_leaves_the_input_alone():
    events = _three_classes()
    before = events.labels.copy()
    kept = select_classes(events, Study(classes=["earthquake", "rockfall"]), verbose=False)
    assert set(kept.labels) == {"earthquake", "rockfall"} and len(kept.events) == len(kept.meta)
    dropped = select_classes(events, Study(min_class_events=5), verbose=False)
    assert "rockfall" not in set(dropped.labels) and len(dropped.events) == 27
    merged = select_classes(events, Study(min_class_events=5, rare_classes="merge"), verbose=False)
    assert sorted(pd.Series(merged.labels).value_counts().items())[-1] == ("other", 3)
    assert (merged.meta["label"] == merged.labels).all()
    assert (events.labels == before).all() and len(events.events) == 30
    with pytest.raises(ValueError, match=r"classes \['blast'\] do not occur"):
        select_classes(events, Study(classes=["blast"]), verbose=False)
    with pytest.raises(StudyError, match="'rare_classes': must be 'drop' or 'merge'"):
        Study(rare_classes="keep")


def test_seisbench_class_selection_and_label_column(shared_data, tmp_path):
    study = Study(data_paths=[str(shared_data / "seisbench_dummy")], min_class_events=5,
                  label_column="source_event_category", run_dir=str(tmp_path), test_ratio=0.3, val_ratio=0.2)
    adapter = prepare_data(study, verbose=False)
    assert [str(c) for c in adapter.classes] == ["ID", "UP"]  # P1, P2, P3 (one event each) dropped
    merged = prepare_data(study.replace(rare_classes="merge"), verbose=False)
    assert "other" in [str(c) for c in merged.classes]
    with pytest.raises(ValueError, match="no_such_column"):
        prepare_data(study.replace(label_column="no_such_column"), verbose=False)


def test_seisbench_split_column_is_used_instead_of_drawing_a_split(shared_data, tmp_path):
    import pandas as pd

    column = pd.read_csv(shared_data / "seisbench_dummy" / "metadata.csv")
    study = Study(data_paths=[str(shared_data / "seisbench_dummy")], min_class_events=5, split_column="split",
                  run_dir=str(tmp_path))
    adapter = prepare_data(study, verbose=False)
    kept = column[column["source_event_category"].isin(["ID", "UP"])]["split"].value_counts()
    assert (len(adapter.split.train), len(adapter.split.val), len(adapter.split.test)) == (
        kept["train"], kept["dev"], kept["test"])
    assert "from the 'split' column" in repr(adapter)
    with pytest.raises(ValueError, match="split_column='no_such' is not a metadata column"):
        prepare_data(study.replace(split_column="no_such"), verbose=False)
