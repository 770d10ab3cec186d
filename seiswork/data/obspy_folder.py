"""A folder of miniSEED/SAC files plus a catalog CSV: one row per event naming its component traces."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np
import pandas as pd

from seiswork.data.events import COMPONENT_ALIASES, as_labels, frames
from seiswork.data.eventset import Part, rename_clashes

__all__ = ["read_obspy", "WAVEFORM_SUFFIXES"]

WAVEFORM_SUFFIXES = (".mseed", ".miniseed", ".sac", ".ms")


def read_obspy(folder: Path, catalog: str | os.PathLike | pd.DataFrame, catalog_name: str, channels: tuple[str, ...], label_column: str) -> Part:
    if isinstance(catalog, pd.DataFrame):
        table = catalog.reset_index(drop=True)
    else:
        catalog = Path(catalog)
        if not catalog.exists():
            raise FileNotFoundError(f"catalog {catalog} not found; give catalog= a CSV with columns file, label")
        try:
            table = pd.read_csv(catalog, dtype={"file": str, "event_id": str, "station": str})
        except pd.errors.EmptyDataError:
            raise ValueError(f"{catalog}: is empty; a catalog has one row per event with columns file, label") from None
    if len(table) == 0:
        raise ValueError(f"{catalog_name}: holds 0 events; nothing to load")
    if "file" not in table.columns:
        raise ValueError(
            f"{catalog_name}: has no 'file' column (it has {list(table.columns)}); each row needs a file pattern "
            f"(glob relative to {folder}) matching the event's component traces"
        )
    label_col = "label" if "label" in table.columns else label_column
    if label_col not in table.columns:
        raise ValueError(f"{catalog_name}: has no 'label' column (it has {list(table.columns)}); add one class per row")
    labels = as_labels(table[label_col].to_numpy(), len(table), f"{catalog_name} column {label_col!r}")
    import obspy

    arrays, rates, stations = [], [], []
    for i, pattern in enumerate(table["file"].astype(str)):
        where = f"{catalog_name} row {i} (file {pattern!r})"
        full = pattern if os.path.isabs(pattern) else str(folder / pattern)
        files = sorted(glob.glob(full))
        if not files:
            raise FileNotFoundError(f"{where}: matches no file in {folder}; fix the pattern or the folder")
        stream = obspy.Stream()
        for name in files:
            try:
                stream += obspy.read(name)
            except Exception as err:  # ObsPy raises TypeError/ValueError/... for unknown formats
                raise ValueError(f"{where}: {name} could not be read by ObsPy ({err}); is it miniSEED or SAC?") from err
        try:
            stream.merge(fill_value=None)  # joins pieces of one channel; gaps become masked samples
        except Exception as err:
            raise ValueError(f"{where}: traces could not be merged ({err}); check sampling rates") from err
        srs = sorted({float(tr.stats.sampling_rate) for tr in stream})
        if len(srs) > 1:
            raise ValueError(
                f"{where}: traces have different sampling rates {srs} Hz; resample them to one rate "
                f"(e.g. ObsPy Trace.resample) before loading"
            )
        by_comp: dict[str, list] = {}
        for tr in stream:
            comp = tr.stats.channel[-1:].upper()
            by_comp.setdefault(comp, []).append(tr)
        chosen = []
        for c in channels:
            traces = by_comp.get(c) or by_comp.get(COMPONENT_ALIASES.get(c, ""), [])
            if not traces:
                raise ValueError(
                    f"{where}: no trace for component {c} (found {sorted(by_comp)} in {[Path(x).name for x in files]}); "
                    f"pass channels= from those or fix the pattern"
                )
            if len(traces) > 1:
                raise ValueError(
                    f"{where}: {len(traces)} traces for component {c} ({[tr.id for tr in traces]}); make the pattern "
                    f"match one recording per component"
                )
            chosen.append(traces[0])
        sr = srs[0]
        t0 = min(tr.stats.starttime for tr in chosen)
        starts = [int(round((tr.stats.starttime - t0) * sr)) for tr in chosen]
        length = max(s + tr.stats.npts for s, tr in zip(starts, chosen))
        arr = np.full((length, len(chosen)), np.nan, dtype=np.float32)
        for k, (s, tr) in enumerate(zip(starts, chosen)):
            data = np.ma.filled(np.ma.asarray(tr.data).astype(np.float32), np.nan)
            arr[s : s + len(data), k] = data
        if length == 0 or np.isnan(arr).all():
            raise ValueError(f"{where}: the event is all NaN or has no samples; remove it")
        arrays.append(arr)
        rates.append(sr)
        stations.append(",".join(dict.fromkeys(f"{tr.stats.network}.{tr.stats.station}".strip(".") for tr in chosen)))
    events = frames(arrays, channels)
    meta = pd.DataFrame({"label": labels})
    if "event_id" in table.columns:
        meta["event_id"] = table["event_id"].to_numpy()
    meta["station"] = table["station"].to_numpy() if "station" in table.columns else np.array(stations, dtype=object)
    meta["sampling_rate"] = np.array(rates, dtype=float)
    extra = table.drop(columns=[c for c in (label_col, "event_id", "station") if c in table.columns])
    extra = rename_clashes(extra, "catalog_", ("source", "index", "label", "sampling_rate"))
    meta = pd.concat([meta, extra.reset_index(drop=True)], axis=1)
    return Part(events, labels, meta, "ObsPy folder + catalog")
