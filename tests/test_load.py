"""seiswork.data.load and its readers: pickled DataFrames (safe and trusted), .npz round trips, SeisBench HDF5, ObsPy folders, errors."""

from __future__ import annotations

import os
import pickle
import re
import sys
import types

import numpy as np
import pandas as pd
import pytest

import seiswork
from seiswork import EventSet, UnsafePickleError, convert, load_events, save_npz
from tests.conftest import make_seed_events


def write_pickle(path, obj, protocol=pickle.DEFAULT_PROTOCOL):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
    return path


@pytest.fixture
def seed_file(tmp_path, seed_events):
    events, labels, _ = seed_events
    return write_pickle(tmp_path / "VRAC.pkl", (events, labels))


def assert_same_waveforms(loaded, original, channels=("Z", "N", "E"), dtype=None):
    assert len(loaded) == len(original)
    for got, want in zip(loaded, original):
        assert list(got.columns) == list(channels)
        want = want[list(channels)].to_numpy()
        if dtype is not None:
            want = want.astype(dtype)
        np.testing.assert_array_equal(got.to_numpy(), want)  # NaN == NaN here


# ---------------------------------------------------------------------------------------------- pickles


def test_seed_pickle_round_trip(seed_file, seed_events, capsys):
    events, labels, _ = seed_events
    result = load_events(seed_file)
    loaded, got_labels = result  # the seed idiom
    assert isinstance(result, EventSet)
    assert_same_waveforms(loaded, events)
    assert np.isnan(loaded[0].to_numpy()).any()  # NaN padding kept
    np.testing.assert_array_equal(got_labels, labels)
    assert result.channels == ("Z", "N", "E")
    assert result.counts == {str(seed_file): len(events)}
    meta = result.meta
    assert list(meta.columns[:3]) == ["source", "index", "label"]
    assert (meta["source"] == str(seed_file)).all()
    np.testing.assert_array_equal(meta["index"], np.arange(len(events)))
    np.testing.assert_array_equal(meta["label"], labels)
    assert meta["sampling_rate"].isna().all()
    out = capsys.readouterr().out
    assert f"{seed_file}: 24 events" in out
    assert "total: 24 events from 1 file" in out
    assert "earthquake: 12 (50.0%)" in out and "explosion: 12 (50.0%)" in out
    text = repr(result)
    assert "24 events" in text and "earthquake: 12" in text and "VRAC.pkl" in text
    assert result.class_counts == {"earthquake": 12, "explosion": 12}


def test_channels_subset_and_order(seed_file, seed_events):
    events, _, _ = seed_events
    loaded, _ = load_events(seed_file, channels="EZ", verbose=False)
    assert_same_waveforms(loaded, events, channels=("E", "Z"))


def test_input_events_not_modified_and_index_kept(tmp_path):
    index = pd.date_range("2020-01-01", periods=50, freq="10ms")
    df = pd.DataFrame(np.arange(150.0).reshape(50, 3), columns=["E", "N", "Z"], index=index)
    path = write_pickle(tmp_path / "dt.pkl", ([df], np.array(["a"])))
    (ev,), _ = load_events(path, verbose=False)
    assert list(ev.columns) == ["Z", "N", "E"]
    assert ev.index.equals(index)
    np.testing.assert_array_equal(ev["Z"].to_numpy(), df["Z"].to_numpy())


def test_sidecar_picked_up(tmp_path, seed_events):
    events, labels, ids = seed_events
    path = write_pickle(tmp_path / "MORC.pkl", (events, labels))
    pd.DataFrame({"event_id": ids, "station": "MORC", "sampling_rate": 100.0, "distance_km": np.arange(24)}).to_csv(
        tmp_path / "MORC.meta.csv", index=False
    )
    meta = load_events(path, verbose=False).meta
    assert list(meta.columns) == ["source", "index", "label", "event_id", "station", "sampling_rate", "distance_km"]
    np.testing.assert_array_equal(meta["event_id"].to_numpy(dtype=str), ids)
    assert (meta["station"] == "MORC").all() and (meta["sampling_rate"] == 100.0).all()
    np.testing.assert_array_equal(meta["distance_km"], np.arange(24))


