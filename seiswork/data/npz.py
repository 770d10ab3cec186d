"""The one on-disk array format: a standard ``.npz`` of plain arrays (no pickle), members aligned for memory maps.

:func:`write_npz` writes it (atomically) and :func:`read_npz` reads it, memory-mapping the members asked
for.  ``np.load(path, allow_pickle=False)`` reads every file too.  Two layouts use it:

* events (:func:`save_npz`, read back by :func:`seiswork.load_events`): ``data`` float32
  ``(total_time, channel)`` with the events one after another, ``offsets`` int64 ``(n + 1,)``
  (event ``i`` is ``data[offsets[i]:offsets[i + 1]]``), ``labels``, ``channels`` (str),
  ``format``/``version``, ``meta_columns`` (str, order) and ``meta/<column>`` per column
  (``metamissing/<column>`` marks missing strings);
* preprocessed events (``WaveformDataAdapter.save``/``load``), see :mod:`seiswork.data.adapter`.

Files written by ``np.savez`` (event files before this module) are read the same way; their members
are simply not memory-mapped.
"""

from __future__ import annotations

import ctypes
import os
import struct
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, Union

import numpy as np
import pandas as pd

from seiswork.data.events import DEFAULT_CHANNELS, as_labels, channel_names, check_has_data, event_values, frames
from seiswork.data.eventset import CONVERT_HINT, EventSet, Part, rename_clashes
from seiswork.paths import atomic_write

__all__ = ["write_npz", "read_npz", "save_npz", "read_events_npz", "NpzEvents", "StreamedArray", "is_read_only_map",
           "release_pages", "NPZ_FORMAT", "NPZ_VERSION"]

PathLike = Union[str, os.PathLike]
NPZ_FORMAT = "seiswork-events"
NPZ_VERSION = 1
_EVENTS_FIX = "write it with seiswork.save_npz or `python -m seiswork convert IN OUT.npz`"
_PAD_EXTRA_ID = 0x7377  # an unregistered zip "extra field" id; readers skip unknown ids


# ------------------------------------------------------------------------------------- the container


def write_npz(path: PathLike, arrays: dict[str, np.ndarray], *, overwrite: bool = True, compress: bool = False) -> Path:
    """Write ``arrays`` to the ``.npz`` ``path`` atomically; member data start on 64-byte boundaries.

    The alignment lets :func:`read_npz` memory-map members.  ``compress`` zip-deflates them instead
    (smaller files that are read, not mapped).  A value may be a :class:`StreamedArray` (written chunk by
    chunk) or a callable returning the array, called when its turn comes.
    """
    path = Path(path)
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with atomic_write(path, "wb", overwrite=overwrite) as fh, zipfile.ZipFile(fh, "w", compression=method, allowZip64=True) as zf:
        for key, arr in arrays.items():
            if callable(arr):  # computed now, after the members before it (e.g. a report a StreamedArray fills)
                arr = arr()
            name = f"{key}.npy"
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            # local header = 30 bytes + name + extra (ours + the 20-byte zip64 field zipfile adds);
            # the .npy header that follows is itself padded to a multiple of 64 bytes.
            start = zf.fp.tell() + 30 + len(name.encode()) + 20 + 4
            pad = -start % 64
            info.extra = struct.pack("<HH", _PAD_EXTRA_ID, pad) + b"\0" * pad
            with zf.open(info, "w", force_zip64=True) as f:
                if isinstance(arr, StreamedArray):
                    arr.write(f, f"{path} member {key}")
                else:
                    np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=False)
    return path


class StreamedArray:
    """An array :func:`write_npz` writes chunk by chunk, never whole in memory: ``shape``, ``dtype`` and an
    iterable of C-ordered ``chunks`` along the first axis that together make exactly ``shape``."""

    def __init__(self, shape: tuple[int, ...], dtype: Any, chunks: Iterable[np.ndarray]) -> None:
        self.shape, self.dtype, self.chunks = tuple(int(n) for n in shape), np.dtype(dtype), chunks

    def write(self, f, where: str) -> None:
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
        np.lib.format.write_array_header_2_0(f, header)
        rows = 0
        for chunk in self.chunks:
            chunk = np.ascontiguousarray(chunk, dtype=self.dtype)
            if chunk.shape[1:] != self.shape[1:]:
                raise ValueError(f"{where}: a chunk of shape {chunk.shape} does not fit {self.shape}")
            f.write(memoryview(chunk).cast("B"))
            rows += len(chunk)
        if rows != self.shape[0]:
            raise ValueError(f"{where}: the chunks held {rows} rows, {self.shape[0]} were announced")


