"""``make_events``: the synthetic data set from a seed (the physics is described in :mod:`seiswork.synthetic`)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from seiswork.synthetic.recordings import draw_recordings, meta_table
from seiswork.synthetic.sources import check_args, draw_sources
from seiswork.synthetic.waveforms import synthesize


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
    check_args(n_events, seed, difficulty, sampling_rate, stations_per_event, classes, class_balance,
               distance_range_km, magnitude_range, duration_range_s)
    rng = np.random.default_rng(seed)
    dif = float(difficulty)
    sr = float(sampling_rate)
    n = int(n_events)
    k = int(stations_per_event)
    classes = tuple(classes)

    n_src = -(-n // k)
    sources = draw_sources(rng, n_src, classes, class_balance, dif, sr, magnitude_range)
    recs = draw_recordings(rng, sources, classes, n, k, sr, dif, distance_range_km, duration_range_s)
    events, noise_rms, peak = synthesize(rng, sources, recs, sr)
    return events, recs.labels, meta_table(sources, recs, sr, peak, noise_rms)