def test_sidecar_event_ids_stay_strings(tmp_path):
    events = [pd.DataFrame(np.ones((5, 3)), columns=list("ZNE"))] * 2
    path = write_pickle(tmp_path / "a.pkl", (events, np.array(["x", "y"])))
    (tmp_path / "a.meta.csv").write_text("event_id,station\n007,A\n008,B\n")
    meta = load_events(path, verbose=False).meta
    assert meta["event_id"].tolist() == ["007", "008"]  # not 7, 8


def test_sidecar_row_mismatch_names_both_files(tmp_path, seed_events):
    events, labels, ids = seed_events
    path = write_pickle(tmp_path / "MORC.pkl", (events, labels))
    pd.DataFrame({"event_id": ids[:-1]}).to_csv(tmp_path / "MORC.meta.csv", index=False)
    with pytest.raises(ValueError, match=r"MORC\.meta\.csv has 23 rows but .*MORC\.pkl holds 24 events"):
        load_events(path, verbose=False)


def test_several_files_concatenated(tmp_path, capsys):
    ev_a, lab_a, _ = make_seed_events(6, seed=1)
    ev_b, lab_b, _ = make_seed_events(4, seed=2, classes=("explosion",))
    a = write_pickle(tmp_path / "VRAC.pkl", (ev_a, lab_a))
    b = write_pickle(tmp_path / "MORC.pkl", (ev_b, lab_b))
    result = load_events([a, str(b)])
    events, labels = result
    assert len(events) == 10
    assert_same_waveforms(events, ev_a + ev_b)
    np.testing.assert_array_equal(labels, np.concatenate([lab_a, lab_b]))
    assert result.counts == {str(a): 6, str(b): 4}
    assert result.meta["source"].tolist() == [str(a)] * 6 + [str(b)] * 4
    assert result.meta["index"].tolist() == list(range(6)) + list(range(4))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{a}: 6 events (pickled DataFrames)"
    assert lines[1] == f"{b}: 4 events (pickled DataFrames)"
    assert lines[2] == "total: 10 events from 2 files"
    assert "explosion: 7 (70.0%)" in lines[4]


def test_glob_pattern(tmp_path):
    for name in ("b.pkl", "a.pkl"):
        ev, lab, _ = make_seed_events(2)
        write_pickle(tmp_path / name, (ev, lab))
    result = load_events(str(tmp_path / "*.pkl"), verbose=False)
    assert list(result.counts) == [str(tmp_path / "a.pkl"), str(tmp_path / "b.pkl")]


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_safe_unpickler_accepts_the_data_types(tmp_path, protocol):
    rng = np.random.default_rng(protocol)
    f32 = pd.DataFrame(rng.normal(size=(20, 3)).astype(np.float32), columns=list("ZNE"))
    ints = pd.DataFrame(rng.integers(-5, 5, size=(20, 3)), columns=list("ZNE"), index=pd.Index(np.arange(20) * 2))
    mixed = pd.DataFrame(rng.normal(size=(20, 3)), columns=pd.Index(list("ZNE"), dtype=object))
    mixed["time"] = np.arange(20) / 100.0
    mixed["flag"] = "x"
    timed = pd.DataFrame(rng.normal(size=(20, 3)), columns=list("ZNE"), index=pd.date_range("2021", periods=20, freq="10ms"))
    floatidx = pd.DataFrame(rng.normal(size=(20, 3)), columns=list("ZNE"), index=np.arange(20) / 10.0)
    events = [f32, ints, mixed, timed, floatidx]
    for i, labels in enumerate(
        [
            np.array(["eq", "ex", "eq", "ex", "eq"]),
            np.array(["eq", "ex", "eq", "ex", "eq"], dtype=object),
            [np.str_("eq"), np.str_("ex"), np.str_("eq"), np.str_("ex"), np.str_("eq")],
            np.array([0, 1, 0, 1, 0]),
            [np.int64(0), np.int64(1), np.int64(0), np.int64(1), np.int64(0)],
            pd.Series(["eq", "ex", "eq", "ex", "eq"]),
            pd.Categorical(["eq", "ex", "eq", "ex", "eq"]),
        ]
    ):
        path = write_pickle(tmp_path / f"ok{i}.pkl", (events, labels), protocol=protocol)
        loaded, got = load_events(path, verbose=False)
        assert_same_waveforms(loaded, events)
        assert got.tolist() == list(np.asarray(labels).tolist())
        assert got.dtype.kind in "Ui"


