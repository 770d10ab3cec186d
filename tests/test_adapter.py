"""seiswork.data.adapter and .preprocess: TransformOP steps, NaN policies, trimming, z-score, splits, datasets, save/load, errors."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import torch

from seiswork import Split, TransformOP, WaveformDataAdapter
from tests.conftest import make_seed_events

ALL = TransformOP.DROP_NAN | TransformOP.TRIMMING | TransformOP.ZSCORE
CH = ["Z", "N", "E"]


def build(events, labels=None, **kw) -> WaveformDataAdapter:
    kw.setdefault("verbose", False)
    return WaveformDataAdapter(events, labels, **kw)


def frames(arrays) -> list[pd.DataFrame]:
    return [pd.DataFrame(a, columns=CH) for a in arrays]


def padded(data: np.ndarray, head: int, tail: int) -> np.ndarray:
    """``data`` with ``head``/``tail`` rows of NaN around it."""
    nan = np.full((head, data.shape[1]), np.nan), np.full((tail, data.shape[1]), np.nan)
    return np.concatenate([nan[0], data, nan[1]])


def array_events(n: int, seed: int = 0, classes=("a", "b"), length=(150, 200)):
    """Fast (time, channel) array events for split tests; labels cycle through ``classes``."""
    rng = np.random.default_rng(seed)
    events = [rng.normal(size=(int(rng.integers(*length)), 3)) for _ in range(n)]
    labels = np.array([classes[i % len(classes)] for i in range(n)])
    return events, labels


# ------------------------------------------------------------------------------------------------ flags


def test_transformop_flags_combine():
    ops = TransformOP.DROP_NAN | TransformOP.ZSCORE
    assert TransformOP.DROP_NAN in ops and TransformOP.ZSCORE in ops and TransformOP.TRIMMING not in ops
    assert {op.name for op in TransformOP} == {"DROP_NAN", "TRIMMING", "ZSCORE"}
    assert TransformOP.TRIMMING not in TransformOP(0)


# ------------------------------------------------------------------------------------------------ DROP_NAN


def test_drop_nan_alone_removes_edge_padding_exactly():
    rng = np.random.default_rng(1)
    data = [rng.normal(size=(150, 3)) for _ in range(6)]
    arrays = [padded(d, head, tail) for d, (head, tail) in zip(data, [(0, 0), (5, 0), (0, 7), (3, 9), (12, 1), (2, 2)])]
    arrays[1][5 + 150 :, 0] = 0.0  # no tail: nothing to change
    arrays[3][2, 1] = 1.0  # a partly-NaN edge row (only N finite) is still padding
    a = build(frames(arrays), ["x", "y"] * 3, transforms=TransformOP.DROP_NAN, test_ratio=0.5, val_ratio=0)
    assert a.x.shape == (6, 150, 3) and a.x.dtype == np.float32
    for row, i in enumerate(a.kept):
        np.testing.assert_array_equal(a.x[row], data[i].astype(np.float32))
    assert a.report.edge_nan_removed == 5 + 7 + 12 + 13 + 4
    assert a.report.samples_cut == 0 and not np.isnan(a.x).any()


def test_drop_nan_treats_partly_nan_rows_at_edges_as_padding():
    rng = np.random.default_rng(2)
    d = rng.normal(size=(130, 3))
    d[:4, 2] = np.nan  # only E missing at the start
    d[-3:, 0] = np.nan  # only Z missing at the end
    others = [rng.normal(size=(123, 3)) for _ in range(3)]
    a = build(frames([d] + others), ["x", "y"] * 2, transforms=TransformOP.DROP_NAN, val_ratio=0, test_ratio=0.5)
    row = int(np.flatnonzero(a.kept == 0)[0])
    np.testing.assert_array_equal(a.x[row], d[4:-3].astype(np.float32))


def test_interior_gap_drops_event_and_counts_it(seed_events):
    events, labels, ids = seed_events
    events = [df.copy() for df in events]
    events[5].iloc[150:153, 1] = np.nan  # a gap inside event 5
    with pytest.warns(UserWarning, match=r"dropped 1 event\(s\) with NaN gaps inside.*5"):
        a = build(events, labels, groups=ids)
    assert a.report.dropped == {"interior_nan": [5]} and a.report.n_dropped == 1
    assert 5 not in a.kept and len(a.kept) == 23 and a.x.shape[0] == 23
    assert all(5 not in part for part in a.split)
    assert "interior_nan: 1" in repr(a)


def test_interpolate_policy_fills_short_gaps_linearly():
    rng = np.random.default_rng(3)
    d = rng.normal(size=(140, 3))
    d[50:53, 0] = np.nan  # 3-sample gap in Z
    d[80, 2] = np.nan  # 1-sample gap in E
    others = [rng.normal(size=(140, 3)) for _ in range(3)]
    a = build(
        frames([d] + others), ["x", "y"] * 2, nan_policy="interpolate", max_gap=5, transforms=TransformOP.DROP_NAN,
        test_ratio=0.5, val_ratio=0,
    )
    row = int(np.flatnonzero(a.kept == 0)[0])
    want = d.copy()
    want[50:53, 0] = np.interp([50, 51, 52], [49, 53], [d[49, 0], d[53, 0]])
    want[80, 2] = (d[79, 2] + d[81, 2]) / 2
    np.testing.assert_allclose(a.x[row], want.astype(np.float32), rtol=1e-6)
    assert a.report.interpolated == [(0, 4)]
    assert a.report.n_dropped == 0


def test_interpolate_policy_still_drops_long_gaps(seed_events):
    events, labels, ids = seed_events
    events = [df.copy() for df in events]
    events[2].iloc[100:140, 0] = np.nan  # 40 samples > max_gap
    events[3].iloc[100:102, 0] = np.nan  # 2 samples: filled
    with pytest.warns(UserWarning, match="longer than max_gap=25"):
        a = build(events, labels, groups=ids, nan_policy="interpolate")
    assert a.report.dropped == {"interior_nan": [2]}
    assert [i for i, _ in a.report.interpolated] == [3]
    assert not np.isnan(a.x).any()


def test_raise_policy(seed_events):
    events, labels, _ = seed_events
    events = [df.copy() for df in events]
    events[7].iloc[200, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN gaps inside the signal: 7.*nan_policy='interpolate'"):
        build(events, labels, nan_policy="raise")


# ------------------------------------------------------------------------------------------------ TRIMMING


def test_trimming_alone_cuts_to_the_shortest_keeping_the_start():
    rng = np.random.default_rng(4)
    data = [rng.normal(size=(n, 3)) for n in (130, 150, 145, 170)]
    a = build(frames(data), ["x", "y"] * 2, transforms=TransformOP.TRIMMING, test_ratio=0.5, val_ratio=0)
    assert a.x.shape == (4, 130, 3)
    for row, i in enumerate(a.kept):
        np.testing.assert_array_equal(a.x[row], data[i][:130].astype(np.float32))
    assert a.report.samples_cut == 0 + 20 + 15 + 40
    assert a.report.samples_before_trim == 595
    assert a.report.cut_fraction == pytest.approx(75 / 595)
    assert a.report.shortest_event == 0


@pytest.mark.parametrize("trim, start", [("center", lambda n, L: (n - L) // 2), ("end", lambda n, L: n - L)])
def test_trim_center_and_end(trim, start):
    rng = np.random.default_rng(5)
    data = [rng.normal(size=(n, 3)) for n in (120, 151, 133, 170)]
    a = build(frames(data), ["x", "y"] * 2, transforms=TransformOP.TRIMMING, trim=trim, test_ratio=0.5, val_ratio=0)
    for row, i in enumerate(a.kept):
        s = start(len(data[i]), 120)
        np.testing.assert_array_equal(a.x[row], data[i][s : s + 120].astype(np.float32))


def test_trimming_to_a_fixed_length_drops_shorter_events(seed_events):
    events, labels, ids = seed_events
    lengths = [len(df.dropna()) for df in events]
    target = sorted(lengths)[2]  # two events are shorter
    shorter = [i for i, n in enumerate(lengths) if n < target]
    with pytest.warns(UserWarning, match="shorter than length"):
        a = build(events, labels, groups=ids, length=target)
    assert a.x.shape[1] == target
    assert a.report.dropped == {"shorter_than_length": shorter}
    assert set(a.kept).isdisjoint(shorter)
    cleaned = [events[i][CH].dropna().to_numpy() for i in a.kept]
    np.testing.assert_allclose(a.x, np.stack([scipy.stats.zscore(c[:target], axis=0) for c in cleaned]), atol=1e-5)
    assert a.report.samples_cut == sum(len(c) - target for c in cleaned)


def test_without_trimming_lengths_must_match(seed_events):
    events, labels, _ = seed_events
    with pytest.raises(ValueError, match="different lengths.*TransformOP.TRIMMING"):
        build(events, labels, transforms=TransformOP.DROP_NAN | TransformOP.ZSCORE)


# ------------------------------------------------------------------------------------------------ ZSCORE


def test_default_pipeline_matches_the_straightforward_version(seed_events):
    events, labels, ids = seed_events
    a = build(events, labels, groups=ids)
    cleaned = [df[CH].dropna().to_numpy() for df in events]
    length = min(len(c) for c in cleaned)
    ref = np.stack([scipy.stats.zscore(c[:length], axis=0) for c in cleaned])
    assert a.x.shape == (24, length, 3) and a.x.dtype == np.float32
    np.testing.assert_allclose(a.x, ref[a.kept], atol=1e-5)
    np.testing.assert_allclose(a.x.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(a.x.std(axis=1), 1, atol=1e-5)


def test_zscore_alone_on_equal_lengths():
    rng = np.random.default_rng(6)
    data = [5 + 3 * rng.normal(size=(200, 3)) for _ in range(4)]
    a = build(data, [0, 1, 0, 1], transforms=TransformOP.ZSCORE, test_ratio=0.5, val_ratio=0)
    np.testing.assert_allclose(a.x, np.stack([scipy.stats.zscore(data[i], axis=0) for i in a.kept]), atol=1e-5)


def test_constant_channel_becomes_zeros_not_nan(seed_events):
    events, labels, ids = seed_events
    events = [df.copy() for df in events]
    events[4]["E"] = np.where(events[4]["E"].isna(), np.nan, 7.25)  # dead component with an offset
    events[9]["Z"] = np.where(events[9]["Z"].isna(), np.nan, 0.0)
    with pytest.warns(RuntimeWarning, match=r"2 constant channel\(s\).*4:E"):
        a = build(events, labels, groups=ids)
    assert not np.isnan(a.x).any()
    assert sorted(a.report.constant_channels) == [(4, "E"), (9, "Z")]
    r4, r9 = (int(np.flatnonzero(a.kept == i)[0]) for i in (4, 9))
    assert np.all(a.x[r4, :, 2] == 0) and np.all(a.x[r9, :, 0] == 0)
    np.testing.assert_allclose(a.x[r4, :, :2].std(axis=0), 1, atol=1e-5)


def test_tiny_amplitudes_are_not_taken_for_constant():
    rng = np.random.default_rng(7)
    data = [1e-9 * rng.normal(size=(200, 3)) for _ in range(4)]  # velocities in m/s
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = build(data, [0, 1, 0, 1], test_ratio=0.5, val_ratio=0)
    np.testing.assert_allclose(a.x.std(axis=1), 1, atol=1e-5)


def test_without_drop_nan_nan_stays_and_zscore_ignores_it():
    rng = np.random.default_rng(8)
    data = [rng.normal(size=(150, 3)) for _ in range(4)]
    data[1][:3] = np.nan
    with pytest.warns(UserWarning, match="NaN values"):
        a = build(data, [0, 1, 0, 1], transforms=TransformOP.ZSCORE, test_ratio=0.5, val_ratio=0)
    row = int(np.flatnonzero(a.kept == 1)[0])
    assert np.isnan(a.x[row, :3]).all() and not np.isnan(a.x[row, 3:]).any()
    np.testing.assert_allclose(a.x[row, 3:].mean(axis=0), 0, atol=1e-5)
    assert a.report.nan_values_left == 9


def test_no_transforms_keeps_values():
    rng = np.random.default_rng(9)
    data = [rng.normal(size=(120, 3)) for _ in range(4)]
    a = build(data, ["p", "q", "p", "q"], transforms=None, test_ratio=0.5, val_ratio=0)
    np.testing.assert_array_equal(a.x, np.stack([data[i] for i in a.kept]).astype(np.float32))


def test_column_order_extra_columns_and_integer_counts_do_not_matter():
    rng = np.random.default_rng(11)
    data = [rng.integers(-500, 500, size=(130, 3)) for _ in range(4)]
    plain = build(frames(data), ["x", "y"] * 2, test_ratio=0.5, val_ratio=0)
    shuffled = [pd.DataFrame({"E": d[:, 2], "station": "ABC", "Z": d[:, 0], "N": d[:, 1]}) for d in data]
    other = build(shuffled, ["x", "y"] * 2, test_ratio=0.5, val_ratio=0)
    np.testing.assert_array_equal(plain.x, other.x)
    np.testing.assert_allclose(plain.x.std(axis=1), 1, atol=1e-5)
    as_arrays = build(data, ["x", "y"] * 2, test_ratio=0.5, val_ratio=0)
    np.testing.assert_array_equal(plain.x, as_arrays.x)


# ------------------------------------------------------------------------------------------------ purity


def test_inputs_are_never_modified(seed_events):
    events, labels, ids = seed_events
    events = [df.copy() for df in events]
    events[3].iloc[100:102, 1] = np.nan
    events[6]["N"] = np.where(events[6]["N"].isna(), np.nan, 1.0)
    before = copy.deepcopy((events, labels, ids))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = build(events, labels, groups=ids, nan_policy="interpolate")

    def in_place(ev):
        ev *= 0  # a badly behaved transform
        return ev

    train, test = a.get_datasets(transform_train=in_place)
    x_before = a.x.copy()
    for i in range(len(train)):
        train[i]
    np.testing.assert_array_equal(a.x, x_before)
    for got, want in zip(events, before[0]):
        pd.testing.assert_frame_equal(got, want)
    np.testing.assert_array_equal(labels, before[1])
    np.testing.assert_array_equal(ids, before[2])


def test_array_events_not_modified():
    events, labels = array_events(20)
    events[0][:5] = np.nan
    before = [e.copy() for e in events]
    build(events, labels)
    for got, want in zip(events, before):
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------------------------------ split


def assert_valid_split(a: WaveformDataAdapter):
    parts = [set(p.tolist()) for p in a.split]
    assert all(p.dtype == np.int64 for p in a.split)
    assert all(np.all(np.diff(p) > 0) for p in a.split)  # sorted, unique
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert parts[0] | parts[1] | parts[2] == set(a.kept.tolist())
    np.testing.assert_array_equal(a.kept, np.concatenate(list(a.split)))


def test_ungrouped_split_hits_ratios_and_stratifies():
    events, labels = array_events(300, classes=("a", "a", "b", "c"))  # 50% a, 25% b, 25% c
    a = build(events, labels, test_ratio=0.3, val_ratio=0.1)
    assert_valid_split(a)
    assert abs(len(a.split.test) - 90) <= 1
    assert abs(len(a.split.val) - 21) <= 1
    s = a.summary()
    share = s.loc[["a", "b", "c"], ["train", "val", "test"]] / s.loc[["a", "b", "c"], ["total"]].to_numpy()
    np.testing.assert_allclose(share["test"], 0.3, atol=0.02)
    np.testing.assert_allclose(share["val"], 0.07, atol=0.02)


def test_grouped_split_never_shares_an_event_id_and_stays_close():
    rng = np.random.default_rng(10)
    sizes = rng.integers(1, 6, size=120)  # 1-5 stations per event
    groups = np.repeat([f"ev{k}" for k in range(len(sizes))], sizes)
    n = len(groups)
    event_class = rng.choice(["eq", "blast", "noise"], size=len(sizes), p=[0.5, 0.3, 0.2])
    labels = np.repeat(event_class, sizes)
    events, _ = array_events(n)
    a = build(events, labels, groups=groups, test_ratio=0.3, val_ratio=0.15)
    assert_valid_split(a)
    g = [set(groups[p]) for p in a.split]
    assert not (g[0] & g[1] or g[0] & g[2] or g[1] & g[2])
    assert len(a.split.test) / n == pytest.approx(0.3, abs=0.02)
    assert len(a.split.val) / len(np.concatenate([a.split.train, a.split.val])) == pytest.approx(0.15, abs=0.03)
    s = a.summary().drop(index="total")
    np.testing.assert_allclose(s["test"] / s["total"], 0.3, atol=0.04)


def test_split_is_deterministic_per_seed():
    grouped = make_seed_events(n=60, seed=1)
    ungrouped = array_events(200)
    for events, labels, kw in ((grouped[0], grouped[1], {"groups": grouped[2]}), (*ungrouped, {})):
        a, b = build(events, labels, seed=3, **kw), build(events, labels, seed=3, **kw)
        c = build(events, labels, seed=4, **kw)
        assert isinstance(a.split, Split)
        for p, q in zip(a.split, b.split):
            np.testing.assert_array_equal(p, q)
        np.testing.assert_array_equal(a.x, b.x)
        assert not np.array_equal(a.split.test, c.split.test)


def test_event_ids_from_meta(seed_events):
    events, labels, ids = seed_events
    meta = pd.DataFrame({"event_id": ids, "station": "STA"})
    a = build(events, labels, meta=meta)
    assert a.grouped
    g = [set(ids[p]) for p in a.split]
    assert not (g[0] & g[1] or g[0] & g[2] or g[1] & g[2])


def test_missing_event_ids_count_as_unique():
    events, labels = array_events(40)
    groups = np.array([None if i % 2 else f"ev{i // 4}" for i in range(40)], dtype=object)
    a = build(events, labels, groups=groups)
    assert_valid_split(a)
    named = groups[[i for i in range(40) if i % 2 == 0]]
    for p, q in [(0, 2), (0, 1), (1, 2)]:
        left = {groups[i] for i in list(a.split)[p] if groups[i] is not None}
        right = {groups[i] for i in list(a.split)[q] if groups[i] is not None}
        assert not left & right
    assert len(set(named)) == 10


def test_eventset_input_uses_its_labels_and_meta(seed_events):
    from seiswork import EventSet
    events, labels, ids = seed_events
    meta = pd.DataFrame({"source": "x.pkl", "index": np.arange(24), "label": labels, "event_id": ids})
    es = EventSet(events, labels, meta=meta)
    a = build(es)
    assert a.grouped and list(a.classes) == ["earthquake", "explosion"]
    np.testing.assert_array_equal(a.groups, ids)


def test_val_ratio_zero_gives_empty_val(seed_events):
    events, labels, ids = seed_events
    a = build(events, labels, groups=ids, val_ratio=0)
    assert len(a.split.val) == 0 and len(a.dataset("val")) == 0
    assert_valid_split(a)


def test_integer_labels_and_summary(seed_events):
    events, _, ids = seed_events
    labels = np.array([i % 3 for i in range(24)])
    a = build(events, labels, groups=ids)
    assert a.classes.tolist() == [0, 1, 2] and a.y.dtype == np.int64
    np.testing.assert_array_equal(a.y, labels[a.kept])
    s = a.summary()
    assert list(s.columns) == ["train", "val", "test", "total"]
    assert s.loc["total", "total"] == 24
    assert s.loc[[0, 1, 2], "total"].tolist() == [8, 8, 8]


def test_repr_and_verbose(seed_events, capsys):
    events, labels, ids = seed_events
    a = WaveformDataAdapter(events, labels, groups=ids)
    out = capsys.readouterr().out
    assert "24 events loaded, 24 kept" in out and "grouped by event id" in out
    text = repr(a)
    for piece in ("x (24,", "TRIMMING (keep start)", "earthquake 12", "train"):
        assert piece in text


# ------------------------------------------------------------------------------------------------ datasets


def test_get_datasets_items_and_memory(seed_events):
    events, labels, ids = seed_events
    a = build(events, labels, groups=ids)
    train, test = a.get_datasets()
    assert len(train) == len(a.split.train) and len(test) == len(a.split.test)
    val = a.dataset("val")
    assert len(train) + len(val) + len(test) == len(a.kept)
    x, label = train[0]
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32 and x.shape == (a.x.shape[1], 3)
    assert isinstance(label, int)
    for part, ds in (("train", train), ("val", val), ("test", test)):
        assert np.shares_memory(ds.x, a.x)  # views, no copies
        idx = getattr(a.split, part)
        for j in (0, len(ds) - 1):
            row = int(np.flatnonzero(a.kept == idx[j])[0])
            np.testing.assert_array_equal(ds[j][0].numpy(), a.x[row])
            assert ds[j][1] == a.y[row]
    assert list(train.classes) == list(a.classes)
    with pytest.raises(ValueError, match="part='training'"):
        a.dataset("training")


def test_get_datasets_again_uses_the_new_transforms(seed_events):
    events, labels, ids = seed_events
    a = build(events, labels, groups=ids)
    train, test = a.get_datasets(lambda e: e * 0, lambda e: e[:10])
    assert torch.all(train[0][0] == 0) and test[0][0].shape == (10, 3)
    train, test = a.get_datasets(lambda e: e + 1, None)
    np.testing.assert_allclose(train[0][0].numpy(), a.dataset("train").x[0] + 1)
    assert test.transform is None and test[0][0].shape == (a.x.shape[1], 3)


# ------------------------------------------------------------------------------------------------ save/load


def test_save_load_round_trip(tmp_path, seed_events):
    events, labels, ids = seed_events
    meta = pd.DataFrame({"event_id": ids, "station": [f"S{i % 5}" for i in range(24)], "sr": 100.0})
    a = build(events, labels, meta=meta, nan_policy="interpolate")
    path = a.save(tmp_path / "pre.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pre.npz"]  # no temp file left behind
    for mmap in (True, False):
        b = WaveformDataAdapter.load(path, mmap=mmap)
        np.testing.assert_array_equal(b.x, a.x)
        assert b.x.dtype == np.float32 and b.x.shape == a.x.shape
        np.testing.assert_array_equal(b.y, a.y)
        np.testing.assert_array_equal(b.classes, a.classes)
        np.testing.assert_array_equal(b.kept, a.kept)
        np.testing.assert_array_equal(b.groups, a.groups)
        for p, q in zip(a.split, b.split):
            np.testing.assert_array_equal(p, q)
        assert b.channels == a.channels and b.transforms == a.transforms and b.seed == a.seed
        assert b.report == a.report
        pd.testing.assert_frame_equal(b.meta, a.meta)
        assert repr(b) == repr(a)
        pd.testing.assert_frame_equal(b.summary(), a.summary())
        tr, _ = b.get_datasets()
        np.testing.assert_array_equal(tr[1][0].numpy(), a.dataset("train").x[1])
    b = WaveformDataAdapter.load(path)
    assert not b.x.flags.owndata  # memory-mapped
    b.x[0] = 99.0  # copy-on-write: the file is untouched
    np.testing.assert_array_equal(WaveformDataAdapter.load(path).x, a.x)
    with np.load(path, allow_pickle=False) as plain:  # a standard .npz, readable without pickle
        np.testing.assert_array_equal(plain["x"], a.x)


def test_save_refuses_to_overwrite_when_asked(tmp_path, seed_events):
    events, labels, ids = seed_events
    a = build(events, labels, groups=ids)
    a.save(tmp_path / "pre.npz")
    with pytest.raises(FileExistsError, match="already exists"):
        a.save(tmp_path / "pre.npz", overwrite=False)
    with pytest.raises(ValueError, match=r"\.npz"):
        a.save(tmp_path / "pre.pkl")


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        WaveformDataAdapter.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not written by WaveformDataAdapter.save"):
        WaveformDataAdapter.load(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a preprocessed-events .npz"):
        WaveformDataAdapter.load(tmp_path / "junk.npz")


# ------------------------------------------------------------------------------------------------ errors


def test_error_event_label_count_mismatch(seed_events):
    events, labels, _ = seed_events
    with pytest.raises(ValueError, match="24 events but 23 labels"):
        build(events, labels[:-1])


def test_error_missing_channel(seed_events):
    events, labels, _ = seed_events
    events = [df.copy() for df in events]
    events[3] = events[3].drop(columns="E")
    with pytest.raises(ValueError, match=r"event 3 has no column\(s\) \['E'\] \(it has \['Z', 'N', 'time'\]\)"):
        build(events, labels)
    with pytest.raises(ValueError, match=r"event 0 has no column\(s\) \['HHZ'\]"):
        build(seed_events[0], labels, channels=("HHZ", "N", "E"))


def test_error_all_nan_event(seed_events):
    events, labels, _ = seed_events
    events = [df.copy() for df in events]
    events[8][CH] = np.nan
    events[11]["N"] = np.nan
    with pytest.raises(ValueError, match=r"2 event\(s\) have no sample.*8 \(all NaN\), 11 \(channel N all NaN\)"):
        build(events, labels)


def test_error_event_too_short(seed_events):
    events, labels, _ = seed_events
    events = [df.copy() for df in events]
    events[6].iloc[60:] = np.nan
    with pytest.raises(ValueError, match=r"shorter than min_length=100 samples after removing NaN padding: 6 \(\d+ samples\).*lower min_length"):
        build(events, labels)
    build(events, labels, min_length=40)  # lowering the minimum accepts it


def test_error_single_class(seed_events):
    events, _, _ = seed_events
    with pytest.raises(ValueError, match="single class 'quake'"):
        build(events, ["quake"] * 24)


def test_error_class_vanishes_after_drops():
    events, labels = array_events(6)
    for i in (1, 3, 5):  # every "b" event has a gap
        events[i][70, 0] = np.nan
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="only class 'a' has events left"):
        build(events, labels)


@pytest.mark.parametrize("kw, match", [
    ({"test_ratio": 0}, "test_ratio=0 is out of range"),
    ({"test_ratio": 1.0}, "test_ratio=1.0 is out of range"),
    ({"test_ratio": -0.2}, "test_ratio=-0.2 is out of range"),
    ({"val_ratio": 1}, "val_ratio=1 is out of range"),
    ({"val_ratio": -0.1}, "val_ratio=-0.1 is out of range"),
    ({"trim": "middle"}, "trim='middle'"),
    ({"nan_policy": "fill"}, "nan_policy='fill'"),
    ({"min_length": 1}, "min_length=1"),
    ({"length": 50}, "below min_length"),
    ({"length": 300, "transforms": TransformOP.DROP_NAN}, "needs TransformOP.TRIMMING"),
])
def test_error_bad_parameters(seed_events, kw, match):
    events, labels, _ = seed_events
    with pytest.raises(ValueError, match=match):
        build(events, labels, **kw)


def test_error_groups_length_mismatch(seed_events):
    events, labels, ids = seed_events
    with pytest.raises(ValueError, match=r"one id per event: 24 events but groups has shape \(20,\)"):
        build(events, labels, groups=ids[:20])
    with pytest.raises(ValueError, match="meta must be a DataFrame with one row per event"):
        build(events, labels, meta=pd.DataFrame({"event_id": ids[:5]}))


def test_error_bad_event_types(seed_events):
    events, labels, _ = seed_events
    with pytest.raises(TypeError, match="event 2 is a list"):
        build(events[:2] + [[1, 2, 3]] + events[3:], labels)
    with pytest.raises(ValueError, match=r"event 0 has shape \(200, 2\)"):
        build([np.zeros((200, 2))] * 4, [0, 1, 0, 1])
    with pytest.raises(TypeError, match="list of DataFrames"):
        build(events[0], labels)
    with pytest.raises(TypeError, match="TransformOP flags"):
        build(events, labels, transforms="ZSCORE")
    with pytest.raises(ValueError, match="events is empty"):
        build([], [])


def test_error_missing_labels(seed_events):
    events, labels, _ = seed_events
    labels = labels.astype(object)
    labels[4] = None
    with pytest.raises(ValueError, match=r"labels are missing \(None/NaN\) for event\(s\) 4"):
        build(events, labels)


def test_error_class_with_a_single_event():
    events, labels = array_events(11)
    labels[10] = "rare"
    with pytest.raises(ValueError, match="single event"):
        build(events, labels)


# ------------------------------------------------------------------------------------------------ real data


@pytest.mark.data
def test_real_phasenet_grouped_split(shared_data):
    path = shared_data / "phasenet_eq_vs_noise" / "phasenet_eq_vs_noise.pkl"
    try:
        from seiswork import load_events
    except ImportError:
        with open(path, "rb") as f:
            events, labels = pickle.load(f)
        meta = pd.read_csv(path.with_name("phasenet_eq_vs_noise.meta.csv"))
        data = dict(events=events, labels=labels, meta=meta)
    else:
        es = load_events(path, verbose=False)
        data = dict(events=es)
    a = build(**data)
    ids = a.groups
    assert a.grouped and a.x.shape == (230, 2900, 3)
    g = [set(ids[p]) for p in a.split]
    assert not (g[0] & g[1] or g[0] & g[2] or g[1] & g[2])
    assert len(a.split.test) / 230 == pytest.approx(0.3, abs=0.02)
    s = a.summary()
    assert s.loc["earthquake", "test"] == s.loc["noise", "test"]  # each event id holds one of each
    np.testing.assert_allclose(a.x.std(axis=1), 1, atol=1e-4)
