"""A simple spectral classifier, the yardstick for ``difficulty``.

Belongs to the baseline concern: to move to ``seiswork/baseline.py`` when the built-in baseline lands.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from seiswork.synthetic.sources import CHANNELS


def spectral_features(events: Sequence[pd.DataFrame], channels: Sequence[str] = CHANNELS,
                      nperseg: int = 256) -> np.ndarray:
    """Log10 Welch power spectra of each z-scored channel, concatenated: ``(n, len(channels) * (nperseg//2 + 1))``.

    NaN padding is dropped first. Welch: periodic Hann segments of ``nperseg`` samples, 50 % overlap,
    mean removed per segment, power averaged over segments (up to a constant factor per bin, as
    ``scipy.signal.welch``). A constant channel gives a flat spectrum instead of NaN.
    """
    window = np.hanning(nperseg + 1)[:-1]
    feats = []
    for i, ev in enumerate(events):
        missing = [c for c in channels if c not in ev.columns]
        if missing:
            raise ValueError(f"event {i} has no column(s) {missing}; it has {list(ev.columns)}")
        x = ev[list(channels)].to_numpy(dtype=float)
        x = x[~np.isnan(x).any(axis=1)]
        if len(x) < nperseg:
            raise ValueError(f"event {i} has {len(x)} valid samples, fewer than nperseg={nperseg}; "
                             "lower nperseg or drop short events")
        x = (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-12)
        seg = np.lib.stride_tricks.sliding_window_view(x, nperseg, axis=0)[:: nperseg // 2]  # (seg, ch, nperseg)
        seg = (seg - seg.mean(axis=-1, keepdims=True)) * window
        power = (np.abs(np.fft.rfft(seg, axis=-1)) ** 2).mean(axis=0)  # (ch, freq)
        feats.append(np.log10(power + 1e-10).reshape(-1))
    return np.asarray(feats)


def spectral_baseline(events: Sequence[pd.DataFrame], labels: np.ndarray, groups: np.ndarray, *,
                      folds: int = 3, seed: int = 0) -> float:
    """Balanced accuracy of a simple spectral classifier: the yardstick for ``difficulty``.

    Log Welch spectra per z-scored channel (:func:`spectral_features`), standardised, L2 logistic
    regression; out-of-fold predictions over ``folds`` grouped, stratified folds (``groups`` = event ids,
    so the recordings of one source are never on both sides).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = np.asarray(labels)
    groups = np.asarray(groups)
    if not len(events) == len(labels) == len(groups):
        raise ValueError(f"events ({len(events)}), labels ({len(labels)}) and groups ({len(groups)}) "
                         "must have the same length")
    if len(np.unique(groups)) < folds:
        raise ValueError(f"need at least folds={folds} distinct groups, got {len(np.unique(groups))}")
    x = spectral_features(events)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, solver="liblinear"))
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    pred = cross_val_predict(model, x, labels, groups=groups, cv=cv)
    return float(balanced_accuracy_score(labels, pred))
