"""seiswork.data.npz: one .npz format for event files and preprocessed caches; files written before it still load.

``fixtures/v0_*.npz`` were written by the code before the data package (commit 9e45347): ``v0_events.npz``
by the former ``seiswork.io.save_npz`` (through ``np.savez``), ``v0_adapter.npz`` by ``WaveformDataAdapter.save``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seiswork import WaveformDataAdapter, load_events, save_npz
from seiswork.data.npz import read_npz, write_npz
from tests.conftest import make_seed_events

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def mapped(a: np.ndarray) -> bool:
    """Whether ``a`` is (a view of) a memory map."""
    while a is not None:
        if isinstance(a, np.memmap):
            return True
        a = a.base if isinstance(a, np.ndarray) else None
    return False


def v0_small_events():
    """The events in ``v0_events.npz``, as its writer made them."""
    rng = np.random.default_rng(0)
    small = [rng.normal(size=(40 + 5 * i, 3)) for i in range(6)]
    small[2][:3] = np.nan
    meta = pd.DataFrame({"event_id": [f"e{i // 2}" for i in range(6)], "station": ["A", None, "C", "D", "E", "F"],
                         "mag": np.linspace(1, 2, 6)})
    return small, ["eq", "ex"] * 3, meta


def test_event_file_from_before_loads(tmp_path):
    small, labels, meta = v0_small_events()
    old = load_events(FIXTURES / "v0_events.npz", verbose=False)
    for ev, ref in zip(old.events, small):
        np.testing.assert_array_equal(ev.to_numpy(), ref.astype(np.float32))
    assert old.labels.tolist() == labels
    assert old.meta["station"].tolist()[2:] == ["C", "D", "E", "F"] and pd.isna(old.meta["station"][1])
    new = load_events(save_npz(tmp_path / "new.npz", small, labels, meta=meta), verbose=False)
    pd.testing.assert_frame_equal(new.meta.drop(columns="source"), old.meta.drop(columns="source"))
    for a, b in zip(new.events, old.events):
        pd.testing.assert_frame_equal(a, b)


def test_cache_from_before_loads_and_matches_todays_preprocessing():
    events, labels, ids = make_seed_events(10, seed=1)
    today = WaveformDataAdapter(events, labels, groups=ids, length=120, test_ratio=0.3, val_ratio=0.2, seed=5,
                                verbose=False)
    for mmap in (True, False):
        old = WaveformDataAdapter.load(FIXTURES / "v0_adapter.npz", mmap=mmap)
        assert old.x.tobytes() == today.x.tobytes()  # bit for bit
        np.testing.assert_array_equal(old.y, today.y)
        for p, q in zip(old.split, today.split):
            np.testing.assert_array_equal(p, q)
        assert old.report == today.report and repr(old) == repr(today)
    assert mapped(WaveformDataAdapter.load(FIXTURES / "v0_adapter.npz").x)
    assert not mapped(WaveformDataAdapter.load(FIXTURES / "v0_adapter.npz", mmap=False).x)


def test_cache_written_today_is_the_same_file(tmp_path):
    events, labels, ids = make_seed_events(10, seed=1)
    a = WaveformDataAdapter(events, labels, groups=ids, length=120, test_ratio=0.3, val_ratio=0.2, seed=5,
                            verbose=False)
    path = a.save(tmp_path / "pre.npz")
    # the same members as the fixture written before the streamed store, plus each event's length
    with np.load(path) as now, np.load(FIXTURES / "v0_adapter.npz") as before:
        assert set(now.files) == set(before.files) | {"lengths"}
        for name in before.files:
            np.testing.assert_array_equal(now[name], before[name], err_msg=name)
        finite = [np.flatnonzero(np.isfinite(np.asarray(e, dtype=float)).all(axis=1)) for e in events]
        np.testing.assert_array_equal(now["lengths"], [f[-1] - f[0] + 1 for f in finite])  # without NaN edges


def test_event_files_are_memory_mappable(tmp_path):
    small, labels, meta = v0_small_events()
    path = save_npz(tmp_path / "e.npz", small, labels, meta=meta)
    z = read_npz(path, "an events file", "fix it", mmap=("data", "offsets"))
    assert mapped(z["data"]) and mapped(z["offsets"]) and not mapped(z["labels"])
    z["data"][:] = 0  # copy-on-write: the file keeps its data
    with np.load(path, allow_pickle=False) as plain:  # a standard .npz
        assert plain["data"].any()
        np.testing.assert_array_equal(plain["offsets"], np.cumsum([0] + [len(e) for e in small]))


def test_compressed_files_are_read_not_mapped(tmp_path):
    small, labels, _ = v0_small_events()
    path = save_npz(tmp_path / "c.npz", small, labels, compress=True)
    with zipfile.ZipFile(path) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}
    z = read_npz(path, "an events file", "fix it", mmap=("data",))
    assert not mapped(z["data"])
    es = load_events(path, verbose=False)
    np.testing.assert_array_equal(es.events[3].to_numpy(), small[3].astype(np.float32))


def test_write_npz_is_atomic_and_respects_overwrite(tmp_path):
    path = write_npz(tmp_path / "a.npz", {"x": np.arange(3)})
    with pytest.raises(FileExistsError, match="already exists"):
        write_npz(path, {"x": np.arange(4)}, overwrite=False)
    assert read_npz(path, "a", "b")["x"].tolist() == [0, 1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]  # no temporary file left


def test_read_npz_errors(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"junk\.npz: not a thing \(.*\); do this"):
        read_npz(junk, "a thing", "do this")
    single = tmp_path / "single.npz"
    np.save(single.open("wb"), np.zeros(3))
    with pytest.raises(ValueError, match=r"single\.npz: holds a single array, not a thing; do this"):
        read_npz(single, "a thing", "do this")
    objects = tmp_path / "objects.npz"
    np.savez(objects, a=np.array([{"k": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"objects\.npz: holds arrays that need pickle .*refused\. do this"):
        read_npz(objects, "a thing", "do this")

    def check(keys):
        raise ValueError(f"keys {sorted(keys)}")

    with pytest.raises(ValueError, match=r"keys \['a'\]"):
        read_npz(objects, "a thing", "do this", check=check)  # checked before anything is read
