"""Read and write events: seed pickles (safely), our ``.npz``, SeisBench HDF5, ObsPy folders.

An event is a ``(time, channel)`` table, channels in the order asked for (default ``Z, N, E``).
:func:`load_events` returns an :class:`EventSet`, which unpacks like the seed's loader::

    events, labels = load_events(["resources/VRAC.pkl", "resources/MORC.pkl"])

``events`` is a list of pandas DataFrames (columns = the requested channels), ``labels`` a numpy array;
``.meta`` holds one row per event (source file, index in it, label, event id, station, sampling rate, ...).

Formats, chosen by suffix or folder contents:

* ``.pkl`` / ``.pickle``: the seed format, a pickled ``(list[DataFrame], labels)``. A sidecar
  ``<stem>.meta.csv`` (one row per event, same order, e.g. ``event_id``, ``station``) is picked up.
  Pickles are read with a restricted unpickler that only builds numpy/pandas data; ``trusted=True``
  uses plain :func:`pickle.load` (which can run arbitrary code: only for files you trust).
* ``.npz``: our safe, fast format (:func:`save_npz`), read with ``allow_pickle=False``.
* SeisBench: a folder with ``metadata.csv`` + ``waveforms.hdf5`` (or either file's path).
* ObsPy: a folder of miniSEED/SAC files plus a catalog CSV (``catalog.csv`` in the folder, or
  ``catalog=``), see :func:`load_events`.
"""

from __future__ import annotations

import glob
import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence, Union

import numpy as np
import pandas as pd

from seiswork.paths import atomic_write

__all__ = ["EventSet", "load_events", "save_npz", "convert", "UnsafePickleError", "SAFE_PICKLE_GLOBALS"]

PathLike = Union[str, os.PathLike]
DEFAULT_CHANNELS = ("Z", "N", "E")
PICKLE_SUFFIXES = (".pkl", ".pickle")
HDF5_SUFFIXES = (".hdf5", ".h5")
NPZ_FORMAT = "seiswork-events"
NPZ_VERSION = 1
# meta columns every EventSet has first, in this order (event_id / station only when known)
_META_FIRST = ("source", "index", "label", "event_id", "station", "sampling_rate")
_CONVERT_HINT = "if you trust this file, convert it once with `python -m seiswork convert IN OUT.npz` (or pass trusted=True)"


# --------------------------------------------------------------------------------------------------
# EventSet


class EventSet(tuple):
    """``(events, labels)`` plus metadata; unpacks as ``events, labels = event_set``.

    Attributes:
        events: list of ``n`` DataFrames ``(time, channel)``, columns = :attr:`channels`.
        labels: ``(n,)`` numpy array of class labels (str or int, as in the files).
        meta: DataFrame, one row per event: ``source`` (file), ``index`` (position in that file),
            ``label``, ``event_id`` / ``station`` when known, ``sampling_rate`` (Hz, NaN when unknown),
            then any extra columns the files carry.
        counts: ``{source: number of events}`` in load order.
        channels: tuple of channel names.
    """

    def __new__(
        cls,
        events: list,
        labels: np.ndarray,
        meta: pd.DataFrame | None = None,
        channels: Sequence[str] = DEFAULT_CHANNELS,
        counts: dict | None = None,
    ) -> "EventSet":
        self = super().__new__(cls, (list(events), np.asarray(labels)))
        n = len(self[0])
        if len(self[1]) != n:
            raise ValueError(f"EventSet: {n} events but {len(self[1])} labels; give one label per event")
        if meta is None:
            meta = pd.DataFrame({"source": "", "index": np.arange(n), "label": self[1], "sampling_rate": np.nan})
        if len(meta) != n:
            raise ValueError(f"EventSet: meta has {len(meta)} rows for {n} events; give one row per event")
        self.meta = meta
        self.channels = tuple(channels)
        self.counts = dict(counts) if counts is not None else {"": n}
        return self

    @property
    def events(self) -> list:
        return self[0]

    @property
    def labels(self) -> np.ndarray:
        return self[1]

    @property
    def n_events(self) -> int:
        return len(self[0])

    @property
    def class_counts(self) -> dict:
        """``{label: number of events}``, labels sorted."""
        values, counts = np.unique(self[1], return_counts=True)
        return {v.item() if hasattr(v, "item") else v: int(c) for v, c in zip(values, counts)}

    def __reduce__(self):
        return (EventSet, (self[0], self[1], self.meta, self.channels, self.counts))

    def __repr__(self) -> str:
        classes = ", ".join(f"{k}: {v}" for k, v in self.class_counts.items())
        files = ", ".join(f"{Path(s).name} ({n})" for s, n in self.counts.items())
        return f"EventSet({self.n_events} events, channels={list(self.channels)}, classes={{{classes}}}, files=[{files}])"


