"""Classifying new events: ``seiswork.classify`` and ``python -m seiswork predict`` (seiswork/inference.py)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import seiswork
from seiswork.bundle import load_bundle, save_bundle
from seiswork.cli import main
from seiswork.data.adapter import WaveformDataAdapter
from seiswork.data.npz import save_npz
from seiswork.inference import prepare_events
from tests.conftest import make_seed_events

pytestmark = pytest.mark.usefixtures("one_thread")


def tonal_events(n: int = 48, seed: int = 3):
    """Seed-format events (unequal lengths, NaN padding at the ends) that a tiny model tells apart after a few
    epochs: a low (class ``earthquake``) or high (``explosion``) tone in noise. ``(events, labels, event_ids)``."""
    rng = np.random.default_rng(seed)
    events, labels, ids = [], [], []
    for i in range(n):
        length = int(rng.integers(300, 400))
        cycles_per_sample = (0.03 if i % 2 == 0 else 0.35) + rng.uniform(-0.01, 0.01)
        phase = rng.uniform(0, 2 * np.pi, 3)
        data = np.sin(2 * np.pi * cycles_per_sample * np.arange(length)[:, None] + phase)
        data += 0.5 * rng.normal(size=(length, 3))
        data[: int(rng.integers(0, 20))] = np.nan
        data[length - int(rng.integers(0, 30)):] = np.nan
        events.append(pd.DataFrame(data, columns=["Z", "N", "E"]))
        labels.append(("earthquake", "explosion")[i % 2])
        ids.append(f"ev{i // 2:03d}")
    return events, np.array(labels), np.array(ids)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained briefly on tonal events, its bundle, and the held-out test events with evaluate's report."""
    events, labels, ids = tonal_events()
    adapter = WaveformDataAdapter(events, labels, seed=0, test_ratio=0.25, val_ratio=0.2, verbose=False,
                                  meta=pd.DataFrame({"event_id": ids, "station": "ST01"}))
    _, eval_t = seiswork.default_pipelines(fft_size=64, seed=0, representation="spectrum")
    model = seiswork.build_model("lstm", seed=0, channels=3, classes=2, hidden=8, layers=1)
    result = seiswork.fit(model, adapter.dataset("train"), adapter.dataset("val"), epochs=6, batch_size=8, lr=3e-2,
                          train_transform=eval_t, eval_transform=eval_t, progress=False, device="cpu")
    path = save_bundle(tmp_path_factory.mktemp("bundle") / "model.seiswork", result.model, classes=adapter.classes,
                       channels=adapter.channels, sampling_rate=100.0, length=adapter.x.shape[1],
                       preprocessing=adapter, eval_transform=eval_t)
    report = seiswork.evaluate(result.model, adapter.dataset("test"), transform=eval_t, device="cpu")
    test = adapter.split.test
    return {"path": path, "events": [events[i] for i in test], "labels": labels[test], "ids": ids[test],
            "report": report}


def test_classify_new_events_in_two_formats_equals_evaluate(trained, tmp_path):
    report, events, labels = trained["report"], trained["events"], trained["labels"]
    expected = [report["classes"][k] for k in report["predictions"]]
    assert len(set(expected)) == 2  # both classes predicted: the comparison can fail on either

    pkl = tmp_path / "new.pkl"
    with open(pkl, "wb") as f:
        pickle.dump((events, labels), f)
    pd.DataFrame({"event_id": trained["ids"], "station": "ST02"}).to_csv(tmp_path / "new.meta.csv", index=False)
    npz = save_npz(tmp_path / "new.npz", events, labels,
                   meta=pd.DataFrame({"event_id": trained["ids"], "sampling_rate": 100.0}))
    for path in (pkl, npz):
        table = seiswork.classify(trained["path"], path, device="cpu")
        assert len(table) == len(events)
        assert table["source"].tolist() == [str(path)] * len(events) and table["index"].tolist() == list(
            range(len(events)))
        assert table["event_id"].tolist() == trained["ids"].tolist() and table["label"].tolist() == labels.tolist()
        assert table.columns[-4:].tolist() == ["predicted", "p_earthquake", "p_explosion", "reason"]
        assert table["predicted"].tolist() == expected and (table["reason"] == "").all()
        np.testing.assert_allclose(table[["p_earthquake", "p_explosion"]].to_numpy(), report["probabilities"],
                                   rtol=1e-6, atol=1e-9)
    # a Bundle and an EventSet, or a plain list of DataFrames, give the same predictions
    loaded = seiswork.load_events(pkl, verbose=False)
    from_set = seiswork.classify(load_bundle(trained["path"]), loaded)
    assert from_set["station"].eq("ST02").all() and from_set["predicted"].tolist() == expected
    assert seiswork.classify(trained["path"], events, batch_size=3)["predicted"].tolist() == expected
    assert seiswork.classify(trained["path"], (events, labels))["predicted"].tolist() == expected


