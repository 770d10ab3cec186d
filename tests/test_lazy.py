"""Data larger than memory: lazy loading streams events into a read-only memory map with the same result."""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import pandas as pd
import pytest

import seiswork
from seiswork.data.lazy import LazyEvents
from seiswork.data.load import load_events
from seiswork.data.npz import is_read_only_map, release_pages, save_npz
from tests.conftest import make_seed_events


def write_seisbench(folder, arrays, labels, ids, bucket_rows=7):
    """A SeisBench folder: traces (channel, time) NaN-padded into buckets of ``bucket_rows``."""
    folder.mkdir()
    width = max(a.shape[0] for a in arrays)
    names = []
    with h5py.File(folder / "waveforms.hdf5", "w") as f:
        fmt = f.create_group("data_format")
        fmt.create_dataset("component_order", data="ZNE")
        fmt.create_dataset("dimension_order", data="CW")
        fmt.create_dataset("sampling_rate", data=100.0)
        for b in range(0, len(arrays), bucket_rows):
            block = np.full((min(bucket_rows, len(arrays) - b), 3, width), np.nan, dtype=np.float32)
            for k, a in enumerate(arrays[b : b + bucket_rows]):
                block[k, :, : a.shape[0]] = a.T
                names.append(f"bucket{b}${k},:3,:{a.shape[0]}")
            f.create_dataset(f"data/bucket{b}", data=block)
    pd.DataFrame({"trace_name": names, "source_event_category": labels, "source_id": ids}).to_csv(
        folder / "metadata.csv", index=False)
    return folder


def seed_arrays(n=30, seed=2):
    events, labels, ids = make_seed_events(n, seed=seed)
    return [e[["Z", "N", "E"]].to_numpy(np.float32) for e in events], labels, ids


@pytest.mark.parametrize("kind", ["npz", "seisbench"])
def test_streamed_store_equals_the_in_memory_adapter(tmp_path, kind):
    arrays, labels, ids = seed_arrays()
    if kind == "npz":
        path = save_npz(tmp_path / "events.npz", arrays, labels, meta=pd.DataFrame({"event_id": ids}))
    else:
        path = write_seisbench(tmp_path / "sb", arrays, labels, ids)
    eager, lazy = load_events(path, verbose=False), load_events(path, lazy=True, verbose=False)
    assert isinstance(lazy.events, LazyEvents) and len(lazy.events) == len(arrays)
    pd.testing.assert_frame_equal(eager.meta, lazy.meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the seed events' interior gaps: the same warning on both paths
        a = seiswork.WaveformDataAdapter(eager, test_ratio=0.3, val_ratio=0.2, seed=3, verbose=False)
        b = seiswork.WaveformDataAdapter(lazy, test_ratio=0.3, val_ratio=0.2, seed=3, verbose=False,
                                         out=tmp_path / "pre.npz")
    assert is_read_only_map(b.x) and not b.x.flags.writeable
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.kept, b.kept)
    np.testing.assert_array_equal(a.lengths, b.lengths)
    assert a.report.as_dict() == b.report.as_dict()
    again = seiswork.WaveformDataAdapter.load(tmp_path / "pre.npz", mmap="r")
    np.testing.assert_array_equal(again.x, a.x)
    assert again.report.as_dict() == a.report.as_dict() and is_read_only_map(again.x)
    with pytest.raises(ValueError, match="read-only"):
        b.x[0, 0, 0] = 1.0  # never a silent change of the file


def test_lazy_events_read_in_any_order_and_take_keeps_them_on_disk(tmp_path):
    arrays, labels, ids = seed_arrays(12)
    path = write_seisbench(tmp_path / "sb", arrays, labels, ids, bucket_rows=5)
    lazy = load_events(path, lazy=True, verbose=False).events
    rows = np.array([9, 0, 4, 11, 4])
    for got, i in zip(lazy.read(rows), rows):
        np.testing.assert_array_equal(got[: len(arrays[i])], arrays[i])
    sub = lazy.take([3, 1])
    assert isinstance(sub, LazyEvents) and len(sub) == 2
    np.testing.assert_array_equal(sub[1][: len(arrays[1])], arrays[1])
    assert [len(e) for e in lazy] == [len(lazy[i]) for i in range(len(lazy))]
    with pytest.raises(IndexError, match="out of range"):
        lazy[12]


def test_lazy_loading_refuses_formats_it_cannot_stream(tmp_path, seed_events):
    events, labels, _ = seed_events
    path = tmp_path / "events.pkl"
    pd.to_pickle(events, path)
    with pytest.raises(ValueError, match="convert"):
        load_events(path, lazy=True, verbose=False)


