"""The built-in default data set: physically motivated synthetic 3-component events.

``make_events`` simulates local recordings (ground velocity in counts, channels ``Z, N, E``) of
earthquakes and quarry blasts at 10-80 km, deterministically from a seed. ``write_default`` stores
them in the seed's pickle format ``(events, labels)`` under ``resources/`` plus a ``.meta.csv`` sidecar,
so the notebooks load them exactly like real data.

Physics (units in brackets)
---------------------------
Each source (one ``event_id``) is recorded by ``stations_per_event`` stations, each at its own
epicentral distance ``d`` [km] (uniform in ``distance_range_km``) and back-azimuth [deg]. Station
positions are drawn per recording, not placed consistently on a map.

* **Travel times.** Hypocentral distance ``r = sqrt(d^2 + h^2)`` [km], ``vp ~ 6.0`` and
  ``vs ~ 3.5`` [km/s] (a few % of scatter per source), so ``t_S - t_P = r (1/vs - 1/vp)`` [s]
  (about 0.12 s per km) grows with distance. Every window starts with 1-4 s of pre-event noise before P.
* **Body-wave wavelets.** P and S are band-limited noise bursts (a random-phase spectrum, so each
  recording differs) under an envelope ``(1 - exp(-x/tau_rise)) exp(-x/tau_coda)``, ``x`` = time
  after the arrival [s]; rise and coda times grow with distance (scattering) and the coda with
  magnitude. Their amplitude spectrum is the ground-velocity Brune spectrum
  ``f / (1 + (f/fc)^2)`` with ``fc = 0.49 beta (dsigma/M0)^(1/3)`` (``M0`` from ``Mw``, stress drop
  ``dsigma`` ~ 3 MPa, so ``fc`` ~ 24 Hz at M2 and ~ 7.5 Hz at M3, capped at 0.45 x sampling rate;
  P uses ``1.6 fc``; magnitudes follow Gutenberg-Richter with b = 1, the same for both classes),
  times anelastic attenuation ``exp(-pi f t / Q(f))`` with ``Q(f) = Q0 f^0.5`` (``Q0_S`` 300-600,
  ``Q0_P = 1.75 Q0_S``, ``t`` the travel time [s]: high frequencies decay faster with distance), times a site term
  ``exp(-pi kappa f)`` (``kappa`` 0.01-0.04 s) and a 0.8-Nyquist anti-alias low-pass.
* **Amplitudes.** The larger body phase has the peak ground velocity given by the local magnitude
  (Hutton & Boore 1987: ``ML = log10 A + 1.11 log10(r/100) + 0.00189 (r-100) + 3``, ``A`` the
  Wood-Anderson amplitude [mm], converted to velocity [nm/s] at 5 Hz): geometric spreading ~ 1/r
  plus attenuation. The other phase follows from the S/P peak-amplitude ratio.
* **Earthquakes** (depth 5-20 km): S/P ~ 2-5 (median ~ 3 at difficulty 0.5); P polarised on Z
  (incidence 15-35 deg), S on the horizontals (random SV/SH mix, SH on the transverse component).
  Too deep to excite Rg.
* **Quarry blasts** (depth 0-1 km): strong P, weak S (S/P ~ 0.5-1.5, mostly SV), and
  * ripple-fire: 3-12 sub-shots ``delay`` 10-50 ms apart (jittered, unequal charges); the source
    spectrum is multiplied by ``|sum_k w_k exp(-2 pi i f t_k)|``, which scallops the spectrum with
    notches every ``1/(n delay)`` Hz and favours low frequencies; the blast duration lengthens the rise;
  * Rg: a dispersed fundamental-mode Rayleigh wave, 0.4-2.5 Hz, group velocity ``U(f)`` from
    3.0 km/s at 0.5 Hz to 2.0 km/s at 2 Hz (longer periods first), arriving after S. Built in the
    frequency domain with group delay ``d/U(f)``; excitation ``exp(-2 pi 0.8 h f / U)`` (vanishes for
    sources deeper than ~ 2 km), spreading ``1/sqrt(d)``, ``Q_Rg`` 60-120; retrograde elliptical motion
    (R = 0.7 x Hilbert(Z)), so it shows on Z and the radial horizontal.
* **Rotation.** Components are built as Z, radial, transverse and rotated to N, E with the
  back-azimuth (ObsPy convention), so N and E differ.
* **Noise** (per recording and channel, ground velocity [nm/s]): a secondary microseism (a
  log-Gaussian band at 0.15-0.3 Hz, stronger on the horizontals), coloured cultural noise (``1/f``
  slope plus a machinery hump at 2-15 Hz) and a white instrument floor; the station noise level
  varies (log-normal), so the SNR varies across recordings (``snr_db`` in ``meta``).
* **Recording.** A random gain [counts per nm/s] per station (~ +-3 % per channel); window lengths
  16-20 s (1600-2000 samples at 100 Hz) with NaN padding at the start and/or end (up to 0.5 s and 1 s),
  never inside.

``difficulty`` in [0, 1] lowers the SNR (station noise x 10 from 0 to 1), pulls the S/P ratio
distributions of the two classes together (and widens them), makes fewer blasts ripple-fired with more
timing jitter, weakens Rg, and above 0.5 lets earthquakes be shallower (down to 2 km). At the default
0.5 a log-spectrum logistic regression (``spectral_baseline``) scores ~ 0.9 balanced accuracy.

A third class, ``"noise"`` (a window of station noise only), can be requested through ``classes``.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from seiswork import paths

__all__ = ["make_events", "write_default", "default_path", "spectral_baseline", "KINDS"]

KINDS = ("earthquake", "explosion", "noise")
CHANNELS = ("Z", "N", "E")

VP_KM_S = 6.0
VS_KM_S = 3.5
_CHUNK = 128  # recordings synthesised per vectorised block (fixed: the random stream depends on it)


def default_path() -> Path:
    """Where the default data set lives: ``resources_dir() / "default_events.pkl"``."""
    return paths.resources_dir() / "default_events.pkl"


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def _check_args(n_events, seed, difficulty, sampling_rate, stations_per_event, classes, class_balance,
                distance_range_km, magnitude_range, duration_range_s):
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


def make_events(
    n_events: int = 1200,
    seed: int | np.random.Generator = 0,
    difficulty: float = 0.5,
    *,
    sampling_rate: float = 100.0,
    stations_per_event: int = 3,
    classes: Sequence[str] = ("earthquake", "explosion"),
    class_balance: Sequence[float] | None = None,
    distance_range_km: tuple[float, float] = (10.0, 80.0),
    magnitude_range: tuple[float, float] = (1.0, 3.0),
    duration_range_s: tuple[float, float] = (16.0, 20.0),
) -> tuple[list[pd.DataFrame], np.ndarray, pd.DataFrame]:
    """Simulate ``n_events`` recordings (see the module docstring for the physics).

    Parameters
    ----------
    n_events : number of recordings (DataFrames); sources are recorded by ``stations_per_event`` stations
        each (the last source by fewer when ``n_events`` is not a multiple).
    seed : int seed (or a numpy Generator) for ``np.random.default_rng``; same seed, same output.
    difficulty : 0 (easy, clean, well separated) to 1 (noisy, overlapping class features).
    sampling_rate : Hz.
    classes : class names, each one of ``KINDS``; sources get classes in proportion to
        ``class_balance`` (default equal), counted in sources, so recordings are balanced too.

    Returns
    -------
    events : list of DataFrames, columns ``Z, N, E`` float64 (counts), default RangeIndex,
        ``round(duration * sampling_rate)`` rows, NaN padding only at the start and/or end.
    labels : np.ndarray of str, one class name per recording.
    meta : DataFrame, one row per recording: ``event_id`` (shared by the stations of one source),
        ``station``, ``sampling_rate`` [Hz], ``distance_km`` (epicentral), ``depth_km``, ``magnitude`` (ML),
        ``back_azimuth_deg``, ``p_arrival_s``, ``s_arrival_s``, ``rg_arrival_s`` (1 Hz group arrival;
        times from the first row, NaN padding included), ``sp_ratio`` (S/P peak amplitude), ``n_shots``,
        ``shot_delay_ms`` (ripple fire: 1 and NaN for a single-shot blast, 0 and NaN for an earthquake),
        ``snr_db`` (20 log10 of peak signal over noise rms, all channels), ``gain`` [counts per nm/s], ``n_samples``,
        ``first_valid``, ``last_valid`` (row numbers of the first and last non-NaN sample).
        For ``"noise"`` recordings the source columns are NaN.
    """
    _check_args(n_events, seed, difficulty, sampling_rate, stations_per_event, classes, class_balance,
                distance_range_km, magnitude_range, duration_range_s)
    rng = np.random.default_rng(seed)
    dif = float(difficulty)
    sr = float(sampling_rate)
    n = int(n_events)
    k = int(stations_per_event)
    classes = tuple(classes)

    # ---- sources ---------------------------------------------------------------------------------
    n_src = -(-n // k)
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
    sp_sigma = _lerp(0.22, 0.45, dif)
    sp_med = np.where(is_eq, _lerp(4.0, 1.8, dif), _lerp(0.7, 1.3, dif))
    sp_src = sp_med * np.exp(rng.normal(0.0, sp_sigma, n_src))
    # ripple fire: n shots `delay` apart, jittered, unequal charges; fewer ripple-fired blasts when harder
    ripple = is_ex & (rng.random(n_src) < _lerp(1.0, 0.35, dif))
    n_shots = np.where(ripple, rng.integers(3, 13, n_src), 1)
    shot_delay = np.where(ripple, rng.uniform(0.010, 0.050, n_src), np.nan)
    max_shots = 12
    shot_t = np.arange(max_shots)[None, :] * np.nan_to_num(shot_delay)[:, None]
    shot_t = shot_t + rng.normal(0.0, _lerp(0.001, 0.006, dif), (n_src, max_shots)) * (shot_t > 0)
    shot_w = rng.uniform(0.6, 1.4, (n_src, max_shots)) * (np.arange(max_shots)[None, :] < n_shots[:, None])
    # Rg strength relative to P at 10 km for a surface source
    rg0 = np.where(is_ex, _lerp(1.3, 0.25, dif), 0.0) * np.exp(rng.normal(0.0, 0.4, n_src))

    # ---- recordings ------------------------------------------------------------------------------
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
    u1 = 2.5  # Rg group velocity at 1 Hz, km/s
    a_rg = a_p * rg0[src] * np.exp(-2 * np.pi * 0.8 * h / u1) * np.sqrt(dist / 10.0) \
        * np.exp(-np.pi * dist * (1 / (u1 * q_rg) - 1 / (vp[src] * q0_p)))
    kappa = rng.uniform(0.01, 0.04, n)
    # station noise [nm/s rms]: log-normal around a level set by difficulty (x10 from 0 to 1)
    noise_level = 10.0 ** (_lerp(np.log10(8.0), np.log10(80.0), dif) + rng.normal(0.0, 0.3, n))
    gain = 10.0 ** rng.uniform(-1.0, 1.0, n)  # counts per nm/s

    is_sig = kind != "noise"
    labels = np.array([classes[c] for c in src_class[src]])

    nfft = 1 << int(math.ceil(math.log2(n_samples.max())))
    f = np.fft.rfftfreq(nfft, 1.0 / sr)
    # Rg is built on a longer buffer that holds its slowest (2 km/s) arrivals, so nothing wraps around
    n_rg = max(2 * nfft, 1 << int(math.ceil(math.log2((np.max(dist / 2.0 - w0) + 10.0) * sr))))
    f2 = np.fft.rfftfreq(n_rg, 1.0 / sr)
    t = np.arange(nfft) / sr
    anti_alias = 1.0 / np.sqrt(1.0 + (f / (0.4 * sr)) ** 16)

    events: list[pd.DataFrame] = []
    noise_rms = np.empty(n)
    peak = np.empty(n)
    for c0 in range(0, n, _CHUNK):
        sl = slice(c0, min(n, c0 + _CHUNK))
        m = sl.stop - sl.start
        s = src[sl]
        # --- P and S: random-phase spectra shaped by source, path and site, then enveloped
        fcs = np.stack([1.6 * fc[s], fc[s]], axis=1)[:, :, None]  # (m, 2 phases, 1)
        tt = np.stack([tp[sl], ts[sl]], axis=1)[:, :, None]
        q0 = np.stack([q0_p[sl], q0_s[sl]], axis=1)[:, :, None]
        amp = (f / (1.0 + (f / fcs) ** 2)) * np.exp(-np.pi * np.sqrt(f) * tt / q0) \
            * np.exp(-np.pi * kappa[sl, None, None] * f) * anti_alias
        # ripple fire: |sum_k w_k exp(-2 pi i f t_k)| / sum_k w_k (1 for a single shot or an earthquake)
        rip = np.flatnonzero(n_shots[s] > 1)
        if rip.size:
            tk, wk = shot_t[s[rip]][:, :, None], shot_w[s[rip]][:, :, None]
            theta = (2 * np.pi * tk * f).astype(np.float32)
            comb = np.hypot((wk * np.cos(theta)).sum(axis=1), (wk * np.sin(theta)).sum(axis=1)) / wk.sum(axis=1)
            amp[rip] *= comb[:, None, :]
        amp[..., 0] = 0.0
        # unit-variance normalisation: var(irfft(Y)) = 4 sum|amp|^2 / nfft^2 for Y = amp * (a + ib)
        amp *= nfft / (2.0 * np.sqrt((amp ** 2).sum(axis=-1, keepdims=True)))
        # single precision for the bulk random series: plenty for waveforms, twice as fast
        shape = (m, 2, 4, f.size)
        spec = rng.standard_normal(shape, dtype=np.float32) + 1j * rng.standard_normal(shape, dtype=np.float32)
        spec *= amp[:, :, None, :].astype(np.float32)
        bursts = np.fft.irfft(spec, n=nfft, axis=-1)  # (m, phase, primary + 3 scattered, time)
        # envelopes (m, 2, time) with peak 1: rise and coda lengthen with distance and magnitude
        dm = dist[sl, None]
        mag_f = 10.0 ** (0.15 * (mag[s] - 2.0))[:, None]
        rise = np.concatenate([0.03 + 0.002 * dm, 0.08 + 0.006 * dm], axis=1)
        rise += (0.3 * (n_shots[s] - 1) * np.nan_to_num(shot_delay[s]))[:, None]
        coda = np.concatenate([0.5 + 0.012 * dm, 1.0 + 0.03 * dm], axis=1) * mag_f \
            * np.exp(rng.normal(0.0, 0.2, (m, 2)))
        arr = np.stack([pre[sl], pre[sl] + ts[sl] - tp[sl]], axis=1)
        x = np.maximum(t[None, None, :] - arr[:, :, None], 0.0)
        u_pk = rise / (rise + coda)
        env_peak = (1 - u_pk) * u_pk ** (rise / coda)
        env = (1 - np.exp(-x / rise[..., None])) * np.exp(-x / coda[..., None]) / env_peak[..., None]
        env *= (np.stack([a_p[sl], a_s[sl]], axis=1) / 3.0)[..., None]  # unit-std bursts peak near 3
        env = env.astype(np.float32)
        # component weights (Z, R, T) per phase: P steep (on Z), S on the horizontals (SV on R, SH on T)
        inc = np.deg2rad(rng.uniform(15.0, 35.0, m))
        psi = rng.uniform(0.0, np.pi / 2, m) * np.where(kind[sl] == "earthquake", 1.0, 1 / 3)
        w_p = np.stack([np.cos(inc), np.sin(inc), np.full(m, 0.15)], axis=1)
        w_s = np.stack([0.3 * np.cos(psi) + 0.15, np.cos(psi) + 0.2, np.sin(psi) + 0.2], axis=1)
        w = np.stack([w_p, w_s], axis=1).astype(np.float32)  # (m, phase, comp)
        # each component = coherent primary + its own scattered part
        comp = 0.8 * bursts[:, :, :1, :] + 0.6 * bursts[:, :, 1:, :]  # (m, phase, comp, time)
        zrt = (comp * w[..., None] * env[:, :, None, :]).sum(axis=1, dtype=np.float64)
        # --- Rg: dispersed Rayleigh wave, group delay d/U(f) after the window start
        ex = np.flatnonzero(a_rg[sl] > 0)
        if ex.size:
            i = sl.start + ex
            uf = np.clip(3.0 - 0.5 * np.log2(np.maximum(f2, 1e-3) / 0.5), 2.0, 3.2)
            delay = dist[i, None] / uf - w0[i, None]
            phase = 2 * np.pi * np.cumsum(delay, axis=1) * (f2[1] - f2[0])
            band = np.exp(-0.5 * (np.log10(np.maximum(f2, 1e-3)) / 0.2) ** 2)  # centred on 1 Hz
            excite = np.exp(-2 * np.pi * 0.8 * depth[src[i], None] * (f2 - 1.0) / uf)
            atten = np.exp(-np.pi * (f2 - 1.0) * dist[i, None] / (uf * q_rg[i, None]))
            rg_amp = f2 * band * np.minimum(excite * atten, 10.0)
            rg_spec = rg_amp * np.exp(-1j * phase + 1j * rng.uniform(0, 2 * np.pi, (ex.size, 1)))
            rg_z = np.fft.irfft(rg_spec, n=n_rg, axis=-1)
            rg_r = np.fft.irfft(-1j * rg_spec, n=n_rg, axis=-1)  # Hilbert transform: 90 deg out of phase
            scale = a_rg[i] / np.abs(rg_z).max(axis=1)
            zrt[ex, 0] += rg_z[:, :nfft] * scale[:, None]
            zrt[ex, 1] += 0.7 * rg_r[:, :nfft] * scale[:, None]
        zrt[~is_sig[sl]] = 0.0
        # rotate R, T to N, E (ObsPy rotate_rt_ne): n = -r cos(baz) + t sin(baz), e = -r sin(baz) - t cos(baz)
        b = np.deg2rad(baz[sl])[:, None]
        sig = np.stack([zrt[:, 0], -zrt[:, 1] * np.cos(b) + zrt[:, 2] * np.sin(b),
                        -zrt[:, 1] * np.sin(b) - zrt[:, 2] * np.cos(b)], axis=1)
        # --- noise: microseism + cultural (1/f + machinery hump) + instrument floor, per channel
        fpos = np.maximum(f, f[1])
        f_ms = rng.uniform(0.15, 0.3, (m, 1, 1))
        micro = np.exp(-0.5 * (np.log10(fpos / f_ms) / 0.15) ** 2)
        f_hum = 10.0 ** rng.uniform(np.log10(2.0), np.log10(15.0), (m, 1, 1))
        hum = np.exp(-0.5 * (np.log10(fpos / f_hum) / 0.12) ** 2)
        pink = fpos ** -rng.uniform(0.3, 0.8, (m, 1, 1)) * (fpos > 0.5)
        ms_level = 10.0 ** rng.uniform(-0.3, 0.7, (m, 1, 1)) * np.array([1.0, 1.4, 1.4])[None, :, None]
        parts = [(micro, ms_level), (pink, np.ones((m, 3, 1))),
                 (hum, rng.uniform(0.2, 1.0, (m, 3, 1))), (np.ones((1, 1, f.size)), rng.uniform(0.05, 0.2, (m, 3, 1)))]
        power = np.zeros((m, 3, f.size))
        for shape, level in parts:
            # each part at unit variance (see above) times its rms level; the powers add
            shape2 = shape ** 2
            shape2[..., 0] = 0.0
            power += shape2 * ((nfft / 2.0) ** 2 / shape2.sum(axis=-1, keepdims=True)) * level ** 2
        namp = (np.sqrt(power) * anti_alias * noise_level[sl, None, None]).astype(np.float32)
        nspec = rng.standard_normal((m, 3, f.size), dtype=np.float32) \
            + 1j * rng.standard_normal((m, 3, f.size), dtype=np.float32)
        noise = np.fft.irfft(nspec * namp, n=nfft, axis=-1).astype(np.float64)
        for j in range(m):
            L = valid[sl.start + j]
            noise_rms[sl.start + j] = np.sqrt(np.mean(noise[j, :, :L] ** 2))
            peak[sl.start + j] = np.abs(sig[j, :, :L]).max()
        wave = (sig + noise) * (gain[sl, None, None] * rng.normal(1.0, 0.03, (m, 3, 1)))
        for j in range(m):
            g = sl.start + j
            data = np.full((n_samples[g], 3), np.nan)
            data[pad_head[g]: pad_head[g] + valid[g]] = wave[j, :, : valid[g]].T
            events.append(pd.DataFrame(data, columns=list(CHANNELS)))

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
        "rg_arrival_s": (head_s + dist / u1 - w0) * nan_src,
        "sp_ratio": sp * nan_src,
        "n_shots": np.where(kind == "explosion", n_shots[src], 0),
        "shot_delay_ms": shot_delay[src] * 1e3,
        "snr_db": np.where(is_sig, 20 * np.log10(np.maximum(peak, 1e-12) / noise_rms), np.nan),
        "gain": gain,
        "n_samples": n_samples,
        "first_valid": pad_head,
        "last_valid": pad_head + valid - 1,
    })
    return events, labels, meta


def write_default(
    path: str | Path | None = None,
    *,
    n_events: int = 1200,
    seed: int = 0,
    difficulty: float = 0.5,
    overwrite: bool = False,
) -> Path:
    """Write the default data set: the seed pickle ``(events, labels)`` and the sidecar ``<stem>.meta.csv``.

    ``path`` defaults to :func:`default_path`. Both files are written atomically. When the pickle
    exists and ``overwrite`` is False nothing is written (the data are deterministic) and the path is
    returned. Returns the pickle's path.
    """
    path = Path(default_path() if path is None else path)
    meta_path = path.with_name(path.stem + ".meta.csv")
    if path.exists() and not overwrite:
        note = "" if meta_path.exists() else f" (its sidecar {meta_path.name} is missing)"
        print(f"kept existing {path}{note}; pass overwrite=True to regenerate")
        return path
    if path.exists() and path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; give a file path such as {path / 'default_events.pkl'}")
    events, labels, meta = make_events(n_events, seed, difficulty)
    labels = labels.astype(str)  # numpy unicode array: loads through a restricted unpickler
    with paths.atomic_write(meta_path, mode="w") as f:
        meta.to_csv(f, index=False, float_format="%.6g")
    with paths.atomic_write(path, mode="wb") as f:
        pickle.dump((events, labels), f, protocol=4)
    counts = ", ".join(f"{c} {int((labels == c).sum())}" for c in np.unique(labels))
    print(f"wrote {len(events)} synthetic events ({counts}; seed={seed}, difficulty={difficulty}) "
          f"to {path} and {meta_path.name}")
    return path


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