def test_trusted_loads_plain_seed_pickle(seed_file, seed_events):
    events, labels, _ = seed_events
    loaded, got = load_events(seed_file, trusted=True, verbose=False)
    assert_same_waveforms(loaded, events)
    np.testing.assert_array_equal(got, labels)


class _Shell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Exec:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


class _Reduce:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@pytest.mark.parametrize("kind", ["system-labels", "exec-in-events", "inside-dataframe", "subprocess", "pandas-eval"])
def test_malicious_pickle_refused_and_not_run(tmp_path, kind):
    marker = tmp_path / "MARKER"
    df = pd.DataFrame(np.ones((5, 3)), columns=list("ZNE"))
    if kind == "system-labels":
        obj, refused = ([df], _Shell(marker)), r"posix\.system|os\.system|nt\.system"
    elif kind == "exec-in-events":
        obj, refused = ([df, _Exec(marker)], ["a", "b"]), r"builtins\.exec"
    elif kind == "subprocess":
        import subprocess

        obj, refused = ([df], _Reduce(subprocess.call, (["touch", str(marker)],))), r"subprocess\.call"
    elif kind == "pandas-eval":  # pandas itself is not trusted wholesale: only its data types are
        obj, refused = ([df], _Reduce(pd.eval, (f"open({str(marker)!r}, 'w')",))), r"pandas\..*eval"
    else:
        bad = df.copy()
        bad["note"] = pd.Series([_Shell(marker)] * 5, dtype=object)
        obj, refused = ([bad], ["a"]), r"posix\.system|os\.system|nt\.system"
    path = write_pickle(tmp_path / "evil.pkl", obj)
    with pytest.raises(UnsafePickleError, match=r"evil\.pkl") as info:
        load_events(path, verbose=False)
    message = str(info.value)
    assert re.search(refused, message)
    assert "python -m seiswork convert IN OUT.npz" in message and "trusted=True" in message
    assert isinstance(info.value, ValueError)
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothere\.pkl: no such file"):
        load_events(tmp_path / "nothere.pkl", verbose=False)


def test_glob_matching_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"\*\.pkl: the pattern matches no file"):
        load_events(str(tmp_path / "*.pkl"), verbose=False)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pkl"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.pkl: is empty \(0 bytes\)"):
        load_events(path, verbose=False)


def test_zero_events(tmp_path):
    path = write_pickle(tmp_path / "none.pkl", ([], np.array([])))
    with pytest.raises(ValueError, match=r"none\.pkl: holds 0 events"):
        load_events(path, verbose=False)


@pytest.mark.parametrize(
    "obj, what",
    [
        ({"events": [], "labels": []}, "got a dict"),
        (pd.DataFrame(np.ones((3, 3)), columns=list("ZNE")), "got a DataFrame"),
        (([np.ones((5, 3))], ["a"]), "event 0 is a ndarray, not a pandas DataFrame"),
        ((pd.DataFrame(np.ones((3, 3))), ["a"]), "first item must be a list of pandas DataFrames"),
        ((1, 2, 3), "tuple of length 3"),
    ],
)
def test_not_seed_format(tmp_path, obj, what):
    path = write_pickle(tmp_path / "odd.pkl", obj)
    with pytest.raises(ValueError, match=rf"odd\.pkl: .*{what}"):
        load_events(path, verbose=False)


def test_truncated_pickle(tmp_path, seed_events):
    events, labels, _ = seed_events
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps((events, labels))[:500])
    with pytest.raises(ValueError, match=r"cut\.pkl: could not be read as a pickle"):
        load_events(path, verbose=False)


def test_missing_channel_names_event_and_columns(tmp_path, seed_events):
    events, labels, _ = seed_events
    events = list(events)
    events[5] = events[5].drop(columns=["E"])
    path = write_pickle(tmp_path / "noE.pkl", (events, labels))
    with pytest.raises(ValueError, match=r"noE\.pkl: event 5 has no column\(s\) \['E'\] \(it has \['Z', 'N', 'time'\]\)"):
        load_events(path, verbose=False)


def test_non_numeric_channel(tmp_path):
    df = pd.DataFrame({"Z": ["a", "b"], "N": [1.0, 2.0], "E": [1.0, 2.0]})
    path = write_pickle(tmp_path / "text.pkl", ([df], ["x"]))
    with pytest.raises(ValueError, match=r"text\.pkl: event 0 has non-numeric data"):
        load_events(path, verbose=False)


