"""Data larger than memory: load + preprocess + one training epoch on a generated SeisBench-format set.

For each size given (GB of float32 waveforms), generates a SeisBench data set (``metadata.csv`` +
``waveforms.hdf5``; traces of 3 x 15,001 float32 samples at 100 Hz, three stations per event, two classes,
buckets of 1,000 traces), then runs in a fresh process:

- **lazy** (what a study does above ``defaults.LAZY_ABOVE_BYTES``): ``load_events(lazy=True)`` indexes the
  files, ``WaveformDataAdapter(..., out=)`` streams DROP_NAN -> TRIMMING -> ZSCORE and the grouped split
  into a memory-mapped ``.npz``, then ``fit`` trains ``LSTMModel`` on the default spectrogram for one
  epoch and its validation pass (``--epoch-events`` caps the training events, and the validation events at
  a quarter of that; 0: the whole training and validation parts);
- **in memory** (the seed idiom, ``--in-memory``, at sizes up to ``--in-memory-max`` GB): ``load_events``
  + ``WaveformDataAdapter`` without ``out``, for the side-by-side memory figure.

Prints per run: seconds for load, preprocess and the epoch, preprocessing throughput (MB of waveforms per
s; target >= 150), and peak resident memory (``ru_maxrss`` of the run's process; target <= 2 GB at every
size, i.e. not growing with the data). Removes its files afterwards.

Usage: ``python benchmarks/bench_scale.py 1 5 10`` (the issue's check; the 10 GB set needs ~20 GB of
free disk), ``python benchmarks/bench_scale.py 0.2 --in-memory`` (a quick look).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLES, CHANNELS, RATE, BUCKET = 15_001, 3, 100.0, 1000
TRACE_BYTES = SAMPLES * CHANNELS * 4


def generate(folder: Path, gigabytes: float, seed: int = 0) -> int:
    """A SeisBench set of about ``gigabytes`` GB of waveforms in ``folder``; returns the number of traces."""
    import h5py
    import pandas as pd

    n = max(6, int(gigabytes * 1e9 // TRACE_BYTES) // 3 * 3)  # three stations per event
    rng = np.random.default_rng(seed)
    events = n // 3
    labels = np.where(rng.random(events) < 0.5, "earthquake", "noise")
    t = np.arange(SAMPLES, dtype=np.float32) / RATE
    folder.mkdir(parents=True)
    names = []
    with h5py.File(folder / "waveforms.hdf5", "w") as f:
        fmt = f.create_group("data_format")
        fmt.create_dataset("component_order", data="ZNE")
        fmt.create_dataset("dimension_order", data="CW")
        fmt.create_dataset("sampling_rate", data=RATE)
        for b in range(0, n, BUCKET):
            k = min(BUCKET, n - b)
            block = rng.standard_normal((k, CHANNELS, SAMPLES), dtype=np.float32)
            quake = labels[(b + np.arange(k)) // 3] == "earthquake"
            onset = rng.uniform(20, 60, k).astype(np.float32)
            burst = np.exp(-np.clip(t[None] - onset[:, None], 0, None) / 8) * (t[None] >= onset[:, None])
            block[quake] += (8 * burst[quake] * np.sin(2 * np.pi * 5 * t))[:, None, :]
            f.create_dataset(f"data/bucket{b // BUCKET}", data=block)
            names += [f"bucket{b // BUCKET}${i},:{CHANNELS},:{SAMPLES}" for i in range(k)]
    trace = np.arange(n)
    pd.DataFrame({
        "trace_name": names, "source_id": [f"ev{i // 3}" for i in trace],
        "station_code": [f"ST{i % 3}" for i in trace], "source_event_category": labels[trace // 3],
        "trace_sampling_rate_hz": RATE,
    }).to_csv(folder / "metadata.csv", index=False)
    return n


def measure(folder: str, out: str, lazy: bool, epoch_events: int) -> dict:
    """One run, in this (fresh) process: load, preprocess, one epoch; times and peak RSS."""
    import resource

    import torch

    import seiswork
    from seiswork.study import Study
    from seiswork import study as steps

    torch.manual_seed(0)
    t0 = time.perf_counter()
    events = seiswork.load_events(folder, lazy=lazy, verbose=False)
    t1 = time.perf_counter()
    adapter = seiswork.WaveformDataAdapter(events, verbose=False, out=out if lazy else None)
    t2 = time.perf_counter()
    rss_preprocess = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    study = Study(epochs=1, run_dir=str(Path(out).parent / "run"), augment=True)
    train, val = adapter.dataset("train"), adapter.dataset("val")
    if epoch_events and epoch_events < len(train):  # the first rows of each part: still views of the map
        train = seiswork.WaveformDataset(train.x[:epoch_events], train.y[:epoch_events], classes=adapter.classes)
        val = seiswork.WaveformDataset(val.x[: epoch_events // 4], val.y[: epoch_events // 4], classes=adapter.classes)
    pipelines = steps.make_pipelines(study, adapter, from_run=False)
    _, features = steps.input_shape(pipelines[1], train)
    model = steps.make_model(study, features, len(adapter.classes))
    seiswork.fit(model, train, val, epochs=1, batch_size=study.batch_size, train_transform=pipelines[0],
                 eval_transform=pipelines[1], seed=0, progress=False, checkpoint_dir=Path(out).parent / "ckpt")
    t3 = time.perf_counter()
    return {"load_s": t1 - t0, "preprocess_s": t2 - t1, "epoch_s": t3 - t2, "epoch_events": len(train) + len(val),
            "rss_preprocess": rss_preprocess, "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def run_child(folder: Path, out: Path, lazy: bool, epoch_events: int) -> dict:
    code = (f"import sys, json; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
            f"from bench_scale import measure; "
            f"print(json.dumps(measure({str(folder)!r}, {str(out)!r}, {lazy}, {epoch_events})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=float, default=[1.0], help="GB of waveforms (default: 1)")
    parser.add_argument("--epoch-events", type=int, default=0, help="events of the one epoch (0: the training part)")
    parser.add_argument("--in-memory", action="store_true", help="also run the in-memory path, side by side")
    parser.add_argument("--in-memory-max", type=float, default=2.0, help="largest size (GB) for --in-memory")
    parser.add_argument("--tmp", default=None, help="folder for the generated files (default: the system's)")
    args = parser.parse_args()
    print(f"{'GB':>5} {'traces':>7} {'path':>9} {'load s':>7} {'prep s':>7} {'MB/s':>6} {'epoch s':>8} "
          f"{'events':>7} {'RSS prep GB':>11} {'RSS peak GB':>11}")
    for size in args.sizes:
        work = Path(tempfile.mkdtemp(prefix="seiswork-scale-", dir=args.tmp))
        try:
            t0 = time.perf_counter()
            n = generate(work / "set", size)
            made = time.perf_counter() - t0
            data_mb = n * TRACE_BYTES / 1e6
            paths = [("lazy", True)] + ([("in memory", False)] if args.in_memory and size <= args.in_memory_max else [])
            results = {}
            for name, lazy in paths:
                r = results[name] = run_child(work / "set", work / "pre.npz", lazy, args.epoch_events)
                print(f"{size:5.1f} {n:7d} {name:>9} {r['load_s']:7.1f} {r['preprocess_s']:7.1f} "
                      f"{data_mb / (r['load_s'] + r['preprocess_s']):6.0f} {r['epoch_s']:8.1f} {r['epoch_events']:7d} "
                      f"{r['rss_preprocess'] / 1e9:11.2f} {r['rss_peak'] / 1e9:11.2f}", flush=True)
                for p in (work / "pre.npz", work / "run", work / "ckpt"):
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
            if len(results) == 2:  # side by side in this run
                lazy, mem = results["lazy"], results["in memory"]
                speed = (mem["load_s"] + mem["preprocess_s"]) / (lazy["load_s"] + lazy["preprocess_s"])
                print(f"      lazy vs in memory: load + preprocess {speed:.1f}x faster, peak RSS "
                      f"{lazy['rss_peak'] / mem['rss_peak']:.2f}x")
            print(f"      ({data_mb / 1e3:.2f} GB of waveforms generated in {made:.0f} s)")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print("targets: MB/s >= 150 (load + preprocess), RSS peak <= 2 GB and not growing with the data")


if __name__ == "__main__":
    main()