def _mmap_member(path: Path, zf: zipfile.ZipFile, fh, name: str, mode: str) -> np.ndarray | None:
    """A memory map (``mode`` "c": copy-on-write, "r": read-only) of one stored ``.npy`` member, or None when it
    cannot be mapped."""
    info = zf.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    fh.seek(info.header_offset)
    local = fh.read(30)
    if local[:4] != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    start = info.header_offset + 30 + name_len + extra_len
    fh.seek(start)
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        return None
    offset = fh.tell()
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if dtype.hasobject or nbytes == 0 or offset % dtype.alignment or offset + nbytes > start + info.file_size:
        return None
    mm = np.memmap(path, dtype=dtype, mode=mode, offset=offset, shape=shape, order="F" if fortran else "C")
    # copy-on-write: a plain array (it keeps the map alive); read-only stays an np.memmap, which
    # is_read_only_map recognises
    return mm if mode == "r" else mm.view(np.ndarray)


def read_npz(
    path: PathLike,
    what: str,
    fix: str,
    *,
    mmap: Iterable[str] = (),
    check: Callable[[set[str]], None] | None = None,
    mode: str = "c",
) -> dict[str, np.ndarray]:
    """Every member of the ``.npz`` ``path`` as a plain array, without pickle.

    Members named in ``mmap`` are memory maps of the file where it stores them uncompressed and aligned,
    read otherwise: copy-on-write with ``mode="c"`` (writing to them never changes the file), read-only
    ``np.memmap`` with ``mode="r"``.  ``check`` gets
    the member names before anything is read and raises when they are not the layout wanted.  Errors
    say that ``path`` is not ``what`` and end with ``fix``.
    """
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: not {what} ({err}); {fix}") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: holds a single array, not {what}; {fix}")
    with z:
        keys = set(z.files)
        if check is not None:
            check(keys)
        out: dict[str, np.ndarray] = {}
        mapped = [name for name in mmap if name in keys]
        if mapped:
            with open(path, "rb") as fh, zipfile.ZipFile(fh) as zf:
                for name in mapped:
                    a = _mmap_member(path, zf, fh, f"{name}.npy", mode)
                    if a is not None:
                        out[name] = a
        try:
            for name in z.files:
                if name not in out:
                    out[name] = z[name]
        except ValueError as err:  # an object array: not written by write_npz
            raise ValueError(f"{path}: holds arrays that need pickle ({err}); refused. {fix}") from err
    return out


def is_read_only_map(a: Any) -> bool:
    """Whether ``a`` is (a view of) a read-only memory map of a file, as ``read_npz(..., mode="r")`` gives."""
    return isinstance(a, np.memmap) and a.mode == "r" and not a.flags.writeable


def release_pages(a: np.ndarray) -> None:
    """Let the kernel drop ``a``'s pages from this process's resident memory (they stay in the page cache).

    Only for read-only file maps (:func:`is_read_only_map`), where nothing can be lost: reading ``a`` again
    maps the pages back. Reading a memory-mapped set larger than memory once per epoch would otherwise
    leave all of it counted in the process's resident size.
    """
    if not is_read_only_map(a) or a.nbytes == 0 or not hasattr(os, "sysconf"):
        return
    page = os.sysconf("SC_PAGE_SIZE")
    start = a.ctypes.data // page * page
    end = a.ctypes.data + a.nbytes
    try:
        libc = ctypes.CDLL(None)
        libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), 4)  # MADV_DONTNEED (Linux)
    except (OSError, AttributeError):  # not Linux/glibc: the kernel reclaims the pages under pressure anyway
        pass


# ---------------------------------------------------------------------------------------- events


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