def test_label_count_mismatch(tmp_path, seed_events):
    events, labels, _ = seed_events
    path = write_pickle(tmp_path / "short.pkl", (events, labels[:-2]))
    with pytest.raises(ValueError, match=r"short\.pkl: 24 events but 22 labels"):
        load_events(path, verbose=False)


def test_all_nan_event(tmp_path, seed_events):
    events, labels, _ = seed_events
    events = list(events)
    events[3] = events[3].copy()
    events[3][["Z", "N", "E"]] = np.nan
    path = write_pickle(tmp_path / "nan.pkl", (events, labels))
    with pytest.raises(ValueError, match=r"nan\.pkl: event 3 is all NaN"):
        load_events(path, verbose=False)


def test_unknown_suffix(tmp_path):
    path = tmp_path / "events.parquet"
    path.write_bytes(b"x")
    with pytest.raises(ValueError, match=r"events\.parquet: unknown format '\.parquet'"):
        load_events(path, verbose=False)


def test_folder_without_known_layout(tmp_path):
    with pytest.raises(ValueError, match=r"is a folder without metadata\.csv \(SeisBench\) or catalog\.csv"):
        load_events(tmp_path, verbose=False)


def test_mixed_label_kinds_across_files(tmp_path):
    ev = [pd.DataFrame(np.ones((4, 3)), columns=list("ZNE"))]
    a = write_pickle(tmp_path / "a.pkl", (ev, np.array(["eq"])))
    b = write_pickle(tmp_path / "b.pkl", (ev, np.array([1])))
    with pytest.raises(ValueError, match=r"labels are strings in some files and numbers in others \(a\.pkl: str, b\.pkl"):
        load_events([a, b], verbose=False)


def test_same_file_twice(seed_file):
    with pytest.raises(ValueError, match=r"VRAC\.pkl is listed twice"):
        load_events([seed_file, str(seed_file)], verbose=False)


def test_bad_channels_argument(seed_file):
    with pytest.raises(ValueError, match=r"names a channel twice"):
        load_events(seed_file, channels=("Z", "Z"), verbose=False)


# ---------------------------------------------------------------------------------------------- npz


def test_save_npz_round_trip(tmp_path, seed_events):
    events, labels, ids = seed_events
    meta = pd.DataFrame(
        {
            "event_id": ids,
            "station": ["A", None] * 12,  # a missing string survives
            "sampling_rate": 100.0,
            "magnitude": np.linspace(1, 3, 24),
            "picked": [True, False] * 12,
        }
    )
    path = save_npz(tmp_path / "cache.npz", events, labels, meta=meta)
    with np.load(path, allow_pickle=False) as z:  # never needs pickle
        assert z["data"].dtype == np.float32 and z["data"].shape[1] == 3
        assert z["offsets"].dtype == np.int64 and len(z["offsets"]) == 25
        assert z["offsets"][-1] == sum(len(e) for e in events)
        assert z["channels"].tolist() == ["Z", "N", "E"]
    result = load_events(path, verbose=False)
    assert_same_waveforms(result.events, events, dtype=np.float32)
    assert np.isnan(result.events[0].to_numpy()).any()
    np.testing.assert_array_equal(result.labels, labels)
    m = result.meta
    assert list(m.columns) == ["source", "index", "label", "event_id", "station", "sampling_rate", "magnitude", "picked"]
    np.testing.assert_array_equal(m["event_id"].to_numpy(dtype=str), ids)
    assert m["station"].isna().tolist() == [False, True] * 12 and m["station"][0] == "A"
    np.testing.assert_array_equal(m["magnitude"], meta["magnitude"])
    assert m["picked"].tolist() == meta["picked"].tolist()
    assert result.counts == {str(path): 24}


def test_save_npz_from_eventset_keeps_provenance_and_int_labels(tmp_path):
    events = [pd.DataFrame(np.arange(12.0).reshape(4, 3) + i, columns=list("ZNE")) for i in range(3)]
    src = write_pickle(tmp_path / "ints.pkl", (events, np.array([0, 1, 1])))
    es = load_events(src, channels=("N", "Z"), verbose=False)
    path = save_npz(tmp_path / "ints.npz", es)
    back = load_events(path, channels=("Z",), verbose=False)
    assert back.labels.dtype.kind == "i" and back.labels.tolist() == [0, 1, 1]
    np.testing.assert_array_equal(back.events[2]["Z"].to_numpy(), events[2]["Z"].to_numpy().astype(np.float32))
    assert back.meta["origin_source"].tolist() == [str(src)] * 3
    assert back.meta["origin_index"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match=r"ints\.npz: has no channel\(s\) \['E'\] \(all its events have \['N', 'Z'\]\)"):
        load_events(path, verbose=False)