# --------------------------------------------------------------------------------------------------
# safe pickle loading


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle refers to something outside the numpy/pandas data types the seed format needs."""


# (module, name) pairs the seed format needs, found by pickling DataFrames (float64/float32/int columns,
# RangeIndex/Index/DatetimeIndex, str column names), label arrays (str, object, int, numpy scalars,
# Series, Categorical) with protocols 0-5 under pandas 2/3 and numpy 1/2, and reading them with a
# recording Unpickler. Every entry is a data constructor: none runs code, imports modules or touches files.
SAFE_PICKLE_GLOBALS = frozenset(
    {
        # builtins (protocols 0-2 spell them __builtin__ / copy_reg / _codecs)
        ("builtins", "slice"), ("__builtin__", "slice"),
        ("builtins", "object"), ("__builtin__", "object"),
        ("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor"),
        ("_codecs", "encode"),  # bytes under protocol < 3
        # numpy (numpy 1.x pickles say numpy.core, mapped to numpy._core below)
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        # pandas containers (pandas 3 names them pandas.X, pandas 2 by their defining module)
        ("pandas", "DataFrame"), ("pandas.core.frame", "DataFrame"),
        ("pandas", "Series"), ("pandas.core.series", "Series"),
        ("pandas", "Index"), ("pandas.core.indexes.base", "Index"), ("pandas.core.indexes.base", "_new_Index"),
        ("pandas", "RangeIndex"), ("pandas.core.indexes.range", "RangeIndex"),
        ("pandas", "DatetimeIndex"), ("pandas.core.indexes.datetimes", "DatetimeIndex"),
        ("pandas.core.indexes.datetimes", "_new_DatetimeIndex"),
        ("pandas.arrays", "DatetimeArray"), ("pandas.core.arrays.datetimes", "DatetimeArray"),
        ("pandas.arrays", "StringArray"), ("pandas.core.arrays.string_", "StringArray"),
        ("pandas", "StringDtype"), ("pandas.core.arrays.string_", "StringDtype"),
        ("pandas", "Categorical"), ("pandas.core.arrays.categorical", "Categorical"),
        ("pandas", "CategoricalDtype"), ("pandas.core.dtypes.dtypes", "CategoricalDtype"),
        ("pandas", "NA"), ("pandas._libs.missing", "NA"),
        ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
        # pandas internals that rebuild the containers' blocks
        ("pandas.core.internals.managers", "BlockManager"),
        ("pandas.core.internals.managers", "SingleBlockManager"),
        ("pandas._libs.internals", "_unpickle_block"),
        ("pandas.core.internals.blocks", "new_block"),
        ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"),
    }
)
# names that moved: old pickles still load (pandas 1.x numeric indexes became plain Index in pandas 2)
_PICKLE_RENAMES = {
    ("pandas.core.indexes.numeric", "Int64Index"): ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.numeric", "UInt64Index"): ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.numeric", "Float64Index"): ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.numeric", "NumericIndex"): ("pandas.core.indexes.base", "Index"),
}
# DatetimeIndex frequencies (Milli, Second, ...) are offset classes of this module; checked by type
_OFFSETS_MODULE = "pandas._libs.tslibs.offsets"


class _SafeUnpickler(pickle.Unpickler):
    """An Unpickler whose ``find_class`` resolves only :data:`SAFE_PICKLE_GLOBALS`."""

    def find_class(self, module: str, name: str):
        key = (module, name)
        if module == "numpy.core" or module.startswith("numpy.core."):
            key = ("numpy._core" + module[len("numpy.core"):], name)  # numpy 1.x spelling
        key = _PICKLE_RENAMES.get(key, key)
        if key in SAFE_PICKLE_GLOBALS:
            return super().find_class(*key)
        if module == _OFFSETS_MODULE:
            from pandas._libs.tslibs.offsets import BaseOffset

            obj = super().find_class(module, name)  # importing pandas' own module runs nothing new
            if isinstance(obj, type) and issubclass(obj, BaseOffset):
                return obj
        raise UnsafePickleError(f"{module}.{name}")


def _load_pickle(path: Path, trusted: bool):
    """Unpickle ``path``; the safe way unless ``trusted``. Errors name the file and what to do."""
    try:
        with open(path, "rb") as f:
            if trusted:
                return pickle.load(f)
            return _SafeUnpickler(f).load()
    except UnsafePickleError as err:
        raise UnsafePickleError(
            f"{path}: refused to load this pickle: it refers to {err.args[0]}, which is not one of the "
            f"numpy/pandas data types the seed format needs, and unpickling it could run code. "
            f"{_CONVERT_HINT}."
        ) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError) as err:
        raise ValueError(
            f"{path}: could not be read as a pickle ({type(err).__name__}: {err}); the file may be truncated or "
            f"not a pickle. Expected the seed format, a pickled tuple (events, labels)."
        ) from err
    except (ImportError, AttributeError) as err:
        raise ValueError(
            f"{path}: the pickle refers to a module or class this environment does not have ({err}); "
            f"it was probably written by another pandas/numpy version. Load it where it was written and save "
            f"it with seiswork.io.save_npz, or convert it with `python -m seiswork convert IN OUT.npz`."
        ) from err


# --------------------------------------------------------------------------------------------------
# one file -> a part


@dataclass
class _Part:
    events: list  # DataFrames, columns = channels
    labels: np.ndarray
    meta: pd.DataFrame  # label, event_id, station, sampling_rate, extras (no source/index yet)
    kind: str


def _normalise_channels(channels: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(channels, str):
        channels = tuple(channels)  # "ZNE" -> ("Z", "N", "E")
    channels = tuple(channels)
    if not channels or not all(isinstance(c, str) and c for c in channels):
        raise ValueError(f"channels={channels!r}: give channel names such as ('Z', 'N', 'E')")
    if len(set(channels)) != len(channels):
        raise ValueError(f"channels={channels!r} names a channel twice; give each channel once")
    return channels


def _as_labels(source: str, labels, n: int) -> np.ndarray:
    """Labels as a 1-D numpy array of str or int, one per event."""
    if isinstance(labels, (pd.Series, pd.Index)):
        labels = labels.to_numpy()
    try:
        arr = np.asarray(labels)
    except Exception as err:  # ragged or odd objects
        raise ValueError(f"{source}: labels could not be read as an array ({err}); give one label per event") from err
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{source}: labels have shape {arr.shape}; expected one label per event, shape ({n},)")
    if len(arr) != n:
        raise ValueError(
            f"{source}: {n} events but {len(arr)} labels; the file must hold one label per event, in the same order"
        )
    if arr.dtype == object:
        missing = [i for i, v in enumerate(arr) if v is None or (isinstance(v, float) and np.isnan(v))]
        if missing:
            raise ValueError(f"{source}: events {missing[:10]} have no label; label or remove them")
        if all(isinstance(v, str) for v in arr):
            arr = arr.astype(str)
        elif all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in arr):
            arr = arr.astype(np.int64)
        else:
            kinds = sorted({type(v).__name__ for v in arr})
            raise ValueError(f"{source}: labels mix types {kinds}; use all strings or all integers")
    elif arr.dtype.kind == "f":
        if np.isnan(arr).any():
            raise ValueError(f"{source}: events {np.flatnonzero(np.isnan(arr))[:10].tolist()} have no label (NaN)")
        if np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)  # 0.0/1.0 class ids read from a CSV
    elif arr.dtype.kind not in "UiuSb":
        raise ValueError(f"{source}: labels have dtype {arr.dtype}; use strings or integers")
    if arr.dtype.kind == "S":
        arr = arr.astype(str)
    return arr


def _frames_from_arrays(arrays: Iterable[np.ndarray], channels: tuple[str, ...]) -> list:
    """DataFrames (time, channel) from 2-D arrays, without copying them."""
    columns = pd.Index(list(channels))
    return [pd.DataFrame(a, columns=columns, copy=False) for a in arrays]


def _check_nan_concat(source: str, data: np.ndarray, offsets: np.ndarray) -> None:
    """Raise for empty or all-NaN events in a concatenated ``(total_time, channel)`` array."""
    lengths = np.diff(offsets)
    if (lengths <= 0).any():
        bad = np.flatnonzero(lengths <= 0)
        raise ValueError(f"{source}: event {int(bad[0])} has no samples ({len(bad)} such events); remove them")
    if data.dtype.kind != "f" or len(data) == 0:
        return
    finite_row = ~np.isnan(data).all(axis=1)
    has_data = np.logical_or.reduceat(finite_row, offsets[:-1])
    if not has_data.all():
        bad = np.flatnonzero(~has_data)
        raise ValueError(
            f"{source}: event {int(bad[0])} is all NaN ({len(bad)} such events: {bad[:10].tolist()}); "
            f"remove them or pick other channels"
        )


def _frame_values(source: str, i: int, df: pd.DataFrame, channels: tuple[str, ...]) -> np.ndarray:
    """The ``channels`` columns of event ``i`` as a numeric ``(time, channel)`` array."""
    names = df.columns.tolist()
    missing = [c for c in channels if c not in names]
    if missing:
        raise ValueError(
            f"{source}: event {i} has no column(s) {missing} (it has {list(map(str, names))}); "
            f"pass channels= naming columns the events have"
        )
    if any(names.count(c) > 1 for c in channels):
        raise ValueError(f"{source}: event {i} has duplicate column names among {list(channels)}")
    # df.to_numpy() is cheap (a view when the frame is one float block); selecting columns one by
    # one through pandas costs ~100 us per event, too slow for 18,000 events
    values = df.to_numpy()
    if values.dtype.kind in "fiu":
        values = values[:, [names.index(c) for c in channels]]
    else:  # other columns (strings, ...) made it an object array: take the channels one by one
        values = np.column_stack([df[c].to_numpy() for c in channels])
    if values.dtype.kind not in "fiu":
        raise ValueError(
            f"{source}: event {i} has non-numeric data in columns {list(channels)} (dtype {values.dtype}); "
            f"waveforms must be numbers"
        )
    return values


def _select_channels(source: str, events: list, channels: tuple[str, ...]) -> list:
    """Each event as a DataFrame with only ``channels``; errors name the event and its columns."""
    columns = pd.Index(list(channels))
    out = []
    for i, df in enumerate(events):
        if not isinstance(df, pd.DataFrame):
            raise ValueError(
                f"{source}: event {i} is a {type(df).__name__}, not a pandas DataFrame; the seed format is a tuple "
                f"(events, labels) with events a list of DataFrames with columns {list(channels)}"
            )
        values = df.to_numpy() if df.columns.equals(columns) else None
        if values is not None and values.dtype.kind in "fiu":
            sel = df  # the common case: nothing to select, no copy
        else:
            values = _frame_values(source, i, df, channels)
            sel = pd.DataFrame(values, columns=columns, index=df.index, copy=False)
        if len(values) == 0:
            raise ValueError(f"{source}: event {i} has no samples; remove it")
        if values.dtype.kind == "f" and np.isnan(values).all():
            raise ValueError(f"{source}: event {i} is all NaN in channels {list(channels)}; remove it")
        out.append(sel)
    return out


def _rename_clashes(df: pd.DataFrame, prefix: str, reserved: Iterable[str] = ("source", "index", "label")) -> pd.DataFrame:
    clash = {c: f"{prefix}{c}" for c in df.columns if c in set(reserved)}
    return df.rename(columns=clash) if clash else df


def _read_seed_pickle(path: Path, channels: tuple[str, ...], trusted: bool) -> _Part:
    obj = _load_pickle(path, trusted)
    if not (isinstance(obj, (tuple, list)) and len(obj) == 2):
        what = f"a {type(obj).__name__}" + (f" of length {len(obj)}" if isinstance(obj, (tuple, list)) else "")
        if isinstance(obj, dict):
            what += f" with keys {list(obj)[:10]}"
        raise ValueError(
            f"{path}: not in the seed format: expected a tuple (events, labels) with events a list of pandas "
            f"DataFrames (columns {list(channels)}) and labels an array, got {what}"
        )
    raw_events, raw_labels = obj
    if isinstance(raw_events, pd.DataFrame) or not isinstance(raw_events, (list, tuple)):
        raise ValueError(
            f"{path}: not in the seed format: the first item must be a list of pandas DataFrames, "
            f"got a {type(raw_events).__name__}"
        )
    if len(raw_events) == 0:
        raise ValueError(f"{path}: holds 0 events; nothing to load")
    labels = _as_labels(str(path), raw_labels, len(raw_events))
    events = _select_channels(str(path), raw_events, channels)
    meta = pd.DataFrame({"label": labels})
    sidecar = path.with_name(path.name[: -len(path.suffix)] + ".meta.csv")
    if sidecar.exists():
        extra = pd.read_csv(sidecar, dtype={"event_id": str, "station": str})
        if len(extra) != len(events):
            raise ValueError(
                f"{sidecar} has {len(extra)} rows but {path} holds {len(events)} events; the sidecar needs one row "
                f"per event, in the same order (fix or remove {sidecar.name})"
            )
        extra = _rename_clashes(extra, "sidecar_")
        meta = pd.concat([meta, extra.reset_index(drop=True)], axis=1)
    return _Part(events, labels, meta, "seed pickle" + (" + sidecar" if sidecar.exists() else ""))


# --------------------------------------------------------------------------------------------------
# npz


def _meta_to_arrays(meta: pd.DataFrame) -> dict[str, np.ndarray]:
    """Meta columns as plain numpy arrays (no objects), so np.load never needs allow_pickle."""
    out: dict[str, np.ndarray] = {}
    for col in meta.columns:
        s = meta[col]
        name = str(col)
        if pd.api.types.is_bool_dtype(s) and not s.isna().any():
            out[f"meta/{name}"] = s.to_numpy(dtype=bool)
        elif pd.api.types.is_numeric_dtype(s):
            arr = s.to_numpy(dtype=float, na_value=np.nan) if s.isna().any() else s.to_numpy()
            if arr.dtype == object:
                arr = arr.astype(float)
            out[f"meta/{name}"] = arr
        elif pd.api.types.is_datetime64_any_dtype(s) and getattr(s.dt, "tz", None) is None:
            out[f"meta/{name}"] = s.to_numpy(dtype="datetime64[ns]")
        else:
            missing = s.isna().to_numpy()
            values = s.astype(object).where(~missing, "").astype(str).to_numpy()
            out[f"meta/{name}"] = values.astype(str)
            if missing.any():
                out[f"metamissing/{name}"] = missing
    return out


def _event_array(i: int, ev, channels: tuple[str, ...]) -> np.ndarray:
    if isinstance(ev, pd.DataFrame):
        return np.asarray(_frame_values("save_npz", i, ev, channels), dtype=np.float32)
    arr = np.asarray(ev, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != len(channels):
        raise ValueError(
            f"save_npz: event {i} has shape {arr.shape}; expected (time, {len(channels)}) for channels {list(channels)}"
        )
    return arr


def save_npz(
    path: PathLike,
    events,
    labels=None,
    meta: pd.DataFrame | None = None,
    channels: Sequence[str] | None = DEFAULT_CHANNELS,
    *,
    overwrite: bool = True,
    compress: bool = False,
) -> Path:
    """Write events to the safe, fast ``.npz`` format (atomically); :func:`load_events` reads it back.

    Args:
        path: destination, must end in ``.npz``.
        events: list of DataFrames (the ``channels`` columns are stored) or of ``(time, channel)`` arrays,
            a ``(n, time, channel)`` array, or an :class:`EventSet` (then ``labels``/``meta``/``channels``
            default to its own).
        labels: ``(n,)`` str or int labels.
        meta: optional DataFrame, one row per event; columns are stored as plain arrays. ``label`` is
            dropped (stored as ``labels``); ``source``/``index`` are kept as ``origin_source``/``origin_index``.
        channels: channel names, in the stored order.
        overwrite: replace an existing file (``False`` raises ``FileExistsError``).
        compress: zip-deflate the arrays (smaller, slower).

    Layout (all plain arrays): ``data`` float32 ``(total_time, channel)`` (events one after another),
    ``offsets`` int64 ``(n + 1,)`` (event ``i`` is ``data[offsets[i]:offsets[i + 1]]``), ``labels``,
    ``channels`` (str), ``format``/``version``, ``meta_columns`` (str, order) and ``meta/<column>`` per
    column (``metamissing/<column>`` marks missing strings).
    """
    path = Path(path).expanduser()
    if path.suffix != ".npz":
        raise ValueError(f"save_npz: {path} must end in .npz")
    if isinstance(events, EventSet):
        labels = events.labels if labels is None else labels
        meta = events.meta if meta is None else meta
        channels = events.channels if channels is None or tuple(channels) == DEFAULT_CHANNELS else channels
        events = events.events
    if labels is None:
        raise ValueError("save_npz: labels are missing; give one label per event")
    channels = _normalise_channels(channels if channels is not None else DEFAULT_CHANNELS)
    if isinstance(events, np.ndarray) and events.ndim == 3:
        events = list(events)
    n = len(events)
    if n == 0:
        raise ValueError(f"save_npz: no events to write to {path}")
    labels = _as_labels("save_npz", labels, n)
    arrays = [_event_array(i, ev, channels) for i, ev in enumerate(events)]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    data = np.empty((int(offsets[-1]), len(channels)), dtype=np.float32)
    for a, start in zip(arrays, offsets[:-1]):
        data[start : start + len(a)] = a
    out: dict[str, np.ndarray] = {
        "format": np.array(NPZ_FORMAT),
        "version": np.array(NPZ_VERSION),
        "data": data,
        "offsets": offsets,
        "labels": labels,
        "channels": np.array(channels, dtype=str),
    }
    if meta is not None:
        if len(meta) != n:
            raise ValueError(f"save_npz: meta has {len(meta)} rows for {n} events; give one row per event")
        meta = meta.reset_index(drop=True).drop(columns=["label"], errors="ignore")
        for col in ("source", "index"):  # provenance: the first origin wins
            if col in meta.columns:
                if f"origin_{col}" in meta.columns:
                    meta = meta.drop(columns=[col])
                else:
                    meta = meta.rename(columns={col: f"origin_{col}"})
        out["meta_columns"] = np.array([str(c) for c in meta.columns], dtype=str)
        out.update(_meta_to_arrays(meta))
    with atomic_write(path, "wb", overwrite=overwrite) as f:
        (np.savez_compressed if compress else np.savez)(f, **out)
    return path


def _read_npz(path: Path, channels: tuple[str, ...]) -> _Part:
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(
            f"{path}: not a seiswork .npz file ({err}); write it with seiswork.io.save_npz or "
            f"`python -m seiswork convert IN OUT.npz`"
        ) from err
    with z:
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError(f"{path}: holds a single array, not a seiswork .npz; write it with seiswork.io.save_npz")
        keys = set(z.files)
        need = {"format", "data", "offsets", "labels", "channels"}
        if not need <= keys or str(z["format"]) != NPZ_FORMAT:
            raise ValueError(
                f"{path}: not a seiswork .npz file (it has arrays {sorted(keys)[:10]}, needs {sorted(need)}); "
                f"write it with seiswork.io.save_npz"
            )
        try:
            file_channels = [str(c) for c in z["channels"]]
            offsets = z["offsets"].astype(np.int64)
            labels = z["labels"]
            data = z["data"]
            meta_columns = [str(c) for c in z["meta_columns"]] if "meta_columns" in keys else []
            meta = {}
            for col in meta_columns:
                values = z[f"meta/{col}"]
                if f"metamissing/{col}" in keys:
                    values = values.astype(object)
                    values[z[f"metamissing/{col}"]] = None
                meta[col] = values
        except ValueError as err:  # an object array: this is not our writer's output
            raise ValueError(f"{path}: holds arrays that need pickle ({err}); refused. {_CONVERT_HINT}") from err
    n = len(offsets) - 1
    if n <= 0:
        raise ValueError(f"{path}: holds 0 events; nothing to load")
    if data.ndim != 2 or data.shape[1] != len(file_channels) or offsets[-1] != len(data):
        raise ValueError(f"{path}: data {data.shape} do not match channels {file_channels} and offsets; the file is damaged")
    missing = [c for c in channels if c not in file_channels]
    if missing:
        raise ValueError(
            f"{path}: has no channel(s) {missing} (all its events have {file_channels}); pass channels= from those"
        )
    idx = [file_channels.index(c) for c in channels]
    if idx != list(range(len(file_channels))):
        data = np.ascontiguousarray(data[:, idx])  # one vectorised take, then views per event
    _check_nan_concat(str(path), data, offsets)
    labels = _as_labels(str(path), labels, n)
    events = _frames_from_arrays((data[a:b] for a, b in zip(offsets[:-1], offsets[1:])), channels)
    meta_df = pd.DataFrame({"label": labels})
    if meta:
        meta_df = pd.concat([meta_df, _rename_clashes(pd.DataFrame(meta), "file_")], axis=1)
    return _Part(events, labels, meta_df, "npz")


# --------------------------------------------------------------------------------------------------
# SeisBench (metadata.csv + waveforms.hdf5)

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


def _seisbench_pairs(path: Path) -> list[tuple[Path, Path]]:
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
    aliases = {"N": "1", "E": "2"}
    idx = []
    for c in channels:
        if c in order:
            idx.append(order.index(c))
        elif c in aliases and aliases[c] in order:
            idx.append(order.index(aliases[c]))
        else:
            raise ValueError(
                f"{where}: has no channel {c!r} (component order {order!r}); pass channels= from {list(order)}"
            )
    return idx


def _read_seisbench(h5path: Path, csvpath: Path, channels: tuple[str, ...], label_column: str) -> _Part:
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
    labels = _as_labels(f"{csvpath} column {label_column!r}", table[label_column].to_numpy(), len(table))
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
    lengths = np.array([len(a) for a in arrays])
    if (lengths == 0).any():
        raise ValueError(f"{h5path}: trace {int(np.flatnonzero(lengths == 0)[0])} has no samples; remove it")
    for i, a in enumerate(arrays):
        if np.isnan(a).all():
            raise ValueError(f"{h5path}: trace {i} ({names[i]}) is all NaN; remove it from {csvpath.name}")
    events = _frames_from_arrays(arrays, channels)
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
    extra = _rename_clashes(table.drop(columns=[label_column]), "meta_", ("source", "index", "label", "event_id", "station", "sampling_rate"))
    meta = pd.concat([meta, extra.reset_index(drop=True)], axis=1)
    return _Part(events, labels, meta, "SeisBench HDF5")


# --------------------------------------------------------------------------------------------------
# ObsPy folder + catalog

_COMPONENT_ALIASES = {"1": "N", "2": "E"}


def _read_obspy(folder: Path, catalog, catalog_name: str, channels: tuple[str, ...], label_column: str) -> _Part:
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
    labels = _as_labels(f"{catalog_name} column {label_col!r}", table[label_col].to_numpy(), len(table))
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
            traces = by_comp.get(c) or by_comp.get({"N": "1", "E": "2"}.get(c, ""), [])
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
    events = _frames_from_arrays(arrays, channels)
    meta = pd.DataFrame({"label": labels})
    if "event_id" in table.columns:
        meta["event_id"] = table["event_id"].to_numpy()
    meta["station"] = table["station"].to_numpy() if "station" in table.columns else np.array(stations, dtype=object)
    meta["sampling_rate"] = np.array(rates, dtype=float)
    extra = table.drop(columns=[c for c in (label_col, "event_id", "station") if c in table.columns])
    extra = _rename_clashes(extra, "catalog_", ("source", "index", "label", "sampling_rate"))
    meta = pd.concat([meta, extra.reset_index(drop=True)], axis=1)
    return _Part(events, labels, meta, "ObsPy folder + catalog")


# --------------------------------------------------------------------------------------------------
# dispatch and load_events


def _expand(paths) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = []
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            raise TypeError(f"paths: {p!r} is a {type(p).__name__}; give file paths (str or Path)")
        text = os.path.expanduser(os.fspath(p))
        if not os.path.exists(text) and glob.has_magic(text):
            matches = sorted(glob.glob(text))
            if not matches:
                raise FileNotFoundError(f"{text}: the pattern matches no file (working directory {Path.cwd()})")
            out += [Path(m) for m in matches]
        else:
            out.append(Path(text))
    if not out:
        raise ValueError("paths: the list is empty; give at least one file")
    seen = set()
    for p in out:
        key = os.path.abspath(p)
        if key in seen:
            raise ValueError(f"{p} is listed twice; give each file once")
        seen.add(key)
    return out


def _read_path(path: Path, channels, trusted, label_column, catalog) -> list[tuple[str, _Part]]:
    """Read one path; a SeisBench folder with chunks gives several (source, part)."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no such file or folder (working directory {Path.cwd()}); check the path"
        )
    suffix = path.suffix.lower()
    if path.is_dir():
        if catalog is not None or (path / "catalog.csv").exists():
            cat = catalog if catalog is not None else path / "catalog.csv"
            name = str(cat) if not isinstance(cat, pd.DataFrame) else str(path)
            return [(name, _read_obspy(path, cat, name, channels, label_column))]
        pairs = _seisbench_pairs(path)
        if not pairs:
            raise ValueError(
                f"{path}: is a folder without metadata.csv (SeisBench) or catalog.csv (miniSEED/SAC files); "
                f"to load several pickles pass them as a list or a glob such as '{path}/*.pkl'"
            )
        return [(str(h5), _read_seisbench(h5, meta, channels, label_column)) for h5, meta in pairs]
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: is empty (0 bytes); nothing to load. Re-create or remove the file")
    if suffix in PICKLE_SUFFIXES:
        return [(str(path), _read_seed_pickle(path, channels, trusted))]
    if suffix == ".npz":
        return [(str(path), _read_npz(path, channels))]
    if suffix in HDF5_SUFFIXES or (suffix == ".csv" and path.stem.startswith("metadata")):
        return [(str(h5), _read_seisbench(h5, meta, channels, label_column)) for h5, meta in _seisbench_pairs(path)]
    if suffix == ".csv":  # a catalog of miniSEED/SAC files beside it
        return [(str(path), _read_obspy(path.parent, path, str(path), channels, label_column))]
    if suffix in (".mseed", ".miniseed", ".sac", ".ms"):
        raise ValueError(
            f"{path}: a single waveform file has no label; put the files in a folder with a catalog.csv "
            f"(columns file, label) and load the folder"
        )
    raise ValueError(
        f"{path}: unknown format {suffix!r}; seiswork reads .pkl/.pickle (seed format), .npz (save_npz), "
        f"SeisBench folders/.hdf5 with metadata.csv, and folders of miniSEED/SAC files with a catalog.csv"
    )