def test_training_batches_from_a_read_only_map_leave_the_map_unchanged(tmp_path):
    arrays, labels, ids = seed_arrays(40, seed=4)
    path = save_npz(tmp_path / "events.npz", arrays, labels, meta=pd.DataFrame({"event_id": ids}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = seiswork.WaveformDataAdapter(load_events(path, verbose=False), verbose=False)
        b = seiswork.WaveformDataAdapter(load_events(path, lazy=True, verbose=False), verbose=False,
                                         out=tmp_path / "pre.npz")
    before = np.array(b.x)
    release_pages(b.x)  # dropping the resident pages loses nothing: they are read again from the file
    np.testing.assert_array_equal(b.x, before)
    from seiswork.training.batches import Batches
    import torch

    batches = [Batches(ad.dataset("train"), 8, torch.device("cpu"), 0, "train") for ad in (a, b)]
    assert batches[1].mapped and not batches[0].mapped
    for (xa, ya), (xb, yb) in zip(batches[0].epoch(7), batches[1].epoch(7)):
        torch.testing.assert_close(xa, xb, rtol=0, atol=0)
        assert torch.equal(ya, yb)
    np.testing.assert_array_equal(b.x, before)


def test_a_lazy_study_prepares_the_same_data_and_reuses_its_map(tmp_path, capsys):
    from seiswork import study as steps
    from seiswork.study import Study, StudyError

    arrays, labels, ids = seed_arrays(40, seed=5)
    path = write_seisbench(tmp_path / "sb", arrays, labels, ids)
    common = dict(data_paths=[str(path)], sampling_rate=100.0, test_ratio=0.3, val_ratio=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eager = steps.prepare_data(Study(**common, lazy=False, run_dir=str(tmp_path / "a")), verbose=False)
        lazy_study = Study(**common, lazy="true", run_dir=str(tmp_path / "b"))
        assert lazy_study.lazy is True and steps.use_lazy(lazy_study)
        lazy = steps.prepare_data(lazy_study, verbose=False)
    assert is_read_only_map(lazy.x)
    np.testing.assert_array_equal(eager.x, lazy.x)
    np.testing.assert_array_equal(eager.kept, lazy.kept)
    again = steps.prepare_data(lazy_study, verbose=False)  # the fingerprinted cache, mapped read-only
    assert is_read_only_map(again.x)
    np.testing.assert_array_equal(again.x, eager.x)
    assert not steps.use_lazy(Study(**common))  # auto: a few kB stay in memory
    with pytest.raises(StudyError, match="lazy"):
        Study(lazy="sometimes")


def test_class_selection_keeps_lazy_events_on_disk(tmp_path):
    from seiswork import study as steps
    from seiswork.study import Study

    arrays, labels, ids = seed_arrays(36, seed=6)
    labels = np.array(["earthquake", "explosion", "noise"])[np.arange(36) % 3]
    path = save_npz(tmp_path / "events.npz", arrays, labels, meta=pd.DataFrame({"event_id": ids}))
    study = Study(data_paths=[str(path)], classes=["earthquake", "noise"], lazy=True, run_dir=str(tmp_path / "r"))
    loaded = steps.load_data(study, verbose=False)
    chosen = steps.select_classes(loaded, study, verbose=False)
    assert isinstance(chosen.events, LazyEvents) and len(chosen.events) == 24
    assert set(chosen.labels) == {"earthquake", "noise"}
    kept = np.flatnonzero(labels != "explosion")
    for got, i in zip(chosen.events.read(np.arange(24)), kept):
        np.testing.assert_array_equal(got, arrays[i])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lazy = steps.prepare_data(study, verbose=False)
        eager = steps.prepare_data(study.replace(lazy=False, run_dir=str(tmp_path / "e")), verbose=False)
    np.testing.assert_array_equal(lazy.x, eager.x)
    assert list(lazy.classes) == ["earthquake", "noise"]


@pytest.mark.parametrize("name", ["seisbench_dummy", "phasenet"])
def test_real_recordings_stream_to_the_same_array(shared_data, tmp_path, name):
    """The real recordings in ../shared/data, streamed from disk, give the in-memory adapter's result."""
    from seiswork.data.load import convert

    if name == "phasenet":  # a pickle: streamed once converted, as the lazy error message says
        path = convert(shared_data / "phasenet_eq_vs_noise" / "phasenet_eq_vs_noise.pkl", tmp_path / "pn.npz")
        kwargs = {}
    else:
        path, kwargs = shared_data / "seisbench_dummy", {"split_column": "split"}
    eager, lazy = load_events(path, verbose=False), load_events(path, lazy=True, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = seiswork.WaveformDataAdapter(eager, verbose=False, **kwargs)
        b = seiswork.WaveformDataAdapter(lazy, verbose=False, out=tmp_path / "pre.npz", **kwargs)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.kept, b.kept)
    assert a.report.as_dict() == b.report.as_dict()
