"""The classical baseline: physically motivated features into scikit-learn classifiers.

The number any learned model must beat. Features of each preprocessed event ``(time, channel)``:

- **band powers**: log10 mean Welch power per channel in octave bands 0.5-1, 1-2, 2-4, 4-8, 8-16,
  16-32 Hz (bands above 0.95 x Nyquist dropped, the top one cut there): source spectra and
  attenuation differ between earthquakes, blasts, surface events and noise;
- **first arrival against the strongest one**: the onset is where the 1 s energy envelope first rises
  halfway (in dB) from its noise floor (10th percentile) to its peak. Features: log10 of the mean energy in
  the 1 s after the onset over the envelope peak (a P/S-like ratio: near 0 for a blast whose first arrival
  is its strongest, strongly negative for an earthquake with a strong S), the delay from onset to peak in
  seconds (an S-P-like time), and, with two or more channels, log10 of the first channel's (vertical)
  energy over the others' in the 1 s after the onset and in the 1 s around the peak (P is vertical, S
  horizontal);
- **rise against decay**: log10 of the mean energy in the 5 s before the envelope peak over the 5 s after
  it (impulsive arrivals rise fast and decay slowly; emergent surface events and noise bursts do not);
- **duration**: seconds the envelope stays above that halfway level, and the span from its first to its
  last crossing (coda length).

``make_baseline("logistic" | "random_forest", sampling_rate)`` returns a scikit-learn pipeline that takes
arrays ``(n, time, channel)`` directly (``fit``, ``predict``, ``predict_proba``); both weight classes by
inverse frequency, so a rare class is not ignored.
"""

from __future__ import annotations

import math

import numpy as np

from seiswork.data.npz import release_pages

__all__ = ["BANDS_HZ", "BASELINES", "physics_features", "feature_names", "make_baseline", "baseline_report"]

BANDS_HZ = ((0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 16.0), (16.0, 32.0))
BASELINES = ("logistic", "random_forest")
_EPS = 1e-12
_CHUNK_BYTES = 64 << 20  # bytes of float64 events per feature chunk: memory stays bounded for any data size
_ENVELOPE_S = 1.0  # envelope smoothing and the length of the onset and peak windows
_NOISE_QUANTILE = 0.1
_RISE_DECAY_S = 5.0  # a few S-P times at local distances


def _bands(sampling_rate: float) -> list[tuple[float, float]]:
    top = 0.95 * sampling_rate / 2
    return [(lo, min(hi, top)) for lo, hi in BANDS_HZ if lo < top]


def feature_names(channels: int | list[str], sampling_rate: float) -> list[str]:
    """Names of :func:`physics_features`' columns, in order."""
    names = [f"ch{i}" for i in range(channels)] if isinstance(channels, int) else list(channels)
    out = [f"log_power_{c}_{lo:g}-{hi:g}Hz" for lo, hi in _bands(sampling_rate) for c in names]
    out += ["log_onset_over_peak_energy", "onset_to_peak_s", "log_rise_over_decay_energy"]
    if len(names) > 1:
        out += [f"log_{names[0]}_vs_others_onset", f"log_{names[0]}_vs_others_peak"]
    return out + ["duration_above_half_db_s", "span_above_half_db_s"]