def test_preprocessing_is_the_training_preprocessing_bit_for_bit(tmp_path):
    """Centre trimming and interpolated interior gaps, as the adapter applied them to the training events."""
    events, labels, _ = make_seed_events(20, seed=1)
    for i in (2, 7):
        events[i].iloc[150:153, 1] = np.nan  # short interior gaps: interpolated
    events[11].iloc[100:140, 0] = np.nan  # a long one: dropped by the adapter, a reason here
    with pytest.warns(UserWarning, match="NaN gaps"):
        adapter = WaveformDataAdapter(events, labels, trim="center", nan_policy="interpolate", max_gap=5,
                                      verbose=False)
    bundle = load_bundle(save_bundle(
        tmp_path / "m.seiswork", seiswork.build_model("lstm", seed=0, channels=3, classes=2, hidden=4, layers=1),
        classes=adapter.classes, channels=adapter.channels, sampling_rate=None, length=adapter.x.shape[1],
        preprocessing=adapter, eval_transform=None))
    x, rows, reasons = prepare_events(events, bundle)
    assert rows.tolist() == sorted(adapter.kept.tolist()) and 11 not in rows
    assert reasons[11] == "NaN gap inside the signal longer than max_gap=5 samples"
    position = {int(i): k for k, i in enumerate(rows)}
    np.testing.assert_array_equal(x[[position[int(i)] for i in adapter.kept]], adapter.x)


def test_unusable_events_are_rows_with_a_reason(trained):
    good = trained["events"][0]
    events = [
        good,
        good[["Z", "N"]],
        pd.DataFrame(np.full((300, 3), np.nan), columns=["Z", "N", "E"]),
        good.assign(E=np.nan),
        good.iloc[:120],
        good.assign(Z=np.where(np.arange(len(good)) == 200, np.nan, good["Z"])),
        np.zeros((300, 2)),
        good.iloc[:0],
        good,
    ]
    table = seiswork.classify(trained["path"], events)
    length = load_bundle(trained["path"]).length
    assert len(table) == len(events) and table["index"].tolist() == list(range(len(events)))
    assert table["reason"].tolist() == [
        "",
        "missing channel(s) E (it has Z, N)",
        "all NaN",
        "channel(s) E all NaN",
        f"too short: {good.iloc[:120]['Z'].notna().sum()} samples after removing NaN padding, the model reads {length}",
        "NaN gap inside the signal (the model was trained with nan_policy='drop', which does not fill gaps)",
        "has shape (300, 2); expected (time, 3) (layout (time, channel)) for channels ['Z', 'N', 'E']",
        "no samples",
        "",
    ]
    used = table["reason"] == ""
    assert (table.loc[~used, "predicted"] == "").all()
    assert table.loc[~used, ["p_earthquake", "p_explosion"]].isna().all(axis=None)
    report = trained["report"]
    assert table.loc[used, "predicted"].tolist() == [report["classes"][report["predictions"][0]]] * 2
    np.testing.assert_allclose(table.loc[used, ["p_earthquake", "p_explosion"]].sum(axis=1), 1.0)


def test_without_trimming_the_length_must_match(tmp_path):
    bundle = load_bundle(save_bundle(
        tmp_path / "m.seiswork", seiswork.build_model("lstm", seed=0, channels=3, classes=2, hidden=4, layers=1),
        classes=["a", "b"], channels="ZNE", sampling_rate=None, length=300,
        preprocessing={"transforms": ["DROP_NAN", "ZSCORE"]}, eval_transform=None))
    rng = np.random.default_rng(0)
    table = seiswork.classify(bundle, [rng.normal(size=(300, 3)), rng.normal(size=(320, 3))])
    assert table["reason"].tolist() == [
        "", "320 samples after removing NaN padding: the model was trained without TRIMMING on events of exactly "
            "300 samples"]
    assert table["predicted"].iloc[0] in ("a", "b")


