"""Recordings of the synthetic sources: per recording its station, distance, travel times, window,
amplitudes, attenuation, noise level and gain; and the ``meta`` table that describes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from seiswork.synthetic.sources import Sources, lerp

RG_U1_KM_S = 2.5  # Rg group velocity at 1 Hz


@dataclass(frozen=True)
class Recordings:
    """Per-recording arrays, all of length ``n_events``."""

    src: np.ndarray  # source index
    kind: np.ndarray  # class name
    station: np.ndarray  # station code
    event_id: np.ndarray  # shared by the stations of one source
    labels: np.ndarray  # class name (str)
    is_sig: np.ndarray  # False for "noise" recordings
    dist: np.ndarray  # epicentral distance [km]
    baz: np.ndarray  # back-azimuth [deg]
    h: np.ndarray  # source depth [km]
    tp: np.ndarray  # P travel time [s]
    ts: np.ndarray  # S travel time [s]
    n_samples: np.ndarray  # window length [samples]
    pad_head: np.ndarray  # NaN rows at the start
    valid: np.ndarray  # non-NaN rows
    pre: np.ndarray  # pre-event noise before P [s]
    w0: np.ndarray  # window start after origin time [s]
    sp: np.ndarray  # S/P peak-amplitude ratio
    a_p: np.ndarray  # P peak velocity [nm/s]
    a_s: np.ndarray  # S peak velocity [nm/s]
    q0_s: np.ndarray  # S quality factor at 1 Hz
    q0_p: np.ndarray  # P quality factor at 1 Hz
    q_rg: np.ndarray  # Rg quality factor
    a_rg: np.ndarray  # Rg peak velocity [nm/s]
    kappa: np.ndarray  # site attenuation [s]
    noise_level: np.ndarray  # station noise [nm/s rms]
    gain: np.ndarray  # counts per nm/s


def draw_recordings(rng: np.random.Generator, sources: Sources, classes: tuple[str, ...], n: int, k: int,
                    sr: float, dif: float, distance_range_km: Sequence[float],
                    duration_range_s: Sequence[float]) -> Recordings:
    """Draw ``n`` recordings, ``k`` stations per source (the order of draws is fixed: the data set depends on it)."""
    n_src = len(sources.kind)
    src_kind, depth, vp, vs, mag, sp_src = sources.kind, sources.depth, sources.vp, sources.vs, sources.mag, sources.sp
    rg0, src_class = sources.rg0, sources.class_index
    src = np.repeat(np.arange(n_src), k)[:n]
    kind = src_kind[src]
    n_net = max(12, k)
    stations = np.array([f"ST{i:02d}" for i in range(1, n_net + 1)])
    # k distinct stations per source: the first k of a random permutation
    order = np.argsort(rng.random((n_src, n_net)), axis=1)[:, :k]
    station = stations[order.reshape(-1)[:n]]
    event_id = np.array([f"ev{s:05d}" for s in src])

    dist = rng.uniform(*distance_range_km, n)
    baz = rng.uniform(0.0, 360.0, n)
    h = depth[src]
    r = np.hypot(dist, h)
    tp, ts = r / vp[src], r / vs[src]
    duration = rng.uniform(*duration_range_s, n)
    n_samples = np.round(duration * sr).astype(int)
    pad_head = np.where(rng.random(n) < 0.5, rng.integers(0, int(0.5 * sr) + 1, n), 0)
    pad_tail = np.where(rng.random(n) < 0.5, rng.integers(0, int(1.0 * sr) + 1, n), 0)
    valid = n_samples - pad_head - pad_tail
    # pre-event noise 1-4 s, shortened where needed so that S and 3 s of its coda fit
    pre = np.minimum(rng.uniform(1.0, 4.0, n), valid / sr - (ts - tp) - 3.0)
    pre = np.maximum(pre, 0.5)
    w0 = tp - pre  # window start, s after origin time
    sp = sp_src[src] * np.exp(rng.normal(0.0, 0.15, n))  # radiation pattern varies by station
    # peak velocity [nm/s] of the larger body phase from ML (Hutton & Boore), Wood-Anderson gain 2080, 5 Hz
    log_a_wa = mag[src] - 1.11 * np.log10(r / 100.0) - 0.00189 * (r - 100.0) - 3.0
    a_ref = 10.0 ** log_a_wa / 2080.0 * 1e6 * 2 * np.pi * 5.0
    a_p = np.where(sp >= 1.0, a_ref / sp, a_ref)
    a_s = a_p * sp
    # Rg relative to P: excitation decays with source depth; 1/sqrt(d) vs 1/r spreading; Q_Rg << Q_P
    q0_s = rng.uniform(300.0, 600.0, n)
    q0_p = 1.75 * q0_s
    q_rg = rng.uniform(60.0, 120.0, n)
    a_rg = a_p * rg0[src] * np.exp(-2 * np.pi * 0.8 * h / RG_U1_KM_S) * np.sqrt(dist / 10.0) \
        * np.exp(-np.pi * dist * (1 / (RG_U1_KM_S * q_rg) - 1 / (vp[src] * q0_p)))
    kappa = rng.uniform(0.01, 0.04, n)
    # station noise [nm/s rms]: log-normal around a level set by difficulty (x10 from 0 to 1)
    noise_level = 10.0 ** (lerp(np.log10(8.0), np.log10(80.0), dif) + rng.normal(0.0, 0.3, n))
    gain = 10.0 ** rng.uniform(-1.0, 1.0, n)  # counts per nm/s

    is_sig = kind != "noise"
    labels = np.array([classes[c] for c in src_class[src]])
    return Recordings(src=src, kind=kind, station=station, event_id=event_id, labels=labels, is_sig=is_sig, dist=dist,
                      baz=baz, h=h, tp=tp, ts=ts, n_samples=n_samples, pad_head=pad_head, valid=valid, pre=pre, w0=w0,
                      sp=sp, a_p=a_p, a_s=a_s, q0_s=q0_s, q0_p=q0_p, q_rg=q_rg, a_rg=a_rg, kappa=kappa,
                      noise_level=noise_level, gain=gain)


def meta_table(sources: Sources, recs: Recordings, sr: float, peak: np.ndarray,
               noise_rms: np.ndarray) -> pd.DataFrame:
    """One row per recording (the columns are listed in :func:`~seiswork.synthetic.make_events`)."""
    mag, n_shots, shot_delay = sources.mag, sources.n_shots, sources.shot_delay
    src, kind, station, event_id, is_sig = recs.src, recs.kind, recs.station, recs.event_id, recs.is_sig
    dist, baz, h, tp, ts, n_samples = recs.dist, recs.baz, recs.h, recs.tp, recs.ts, recs.n_samples
    pad_head, valid, pre, w0, sp, gain = recs.pad_head, recs.valid, recs.pre, recs.w0, recs.sp, recs.gain
    n = len(src)
    head_s = pad_head / sr
    nan_src = np.where(is_sig, 1.0, np.nan)
    meta = pd.DataFrame({
        "event_id": event_id,
        "station": station,
        "sampling_rate": np.full(n, sr),
        "distance_km": dist * nan_src,
        "depth_km": h * nan_src,
        "magnitude": mag[src] * nan_src,
        "back_azimuth_deg": baz * nan_src,
        "p_arrival_s": (head_s + pre) * nan_src,
        "s_arrival_s": (head_s + pre + ts - tp) * nan_src,
        "rg_arrival_s": (head_s + dist / RG_U1_KM_S - w0) * nan_src,
        "sp_ratio": sp * nan_src,
        "n_shots": np.where(kind == "explosion", n_shots[src], 0),
        "shot_delay_ms": shot_delay[src] * 1e3,
        "snr_db": np.where(is_sig, 20 * np.log10(np.maximum(peak, 1e-12) / noise_rms), np.nan),
        "gain": gain,
        "n_samples": n_samples,
        "first_valid": pad_head,
        "last_valid": pad_head + valid - 1,
    })
    return meta
