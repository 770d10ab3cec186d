"""Classify new events with a trained model: :func:`classify` and ``python -m seiswork predict``.

New events go through the preprocessing the model was trained with, using the same functions
(:mod:`seiswork.data.preprocess`) and the settings the bundle recorded (:mod:`seiswork.bundle`):
the bundle's channels, DROP_NAN (edge padding removed, interior gaps by the training ``nan_policy``),
TRIMMING to the bundle's ``length`` on the same side, ZSCORE per event and channel; then the evaluation
transform and the model, in batches. An event that cannot go through these steps unchanged (a missing or
all-NaN channel, too few samples, a NaN gap) is a row with an empty ``predicted`` and the ``reason``, never
dropped. Events whose metadata records another sampling rate than the model's are refused as a whole: a
resampled event would not be what the model learnt from, so resampling is left to the user, explicitly.

(The module is not called ``classify``: importing a submodule sets the package attribute of its name, which
would hide the function ``seiswork.classify``.)
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seiswork.bundle import Bundle, load_bundle
from seiswork.data.eventset import EventSet, rename_clashes
from seiswork.data.preprocess import (
    PreprocessReport, TransformOP, channels_first, fill, interior_gaps, scan,
)

__all__ = ["classify", "prepare_events", "predict_main"]

PREDICTED, REASON, PROBABILITY_PREFIX = "predicted", "reason", "p_"


def classify(
    bundle: Bundle | str | os.PathLike,
    events: Any,
    *,
    batch_size: int = 256,
    device: Any = None,
    label_column: str = "source_event_category",
    verbose: bool = False,
) -> pd.DataFrame:
    """Class and class probabilities of each event, from a model bundle.

    Args:
        bundle: a :class:`~seiswork.bundle.Bundle` or the path of one (``model.seiswork`` in a run's model folder).
        events: what :func:`seiswork.load_events` reads (a path, a glob or a list of them; read with the
            bundle's channels), an :class:`~seiswork.EventSet`, a list of DataFrames / arrays ``(time, channel)``
            (or the seed's ``(events, labels)``), or an array ``(event, time, channel)``.
        batch_size: events per inference batch.
        device: ``"cpu"``, ``"cuda"``...; None picks CUDA when present.
        label_column: the class column of SeisBench metadata (only for loading; labels are not used).
        verbose: print what :func:`seiswork.load_events` reads.

    Returns:
        One row per event, in the order loaded: the events' metadata (``source``, ``index``, ``label``,
        ``event_id``, ``station``, ``sampling_rate``... as loaded; a column clashing with the ones below gets a
        ``meta_`` prefix), ``predicted`` (class name; ``""`` for an event that could not be used), one
        ``p_<class>`` column per class (softmax probabilities; NaN when unused) and ``reason`` (why an event
        was not used; ``""`` otherwise).

    Raises:
        ValueError: when the metadata records a sampling rate other than the bundle's.
    """
    from seiswork.data.dataset import WaveformDataset
    from seiswork.training.evaluation import predict

    if not isinstance(bundle, Bundle):
        bundle = load_bundle(bundle)
    event_set = _as_event_set(events, bundle, label_column, verbose)
    _check_rates(event_set.meta, bundle)
    x, rows, reasons = prepare_events(event_set.events, bundle)
    probabilities = np.full((len(reasons), len(bundle.classes)), np.nan)
    if len(rows):
        import torch

        logits, _ = predict(bundle.model, WaveformDataset(x, np.zeros(len(rows), np.int64)),
                            bundle.eval_transform, device, batch_size)
        # softmax in float64 of the float32 logits, as seiswork.evaluate computes its probabilities
        probabilities[rows] = torch.softmax(torch.from_numpy(logits).double(), dim=1).numpy()
    return _table(event_set.meta, bundle.classes, probabilities, rows, reasons)


def prepare_events(events: Sequence[Any], bundle: Bundle) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The events preprocessed as the bundle's model was trained: ``(x, rows, reasons)``.

    ``x``: float32 ``(len(rows), bundle.length, channel)``; ``rows``: int64 indices of the events used, in
    order; ``reasons``: one string per event, ``""`` for the events used, else why it was not.
    """
    pre, channels, length = bundle.preprocessing, bundle.channels, bundle.length
    flags = pre.flags
    drop_nan, trimming = TransformOP.DROP_NAN in flags, TransformOP.TRIMMING in flags
    n = len(events)
    first, stop = np.zeros(n, np.int64), np.zeros(n, np.int64)
    reasons, to_fill, arrays = [""] * n, {}, {}
    for i, event in enumerate(events):
        reason, a = _readable(event, i, channels)
        if reason:
            reasons[i] = reason
            continue
        arrays[i] = a.T  # (time, channel), a view of the event where possible
        f, s, _, gaps = scan([a.T], channels, drop_nan)
        first[i], stop[i] = f[0], s[0]
        if gaps:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the reason below says it, per event
                keep, filled = (interior_gaps([a.T], [0], f, s, PreprocessReport(), channels=channels,
                                              nan_policy="interpolate", max_gap=pre.max_gap)
                                if pre.nan_policy == "interpolate" else (np.zeros(1, bool), {}))
            if not keep[0]:
                reasons[i] = (f"NaN gap inside the signal longer than max_gap={pre.max_gap} samples"
                              if pre.nan_policy == "interpolate"
                              else f"NaN gap inside the signal (the model was trained with nan_policy="
                                   f"{pre.nan_policy!r}, which does not fill gaps)")
                continue
            to_fill[i] = filled[0]
        valid = int(stop[i] - first[i])
        padding = " after removing NaN padding" if drop_nan else ""
        if trimming and valid < length:
            reasons[i] = f"too short: {valid} samples{padding}, the model reads {length}"
        elif not trimming and valid != length:
            reasons[i] = (f"{valid} samples{padding}: the model was trained without TRIMMING on events of exactly "
                          f"{length} samples")
    rows = np.array([i for i in range(n) if not reasons[i]], dtype=np.int64)
    report = PreprocessReport()
    x = fill(arrays, rows, first, stop, to_fill, length, report, channels=channels, transforms=flags,
             trim=pre.trim, eps=pre.eps)
    if report.constant_channels:
        listed = ", ".join(f"{i}:{c}" for i, c in report.constant_channels[:10])
        warnings.warn(f"{len(report.constant_channels)} constant channel(s) (event:channel) set to 0 by ZSCORE, "
                      f"as in training: {listed}", RuntimeWarning, stacklevel=3)
    return x, rows, reasons


def _readable(event: Any, i: int, channels: tuple[str, ...]) -> tuple[str, np.ndarray | None]:
    """``(reason, None)`` for an event the model cannot read, else ``("", (channel, time) array)``."""
    if isinstance(event, pd.DataFrame):
        missing = [c for c in channels if c not in event.columns]
        if missing:
            return f"missing channel(s) {', '.join(missing)} (it has {', '.join(map(str, event.columns))})", None
    try:
        a = channels_first(event if isinstance(event, pd.DataFrame) else np.asarray(event), i, channels)
    except (TypeError, ValueError) as exc:
        return str(exc).replace(f"event {i} ", "", 1), None
    if a.shape[1] == 0:
        return "no samples", None
    if not np.isfinite(a.sum(axis=0)).any():  # the training preprocessing refuses such events too
        dead = [c for c, row in zip(channels, a) if not np.isfinite(row).any()]
        return ("all NaN" if len(dead) == len(channels) else f"channel(s) {', '.join(dead)} all NaN" if dead
                else "NaN in some channel at every sample"), None
    return "", a


def _as_event_set(events: Any, bundle: Bundle, label_column: str, verbose: bool) -> EventSet:
    from seiswork.data.load import load_events

    if isinstance(events, EventSet):
        return events
    if isinstance(events, tuple) and len(events) == 2 and isinstance(events[0], list):  # the seed's (events, labels)
        events = events[0]
    if isinstance(events, np.ndarray) and events.ndim == 3:  # (event, time, channel)
        events = list(events)
    if isinstance(events, (str, os.PathLike)) or (
            isinstance(events, (list, tuple)) and events and isinstance(events[0], (str, os.PathLike))):
        return load_events(events, channels=bundle.channels, label_column=label_column, verbose=verbose)
    if isinstance(events, (list, tuple)):
        n = len(events)
        meta = pd.DataFrame({"source": "", "index": np.arange(n, dtype=np.int64)})
        return EventSet(list(events), np.full(n, ""), meta, bundle.channels)
    raise TypeError(f"events: expected file paths, an EventSet or a list of DataFrames / arrays (time, channel), "
                    f"got {type(events).__name__}")


def _check_rates(meta: pd.DataFrame | None, bundle: Bundle) -> None:
    """Refuse events recorded at a sampling rate other than the model's (unknown rates pass)."""
    if bundle.sampling_rate is None or meta is None or "sampling_rate" not in meta:
        return
    rates = pd.to_numeric(meta["sampling_rate"], errors="coerce").to_numpy(dtype=float)
    other = np.isfinite(rates) & ~np.isclose(rates, bundle.sampling_rate, rtol=1e-9, atol=0)
    if other.any():
        sources = meta["source"].to_numpy() if "source" in meta else np.full(len(meta), "?")
        found = sorted({(float(r), str(s)) for r, s in zip(rates[other], sources[other])})
        listed = "; ".join(f"{s}: {r:g} Hz" for r, s in found)
        raise ValueError(
            f"{int(other.sum())} event(s) were recorded at another sampling rate than the model's "
            f"{bundle.sampling_rate:g} Hz ({listed}); resample them to {bundle.sampling_rate:g} Hz first "
            "(e.g. scipy.signal.resample_poly or ObsPy's Trace.resample) or use a model trained at their rate")


def _table(meta: pd.DataFrame | None, classes: list[str], probabilities: np.ndarray, rows: np.ndarray,
           reasons: list[str]) -> pd.DataFrame:
    n = len(reasons)
    columns = [PREDICTED, *(PROBABILITY_PREFIX + c for c in classes), REASON]
    table = (pd.DataFrame(index=range(n)) if meta is None
             else rename_clashes(meta.reset_index(drop=True), "meta_", columns))
    predicted = np.full(n, "", dtype=object)
    if len(rows):
        predicted[rows] = np.asarray(classes, dtype=object)[probabilities[rows].argmax(axis=1)]
    table[PREDICTED] = predicted
    for k, c in enumerate(classes):
        table[PROBABILITY_PREFIX + c] = probabilities[:, k]
    table[REASON] = reasons
    return table


# ---------------------------------------------------------------------------------------------- command
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m seiswork predict",
        description="Classify new events with a trained model bundle (model.seiswork, written by train): "
                    "preprocess them as in training, write one CSV row per event (metadata, predicted class, "
                    "one p_<class> column per class, and the reason for events that could not be used).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="model bundle, e.g. runs/train-.../model.seiswork")
    p.add_argument("data", metavar="DATA", nargs="+",
                   help="event files or folders (.pkl/.pickle, .npz, SeisBench, miniSEED/SAC with catalog.csv)")
    p.add_argument("--out", type=Path, default=Path("predictions.csv"), help="CSV file to write")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--batch-size", type=int, default=256, help="events per inference batch")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N; None: CUDA when present")
    p.add_argument("--label-column", default="source_event_category",
                   help="class column of SeisBench metadata (read, not used)")
    return p


def predict_main(argv: Sequence[str] | None = None) -> int:
    """``python -m seiswork predict MODEL DATA... --out predictions.csv``; returns an exit code."""
    from seiswork.paths import atomic_write

    parser = _parser()
    args = parser.parse_args(argv)
    if args.out.exists() and not args.overwrite:  # before anything is loaded
        parser.error(f"--out {args.out} already exists: pass --overwrite to replace it, or choose another --out")
    if args.out.is_dir():
        parser.error(f"--out {args.out} is a folder: give a CSV file name such as {args.out / 'predictions.csv'}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be >= 1, got {args.batch_size}")
    if not Path(args.model).is_file():
        parser.error(f"MODEL {args.model}: no such file; give the model.seiswork a training run wrote")
    try:
        table = classify(args.model, args.data, batch_size=args.batch_size, device=args.device,
                         label_column=args.label_column)
        with atomic_write(args.out, "w", overwrite=args.overwrite) as f:
            table.to_csv(f, index=False)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError) as exc:
        print(f"seiswork predict: error: {exc}", file=sys.stderr)
        return 1
    unused = table[table[REASON] != ""]
    counts = table.loc[table[REASON] == "", PREDICTED].value_counts()
    print(f"classified {len(table) - len(unused)} of {len(table)} events: "
          + (", ".join(f"{c}: {k}" for c, k in counts.items()) or "none"))
    if len(unused):
        print(f"{len(unused)} event(s) not used (column {REASON}):")
        for reason, k in unused[REASON].value_counts().items():
            print(f"  {k} x {reason}")
    print(f"wrote {args.out}")
    return 0
