"""Sources of the synthetic data set: argument checks, and per source its class, magnitude, depth,
velocities, corner frequency, S/P ratio, ripple-fire shots and Rg strength."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

KINDS = ("earthquake", "explosion", "noise")
CHANNELS = ("Z", "N", "E")

VP_KM_S = 6.0
VS_KM_S = 3.5
MAX_SHOTS = 12


def lerp(a: float, b: float, t: float) -> float:
    """``a`` at ``t = 0`` to ``b`` at ``t = 1``, linearly (how ``difficulty`` moves a parameter)."""
    return a + (b - a) * t


def check_args(n_events: object, seed: object, difficulty: object, sampling_rate: object,
               stations_per_event: object, classes: Sequence[str], class_balance: Sequence[float] | None,
               distance_range_km: Sequence[float], magnitude_range: Sequence[float],
               duration_range_s: Sequence[float]) -> None:
    """Raise ValueError/TypeError naming the first bad argument of :func:`~seiswork.synthetic.make_events`."""
    if isinstance(n_events, bool) or not isinstance(n_events, (int, np.integer)) or n_events < 1:
        raise ValueError(f"n_events must be a positive int (number of recordings), got {n_events!r}")
    if not (isinstance(seed, np.random.Generator)
            or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0)):
        raise TypeError(f"seed must be a non-negative int or a numpy Generator, got {seed!r}")
    if not isinstance(difficulty, (int, float, np.floating, np.integer)) or not 0.0 <= float(difficulty) <= 1.0:
        raise ValueError(f"difficulty must be a number in [0, 1], got {difficulty!r}")
    if not isinstance(sampling_rate, (int, float, np.floating, np.integer)) \
            or not 20.0 <= float(sampling_rate) <= 1000.0:
        raise ValueError(f"sampling_rate must be in [20, 1000] Hz (the wavelets reach 25 Hz), got {sampling_rate!r}")
    if isinstance(stations_per_event, bool) or not isinstance(stations_per_event, (int, np.integer)) \
            or stations_per_event < 1:
        raise ValueError(f"stations_per_event must be a positive int, got {stations_per_event!r}")
    if isinstance(classes, str) or len(classes) == 0 or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be a non-empty sequence of distinct names, got {classes!r}")
    bad = [c for c in classes if c not in KINDS]
    if bad:
        raise ValueError(f"unknown class {bad[0]!r} in classes={tuple(classes)!r}; choose from {KINDS}")
    if class_balance is not None:
        w = np.asarray(class_balance, dtype=float)
        if w.shape != (len(classes),) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"class_balance must be {len(classes)} non-negative weights (one per class "
                             f"in {tuple(classes)!r}) with a positive sum, got {class_balance!r}")
    for name, rng_, lo in (("distance_range_km", distance_range_km, 1.0), ("magnitude_range", magnitude_range, -1.0),
                           ("duration_range_s", duration_range_s, 8.0)):
        if len(rng_) != 2 or not lo <= rng_[0] <= rng_[1] or not np.all(np.isfinite(rng_)):
            raise ValueError(f"{name} must be (low, high) with {lo} <= low <= high, got {rng_!r}")
    if distance_range_km[1] > 120:
        raise ValueError(f"distance_range_km upper bound {distance_range_km[1]} km is beyond the local distances "
                         "this model covers; keep it <= 120 km")
    if magnitude_range[1] > 5.0:
        raise ValueError(f"magnitude_range upper bound {magnitude_range[1]} is too large for local 16-20 s windows "
                         "(keep it <= 5)")
    # NaN padding (<= 1.5 s) + pre-event noise (>= 0.5 s) + the largest S-P time + 2 s of S coda
    need = 1.5 + 0.5 + math.hypot(distance_range_km[1], 20.0) * (1 / 3.3 - 1 / 6.3) + 2.0
    if duration_range_s[0] < need:
        raise ValueError(f"duration_range_s low end {duration_range_s[0]} s is too short for distances up to "
                         f"{distance_range_km[1]} km: padding, P, S and coda need >= {need:.1f} s; raise it or "
                         "lower distance_range_km")


@dataclass(frozen=True)
class Sources:
    """Per-source arrays, all of length ``n_src`` (``shot_t``/``shot_w``: (n_src, MAX_SHOTS))."""

    class_index: np.ndarray  # index into the classes
    kind: np.ndarray  # class name
    mag: np.ndarray  # ML
    depth: np.ndarray  # km
    vp: np.ndarray  # km/s
    vs: np.ndarray  # km/s
    fc: np.ndarray  # S corner frequency [Hz]
    sp: np.ndarray  # S/P peak-amplitude ratio
    n_shots: np.ndarray  # 1 for earthquakes and single-shot blasts
    shot_delay: np.ndarray  # s, NaN without ripple fire
    shot_t: np.ndarray  # s, shot times
    shot_w: np.ndarray  # relative charges, 0 beyond n_shots
    rg0: np.ndarray  # Rg strength relative to P at 10 km for a surface source


def draw_sources(rng: np.random.Generator, n_src: int, classes: tuple[str, ...],
                 class_balance: Sequence[float] | None, dif: float, sr: float,
                 magnitude_range: Sequence[float]) -> Sources:
    """Draw ``n_src`` sources (the order of draws is fixed: the data set depends on it)."""
    weights = np.ones(len(classes)) if class_balance is None else np.asarray(class_balance, dtype=float)
    # exact proportions (largest remainder), then shuffled: balanced classes without sampling noise
    quota = weights / weights.sum() * n_src
    counts = np.floor(quota).astype(int)
    counts[np.argsort(counts - quota)[: n_src - counts.sum()]] += 1
    src_class = rng.permutation(np.repeat(np.arange(len(classes)), counts))
    src_kind = np.array([classes[c] for c in src_class])
    is_eq = src_kind == "earthquake"
    is_ex = src_kind == "explosion"

    # Gutenberg-Richter (b = 1) magnitudes, truncated to magnitude_range; same law for both classes
    m_lo, m_hi = magnitude_range
    u = rng.random(n_src)
    mag = m_lo - np.log10(1 - u * (1 - 10.0 ** -(m_hi - m_lo)))
    eq_min_depth = 5.0 - 6.0 * max(0.0, dif - 0.5)  # 5 km, down to 2 km at difficulty 1
    depth = np.where(is_eq, rng.uniform(eq_min_depth, 20.0, n_src), rng.uniform(0.0, 1.0, n_src))
    vp = VP_KM_S * rng.normal(1.0, 0.015, n_src)
    vs = VS_KM_S * rng.normal(1.0, 0.015, n_src)
    # Brune corner frequency: fc = 0.49 beta (dsigma / M0)^(1/3), beta km/s, dsigma bar, M0 dyne cm
    m0 = 10.0 ** (1.5 * mag + 16.05)
    dsigma = 30.0 * np.exp(rng.normal(0.0, 0.4, n_src))
    fc = np.clip(4.9e6 * VS_KM_S * (dsigma / m0) ** (1 / 3), 0.5, 0.45 * sr)
    # S/P peak-amplitude ratio: class medians meet as difficulty grows, spreads widen
    sp_sigma = lerp(0.22, 0.45, dif)
    sp_med = np.where(is_eq, lerp(4.0, 1.8, dif), lerp(0.7, 1.3, dif))
    sp_src = sp_med * np.exp(rng.normal(0.0, sp_sigma, n_src))
    # ripple fire: n shots `delay` apart, jittered, unequal charges; fewer ripple-fired blasts when harder
    ripple = is_ex & (rng.random(n_src) < lerp(1.0, 0.35, dif))
    n_shots = np.where(ripple, rng.integers(3, 13, n_src), 1)
    shot_delay = np.where(ripple, rng.uniform(0.010, 0.050, n_src), np.nan)
    shot_t = np.arange(MAX_SHOTS)[None, :] * np.nan_to_num(shot_delay)[:, None]
    shot_t = shot_t + rng.normal(0.0, lerp(0.001, 0.006, dif), (n_src, MAX_SHOTS)) * (shot_t > 0)
    shot_w = rng.uniform(0.6, 1.4, (n_src, MAX_SHOTS)) * (np.arange(MAX_SHOTS)[None, :] < n_shots[:, None])
    # Rg strength relative to P at 10 km for a surface source
    rg0 = np.where(is_ex, lerp(1.3, 0.25, dif), 0.0) * np.exp(rng.normal(0.0, 0.4, n_src))
    return Sources(class_index=src_class, kind=src_kind, mag=mag, depth=depth, vp=vp, vs=vs, fc=fc, sp=sp_src,
                   n_shots=n_shots, shot_delay=shot_delay, shot_t=shot_t, shot_w=shot_w, rg0=rg0)
