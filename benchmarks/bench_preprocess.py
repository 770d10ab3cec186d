"""Preprocessing speed and memory: WaveformDataAdapter against the straightforward per-DataFrame code.

Writes a seed-format pickle ``(events, labels)`` of N events (default 18,000) x 1650-1750 samples x 3
channels with NaN padding at both edges into a temporary folder (deleted at the end), loads it, then times:

* the reference: per DataFrame ``dropna()``, slice to the shortest length, ``scipy.stats.zscore``,
  then ``np.stack``;
* ``WaveformDataAdapter`` (DROP_NAN | TRIMMING | ZSCORE, grouped stratified split) on the same loaded events;
* ``save`` to ``.npz`` and ``WaveformDataAdapter.load`` (memory-mapped, and read eagerly) against rebuilding;
* peak traced memory (tracemalloc) of the adapter against the size of its final array.

Targets: adapter >= 5x faster than the reference, reload >= 50x faster than rebuilding, peak <= 2x the
final array.  Usage: ``python benchmarks/bench_preprocess.py [--events N] [--strict]``.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.stats

from seiswork import TransformOP, WaveformDataAdapter

CHANNELS = ["Z", "N", "E"]


def make_events(n: int, seed: int = 0):
    """Seed-format events: noise plus a decaying wave packet, lengths 1650-1750, NaN padding at the edges."""
    rng = np.random.default_rng(seed)
    events = []
    labels = np.where(rng.random(n) < 0.5, "earthquake", "explosion")
    for i in range(n):
        length = int(rng.integers(1650, 1751))
        data = rng.normal(scale=0.1, size=(length, 3))
        onset = int(rng.integers(100, 400))
        t = np.arange(length - onset, dtype=np.float64)
        data[onset:] += (np.exp(-t / 300.0) * np.sin(2 * np.pi * t / (20 if labels[i] == "earthquake" else 12)))[:, None]
        head, tail = int(rng.integers(0, 30)), int(rng.integers(0, 30))
        data[:head] = np.nan
        if tail:
            data[length - tail :] = np.nan
        events.append(pd.DataFrame(data, columns=CHANNELS))
    groups = np.array([f"ev{i // 3:06d}" for i in range(n)])  # three stations per event
    return events, labels, groups


def reference(events) -> np.ndarray:
    """The straightforward version: what a first implementation of the seed's adapter does."""
    cleaned = [df[CHANNELS].dropna() for df in events]
    length = min(len(df) for df in cleaned)
    return np.stack([scipy.stats.zscore(df.iloc[:length].to_numpy(), axis=0) for df in cleaned]).astype(np.float32)


def timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def mark(ok: bool) -> str:
    return "ok" if ok else "BELOW TARGET"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=18_000, help="number of events (default 18000)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    n = args.events

    with tempfile.TemporaryDirectory(prefix="seiswork-bench-") as tmp:
        tmp = Path(tmp)
        pkl = tmp / "events.pkl"
        t0 = time.perf_counter()
        events, labels, groups = make_events(n)
        with open(pkl, "wb") as f:
            pickle.dump((events, labels), f, protocol=pickle.HIGHEST_PROTOCOL)
        del events
        gc.collect()
        print(f"generated {n} events -> {pkl.stat().st_size / 1e6:.0f} MB pickle in {time.perf_counter() - t0:.1f} s")

        def load():
            with open(pkl, "rb") as f:
                return pickle.load(f)

        t_load, (events, labels) = timed(load)

        def ours():
            ops = TransformOP.DROP_NAN | TransformOP.TRIMMING | TransformOP.ZSCORE
            return WaveformDataAdapter(events, labels, transforms=ops, groups=groups, verbose=False)

        t_ours, adapter = timed(ours, repeat=2)
        t_ref, ref = timed(lambda: reference(events))
        diff = float(np.abs(ref[adapter.kept] - adapter.x).max())
        del ref

        npz = tmp / "pre.npz"
        t_save, _ = timed(lambda: adapter.save(npz))
        t_mmap, loaded = timed(lambda: WaveformDataAdapter.load(npz), repeat=3)
        same = (
            np.array_equal(loaded.x, adapter.x)
            and np.array_equal(loaded.y, adapter.y)
            and all(np.array_equal(a, b) for a, b in zip(loaded.split, adapter.split))
        )
        del loaded
        t_touch, _ = timed(lambda: float(WaveformDataAdapter.load(npz).x.sum(dtype=np.float64)), repeat=2)
        t_eager, _ = timed(lambda: WaveformDataAdapter.load(npz, mmap=False), repeat=2)

        final = adapter.x.nbytes
        del adapter
        gc.collect()
        tracemalloc.start()
        adapter = ours()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        L = adapter.report.length
        print(f"\nevents {n} x {L} samples x 3 channels; final array {final / 1e6:.0f} MB float32")
        print(f"load pickle                       {t_load:8.2f} s")
        print(f"reference (dropna/zscore/stack)   {t_ref:8.2f} s")
        print(f"WaveformDataAdapter               {t_ours:8.2f} s   (incl. grouped split)")
        print(f"  max |ours - reference|          {diff:8.1e}")
        print(f"load + reference                  {t_load + t_ref:8.2f} s")
        print(f"load + adapter                    {t_load + t_ours:8.2f} s")
        print(f"save .npz                         {t_save:8.2f} s   ({npz.stat().st_size / 1e6:.0f} MB)")
        print(f"reload .npz (memory-mapped)       {t_mmap * 1e3:8.1f} ms  identical: {same}")
        print(f"reload .npz + read all of x       {t_touch:8.2f} s")
        print(f"reload .npz eagerly (mmap=False)  {t_eager:8.2f} s")
        print(f"peak traced memory of adapter     {peak / 1e6:8.0f} MB")

        speedup = t_ref / t_ours
        reload_ratio = t_ours / t_mmap
        peak_ratio = peak / final
        print("\nratios")
        print(f"  reference / adapter             {speedup:8.1f}x   target >= 5x    {mark(speedup >= 5)}")
        print(f"  (load+reference) / (load+adapter) {(t_load + t_ref) / (t_load + t_ours):6.1f}x")
        print(f"  rebuild / reload (mmap)         {reload_ratio:8.0f}x   target >= 50x   {mark(reload_ratio >= 50)}")
        print(f"  rebuild / (reload + read all)   {t_ours / t_touch:8.1f}x")
        print(f"  rebuild / reload eagerly        {t_ours / t_eager:8.1f}x")
        print(f"  (load pickle + rebuild) / reload eagerly {(t_load + t_ours) / t_eager:5.1f}x")
        print(f"  peak memory / final array       {peak_ratio:8.2f}x   target <= 2x    {mark(peak_ratio <= 2)}")
        ok = speedup >= 5 and reload_ratio >= 50 and peak_ratio <= 2 and same and diff < 1e-4
        return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
