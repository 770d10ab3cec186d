"""Tests for seiswork.synthetic: determinism, format, and physics checks that can fail."""

from __future__ import annotations

import functools
import os
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.signal import butter, sosfiltfilt

from seiswork import synthetic
from seiswork.synthetic import make_events, spectral_baseline, write_default

SR = 100.0


@pytest.fixture(scope="module")
def default_set():
    """A modest set at the default difficulty, shared by the format and physics tests."""
    return make_events(240, seed=11)


@pytest.fixture(scope="module")
def clean_set():
    """An easy set (difficulty 0) for the waveform measurements."""
    return make_events(240, seed=5, difficulty=0.0)


def _valid(df: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Non-NaN samples ``(time, 3)`` and the row where they start."""
    x = df.to_numpy()
    ok = ~np.isnan(x).any(axis=1)
    return x[ok], int(np.flatnonzero(ok)[0])


@functools.lru_cache(maxsize=None)
def _sos(low: float | None, high: float | None) -> np.ndarray:
    if low and high:
        return butter(4, [low, high], btype="bandpass", fs=SR, output="sos")
    if low:
        return butter(4, low, btype="highpass", fs=SR, output="sos")
    return butter(4, high, btype="lowpass", fs=SR, output="sos")


def _filt(x: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    """Zero-phase Butterworth band-pass (or high/low-pass when one corner is None), corners in Hz."""
    return sosfiltfilt(_sos(low, high), x, axis=0)


def _energy(x: np.ndarray, t0: float, t1: float) -> np.ndarray:
    i0, i1 = max(0, int(round(t0 * SR))), max(int(round(t0 * SR)) + 1, int(round(t1 * SR)))
    return (x[i0:i1] ** 2).mean(axis=0)


# ---------------------------------------------------------------------------------------------------
# determinism and format


def test_same_seed_same_events():
    a = make_events(30, seed=3)
    b = make_events(30, seed=3)
    assert len(a[0]) == len(b[0]) == 30
    for ea, eb in zip(a[0], b[0]):
        pd.testing.assert_frame_equal(ea, eb)
    np.testing.assert_array_equal(a[1], b[1])
    pd.testing.assert_frame_equal(a[2], b[2])


def test_different_seed_different_events():
    a = make_events(30, seed=3)
    b = make_events(30, seed=4)
    assert not a[2]["distance_km"].equals(b[2]["distance_km"])
    assert any(len(ea) != len(eb) or not ea.equals(eb) for ea, eb in zip(a[0], b[0]))


def test_shapes_columns_dtypes(default_set):
    events, labels, meta = default_set
    assert len(events) == len(labels) == len(meta) == 240
    assert labels.dtype.kind == "U"
    assert set(labels) == {"earthquake", "explosion"}
    for ev in events:
        assert list(ev.columns) == ["Z", "N", "E"]
        assert all(ev[c].dtype == np.float64 for c in ev.columns)
        assert isinstance(ev.index, pd.RangeIndex) and ev.index.start == 0
    need = {"event_id", "station", "sampling_rate", "distance_km", "magnitude", "depth_km", "p_arrival_s",
            "s_arrival_s", "snr_db", "n_samples", "first_valid", "last_valid"}
    assert need <= set(meta.columns)
    assert (meta["sampling_rate"] == SR).all()
    assert (meta["n_samples"].to_numpy() == [len(ev) for ev in events]).all()
    assert meta["distance_km"].between(10, 80).all()


def test_lengths_vary_and_nan_only_at_edges(default_set):
    events, _, meta = default_set
    lengths = np.array([len(ev) for ev in events])
    assert lengths.min() >= 1600 and lengths.max() <= 2000 and len(np.unique(lengths)) > 50
    heads = tails = 0
    for i, ev in enumerate(events):
        nan = ev.isna().to_numpy()
        assert (nan.all(axis=1) == nan.any(axis=1)).all(), f"event {i}: NaN on some channels only"
        valid = np.flatnonzero(~nan[:, 0])
        assert valid[-1] - valid[0] + 1 == len(valid), f"event {i}: NaN gap inside"
        assert (valid[0], valid[-1]) == (meta["first_valid"][i], meta["last_valid"][i])
        assert len(valid) >= 1400
        heads += valid[0] > 0
        tails += valid[-1] < len(ev) - 1
    assert heads > 40 and tails > 40  # both kinds of padding occur


def test_stations_share_event_ids_and_labels(default_set):
    _, labels, meta = default_set
    groups = meta.assign(label=labels).groupby("event_id")
    assert (groups.size() == 3).all()  # 240 recordings, 3 stations each
    assert (groups["label"].nunique() == 1).all()
    assert (groups["station"].nunique() == 3).all()
    assert (groups["magnitude"].nunique() == 1).all() and (groups["depth_km"].nunique() == 1).all()
    assert (groups["distance_km"].nunique() == 3).all()


def test_classes_are_balanced_and_configurable():
    _, labels, meta = make_events(120, seed=0)
    assert (labels == "earthquake").sum() == (labels == "explosion").sum() == 60
    _, labels, meta = make_events(100, seed=0, stations_per_event=1, classes=("explosion", "noise", "earthquake"),
                                  class_balance=(2, 1, 1))
    counts = pd.Series(labels).value_counts()
    assert counts["explosion"] == 50 and counts["noise"] == 25 and counts["earthquake"] == 25
    assert meta.loc[labels == "noise", "distance_km"].isna().all()


def test_horizontals_are_rotated(default_set):
    events, _, _ = default_set
    corr = [np.corrcoef(_valid(ev)[0][:, 1], _valid(ev)[0][:, 2])[0, 1] for ev in events[:20]]
    assert np.max(np.abs(corr)) < 0.99  # N and E are different mixes of radial and transverse


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_events": 0}, "n_events"),
        ({"difficulty": 1.5}, "difficulty"),
        ({"classes": ("earthquake", "meteor")}, "meteor"),
        ({"classes": ("earthquake",), "class_balance": (1, 2)}, "class_balance"),
        ({"stations_per_event": 0}, "stations_per_event"),
        ({"sampling_rate": 5.0}, "sampling_rate"),
        ({"distance_range_km": (10.0, 300.0)}, "distance_range_km"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_events(**{"n_events": 6, **kwargs})


def test_bad_seed_raises():
    with pytest.raises(TypeError, match="seed"):
        make_events(6, seed=1.5)


# ---------------------------------------------------------------------------------------------------
# physics


def test_s_minus_p_grows_with_distance_in_meta(default_set):
    _, _, meta = default_set
    sp = meta["s_arrival_s"] - meta["p_arrival_s"]
    r = np.hypot(meta["distance_km"], meta["depth_km"])
    slope = np.polyfit(r, sp, 1)[0]
    assert slope == pytest.approx(1 / 3.5 - 1 / 6.0, rel=0.1)  # s/km
    assert np.corrcoef(r, sp)[0, 1] > 0.99


def test_s_minus_p_measured_on_the_waveforms(clean_set):
    """Pick P on Z (energy above the pre-event noise) and S (horizontal energy at half its peak) on the records."""
    events, labels, meta = clean_set
    measured, expected, dist = [], [], []
    for i in np.flatnonzero((labels == "earthquake") & (meta["snr_db"] > 20)):
        x, start = _valid(events[i])
        hp = _filt(x, 2.0, None)
        win = int(0.2 * SR)
        env = np.apply_along_axis(lambda c: np.convolve(c ** 2, np.ones(win) / win, mode="same"), 0, hp)
        noise = env[int(0.1 * SR): int(0.45 * SR), 0].max()  # >= 0.5 s of noise precede P
        p = np.argmax(env[:, 0] > 4 * noise)
        h = env[:, 1] + env[:, 2]
        s = np.argmax(h > 0.5 * h.max())
        measured.append((s - p) / SR)
        expected.append(meta["s_arrival_s"][i] - meta["p_arrival_s"][i])
        dist.append(meta["distance_km"][i])
    measured, expected = np.array(measured), np.array(expected)
    assert len(measured) > 60
    assert np.mean(np.abs(measured - expected) < 1.0) > 0.8
    assert pd.Series(measured).corr(pd.Series(dist), method="spearman") > 0.8


def _s_to_p_energy(events, labels, meta, cls):
    """Per recording of ``cls``: log10 S-window over P-window energy (1.5 s windows, > 1 Hz) for Z and for
    N + E, and log10 of Z over mean horizontal energy in the P window. Shape ``(n, 3)``."""
    out = []
    for i in np.flatnonzero(labels == cls):
        x, start = _valid(events[i])
        hp = _filt(x, 1.0, None)
        tp = meta["p_arrival_s"][i] - start / SR
        ts = meta["s_arrival_s"][i] - start / SR
        e_p = _energy(hp, tp, tp + min(1.5, ts - tp - 0.1))
        e_s = _energy(hp, ts, ts + 1.5)
        out.append([np.log10(e_s[0] / e_p[0]), np.log10((e_s[1] + e_s[2]) / (e_p[1] + e_p[2])),
                    np.log10(e_p[0] / (0.5 * (e_p[1] + e_p[2])))])
    return np.array(out)


def test_earthquake_s_beats_p_on_horizontals_explosion_weaker(default_set, clean_set):
    eq = _s_to_p_energy(*default_set, "earthquake").mean(axis=0)
    ex = _s_to_p_energy(*default_set, "explosion").mean(axis=0)
    assert eq[1] > 0.5  # S energy > 3x P energy on N, E
    assert ex[1] < eq[1] - 0.3
    assert eq[2] > 0 and ex[2] > 0  # P is polarised on Z
    # clean records: a wide gap, and on Z a blast's P outweighs its S
    eq = _s_to_p_energy(*clean_set, "earthquake").mean(axis=0)
    ex = _s_to_p_energy(*clean_set, "explosion").mean(axis=0)
    assert ex[1] < eq[1] - 1.0
    assert ex[0] < 0 < eq[0]


def test_explosions_have_more_late_low_frequency_energy(default_set):
    """Rg (0.5-2 Hz) after S: a larger share of the late Z energy for blasts than for earthquakes."""
    events, labels, meta = default_set
    share = []
    for i, ev in enumerate(events):
        x, start = _valid(ev)
        ts = meta["s_arrival_s"][i] - start / SR
        z = (x[:, 0] - x[:, 0].mean()) / x[:, 0].std()
        late = slice(int(ts * SR), None)
        band = _filt(z, 0.5, 2.0)[late]
        broad = _filt(z, 0.4, None)[late]
        share.append(np.log10((band ** 2).mean() / (broad ** 2).mean()))
    share = np.array(share)
    ex, eq = share[labels == "explosion"], share[labels == "earthquake"]
    assert ex.mean() > eq.mean() + 0.3
    near = (meta["distance_km"] < 40).to_numpy()
    assert np.median(share[near & (labels == "explosion")]) > np.median(share[near & (labels == "earthquake")]) + 0.5


def test_separable_but_not_perfect_at_default(default_set):
    events, labels, meta = default_set
    acc = spectral_baseline(events, labels, meta["event_id"].to_numpy())
    assert 0.7 < acc < 1.0


def test_difficulty_lowers_separability():
    accs = []
    for d in (0.0, 0.5, 1.0):
        events, labels, meta = make_events(180, seed=21, difficulty=d)
        accs.append(spectral_baseline(events, labels, meta["event_id"].to_numpy()))
    assert accs[0] > 0.85
    assert accs[0] >= accs[1] - 0.03 and accs[1] >= accs[2] - 0.03
    assert accs[0] - accs[2] > 0.15
    snr = [make_events(60, seed=2, difficulty=d)[2]["snr_db"].median() for d in (0.0, 1.0)]
    assert snr[0] > snr[1] + 10


# ---------------------------------------------------------------------------------------------------
# writing


def test_default_path_under_resources(tmp_path, monkeypatch):
    monkeypatch.setenv("SEISWORK_RESOURCES", str(tmp_path))
    assert synthetic.default_path() == tmp_path / "default_events.pkl"


def test_write_default_round_trip_and_no_rewrite(tmp_path, capsys):
    path = write_default(tmp_path / "small.pkl", n_events=24, seed=2)
    assert path == tmp_path / "small.pkl"
    sidecar = tmp_path / "small.meta.csv"
    assert path.exists() and sidecar.exists()
    assert "wrote 24" in capsys.readouterr().out
    with open(path, "rb") as f:
        events, labels = pickle.load(f)
    ref_events, ref_labels, ref_meta = make_events(24, seed=2)
    assert isinstance(events, list) and len(events) == 24
    pd.testing.assert_frame_equal(events[5], ref_events[5])
    assert isinstance(labels, np.ndarray) and labels.dtype.kind == "U"
    np.testing.assert_array_equal(labels, ref_labels)
    meta = pd.read_csv(sidecar, dtype={"event_id": str, "station": str})
    assert len(meta) == 24
    assert list(meta.columns[:3]) == ["event_id", "station", "sampling_rate"]
    np.testing.assert_array_equal(meta["event_id"], ref_meta["event_id"])
    assert not list(tmp_path.glob(".*tmp"))  # no temp files left behind

    before = (path.stat().st_mtime_ns, sidecar.stat().st_mtime_ns)
    os.utime(path, ns=(before[0] - 10**9, before[0] - 10**9))  # an older mtime: a rewrite would show
    os.utime(sidecar, ns=(before[1] - 10**9, before[1] - 10**9))
    before = (path.stat().st_mtime_ns, sidecar.stat().st_mtime_ns)
    assert write_default(tmp_path / "small.pkl", n_events=24, seed=2) == path
    assert (path.stat().st_mtime_ns, sidecar.stat().st_mtime_ns) == before
    assert "kept existing" in capsys.readouterr().out
    write_default(tmp_path / "small.pkl", n_events=12, seed=2, overwrite=True)
    assert len(pd.read_csv(sidecar)) == 12


def test_written_pickle_loads_with_the_safe_loader(tmp_path):
    from seiswork.data import load as io

    path = write_default(tmp_path / "d.pkl", n_events=12, seed=1)
    es = io.load_events(path, verbose=False)  # trusted=False: the restricted unpickler
    events, labels = es
    assert len(events) == 12
    np.testing.assert_array_equal(labels, make_events(12, seed=1)[1])
    if hasattr(es, "meta") and "event_id" in es.meta:
        assert es.meta["event_id"].nunique() == 4
