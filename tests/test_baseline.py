"""The physics-feature baseline: each feature measures what its name says on events built to known values."""

from __future__ import annotations

import numpy as np
import pytest

from seiswork.baseline import feature_names, make_baseline, physics_features

FS = 100.0


def _event(t_s: float = 40.0, seed: int = 0, noise: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return noise * rng.normal(size=(int(t_s * FS), 3))


def _burst(x: np.ndarray, start_s: float, dur_s: float, freq_hz: float, amp: np.ndarray) -> None:
    i0, n = int(start_s * FS), int(dur_s * FS)
    t = np.arange(n) / FS
    x[i0:i0 + n] += np.sin(2 * np.pi * freq_hz * t)[:, None] * np.hanning(n)[:, None] * amp[None, :]


def _column(name: str) -> int:
    return feature_names(["Z", "N", "E"], FS).index(name)


def test_tone_lands_in_its_octave_band():
    x = _event()
    _burst(x, 5, 20, 3.0, np.array([1.0, 1.0, 1.0]))
    f = physics_features(x[None], FS)[0]
    bands = [name for name in feature_names(["Z", "N", "E"], FS) if name.startswith("log_power_Z_")]
    powers = [f[_column(name)] for name in bands]
    assert bands[int(np.argmax(powers))] == "log_power_Z_2-4Hz"


def test_early_late_ratio_follows_the_p_to_s_amplitude_ratio():
    def ratio(p_amp: float, s_amp: float) -> float:
        x = _event()
        _burst(x, 10, 2, 8.0, np.array([p_amp, p_amp / 3, p_amp / 3]))  # P: mostly vertical
        _burst(x, 14, 4, 3.0, np.array([s_amp / 3, s_amp, s_amp]))  # S: mostly horizontal, later
        return physics_features(x[None], FS)[0]

    strong_s, weak_s = ratio(1.0, 6.0), ratio(4.0, 1.0)  # earthquake-like vs blast-like
    assert strong_s[_column("log_onset_over_peak_energy")] < weak_s[_column("log_onset_over_peak_energy")] - 1
    assert weak_s[_column("log_onset_over_peak_energy")] > -0.5  # a blast's first arrival is its strongest
    assert 3.0 < strong_s[_column("onset_to_peak_s")] < 7.0 and weak_s[_column("onset_to_peak_s")] < 2.0
    # at the onset (P) the vertical dominates, at the peak (S) the horizontals
    assert strong_s[_column("log_Z_vs_others_onset")] > 0 > strong_s[_column("log_Z_vs_others_peak")]


def test_duration_measures_the_time_above_the_halfway_level():
    x = _event()
    _burst(x, 10, 6, 5.0, np.ones(3))
    f = physics_features(x[None], FS)[0]
    assert 3.0 < f[_column("duration_above_half_db_s")] < 8.0
    assert 3.0 < f[_column("span_above_half_db_s")] < 8.0


def test_single_channel_and_low_sampling_rate():
    x = np.random.default_rng(1).normal(size=(2, 2400, 1))
    f = physics_features(x, 20.0)
    assert f.shape == (2, len(feature_names(1, 20.0))) and np.isfinite(f).all()
    assert not any("16-" in name for name in feature_names(1, 20.0))  # 16-32 Hz lies above 0.95 x Nyquist


@pytest.mark.parametrize("kind", ["logistic", "random_forest"])
def test_baselines_separate_classes_and_do_not_collapse_on_imbalance(kind):
    from sklearn.metrics import balanced_accuracy_score

    events, labels = [], []
    for i in range(120):
        x = _event(30, seed=i, noise=0.05)
        quake = i % 5 != 0  # 4 : 1 imbalance, minority on both halves
        _burst(x, 8, 2, 6.0, np.array([1.0, 0.3, 0.3]))
        _burst(x, 12, 5, 2.5, np.full(3, 4.0 if quake else 0.5))
        events.append(x)
        labels.append(int(quake))
    x, y = np.stack(events), np.array(labels)
    model = make_baseline(kind, FS, seed=0).fit(x[::2], y[::2])
    predicted = model.predict(x[1::2])
    assert balanced_accuracy_score(y[1::2], predicted) > 0.9 and len(set(predicted)) == 2


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="sampling_rate must be a positive number of Hz"):
        physics_features(np.zeros((1, 100, 3)), 0)
    with pytest.raises(ValueError, match=r"\(n, time, channel\)"):
        physics_features(np.zeros((100, 3)), FS)
    with pytest.raises(ValueError, match="unknown baseline 'svm'"):
        make_baseline("svm", FS)