def load_events(
    paths: PathLike | Sequence[PathLike] | None = None,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    trusted: bool = False,
    *,
    label_column: str = "source_event_category",
    catalog: PathLike | pd.DataFrame | None = None,
    verbose: bool = True,
) -> EventSet:
    """Load and concatenate events from one or many files; print events per file and classes.

    Args:
        paths: a path, a glob pattern or a list of them; ``None`` loads the built-in default data set
            (``seiswork.synthetic.default_path()``, generated on first use). Formats by suffix / contents:
            ``.pkl``/``.pickle`` seed pickles (+ ``<stem>.meta.csv`` sidecar), ``.npz`` from :func:`save_npz`,
            a SeisBench folder / ``.hdf5`` / ``metadata.csv``, a folder of miniSEED/SAC files with a catalog.
        channels: channel names to keep, in this order (``"ZNE"`` works too).
        trusted: read pickles with plain :func:`pickle.load` (runs any code the file holds; only for
            files you trust). By default only numpy/pandas data types are allowed.
        label_column: SeisBench metadata column holding the class.
        catalog: for a folder of miniSEED/SAC files, a CSV path or DataFrame (default ``<folder>/catalog.csv``)
            with one row per event: ``file`` (glob relative to the folder, matching that event's component
            traces, e.g. ``ev001.*.mseed``), ``label``, optional ``event_id`` and ``station`` (default:
            ``NET.STA`` from the traces), other columns kept in ``meta``. Components are the last letter of
            the channel code (``Z``, ``N``/``1``, ``E``/``2``); traces are aligned on their start times and
            NaN-padded; all must share one sampling rate.
        verbose: print one line per file, then the total and the class distribution.

    Returns:
        :class:`EventSet` ``(events, labels)`` with ``.meta``, ``.counts``, ``.channels``.
    """
    channels = _normalise_channels(channels)
    if paths is None:
        from seiswork import synthetic

        default = Path(synthetic.default_path())
        paths = default if default.exists() else synthetic.write_default()
    parts: list[tuple[str, _Part]] = []
    for path in _expand(paths):
        for source, part in _read_path(path, channels, trusted, label_column, catalog):
            parts.append((source, part))
            if verbose:
                print(f"{source}: {len(part.events)} events ({part.kind})")
    kinds = {("str" if p.labels.dtype.kind == "U" else "int") for _, p in parts}
    if len(kinds) > 1:
        detail = ", ".join(f"{Path(s).name}: {'str' if p.labels.dtype.kind == 'U' else p.labels.dtype}" for s, p in parts)
        raise ValueError(f"labels are strings in some files and numbers in others ({detail}); use one kind everywhere")
    events = [ev for _, p in parts for ev in p.events]
    labels = np.concatenate([p.labels for _, p in parts])
    metas = []
    for source, part in parts:
        m = part.meta.copy()
        m.insert(0, "index", np.arange(len(part.events), dtype=np.int64))
        m.insert(0, "source", source)
        metas.append(m)
    meta = pd.concat(metas, ignore_index=True) if len(metas) > 1 else metas[0].reset_index(drop=True)
    if "sampling_rate" not in meta.columns:
        meta["sampling_rate"] = np.nan
    meta["sampling_rate"] = pd.to_numeric(meta["sampling_rate"], errors="coerce").astype(float)
    first = [c for c in _META_FIRST if c in meta.columns]
    meta = meta[first + [c for c in meta.columns if c not in first]]
    counts = {source: len(part.events) for source, part in parts}
    result = EventSet(events, labels, meta, channels, counts)
    if verbose:
        total = result.n_events
        print(f"total: {total} events from {len(counts)} file{'s' if len(counts) != 1 else ''}")
        for label, count in result.class_counts.items():
            print(f"  {label}: {count} ({100.0 * count / total:.1f}%)")
    return result


def convert(
    src: PathLike | Sequence[PathLike],
    dst: PathLike,
    trusted: bool = True,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    *,
    overwrite: bool = False,
    label_column: str = "source_event_category",
    catalog: PathLike | pd.DataFrame | None = None,
    verbose: bool = False,
) -> Path:
    """Read ``src`` (any format :func:`load_events` reads) and write it to the safe ``.npz`` ``dst``.

    ``trusted=True`` (the default here: you convert a file you trust, once) reads pickles with plain
    :func:`pickle.load`. An existing ``dst`` is only replaced with ``overwrite=True``. Returns ``dst``.
    """
    dst = Path(dst).expanduser()
    if dst.suffix != ".npz":
        raise ValueError(f"convert: the destination {dst} must end in .npz")
    if not overwrite and dst.exists():
        raise FileExistsError(f"{dst} already exists; pass overwrite=True (or remove it) to replace it")
    es = load_events(src, channels, trusted, label_column=label_column, catalog=catalog, verbose=verbose)
    return save_npz(dst, es.events, es.labels, es.meta, es.channels, overwrite=overwrite)