def test_another_sampling_rate_is_refused(trained, tmp_path):
    events, labels = trained["events"], trained["labels"]
    npz = save_npz(tmp_path / "slow.npz", events, labels, meta=pd.DataFrame({"sampling_rate": [20.0] * len(events)}))
    with pytest.raises(ValueError, match=r"another sampling rate than the model's 100 Hz \(.*slow.npz: 20 Hz\); "
                                         r"resample them to 100 Hz first"):
        seiswork.classify(trained["path"], npz)
    unknown = seiswork.EventSet(events, labels)  # sampling_rate NaN: nothing to check
    assert len(seiswork.classify(trained["path"], unknown)) == len(events)


def test_classify_is_the_function_after_the_command_module_is_imported():
    import seiswork.inference  # noqa: F401  (a submodule named classify would replace the package attribute)

    assert seiswork.classify is seiswork.inference.classify


def test_predict_command_writes_the_csv_and_refuses_to_overwrite(trained, tmp_path, capsys):
    data = save_npz(tmp_path / "new.npz", trained["events"], trained["labels"])
    out = tmp_path / "out" / "predictions.csv"
    assert main(["predict", str(trained["path"]), str(data), "--out", str(out), "--device", "cpu"]) == 0
    table = pd.read_csv(out, keep_default_na=False)
    report = trained["report"]
    assert table["predicted"].tolist() == [report["classes"][k] for k in report["predictions"]]
    np.testing.assert_allclose(table[["p_earthquake", "p_explosion"]].to_numpy(), report["probabilities"], rtol=1e-6)
    assert f"classified {len(table)} of {len(table)} events" in capsys.readouterr().out
    assert not [p for p in out.parent.iterdir() if p.name != out.name]  # written atomically: no temporary left

    # an existing --out is refused before anything is loaded (the model named here does not exist)
    before = out.read_text()
    with pytest.raises(SystemExit) as stopped:
        main(["predict", str(tmp_path / "no-model.seiswork"), str(data), "--out", str(out)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--out" in err and "already exists: pass --overwrite" in err and out.read_text() == before
    out.write_text("old")
    assert main(["predict", str(trained["path"]), str(data), "--out", str(out), "--overwrite",
                 "--batch-size", "4"]) == 0
    assert out.read_text() == before

    with pytest.raises(SystemExit):
        main(["predict", str(tmp_path / "no-model.seiswork"), str(data), "--out", str(tmp_path / "p.csv")])
    assert "MODEL" in capsys.readouterr().err and not (tmp_path / "p.csv").exists()
    bad = save_npz(tmp_path / "slow.npz", trained["events"], trained["labels"],
                   meta=pd.DataFrame({"sampling_rate": [20.0] * len(trained["events"])}))
    assert main(["predict", str(trained["path"]), str(bad), "--out", str(tmp_path / "p.csv")]) == 1
    assert "seiswork predict: error:" in capsys.readouterr().err and not (tmp_path / "p.csv").exists()


@pytest.mark.slow
def test_predict_on_phasenet_equals_evaluate(shared_data, tmp_path, capsys):
    """Train briefly on part of the real set with the train command, then predict the whole set with its bundle:
    the test part's predictions are evaluate's."""
    data = shared_data / "phasenet_eq_vs_noise" / "phasenet_eq_vs_noise.pkl"
    if not data.exists():
        pytest.skip(f"{data} not found")
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--sampling-rate", "100", "--epochs", "2", "--hidden", "8",
                 "--layers", "1", "--fft-size", "256", "--batch-size", "16", "--device", "cpu", "--out", str(run),
                 "--quiet"]) == 0
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(run / "model.seiswork"), str(data), "--out", str(out)]) == 0
    table = pd.read_csv(out, keep_default_na=False)
    assert len(table) == 230 and (table["reason"] == "").all()
    assert {"source", "index", "label", "event_id", "station"} <= set(table.columns)

    bundle = load_bundle(run / "model.seiswork")
    events = seiswork.load_events(str(data), verbose=False)
    adapter = WaveformDataAdapter(events, events.labels, seed=bundle.study["seed"],
                                  test_ratio=bundle.study["test_ratio"], val_ratio=bundle.study["val_ratio"],
                                  verbose=False)
    assert bundle.length == adapter.x.shape[1] == 2900 and bundle.sampling_rate == 100.0
    report = seiswork.evaluate(bundle.model, adapter.dataset("test"), transform=bundle.eval_transform, device="cpu")
    test = table.set_index("index").loc[adapter.split.test]
    assert test["predicted"].tolist() == [report["classes"][k] for k in report["predictions"]]
    np.testing.assert_allclose(test[[f"p_{c}" for c in bundle.classes]].to_numpy(), report["probabilities"],
                               rtol=1e-6, atol=1e-9)