def test_save_npz_accepts_arrays_and_refuses_overwrite(tmp_path):
    arrays = np.zeros((2, 10, 3), dtype=np.float32)
    arrays[1] += 1
    path = save_npz(tmp_path / "arr.npz", arrays, ["a", "b"])
    events, labels = load_events(path, verbose=False)
    assert [e.shape for e in events] == [(10, 3), (10, 3)] and events[1].to_numpy().min() == 1
    with pytest.raises(FileExistsError, match=r"arr\.npz already exists"):
        save_npz(path, arrays, ["a", "b"], overwrite=False)
    with pytest.raises(ValueError, match=r"must end in \.npz"):
        save_npz(tmp_path / "arr.pkl", arrays, ["a", "b"])
    with pytest.raises(ValueError, match=r"event 1 has shape \(10,\)"):
        save_npz(tmp_path / "bad.npz", [np.zeros((10, 3)), np.zeros(10)], ["a", "b"])


def test_npz_that_is_not_ours(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, x=np.ones(3))
    with pytest.raises(ValueError, match=r"other\.npz: not a seiswork \.npz file"):
        load_events(other, verbose=False)
    objects = tmp_path / "objects.npz"
    np.savez(
        objects, format=np.array("seiswork-events"), data=np.zeros((2, 3), np.float32), offsets=np.array([0, 2]),
        labels=np.array([{"a": 1}], dtype=object), channels=np.array(list("ZNE")),
    )
    with pytest.raises(ValueError, match=r"objects\.npz: holds arrays that need pickle"):
        load_events(objects, verbose=False)


def test_npz_all_nan_event(tmp_path):
    arrays = [np.ones((5, 3)), np.full((4, 3), np.nan)]
    path = save_npz(tmp_path / "nan.npz", arrays, ["a", "b"])
    with pytest.raises(ValueError, match=r"nan\.npz: event 1 is all NaN"):
        load_events(path, verbose=False)


def test_convert(tmp_path, seed_file, seed_events):
    events, labels, _ = seed_events
    out = convert(seed_file, tmp_path / "VRAC.npz")
    assert out == tmp_path / "VRAC.npz"
    loaded, got = load_events(out, verbose=False)
    assert_same_waveforms(loaded, events, dtype=np.float32)
    np.testing.assert_array_equal(got, labels)
    with pytest.raises(FileExistsError, match=r"VRAC\.npz already exists"):
        convert(seed_file, out)
    assert convert(seed_file, out, overwrite=True) == out


def test_eventset_pickles_with_its_metadata(seed_file):
    es = load_events(seed_file, verbose=False)
    back = pickle.loads(pickle.dumps(es))
    assert isinstance(back, EventSet) and back.counts == es.counts and back.channels == es.channels
    pd.testing.assert_frame_equal(back.meta, es.meta)


# ---------------------------------------------------------------------------------------------- SeisBench


