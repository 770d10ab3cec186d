"""seiswork.data.events: one conversion of any event to (time, channel), one label normalisation, channel names."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from seiswork import WaveformDataAdapter, load_events, save_npz
from seiswork.data.events import (
    as_labels,
    channel_names,
    check_has_data,
    check_sampling_rate,
    event_array,
    event_values,
    finite_rows,
    label_names,
    stack_events,
    to_numpy,
)
from tests.conftest import make_seed_events

ZNE = ("Z", "N", "E")


def frame(n=20, columns=ZNE, seed=0):
    return pd.DataFrame(np.random.default_rng(seed).normal(size=(n, len(columns))), columns=list(columns))


# ------------------------------------------------------------------------------------------ event_values


def test_frame_of_exactly_the_channels_is_a_view():
    df = frame()
    a = event_values(df, ZNE)
    assert a.shape == (20, 3) and np.shares_memory(a, df.to_numpy())
    np.testing.assert_array_equal(a, df.to_numpy())


def test_frame_columns_are_selected_by_name_in_channel_order():
    df = frame(columns=("E", "time", "Z", "N"))
    df["station"] = "X"  # a text column makes the frame an object block
    a = event_values(df, ZNE)
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, df[["Z", "N", "E"]].to_numpy(dtype=float))


def test_nullable_numbers_become_nan():
    df = frame().astype("Float64")
    df["time"] = "t"
    df.loc[3, "N"] = pd.NA
    a = event_values(df, ZNE)
    assert a.dtype == np.float64 and np.isnan(a[3, 1]) and np.isfinite(np.delete(a.ravel(), 3 * 3 + 1)).all()


def test_frame_errors_name_where_and_the_fix():
    df = frame(columns=("Z", "N", "time"))
    with pytest.raises(ValueError, match=r"x\.pkl: event 4 has no column\(s\) \['E'\] \(it has \['Z', 'N', 'time'\]\).*lacks channel.*channels="):
        event_values(df, ZNE, "x.pkl: event 4")
    dup = pd.concat([frame(), frame()[["Z"]]], axis=1)
    with pytest.raises(ValueError, match=r"event 1 has several columns named 'Z'; rename or drop"):
        event_values(dup, ZNE, "event 1")
    text = pd.DataFrame({"Z": ["a", "b"], "N": [1.0, 2.0], "E": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"event 0 has non-numeric data in column 'Z'.*waveforms must be numbers"):
        event_values(text, ZNE, "event 0")


def test_arrays_tensors_and_lists_are_time_by_channel():
    a = np.arange(12.0).reshape(4, 3)
    assert event_values(a, ZNE) is a  # no copy
    np.testing.assert_array_equal(event_values(torch.from_numpy(a), ZNE), a)
    np.testing.assert_array_equal(event_values(a.tolist(), ZNE), a)
    one = event_values(np.arange(5.0), ("Z",))
    assert one.shape == (5, 1)


def test_array_errors_give_the_shape_and_layout():
    with pytest.raises(ValueError, match=r"event 2 has shape \(10,\); expected \(time, 3\) \(layout \(time, channel\)\)"):
        event_values(np.zeros(10), ZNE, "event 2")
    with pytest.raises(ValueError, match=r"has shape \(3, 100\); expected \(time, 3\)"):
        event_values(np.zeros((3, 100)), ZNE)  # channel-first by mistake
    with pytest.raises(ValueError, match=r"dtype bool"):
        event_values(np.zeros((4, 3), dtype=bool), ZNE)


def test_every_caller_uses_the_one_conversion(tmp_path):
    """The loader, the .npz writer, the adapter and the plots report a missing channel the same way."""
    events, labels, _ = make_seed_events(6)
    events = list(events)
    events[1] = events[1].drop(columns="E")
    core = r"event 1 has no column\(s\) \['E'\] \(it has \['Z', 'N', 'time'\]\)"
    path = tmp_path / "e.pkl"
    path.write_bytes(pickle.dumps((events, labels)))
    with pytest.raises(ValueError, match=r"e\.pkl: " + core):
        load_events(path, verbose=False)
    with pytest.raises(ValueError, match=r"save_npz: " + core):
        save_npz(tmp_path / "e.npz", events, labels)
    with pytest.raises(ValueError, match=core):
        WaveformDataAdapter(events, labels, verbose=False)
    with pytest.raises(ValueError, match=core):
        stack_events(events, ZNE)


def test_check_has_data_names_counts_and_lists():
    check_has_data("f", [3, 2], [True, True], "fix")
    with pytest.raises(ValueError, match=r"^f: event 1 has no samples \(2 such: 1, 3\); fix$"):
        check_has_data("f", [3, 0, 2, 0], [True, False, True, True], "fix")
    with pytest.raises(ValueError, match=r"^w\.hdf5: trace 2 \(b\$2\) is all NaN \(1 such: 2\); remove it$"):
        check_has_data("w.hdf5", [3, 3, 3], [True, True, False], "remove it", what="trace", names=["a", "b$1", "b$2"])


# ---------------------------------------------------------------- the plots' helpers (event-layer contract)


def test_event_array_copies_frames_and_gives_floats():
    df = frame()
    a = event_array(df, ZNE)
    a[:] = 0.0
    assert df.to_numpy().any()  # the caller's frame is untouched
    b = event_array(np.ones((5, 3), dtype=np.float32), ZNE)
    assert b.dtype == np.float64
    assert event_array(np.ones(5), ("Z",)).shape == (5, 1)
    with pytest.raises(ValueError, match="lacks channel"):
        event_array(pd.DataFrame({"Z": [1.0], "N": [1.0]}), ZNE)


def test_stack_events_pads_with_nan():
    out = stack_events([np.ones((3, 3)), np.ones((5, 3))], ZNE)
    assert out.shape == (2, 5, 3) and out.dtype == np.float32
    assert np.isnan(out[0, 3:]).all() and not np.isnan(out[1]).any()
    x = np.zeros((2, 4, 3))
    assert stack_events(x, ZNE) is x
    with pytest.raises(ValueError, match="empty"):
        stack_events([], ZNE)
    with pytest.raises(ValueError, match="channels"):
        stack_events(x, ("Z", "N"))
    with pytest.raises(ValueError, match=r"\(n, time, channel\)"):
        stack_events(np.zeros((4, 3)), ZNE)


def test_to_numpy_finite_rows_and_sampling_rate():
    t = torch.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(to_numpy(t), t.numpy())
    np.testing.assert_array_equal(to_numpy(pd.DataFrame(np.eye(2))), np.eye(2))
    a = np.arange(12.0).reshape(4, 3)
    a[0, 1] = a[3, 0] = np.nan
    np.testing.assert_array_equal(finite_rows(a), a[1:3])
    assert finite_rows(np.full((3, 2), np.nan)).shape == (0, 2)
    check_sampling_rate(None)
    check_sampling_rate(100.0)
    for bad in (0, -1, np.inf, np.nan):
        with pytest.raises(ValueError, match="sampling_rate"):
            check_sampling_rate(bad)


def test_label_names():
    names, classes = label_names(np.array([1, 0, 1]), 3, ["eq", "ex"])
    assert names.tolist() == ["ex", "eq", "ex"] and classes == ["eq", "ex"]
    names, classes = label_names(["b", "a", "b"], 3, None)
    assert classes == ["a", "b"]
    with pytest.raises(ValueError, match="labels has 2 entries"):
        label_names(["a", "b"], 3, None)
    with pytest.raises(ValueError, match=r"classes \['c'\] do not occur"):
        label_names(["a", "b"], 2, ["a", "c"])
    with pytest.raises(ValueError, match=r"must lie in 0\.\.1"):
        label_names(np.array([0, 2]), 2, ["a", "b"])


# ---------------------------------------------------------------------------------------------- labels


@pytest.mark.parametrize("labels, expected", [
    (["eq", "ex"], np.array(["eq", "ex"])),
    (np.array(["eq", "ex"], dtype=object), np.array(["eq", "ex"])),
    (np.array([b"eq", b"ex"]), np.array(["eq", "ex"])),
    ([1, 0], np.array([1, 0], dtype=np.int64)),
    (np.array([1, np.int32(0)], dtype=object), np.array([1, 0], dtype=np.int64)),
    (np.array([1.0, 0.0]), np.array([1, 0], dtype=np.int64)),  # class ids read from a CSV
    (np.array([0.5, 1.0]), np.array([0.5, 1.0])),
    (np.array([["eq"], ["ex"]]), np.array(["eq", "ex"])),  # a (n, 1) column
    (pd.Series(["eq", "ex"], index=[5, 9]), np.array(["eq", "ex"])),
    (torch.tensor([1, 0]), np.array([1, 0], dtype=np.int64)),
])
def test_as_labels_normalises(labels, expected):
    out = as_labels(labels, 2)
    assert out.dtype == expected.dtype and out.tolist() == expected.tolist()


def test_as_labels_errors_name_the_source_and_events():
    with pytest.raises(TypeError, match="labels is None"):
        as_labels(None, 2)
    with pytest.raises(ValueError, match=r"f\.pkl: 3 events but 2 labels; give exactly one label per event"):
        as_labels(["a", "b"], 3, "f.pkl")
    with pytest.raises(ValueError, match=r"labels are missing \(None/NaN\) for event\(s\) 1, 3"):
        as_labels(np.array(["a", None, "b", np.nan], dtype=object), 4)
    with pytest.raises(ValueError, match=r"for event\(s\) 0"):
        as_labels(np.array([np.nan, 1.0]), 2)
    with pytest.raises(ValueError, match=r"mix types \['int', 'str'\]"):
        as_labels(np.array(["a", 1], dtype=object), 2)
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        as_labels(np.zeros((2, 2)), 2)
    with pytest.raises(ValueError, match="dtype datetime64"):
        as_labels(np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"), 2)


def test_loader_and_adapter_normalise_labels_alike(tmp_path):
    events, _, _ = make_seed_events(8)
    labels = np.array([0.0, 1.0] * 4)
    path = tmp_path / "f.pkl"
    path.write_bytes(pickle.dumps((events, labels)))
    loaded = load_events(path, verbose=False)
    adapter = WaveformDataAdapter(events, labels, test_ratio=0.5, val_ratio=0.0, verbose=False)
    assert loaded.labels.dtype == np.int64 and adapter.classes.dtype == np.int64
    assert adapter.classes.tolist() == [0, 1]


# ----------------------------------------------------------------------------------------------- channels


def test_channel_names():
    assert channel_names("ZNE") == ZNE
    assert channel_names(["HHZ", "HHN"]) == ("HHZ", "HHN")
    with pytest.raises(ValueError, match="names a channel twice"):
        channel_names(("Z", "Z"))
    with pytest.raises(ValueError, match="give channel names"):
        channel_names(())
    with pytest.raises(ValueError, match="give channel names"):
        channel_names((0, 1, 2))
