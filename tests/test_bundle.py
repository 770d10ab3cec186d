"""Model bundles: one self-contained file (model, classes, channels, rate, length, preprocessing, eval transform)."""

from __future__ import annotations

import json

import pytest
import torch

import seiswork
from seiswork.bundle import BUNDLE_FORMAT, Preprocessing, load_bundle, save_bundle
from seiswork.data.adapter import WaveformDataAdapter
from seiswork.data.preprocess import TransformOP
from tests.conftest import make_seed_events

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def adapter():
    events, labels, _ = make_seed_events(24, seed=0)
    return WaveformDataAdapter(events, labels, seed=0, trim="center", nan_policy="interpolate", max_gap=7,
                               verbose=False)


def small_model(classes=2):
    return seiswork.build_model("lstm", seed=0, channels=3, classes=classes, hidden=8, layers=1)


def test_bundle_round_trip_keeps_everything_needed_to_classify(adapter, tmp_path):
    model = small_model()
    _, eval_transform = seiswork.default_pipelines(fft_size=64, seed=0, representation="spectrum")
    study = seiswork.Study(fft_size=64, hidden=8, layers=1)
    path = save_bundle(tmp_path / "m" / "model.seiswork", model, classes=adapter.classes, channels=adapter.channels,
                       sampling_rate=100, length=adapter.x.shape[1], preprocessing=adapter,
                       eval_transform=eval_transform, study=study)
    assert path == tmp_path / "m" / "model.seiswork" and [p.name for p in path.parent.iterdir()] == [path.name]
    # one file of plain values and tensors, readable without running code, with a format tag
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == BUNDLE_FORMAT and raw["seiswork_version"] == seiswork.__version__
    assert raw["classes"] == ["earthquake", "explosion"] and raw["model_class"] == "LSTMModel"
    json.dumps({k: v for k, v in raw.items() if k != "model_state"})  # everything else is plain JSON

    bundle = load_bundle(path)
    assert bundle.classes == ["earthquake", "explosion"] and bundle.channels == ("Z", "N", "E")
    assert bundle.sampling_rate == 100.0 and bundle.length == adapter.x.shape[1] == 271
    assert bundle.preprocessing == Preprocessing(("DROP_NAN", "TRIMMING", "ZSCORE"), "center", "interpolate", 7,
                                                 100, 1e-6)
    assert bundle.preprocessing.flags == TransformOP.DROP_NAN | TransformOP.TRIMMING | TransformOP.ZSCORE
    assert bundle.version == seiswork.__version__ and bundle.study["fft_size"] == 64 and bundle.path == path
    assert not bundle.model.training and not bundle.eval_transform.training
    assert seiswork.transforms.pipeline_to_dict(bundle.eval_transform) == seiswork.transforms.pipeline_to_dict(
        eval_transform)
    x = torch.from_numpy(adapter.x[:5])
    with torch.no_grad():
        torch.testing.assert_close(bundle.model(bundle.eval_transform(x)), model.eval()(eval_transform(x)),
                                   rtol=0, atol=0)
    assert "length=271 samples" in repr(bundle) and "100 Hz" in repr(bundle)


def test_bundle_without_rate_transform_or_study(tmp_path):
    path = save_bundle(tmp_path / "b.seiswork", small_model(), classes=["a", "b"], channels="ZNE", sampling_rate=None,
                       length=300, preprocessing={"transforms": ["ZSCORE"]}, eval_transform=None)
    bundle = load_bundle(path)
    assert bundle.sampling_rate is None and bundle.eval_transform is None and bundle.study is None
    assert bundle.preprocessing.flags == TransformOP.ZSCORE and bundle.preprocessing.trim == "start"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"classes": ["a", "b", "c"]}, ValueError, r"3 classes \['a', 'b', 'c'\] for a model with 2 outputs"),
    ({"length": 0}, ValueError, "length must be the number of samples per event"),
    ({"sampling_rate": -5}, ValueError, "sampling_rate must be a positive number of Hz"),
    ({"channels": ["Z", "Z"]}, ValueError, "names a channel twice"),
    ({"preprocessing": {"transforms": ["SMOOTH"]}}, ValueError, r"unknown transforms \['SMOOTH'\]"),
    ({"preprocessing": {"trim": "middle"}}, ValueError, "trim='middle'"),
    ({"preprocessing": "DROP_NAN"}, TypeError, "expected a Preprocessing, a dict or a WaveformDataAdapter"),
])
def test_save_bundle_checks_its_arguments(tmp_path, kwargs, error, match):
    args = {"classes": ["a", "b"], "channels": "ZNE", "sampling_rate": 100.0, "length": 300, "preprocessing": {},
            "eval_transform": None, **kwargs}
    with pytest.raises(error, match=match):
        save_bundle(tmp_path / "b.seiswork", small_model(), **args)
    assert not list(tmp_path.iterdir())


def test_load_bundle_says_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="model bundle .*nothing.seiswork not found"):
        load_bundle(tmp_path / "nothing.seiswork")
    (tmp_path / "empty.seiswork").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.seiswork is empty \(0 bytes\)"):
        load_bundle(tmp_path / "empty.seiswork")
    (tmp_path / "text.seiswork").write_text("weights")
    with pytest.raises(ValueError, match=r"text.seiswork is not a PyTorch checkpoint \("):
        load_bundle(tmp_path / "text.seiswork")
    from seiswork.training.checkpoints import CHECKPOINT_FORMAT

    torch.save({"format": CHECKPOINT_FORMAT}, tmp_path / "best.pt")
    with pytest.raises(ValueError, match="not a seiswork model bundle .*a training checkpoint: the model bundle is "
                                         "model.seiswork"):
        load_bundle(tmp_path / "best.pt")


def test_test_model_writes_the_bundle_beside_metrics(tmp_path):
    """The study's test step leaves model.seiswork in the model folder, with the study's data settings."""
    from seiswork import synthetic
    from seiswork.study import steps

    events, labels, meta = synthetic.make_events(n_events=32, seed=0, stations_per_event=1)
    study = seiswork.Study(fft_size=64, hidden=8, layers=1, epochs=1, batch_size=8, run_dir=str(tmp_path / "run"),
                           device="cpu")
    event_set = seiswork.EventSet(events, labels, meta)
    adapter = steps.prepare_data(study, events=event_set, use_cache=False, verbose=False)
    pipelines = steps.make_pipelines(study, from_run=False)
    seq_len, features = steps.input_shape(pipelines[1], adapter.dataset("train"))
    model = steps.make_model(study, features, len(adapter.classes))
    result = steps.train_model(study, model, adapter, pipelines, out=tmp_path / "model", progress=False)
    report = steps.test_model(study, result, adapter, pipelines[1], out=tmp_path / "model")
    bundle = load_bundle(tmp_path / "model" / "model.seiswork")
    assert bundle.classes == [str(c) for c in adapter.classes] and bundle.length == adapter.x.shape[1]
    assert bundle.channels == tuple(adapter.channels) and bundle.sampling_rate == steps.sampling_rate(study, adapter)
    assert bundle.study == study.to_dict()
    # the bundle classifies the test part as the report did
    table = seiswork.classify(bundle, [events[i] for i in adapter.split.test], device="cpu")
    assert table["predicted"].tolist() == [report["classes"][k] for k in report["predictions"]]
