"""SeisBench data sets: ``metadata.csv`` + ``waveforms.hdf5`` in one folder (chunks: ``metadata<c>.csv``/``waveforms<c>.hdf5``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from seiswork.data.events import COMPONENT_ALIASES, as_labels, check_has_data, frames
from seiswork.data.eventset import Part, rename_clashes

__all__ = ["seisbench_pairs", "read_seisbench", "HDF5_SUFFIXES"]

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
    import h5py

    if h5path.stat().st_size == 0:
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
    labels = as_labels(table[label_column].to_numpy(), len(table), f"{csvpath} column {label_column!r}")
    names = table["trace_name"].astype(str).to_numpy()
    orders = table["trace_component_order"].astype(str).to_numpy() if "trace_component_order" in table.columns else None
    arrays: list = [None] * len(table)
    try:
        f = h5py.File(h5path, "r")
    except OSError as err:
        raise ValueError(f"{h5path}: could not be opened as HDF5 ({err})") from err
    with f:
        fmt = _h5_format(f)
        file_order = _h5_text(fmt.get("component_order", "ZNE"))
        dim_order = _h5_text(fmt.get("dimension_order", "CW")).replace("N", "")
        if sorted(dim_order) != ["C", "W"]:
            raise ValueError(f"{h5path}: data_format/dimension_order {dim_order!r} is not 'CW' or 'WC'")
        if "data" not in f:
            raise ValueError(f"{h5path}: has no 'data' group; is this a SeisBench waveforms file?")
        group = f["data"]
        # group traces that share bucket, slices and component order: each group is one vectorised read
        groups: dict[tuple, list[tuple[int, int]]] = {}
        for i, name in enumerate(names):
            order = orders[i] if orders is not None and orders[i] not in ("nan", "") else file_order
            m = _TRACE_RE.match(name)
            if m is None:
                groups.setdefault((None, name, "", order), []).append((i, -1))
            else:
                groups.setdefault((m["bucket"], None, m["rest"], order), []).append((i, int(m["row"])))
        for (bucket, single, rest, order), members in groups.items():
            where = f"{h5path} trace {members[0][0]} ({names[members[0][0]]})"
            ch_idx = _channel_index(order, channels, where)
            slices = tuple(_parse_index(s, where) for s in rest.split(",")[1:]) if rest else ()
            if bucket is None:
                if single not in group:
                    raise ValueError(f"{where}: no dataset data/{single} in the file")
                block = group[single][()][None]
            else:
                if bucket not in group:
                    raise ValueError(f"{where}: no dataset data/{bucket} in the file")
                ds = group[bucket]
                rows = np.array([r for _, r in members])
                lo, hi = int(rows.min()), int(rows.max())
                if hi >= ds.shape[0]:
                    raise ValueError(f"{where}: row {hi} is beyond data/{bucket} ({ds.shape[0]} rows)")
                block = ds[lo : hi + 1][rows - lo]
            block = block[(slice(None),) + slices]
            if block.ndim != 3:
                raise ValueError(f"{where}: trace is not 2-D (channel, time) after slicing; check trace_name")
            if dim_order == "CW":
                block = block[:, ch_idx, :].transpose(0, 2, 1)
            else:
                block = block[:, :, ch_idx]
            block = np.ascontiguousarray(block, dtype=np.float32)
            for k, (i, _) in enumerate(members):
                arrays[i] = block[k]
    check_has_data(
        str(h5path), [len(a) for a in arrays], [len(a) == 0 or not np.isnan(a).all() for a in arrays],
        f"remove them from {csvpath.name}", what="trace", names=names,
    )
    events = frames(arrays, channels)
    meta = pd.DataFrame({"label": labels})
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
    extra = rename_clashes(table.drop(columns=[label_column]), "meta_", ("source", "index", "label", "event_id", "station", "sampling_rate"))
    meta = pd.concat([meta, extra.reset_index(drop=True)], axis=1)
    return Part(events, labels, meta, "SeisBench HDF5")