def _write_seisbench(folder, h5py):
    """Two buckets (component order ZEN in the file), unequal slices, one per-trace dataset with its own order."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    bucket0 = rng.normal(size=(4, 3, 50))
    bucket1 = rng.normal(size=(2, 3, 40))
    single = rng.normal(size=(3, 30))
    with h5py.File(folder / "waveforms.hdf5", "w") as f:
        f["data/bucket0"] = bucket0
        f["data/bucket1"] = bucket1
        f["data/tr_single"] = single
        f["data_format/component_order"] = "ZEN"
        f["data_format/dimension_order"] = "CW"
        f["data_format/sampling_rate"] = 20
    table = pd.DataFrame(
        {
            "trace_name": ["bucket0$2,:3,:50", "bucket1$1,:3,:25", "bucket0$0,:3,:45", "tr_single"],
            "trace_component_order": ["ZEN", "ZEN", "ZEN", "NEZ"],
            "source_event_category": ["earthquake", "explosion", "earthquake", "explosion"],
            "trace_category": ["x", "y", "x", "y"],
            "station_network_code": ["CX", "CX", "GE", "CX"],
            "station_code": ["PB01", "PB01", "STA", "PB02"],
            "trace_sampling_rate_hz": [100.0, 100.0, np.nan, 50.0],
            "source_id": ["e1", "e2", "e1", "e3"],
            "source_magnitude": [1.0, 2.0, 3.0, 4.0],
        }
    )
    table.to_csv(folder / "metadata.csv", index=False)
    zne = [0, 2, 1]  # file order ZEN -> Z, N, E
    expected = [
        bucket0[2][zne, :50].T,
        bucket1[1][zne, :25].T,
        bucket0[0][zne, :45].T,
        single[[2, 0, 1]].T,  # NEZ -> Z, N, E
    ]
    return table, expected


def test_seisbench_layout(tmp_path):
    h5py = pytest.importorskip("h5py")
    table, expected = _write_seisbench(tmp_path / "sb", h5py)
    for target in (tmp_path / "sb", tmp_path / "sb" / "waveforms.hdf5", tmp_path / "sb" / "metadata.csv"):
        result = load_events(target, verbose=False)
        assert [e.shape for e in result.events] == [(50, 3), (25, 3), (45, 3), (30, 3)]
        for got, want in zip(result.events, expected):
            assert list(got.columns) == ["Z", "N", "E"]
            np.testing.assert_array_equal(got.to_numpy(), want.astype(np.float32))
        assert result.labels.tolist() == table["source_event_category"].tolist()
        m = result.meta
        assert m["station"].tolist() == ["CX.PB01", "CX.PB01", "GE.STA", "CX.PB02"]
        assert m["event_id"].tolist() == ["e1", "e2", "e1", "e3"]
        assert m["sampling_rate"].tolist() == [100.0, 100.0, 20.0, 50.0]  # NaN row falls back to data_format
        assert m["source_magnitude"].tolist() == [1.0, 2.0, 3.0, 4.0]
        assert result.counts == {str(tmp_path / "sb" / "waveforms.hdf5"): 4}
    by_category = load_events(tmp_path / "sb", label_column="trace_category", verbose=False)
    assert by_category.labels.tolist() == ["x", "y", "x", "y"]
    with pytest.raises(ValueError, match=r"metadata\.csv: has no column 'nope' .*pass label_column="):
        load_events(tmp_path / "sb", label_column="nope", verbose=False)
    with pytest.raises(ValueError, match=r"waveforms\.hdf5 trace 0 .*has no channel 'X'"):
        load_events(tmp_path / "sb", channels=("Z", "X"), verbose=False)


def test_seisbench_missing_metadata(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "lonely.hdf5", "w") as f:
        f["data/bucket0"] = np.zeros((1, 3, 10))
    with pytest.raises(FileNotFoundError, match=r"lonely\.hdf5: no SeisBench metadata beside it"):
        load_events(tmp_path / "lonely.hdf5", verbose=False)


# ---------------------------------------------------------------------------------------------- ObsPy


def test_obspy_folder_with_catalog(tmp_path):
    obspy = pytest.importorskip("obspy")
    folder = tmp_path / "wf"
    folder.mkdir()
    t0 = obspy.UTCDateTime(2020, 1, 1)
    rng = np.random.default_rng(0)
    truth = {}
    # event 1: miniSEED, HH[ZNE], E starts 2 samples late and N is shorter -> NaN padding
    for comp, start, n in (("Z", 0, 30), ("N", 0, 25), ("E", 2, 28)):
        data = rng.normal(size=n).astype(np.float32)
        truth[("ev1", comp)] = (start, data)
        tr = obspy.Trace(data, header={"network": "XX", "station": "AAA", "channel": f"HH{comp}",
                                       "sampling_rate": 100.0, "starttime": t0 + start / 100.0})
        tr.write(str(folder / f"ev1.{comp}.mseed"), format="MSEED")
    # event 2: SAC, channels HH1/HH2/HHZ (1 -> N, 2 -> E)
    for comp in ("Z", "1", "2"):
        data = rng.normal(size=20).astype(np.float32)
        truth[("ev2", comp)] = (0, data)
        tr = obspy.Trace(data, header={"network": "XX", "station": "BBB", "channel": f"HH{comp}",
                                       "sampling_rate": 50.0, "starttime": t0})
        tr.write(str(folder / f"ev2_{comp}.sac"), format="SAC")
    pd.DataFrame({"file": ["ev1.*.mseed", "ev2_*.sac"], "label": ["earthquake", "explosion"],
                  "event_id": ["A1", "A2"], "depth_km": [5.0, 0.1]}).to_csv(folder / "catalog.csv", index=False)

    result = load_events(folder, verbose=False)
    ev1, ev2 = result.events
    assert ev1.shape == (30, 3) and ev2.shape == (20, 3)
    np.testing.assert_array_equal(ev1["Z"].to_numpy(), truth[("ev1", "Z")][1])
    np.testing.assert_array_equal(ev1["N"].to_numpy()[:25], truth[("ev1", "N")][1])
    assert np.isnan(ev1["N"].to_numpy()[25:]).all()
    assert np.isnan(ev1["E"].to_numpy()[:2]).all()
    np.testing.assert_array_equal(ev1["E"].to_numpy()[2:], truth[("ev1", "E")][1])
    np.testing.assert_array_equal(ev2["N"].to_numpy(), truth[("ev2", "1")][1])
    np.testing.assert_array_equal(ev2["E"].to_numpy(), truth[("ev2", "2")][1])
    assert result.labels.tolist() == ["earthquake", "explosion"]
    m = result.meta
    assert m["event_id"].tolist() == ["A1", "A2"]
    assert m["station"].tolist() == ["XX.AAA", "XX.BBB"]
    assert m["sampling_rate"].tolist() == [100.0, 50.0]
    assert m["depth_km"].tolist() == [5.0, 0.1]
    assert m["source"].tolist() == [str(folder / "catalog.csv")] * 2

    # the catalog can also be given separately (a DataFrame here), patterns relative to the folder
    other = pd.DataFrame({"file": ["ev2_*.sac"], "label": ["explosion"]})
    assert load_events(folder, catalog=other, verbose=False).meta["station"].tolist() == ["XX.BBB"]
    with pytest.raises(FileNotFoundError, match=r"row 0 \(file 'nope\*'\): matches no file"):
        load_events(folder, catalog=pd.DataFrame({"file": ["nope*"], "label": ["x"]}), verbose=False)
    with pytest.raises(ValueError, match=r"row 0 .*different sampling rates \[50\.0, 100\.0\] Hz"):
        load_events(folder, catalog=pd.DataFrame({"file": ["ev*Z*"], "label": ["x"]}), verbose=False)


# ---------------------------------------------------------------------------------------------- default data


def test_default_data_set_is_generated_when_missing(tmp_path, monkeypatch):
    target = tmp_path / "default_events.pkl"
    calls = []

    def write_default(path=None, **kw):
        calls.append(path)
        events, labels, _ = make_seed_events(8)
        write_pickle(target, (events, labels))
        return target

    fake = types.SimpleNamespace(default_path=lambda: target, write_default=write_default)
    monkeypatch.setitem(sys.modules, "seiswork.synthetic", fake)
    monkeypatch.setattr(seiswork, "synthetic", fake, raising=False)
    events, labels = load_events(verbose=False)
    assert len(events) == 8 and calls == [None]
    assert load_events(verbose=False).counts == {str(target): 8}
    assert len(calls) == 1  # present now: not regenerated


# ---------------------------------------------------------------------------------------------- real data


@pytest.mark.data
def test_real_phasenet_pickle(shared_data):
    path = shared_data / "phasenet_eq_vs_noise" / "phasenet_eq_vs_noise.pkl"
    result = load_events(path, verbose=False)  # the safe unpickler accepts a real seed pickle
    assert result.n_events == 230
    assert result.class_counts == {"earthquake": 115, "noise": 115}
    assert all(e.shape == (2900, 3) for e in result.events)
    sidecar = pd.read_csv(path.with_name("phasenet_eq_vs_noise.meta.csv"), dtype=str)
    assert result.meta["event_id"].tolist() == sidecar["event_id"].tolist()
    assert result.meta["event_id"].nunique() < 230  # windows from one recording share an id


@pytest.mark.data
def test_real_seisbench_dummy(shared_data):
    result = load_events(shared_data / "seisbench_dummy", verbose=False)
    assert result.n_events == 100
    assert all(e.shape == (1200, 3) for e in result.events)
    assert result.class_counts == {"ID": 88, "UP": 9, "P1": 1, "P2": 1, "P3": 1}
    assert (result.meta["station"] == "CX.PB01").all()
    assert (result.meta["sampling_rate"] == 20.0).all()