def physics_features(x: np.ndarray, sampling_rate: float) -> np.ndarray:
    """Features ``(n, k)`` float64 of events ``x`` ``(n, time, channel)`` sampled at ``sampling_rate`` Hz
    (columns: :func:`feature_names`). Computed a few events at a time, so ``x`` may be a memory map larger
    than memory."""
    if np.ndim(x) != 3:
        raise ValueError(f"events must be an array (n, time, channel), got shape {np.shape(x)}")
    if not (sampling_rate and math.isfinite(sampling_rate) and sampling_rate > 0):
        raise ValueError(f"sampling_rate must be a positive number of Hz, got {sampling_rate!r}")
    step = max(1, _CHUNK_BYTES // (8 * max(1, x.shape[1] * x.shape[2])))
    parts = []
    for start in range(0, len(x), step):
        chunk = x[start : start + step]
        parts.append(_features(np.asarray(chunk, dtype=np.float64), float(sampling_rate)))
        release_pages(chunk)
    return np.concatenate(parts) if parts else np.zeros((0, len(feature_names(x.shape[2], sampling_rate))))


def _features(x: np.ndarray, fs: float) -> np.ndarray:
    from scipy.ndimage import uniform_filter1d
    from scipy.signal import welch

    n, t, c = x.shape
    # 4 s segments resolve the lowest octave (0.5-1 Hz) with two bins or more
    nperseg = min(t, 1 << max(4, math.ceil(math.log2(4 * fs))))
    freqs, power = welch(x, fs=fs, nperseg=nperseg, axis=1)  # (n, f, c)
    columns = []
    for lo, hi in _bands(fs):
        mask = (freqs >= lo) & (freqs < hi)
        if not mask.any():  # a band narrower than one bin: take the nearest bin
            mask = np.abs(freqs - (lo + hi) / 2) == np.abs(freqs - (lo + hi) / 2).min()
        columns.append(np.log10(power[:, mask, :].mean(axis=1) + _EPS))  # (n, c)

    energy = x ** 2  # (n, t, c)
    w = max(1, round(_ENVELOPE_S * fs))
    envelope = uniform_filter1d(energy.sum(axis=2), size=w, axis=1, mode="nearest")  # (n, t)
    peak = envelope.argmax(axis=1)
    floor = np.quantile(envelope, _NOISE_QUANTILE, axis=1)
    level = np.sqrt((floor + _EPS) * (envelope.max(axis=1) + _EPS))  # halfway between floor and peak in dB
    above = envelope > level[:, None]
    onset = above.argmax(axis=1)
    last = t - 1 - above[:, ::-1].argmax(axis=1)

    def window_mean(signal: np.ndarray, start: np.ndarray, length: int = w) -> np.ndarray:
        """Mean of ``signal`` (n, t) over ``[start, start + length)``, clipped to the event."""
        cum = np.concatenate([np.zeros((n, 1)), np.cumsum(signal, axis=1)], axis=1)
        lo = np.clip(start, 0, t - 1)
        hi = np.maximum(np.minimum(start + length, t), lo + 1)
        return (cum[np.arange(n), hi] - cum[np.arange(n), lo]) / (hi - lo)

    total = energy.sum(axis=2)
    at_peak = window_mean(total, peak - w // 2)
    columns.append(np.log10((window_mean(total, onset) + _EPS) / (at_peak + _EPS))[:, None])
    columns.append(((peak - onset) / fs)[:, None])
    span = max(1, round(_RISE_DECAY_S * fs))
    rise, decay = window_mean(total, peak - span, span), window_mean(total, peak, span)
    columns.append(np.log10((rise + _EPS) / (decay + _EPS))[:, None])
    if c > 1:
        first, others = energy[:, :, 0], energy[:, :, 1:].mean(axis=2)
        for start in (onset, peak - w // 2):
            ratio = (window_mean(first, start) + _EPS) / (window_mean(others, start) + _EPS)
            columns.append(np.log10(ratio)[:, None])
    columns.append(np.stack([above.sum(axis=1) / fs, (last - onset + 1) / fs], axis=1))
    return np.concatenate([col.reshape(n, -1) for col in columns], axis=1)


def make_baseline(kind: str, sampling_rate: float, seed: int = 0):
    """A scikit-learn pipeline: :func:`physics_features` -> (scaling) -> classifier; fits on ``(n, time, channel)``.

    ``kind``: ``"logistic"`` (standardised features, L2 logistic regression) or ``"random_forest"``
    (300 trees, ``seed`` as ``random_state``). Both use balanced class weights.
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    if kind not in BASELINES:
        raise ValueError(f"unknown baseline {kind!r}; choose one of {', '.join(BASELINES)}")
    features = FunctionTransformer(physics_features, kw_args={"sampling_rate": float(sampling_rate)})
    if kind == "logistic":
        return make_pipeline(features, StandardScaler(),
                             LogisticRegression(class_weight="balanced", max_iter=5000))
    return make_pipeline(features, RandomForestClassifier(
        n_estimators=300, min_samples_leaf=2, class_weight="balanced_subsample", random_state=seed, n_jobs=1))


def baseline_report(kind: str, sampling_rate: float, x_fit: np.ndarray, y_fit: np.ndarray, x_test: np.ndarray,
                    y_test: np.ndarray, classes: list[str], seed: int = 0) -> dict:
    """Fit one baseline on ``(x_fit, y_fit)`` and report it on ``(x_test, y_test)`` (arrays ``(n, time,
    channel)`` and class codes) with the same report as :func:`seiswork.evaluate`."""
    from seiswork.training.report import classification_report

    model = make_baseline(kind, sampling_rate, seed=seed).fit(x_fit, y_fit)
    probabilities = np.zeros((len(y_test), len(classes)))
    probabilities[:, model.classes_] = model.predict_proba(x_test)  # a class absent from training: 0
    return classification_report(probabilities, np.asarray(y_test), classes)
