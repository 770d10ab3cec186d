"""SeisBench data sets: ``metadata.csv`` + ``waveforms.hdf5`` in one folder (chunks: ``metadata<c>.csv``/``waveforms<c>.hdf5``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from seiswork.data.events import COMPONENT_ALIASES, as_labels, check_has_data, frames
from seiswork.data.eventset import Part, rename_clashes

__all__ = ["seisbench_pairs", "read_seisbench", "SeisBenchTraces", "HDF5_SUFFIXES"]

HDF5_SUFFIXES = (".hdf5", ".h5")
_TRACE_RE = re.compile(r"^(?P<bucket>[^$]+)\$(?P<row>\d+)(?P<rest>(,[^,]*)*)$")


def _parse_index(text: str, where: str):
    text = text.strip()
    if ":" not in text:
        return int(text)
    parts = text.split(":")
    if len(parts) > 3:
        raise ValueError(f"{where}: bad slice {text!r} in trace name")
    vals = [int(p) if p.strip() else None for p in parts]
    return slice(*vals)


def _h5_text(value) -> str:
    if isinstance(value, np.ndarray):
        value = value[()]
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def _h5_format(f) -> dict:
    """``data_format`` of a SeisBench file, stored as datasets (the usual) or attributes of the group."""
    fmt: dict = {}
    group = f.get("data_format")
    if group is not None:
        for key, value in group.attrs.items():
            fmt[key] = value
        for key in group.keys():
            fmt[key] = group[key][()]
    return fmt


def seisbench_pairs(path: Path) -> list[tuple[Path, Path]]:
    """(waveforms.hdf5, metadata.csv) pairs for a folder or either file (chunks: waveforms<c>.hdf5)."""
    if path.is_dir():
        pairs = []
        for meta in sorted(path.glob("metadata*.csv")):
            chunk = meta.stem[len("metadata"):]
            h5 = path / f"waveforms{chunk}.hdf5"
            if not h5.exists():
                raise FileNotFoundError(f"{meta} has no waveform file beside it (expected {h5})")
            pairs.append((h5, meta))
        return pairs
    if path.suffix == ".csv":
        chunk = path.stem[len("metadata"):]
        h5 = path.with_name(f"waveforms{chunk}.hdf5")
        if not h5.exists():
            raise FileNotFoundError(f"{path} has no waveform file beside it (expected {h5})")
        return [(h5, path)]
    candidates = []
    if path.stem.startswith("waveforms"):
        candidates.append(path.with_name(f"metadata{path.stem[len('waveforms'):]}.csv"))
    candidates += [path.with_suffix(".csv"), path.with_name("metadata.csv")]
    for meta in candidates:
        if meta.exists():
            return [(path, meta)]
    raise FileNotFoundError(
        f"{path}: no SeisBench metadata beside it (looked for {', '.join(c.name for c in dict.fromkeys(candidates))}); "
        f"a SeisBench data set is waveforms.hdf5 + metadata.csv in one folder"
    )


def _channel_index(order: str, channels: tuple[str, ...], where: str) -> list[int]:
    idx = []
    for c in channels:
        if c in order:
            idx.append(order.index(c))
        elif c in COMPONENT_ALIASES and COMPONENT_ALIASES[c] in order:
            idx.append(order.index(COMPONENT_ALIASES[c]))
        else:
            raise ValueError(
                f"{where}: has no channel {c!r} (component order {order!r}); pass channels= from {list(order)}"
            )
    return idx


def read_seisbench(h5path: Path, csvpath: Path, channels: tuple[str, ...], label_column: str) -> Part:
    """Every trace of one SeisBench file pair, in memory, as a Part."""
    traces = SeisBenchTraces(h5path, csvpath, channels, label_column)
    arrays = [np.ascontiguousarray(a) for a in traces.read(np.arange(len(traces)))]
    check_has_data(
        str(h5path), [len(a) for a in arrays], [len(a) == 0 or not np.isnan(a).all() for a in arrays],
        f"remove them from {csvpath.name}", what="trace", names=traces.names,
    )
    return Part(frames(arrays, channels), traces.labels, traces.meta, "SeisBench HDF5")


class SeisBenchTraces:
    """The traces of one SeisBench file pair, read on demand: ``meta`` and ``labels`` now, waveforms by rows.

    Reading the metadata and the file layout costs no waveform reads, so a data set far larger than memory
    can be indexed and then streamed (:class:`~seiswork.data.lazy.LazyEvents`). Traces sharing a bucket, slices and
    component order are read with one vectorised HDF5 selection.
    """

    kind = "SeisBench HDF5"

    def __init__(self, h5path: Path, csvpath: Path, channels: tuple[str, ...], label_column: str) -> None:
        import h5py

        self.h5path, self.csvpath, self.channels = Path(h5path), Path(csvpath), tuple(channels)
        if self.h5path.stat().st_size == 0:
            raise ValueError(f"{h5path}: is empty (0 bytes); nothing to load")
        try:
            table = pd.read_csv(csvpath, low_memory=False)
        except pd.errors.EmptyDataError:
            raise ValueError(f"{csvpath}: is empty; a SeisBench metadata.csv has one row per trace") from None
        if len(table) == 0:
            raise ValueError(f"{csvpath}: holds 0 traces; nothing to load")
        for col in ("trace_name", label_column):
            if col not in table.columns:
                raise ValueError(
                    f"{csvpath}: has no column {col!r} (it has {list(table.columns)}); "
                    + ("pass label_column= naming the class column" if col == label_column else "is this a SeisBench metadata file?")
                )
        self.labels = as_labels(table[label_column].to_numpy(), len(table), f"{csvpath} column {label_column!r}")
        self.names = table["trace_name"].astype(str).to_numpy()
        orders = table["trace_component_order"].astype(str).to_numpy() if "trace_component_order" in table.columns else None
        try:
            f = h5py.File(h5path, "r")
        except OSError as err:
            raise ValueError(f"{h5path}: could not be opened as HDF5 ({err})") from err
        with f:
            fmt = _h5_format(f)
            file_order = _h5_text(fmt.get("component_order", "ZNE"))
            self.dim_order = _h5_text(fmt.get("dimension_order", "CW")).replace("N", "")
            if sorted(self.dim_order) != ["C", "W"]:
                raise ValueError(f"{h5path}: data_format/dimension_order {self.dim_order!r} is not 'CW' or 'WC'")
            if "data" not in f:
                raise ValueError(f"{h5path}: has no 'data' group; is this a SeisBench waveforms file?")
            # each trace's read plan: a group key (bucket, single dataset, slices, component order) and its row
            keys: dict[tuple, int] = {}
            self.group = np.empty(len(table), dtype=np.int64)
            self.row = np.full(len(table), -1, dtype=np.int64)
            for i, name in enumerate(self.names):
                order = orders[i] if orders is not None and orders[i] not in ("nan", "") else file_order
                m = _TRACE_RE.match(name)
                key = (None, name, "", order) if m is None else (m["bucket"], None, m["rest"], order)
                if m is not None:
                    self.row[i] = int(m["row"])
                self.group[i] = keys.setdefault(key, len(keys))
            _, first = np.unique(self.group, return_index=True)
            last_row = np.full(len(keys), -1, dtype=np.int64)
            np.maximum.at(last_row, self.group, self.row)
            self.plans = [self._plan(key, int(first[g]), int(last_row[g]), f["data"]) for key, g in keys.items()]
        meta = pd.DataFrame({"label": self.labels})
        if "source_id" in table.columns:
            meta["event_id"] = table["source_id"].astype(str).where(table["source_id"].notna(), None).to_numpy()
        if "station_code" in table.columns:
            station = table["station_code"].astype(str)
            if "station_network_code" in table.columns:
                station = table["station_network_code"].fillna("").astype(str) + "." + station
            meta["station"] = station.to_numpy()
        rate = np.full(len(table), float(fmt["sampling_rate"]) if "sampling_rate" in fmt else np.nan)
        if "trace_sampling_rate_hz" in table.columns:
            col = pd.to_numeric(table["trace_sampling_rate_hz"], errors="coerce").to_numpy(dtype=float)
            rate = np.where(np.isnan(col), rate, col)
        meta["sampling_rate"] = rate
        reserved = ("source", "index", "label", "event_id", "station", "sampling_rate")
        extra = rename_clashes(table.drop(columns=[label_column]), "meta_", reserved)
        self.meta = pd.concat([meta, extra.reset_index(drop=True)], axis=1)

    def __len__(self) -> int:
        return len(self.labels)

    def _plan(self, key: tuple, first: int, last_row: int, group) -> tuple:
        bucket, single, rest, order = key
        where = f"{self.h5path} trace {first} ({self.names[first]})"
        ch_idx = _channel_index(order, self.channels, where)
        slices = tuple(_parse_index(s, where) for s in rest.split(",")[1:]) if rest else ()
        dataset = bucket if bucket is not None else single
        if dataset not in group:
            raise ValueError(f"{where}: no dataset data/{dataset} in the file")
        if bucket is not None and last_row >= group[bucket].shape[0]:
            raise ValueError(f"{where}: row {last_row} is beyond data/{bucket} ({group[bucket].shape[0]} rows)")
        return dataset, bucket is not None, slices, ch_idx, where

    def read(self, rows: np.ndarray) -> list[np.ndarray]:
        """The traces ``rows`` (indices into this file's metadata) as float32 arrays ``(time, channel)``: views of
        the blocks read, not necessarily contiguous (a copy per trace would cost as much as the read)."""
        import h5py

        rows = np.asarray(rows, dtype=np.int64)
        arrays: list = [None] * len(rows)
        with h5py.File(self.h5path, "r") as f:
            group = f["data"]
            for g in np.unique(self.group[rows]):
                members = np.flatnonzero(self.group[rows] == g)
                dataset, bucketed, slices, ch_idx, where = self.plans[g]
                if not bucketed:
                    block, pos = group[dataset][()][None], np.zeros(len(members), dtype=np.int64)
                else:
                    want = self.row[rows[members]]
                    lo, hi = int(want.min()), int(want.max())
                    ds = group[dataset]
                    if hi - lo + 1 <= 2 * len(want):  # dense: one contiguous read; traces are views of it
                        block, pos = ds[lo : hi + 1], want - lo
                    else:  # sparse rows of a large bucket: read only those
                        unique, pos = np.unique(want, return_inverse=True)
                        block = ds[unique.tolist()]
                block = block[(slice(None),) + slices]
                if block.ndim != 3:
                    raise ValueError(f"{where}: trace is not 2-D (channel, time) after slicing; check trace_name")
                if ch_idx != list(range(block.shape[1 if self.dim_order == "CW" else 2])):
                    block = block[:, ch_idx, :] if self.dim_order == "CW" else block[:, :, ch_idx]
                block = block.astype(np.float32, copy=False)
                if self.dim_order == "CW":
                    block = block.transpose(0, 2, 1)
                for k, i in enumerate(members):
                    arrays[i] = block[pos[k]]
        return arrays
