"""Load events from files: :func:`load_events` (any format, many files) and :func:`convert` (to ``.npz``).

An event is a ``(time, channel)`` table, channels in the order asked for (default ``Z, N, E``).
:func:`load_events` returns an :class:`~seiswork.data.eventset.EventSet`, which unpacks like the seed's loader::

    events, labels = load_events(["resources/VRAC.pkl", "resources/MORC.pkl"])

``events`` is a list of pandas DataFrames (columns = the requested channels), ``labels`` a numpy array;
``.meta`` holds one row per event (source file, index in it, label, event id, station, sampling rate, ...).

Formats, chosen by suffix or folder contents (one reader module each):

* ``.pkl`` / ``.pickle``: pickled DataFrames, read safely (:mod:`seiswork.data.pickles`);
* ``.npz``: our safe, fast format (:func:`~seiswork.data.npz.save_npz`), read with ``allow_pickle=False``;
* SeisBench: a folder with ``metadata.csv`` + ``waveforms.hdf5`` (or either file's path) (:mod:`seiswork.data.seisbench`);
* ObsPy: a folder of miniSEED/SAC files plus a catalog CSV (``catalog.csv`` in the folder, or
  ``catalog=``) (:mod:`seiswork.data.obspy_folder`).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Sequence, Union

import numpy as np
import pandas as pd

from seiswork.data.events import DEFAULT_CHANNELS, channel_names
from seiswork.data.eventset import META_FIRST, EventSet, Part
from seiswork.data.lazy import LazyEvents
from seiswork.data.npz import NpzEvents, read_events_npz, save_npz
from seiswork.data.obspy_folder import WAVEFORM_SUFFIXES, read_obspy
from seiswork.data.pickles import SUFFIXES as PICKLE_SUFFIXES
from seiswork.data.pickles import read_pickled_frames
from seiswork.data.seisbench import HDF5_SUFFIXES, SeisBenchTraces, read_seisbench, seisbench_pairs

__all__ = ["load_events", "convert", "can_stream"]

PathLike = Union[str, os.PathLike]


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


def can_stream(path: PathLike) -> bool:
    """Whether ``load_events(path, lazy=True)`` can index ``path`` (a SeisBench set or a seiswork ``.npz``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    return suffix == ".npz" or suffix in HDF5_SUFFIXES or (suffix == ".csv" and path.stem.startswith("metadata")) or (
        path.is_dir() and not (path / "catalog.csv").exists() and any(path.glob("metadata*.csv")))


def _index_path(path: Path, channels, label_column) -> list[tuple[str, Part]]:
    """Index one path without reading its waveforms: events are :class:`LazyEvents`."""
    if not can_stream(path):
        raise ValueError(
            f"{path}: lazy loading streams SeisBench data sets (waveforms.hdf5 + metadata.csv) and seiswork .npz "
            f"files; convert this one once with `python -m seiswork convert {path} OUT.npz`, or load it with lazy=False"
        )
    if path.suffix.lower() == ".npz":
        readers = [(str(path), NpzEvents(path, channels))]
    else:
        readers = [(str(h5), SeisBenchTraces(h5, meta, channels, label_column)) for h5, meta in seisbench_pairs(path)]
    return [(source, Part(LazyEvents.of(r), r.labels, r.meta, r.kind)) for source, r in readers]


def _read_path(path: Path, channels, trusted, label_column, catalog, lazy=False) -> list[tuple[str, Part]]:
    """Read one path; a SeisBench folder with chunks gives several (source, part)."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no such file or folder (working directory {Path.cwd()}); check the path"
        )
    if lazy:
        return _index_path(path, channels, label_column)
    suffix = path.suffix.lower()
    if path.is_dir():
        if catalog is not None or (path / "catalog.csv").exists():
            cat = catalog if catalog is not None else path / "catalog.csv"
            name = str(cat) if not isinstance(cat, pd.DataFrame) else str(path)
            return [(name, read_obspy(path, cat, name, channels, label_column))]
        pairs = seisbench_pairs(path)
        if not pairs:
            raise ValueError(
                f"{path}: is a folder without metadata.csv (SeisBench) or catalog.csv (miniSEED/SAC files); "
                f"to load several pickles pass them as a list or a glob such as '{path}/*.pkl'"
            )
        return [(str(h5), read_seisbench(h5, meta, channels, label_column)) for h5, meta in pairs]
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: is empty (0 bytes); nothing to load. Re-create or remove the file")
    if suffix in PICKLE_SUFFIXES:
        return [(str(path), read_pickled_frames(path, channels, trusted))]
    if suffix == ".npz":
        return [(str(path), read_events_npz(path, channels))]
    if suffix in HDF5_SUFFIXES or (suffix == ".csv" and path.stem.startswith("metadata")):
        return [(str(h5), read_seisbench(h5, meta, channels, label_column)) for h5, meta in seisbench_pairs(path)]
    if suffix == ".csv":  # a catalog of miniSEED/SAC files beside it
        return [(str(path), read_obspy(path.parent, path, str(path), channels, label_column))]
    if suffix in WAVEFORM_SUFFIXES:
        raise ValueError(
            f"{path}: a single waveform file has no label; put the files in a folder with a catalog.csv "
            f"(columns file, label) and load the folder"
        )
    raise ValueError(
        f"{path}: unknown format {suffix!r}; seiswork reads .pkl/.pickle (pickled DataFrames), .npz (save_npz), "
        f"SeisBench folders/.hdf5 with metadata.csv, and folders of miniSEED/SAC files with a catalog.csv"
    )


def load_events(
    paths: PathLike | Sequence[PathLike] | None = None,
    channels: Sequence[str] = DEFAULT_CHANNELS,
    trusted: bool = False,
    *,
    label_column: str = "source_event_category",
    catalog: PathLike | pd.DataFrame | None = None,
    lazy: bool = False,
    verbose: bool = True,
) -> EventSet:
    """Load and concatenate events from one or many files; print events per file and classes.

    Args:
        paths: a path, a glob pattern or a list of them; ``None`` loads the built-in default data set
            (``seiswork.synthetic.default_path()``, generated on first use). Formats by suffix / contents:
            ``.pkl``/``.pickle`` pickled DataFrames (+ ``<stem>.meta.csv`` sidecar), ``.npz`` from :func:`save_npz`,
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
        lazy: index the files without reading their waveforms (SeisBench sets and ``.npz`` files): the
            events are a :class:`~seiswork.data.lazy.LazyEvents` sequence read on demand, for data larger
            than memory. ``WaveformDataAdapter(..., out=...)`` then preprocesses them in chunks.
        verbose: print one line per file, then the total and the class distribution.

    Returns:
        :class:`EventSet` ``(events, labels)`` with ``.meta``, ``.counts``, ``.channels``.
    """
    channels = channel_names(channels)
    if paths is None:
        from seiswork import synthetic

        default = Path(synthetic.default_path())
        paths = default if default.exists() else synthetic.write_default()
    parts: list[tuple[str, Part]] = []
    for path in _expand(paths):
        for source, part in _read_path(path, channels, trusted, label_column, catalog, lazy):
            parts.append((source, part))
            if verbose:
                print(f"{source}: {len(part.events)} events ({part.kind})")
    kinds = {("str" if p.labels.dtype.kind == "U" else "int") for _, p in parts}
    if len(kinds) > 1:
        detail = ", ".join(f"{Path(s).name}: {'str' if p.labels.dtype.kind == 'U' else p.labels.dtype}" for s, p in parts)
        raise ValueError(f"labels are strings in some files and numbers in others ({detail}); use one kind everywhere")
    if lazy:
        events = LazyEvents.concat([p.events for _, p in parts])
    else:
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
    first = [c for c in META_FIRST if c in meta.columns]
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