def save_npz(
    path: PathLike,
    events: Any,
    labels: Any = None,
    meta: pd.DataFrame | None = None,
    channels: Sequence[str] | None = DEFAULT_CHANNELS,
    *,
    overwrite: bool = True,
    compress: bool = False,
) -> Path:
    """Write events to the safe, fast ``.npz`` format (atomically); :func:`seiswork.load_events` reads it back.

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

    The layout is described in this module's docstring.
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
    channels = channel_names(channels if channels is not None else DEFAULT_CHANNELS)
    if isinstance(events, np.ndarray) and events.ndim == 3:
        events = list(events)
    n = len(events)
    if n == 0:
        raise ValueError(f"save_npz: no events to write to {path}")
    labels = as_labels(labels, n, "save_npz")
    arrays = [event_values(ev, channels, f"save_npz: event {i}") for i, ev in enumerate(events)]
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
    return write_npz(path, out, overwrite=overwrite, compress=compress)


def _check_has_data(source: str, data: np.ndarray, offsets: np.ndarray) -> None:
    """Raise for empty or all-NaN events in a concatenated ``(total_time, channel)`` array."""
    lengths = np.diff(offsets)
    has_data = np.ones(len(lengths), dtype=bool)
    if (lengths > 0).all() and data.dtype.kind == "f" and len(data):
        # one pass over the whole array: a row with data, then any such row per event
        has_data = np.logical_or.reduceat(~np.isnan(data).all(axis=1), offsets[:-1])
    check_has_data(source, lengths, has_data, "remove them or pick other channels")


def read_events_npz(path: Path, channels: tuple[str, ...]) -> Part:
    """Read an events ``.npz`` written by :func:`save_npz` (or, before it, by ``np.savez``) as a Part."""
    events = NpzEvents(path, channels, mmap=False)
    data = events.data
    if events.idx != list(range(data.shape[1])):
        data = np.ascontiguousarray(data[:, events.idx])  # one vectorised take, then views per event
    _check_has_data(str(path), data, events.offsets)
    frames_ = frames((data[a:b] for a, b in zip(events.offsets[:-1], events.offsets[1:])), channels)
    return Part(frames_, events.labels, events.meta, "npz")


class NpzEvents:
    """The events of one ``.npz`` written by :func:`save_npz`: ``meta`` and ``labels`` now, waveforms by rows.

    With ``mmap`` the concatenated samples are memory-mapped, so a file larger than memory is read only
    where :meth:`read` asks (:class:`~seiswork.data.lazy.LazyEvents` streams it).
    """

    kind = "npz"

    def __init__(self, path: Path, channels: tuple[str, ...], mmap: bool = True) -> None:
        need = {"format", "data", "offsets", "labels", "channels"}

        def check(keys: set[str]) -> None:
            if not need <= keys:
                raise ValueError(
                    f"{path}: not a seiswork .npz file (it has arrays {sorted(keys)[:10]}, needs {sorted(need)}); "
                    f"{_EVENTS_FIX}"
                )

        z = read_npz(path, "a seiswork .npz file", f"{_EVENTS_FIX}. {CONVERT_HINT}.", check=check,
                     mmap=("data",) if mmap else ())
        if str(z["format"]) != NPZ_FORMAT:
            raise ValueError(f"{path}: not a seiswork .npz file (format {str(z['format'])!r}); {_EVENTS_FIX}")
        file_channels = [str(c) for c in z["channels"]]
        self.path, self.channels = Path(path), tuple(channels)
        self.offsets = z["offsets"].astype(np.int64)
        self.data = z["data"]
        n = len(self.offsets) - 1
        if n <= 0:
            raise ValueError(f"{path}: holds 0 events; nothing to load")
        if self.data.ndim != 2 or self.data.shape[1] != len(file_channels) or self.offsets[-1] != len(self.data):
            raise ValueError(f"{path}: data {self.data.shape} do not match channels {file_channels} and offsets; "
                             "the file is damaged")
        missing = [c for c in channels if c not in file_channels]
        if missing:
            raise ValueError(
                f"{path}: has no channel(s) {missing} (all its events have {file_channels}); pass channels= from those"
            )
        self.idx = [file_channels.index(c) for c in channels]
        self.labels = as_labels(z["labels"], n, str(path))
        meta = {}
        for col in [str(c) for c in z["meta_columns"]] if "meta_columns" in z else []:
            values = z[f"meta/{col}"]
            if f"metamissing/{col}" in z:
                values = values.astype(object)
                values[z[f"metamissing/{col}"]] = None
            meta[col] = values
        self.meta = pd.DataFrame({"label": self.labels})
        if meta:
            self.meta = pd.concat([self.meta, rename_clashes(pd.DataFrame(meta), "file_")], axis=1)

    def __len__(self) -> int:
        return len(self.labels)

    def read(self, rows: np.ndarray) -> list[np.ndarray]:
        """The events ``rows`` as float32 arrays ``(time, channel)`` in the asked channel order (copies)."""
        return [np.ascontiguousarray(self.data[self.offsets[i] : self.offsets[i + 1]][:, self.idx], dtype=np.float32)
                for i in np.asarray(rows, dtype=np.int64)]
