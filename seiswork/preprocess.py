"""Preprocess once: clean, cut and normalise events, split them, hand out datasets.

:class:`WaveformDataAdapter` turns a list of events (DataFrames with channel columns, or arrays
``(time, channel)``) into one float32 array ``x`` of shape ``(n_kept, time, channel)``, integer
labels ``y`` and a seeded, stratified, event-grouped train/val/test split.  The steps are chosen
with :class:`TransformOP` flags, as in the seed::

    adapter = WaveformDataAdapter(events, labels, transforms=TransformOP.DROP_NAN | TransformOP.TRIMMING | TransformOP.ZSCORE)
    train, test = adapter.get_datasets(transform_train=..., transform_test=...)

Policies (why they are what they are):

* **DROP_NAN** removes NaN padding at both edges (every leading/trailing row in which any
  channel is NaN or infinite).  A NaN gap *inside* an event is never spliced out, since that would join
  two unrelated pieces of signal.  By default such an event is dropped, counted and listed in
  ``report.dropped["interior_nan"]``.  With ``nan_policy="interpolate"``, gaps of at most
  ``max_gap`` samples are filled linearly per channel (longer gaps still drop the event).
  ``nan_policy="raise"`` makes any interior gap an error.
* **TRIMMING** cuts every event to one length: the shortest kept event by default (as the seed
  does), or ``length=``.  Events shorter than ``length`` are dropped
  (``report.dropped["shorter_than_length"]``).  By default the **start is kept** and the end is cut
  (``trim="start"``).  Seismic windows are cut relative to a pick or an origin time (PhaseNet's
  earthquake windows start 0.5 s before the P pick, SeisBench traces start at a fixed offset before
  the first arrival), so sample ``i`` means the same thing in every event only if the start is kept.
  A centred cut would shift every event by half its own excess length, so the P arrivals would no longer
  line up across events.  That blurs fan charts and hands the model jitter that has nothing to do
  with the class.  ``trim="center"`` and ``trim="end"`` are there for windows aligned otherwise.
* **ZSCORE** normalises each event and channel to mean 0, std 1 (population std, as
  ``scipy.stats.zscore``).  A constant channel (std ``<= eps * |mean|``: a dead component,
  possibly with an offset) becomes all zeros, with one warning and a count in
  ``report.constant_channels``.  It never becomes NaN.  ``eps`` is relative so that signals in
  m/s (std ~1e-9) are not mistaken for constant, as an absolute ``eps`` would.

Rows of ``x`` are grouped by split part: first the train events, then val, then test, each in
loaded order.  ``kept[r]`` is the loaded index of row ``r``.  This way every part is a contiguous
slice of ``x``, and the datasets are views that copy nothing.  ``split.train`` etc. index the
*loaded* events (dropped events appear in no part).
"""

from __future__ import annotations

import enum
import io
import json
import numbers
import struct
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from seiswork.paths import atomic_path

__all__ = ["TransformOP", "WaveformDataAdapter", "Split", "PreprocessReport"]

_FORMAT = "seiswork.preprocessed/1"
_PARTS = ("train", "val", "test")
_NAN_POLICIES = ("drop", "interpolate", "raise")
_TRIMS = ("start", "center", "end")
# Z-scoring works on chunks of events in a (chunk, channel, time) float64 buffer: reductions along
# contiguous time are fast and exact enough, and ~1 MB stays in cache.
_CHUNK_BYTES = 1 << 20


class TransformOP(enum.Flag):
    """Preprocessing steps, combinable with ``|``: ``DROP_NAN | TRIMMING | ZSCORE`` (the default)."""

    DROP_NAN = enum.auto()
    TRIMMING = enum.auto()
    ZSCORE = enum.auto()


@dataclass(eq=False)
class Split:
    """Index arrays (int64, sorted) into the *loaded* events: ``train`` (without val), ``val``, ``test``."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def __iter__(self):
        return iter((self.train, self.val, self.test))

    def __repr__(self) -> str:
        return f"Split(train={len(self.train)}, val={len(self.val)}, test={len(self.test)})"


@dataclass
class PreprocessReport:
    """What preprocessing did.  Lengths are in samples (time steps); indices are loaded-event indices."""

    n_loaded: int = 0
    n_kept: int = 0
    length: int = 0  # common length of the kept events
    dropped: dict[str, list[int]] = field(default_factory=dict)  # reason -> loaded indices
    edge_nan_removed: int = 0  # samples removed as NaN padding at the edges (kept events)
    samples_before_trim: int = 0  # samples of the kept events after DROP_NAN, before TRIMMING
    samples_cut: int = 0  # samples removed by TRIMMING
    shortest_event: int = -1  # loaded index of the shortest kept event (sets the length by default)
    interpolated: list[tuple[int, int]] = field(default_factory=list)  # (event, samples filled)
    constant_channels: list[tuple[int, str]] = field(default_factory=list)  # (event, channel)
    nan_values_left: int = 0  # NaN values in x (only possible without DROP_NAN)

    @property
    def n_dropped(self) -> int:
        return sum(len(v) for v in self.dropped.values())

    @property
    def cut_fraction(self) -> float:
        """Fraction of the kept samples removed by TRIMMING."""
        return self.samples_cut / self.samples_before_trim if self.samples_before_trim else 0.0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["n_dropped"] = self.n_dropped
        d["cut_fraction"] = self.cut_fraction
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PreprocessReport":
        names = {f for f in cls.__dataclass_fields__}
        r = cls(**{k: v for k, v in d.items() if k in names})
        r.interpolated = [tuple(p) for p in r.interpolated]
        r.constant_channels = [tuple(p) for p in r.constant_channels]
        return r


# ----------------------------------------------------------------------------------------------
# input normalisation and validation
# ----------------------------------------------------------------------------------------------


def _first(indices, k: int = 10) -> str:
    indices = list(indices)
    s = ", ".join(str(i) for i in indices[:k])
    return s + (f", ... ({len(indices)} in all)" if len(indices) > k else "")


def _as_labels(labels, n_events: int) -> np.ndarray:
    if labels is None:
        raise TypeError("labels is None: pass one label per event (or an EventSet from seiswork.io.load_events)")
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be one-dimensional (one label per event), got shape {arr.shape}")
    if len(arr) != n_events:
        raise ValueError(
            f"{n_events} events but {len(arr)} labels: pass exactly one label per event, in the same order"
        )
    missing = np.flatnonzero(pd.isna(arr))
    if len(missing):
        raise ValueError(f"labels are missing (None/NaN) for event(s) {_first(missing)}; label them or remove them")
    if arr.dtype == object:
        kinds = {type(v) for v in arr}
        if all(issubclass(k, str) for k in kinds):
            arr = arr.astype(str)
        elif all(issubclass(k, (int, np.integer)) and not issubclass(k, bool) for k in kinds):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(
                f"labels mix types {sorted(k.__name__ for k in kinds)}; use all strings or all integers"
            )
    return arr


def _as_groups(groups, n_events: int) -> np.ndarray | None:
    """Event ids as an array, or None.  Missing ids (None/NaN/"") stay missing: those events get a group each."""
    if groups is None:
        return None
    arr = np.asarray(groups)
    if arr.ndim != 1 or len(arr) != n_events:
        raise ValueError(
            f"groups (event ids) must hold one id per event: {n_events} events but groups has shape {arr.shape}"
        )
    if arr.dtype == object:
        arr = np.array(["" if pd.isna(v) else str(v) for v in arr])
    return arr


def _group_codes(groups: np.ndarray | None, n: int) -> np.ndarray:
    """Integer group codes; events without an id get a code of their own."""
    if groups is None:
        return np.arange(n)
    missing = pd.isna(groups) | (groups == "") if groups.dtype.kind in "OU" else pd.isna(groups)
    codes, _ = pd.factorize(pd.Series(groups).where(~missing), use_na_sentinel=True)
    codes = codes.astype(np.int64)
    lone = np.flatnonzero(codes < 0)
    codes[lone] = codes.max(initial=-1) + 1 + np.arange(len(lone))
    return codes


def _channels_first(event, index: int, channels: tuple[str, ...]) -> np.ndarray:
    """The event's channels as an array ``(channel, time)``: a view of the caller's data where possible.

    Never written to.  For a DataFrame holding exactly the channel columns ``df.to_numpy()`` is a view of
    its single block (2 us), far cheaper than ``df[list(channels)]`` (200 us).
    """
    if isinstance(event, pd.DataFrame):
        cols = event.columns.tolist()
        if cols == list(channels):
            a = event.to_numpy()
            if a.dtype.kind in "fiu":
                return a.T
        missing = [c for c in channels if c not in cols]
        if missing:
            raise ValueError(
                f"event {index} has no column(s) {missing} (columns present: {cols}); "
                f"pass channels= naming columns the data has"
            )
        out = []
        for c in channels:
            col = event[c]
            if isinstance(col, pd.DataFrame):
                raise ValueError(f"event {index} has several columns named {c!r}; rename or drop the duplicates")
            v = col.to_numpy()
            if v.dtype.kind not in "fiu":
                try:
                    v = col.to_numpy(dtype=np.float64, na_value=np.nan)
                except (TypeError, ValueError) as e:
                    raise ValueError(
                        f"event {index} column {c!r} is not numeric (dtype {col.dtype}): {e}"
                    ) from None
            out.append(v)
        return np.stack(out)
    if isinstance(event, np.ndarray):
        if event.ndim != 2 or event.shape[1] != len(channels):
            raise ValueError(
                f"event {index} is an array of shape {event.shape}; expected (time, {len(channels)}) "
                f"for channels {channels}"
            )
        if event.dtype.kind not in "fiu":
            raise ValueError(f"event {index} has dtype {event.dtype}; expected a numeric array")
        return event.T
    raise TypeError(
        f"event {index} is a {type(event).__name__}; expected a pandas DataFrame with columns "
        f"{list(channels)} or a numpy array (time, channel)"
    )


def _scan(events, channels: tuple[str, ...], drop_nan: bool):
    """Each event's valid range ``[first, stop)`` and raw length, and the events with NaN inside that range.

    With ``drop_nan`` the range excludes the leading and trailing rows in which any channel is NaN or
    infinite; without it the range is the whole event.  An event with no fully finite row is an error.
    """
    n = len(events)
    first, stop, raw_len = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    gaps: list[int] = []
    all_nan: list[str] = []
    for i, ev in enumerate(events):
        a = _channels_first(ev, i, channels)
        raw_len[i] = a.shape[1]
        ok = np.isfinite(a.sum(axis=0))  # a row is valid when every channel is finite
        n_ok = int(np.count_nonzero(ok))
        if n_ok == 0:
            dead = [channels[j] for j in range(a.shape[0]) if not np.isfinite(a[j]).any()]
            all_nan.append(
                f"{i} (all NaN)" if len(dead) == len(channels)
                else f"{i} (channel {', '.join(dead)} all NaN)" if dead
                else f"{i} (NaN in some channel at every sample)"
            )
        elif not drop_nan:
            stop[i] = a.shape[1]
        else:
            first[i] = int(ok.argmax())
            stop[i] = a.shape[1] - int(ok[::-1].argmax())
            if stop[i] - first[i] != n_ok:
                gaps.append(i)
    if all_nan:
        raise ValueError(
            f"{len(all_nan)} event(s) have no sample where all channels {channels} are finite: "
            f"{_first(all_nan)}; remove these events (or pick channels= that hold data) before building the adapter"
        )
    return first, stop, raw_len, gaps


# ----------------------------------------------------------------------------------------------
# splitting
# ----------------------------------------------------------------------------------------------


def _split_part(y: np.ndarray, codes: np.ndarray, ratio: float, seed: int, what: str, names: np.ndarray):
    """Positions ``(keep, take)`` with ``take`` ~ ``ratio`` of the events, stratified by ``y``, grouped by ``codes``.

    Without real groups (every event its own group) this is sklearn's
    ``train_test_split(stratify=y)``, which hits the ratio exactly.  With groups, sklearn has no
    single stratified-and-grouped split at an arbitrary ratio (``StratifiedGroupKFold`` gives
    only ``1/k`` fractions).  So groups are taken greedily in a seeded random order, in the spirit
    of ``StratifiedGroupKFold``: a group joins ``take`` when that brings the per-class counts of
    ``take`` closer to ``ratio`` times the class totals (relative error, so small classes weigh
    as much as large ones).  The random order keeps ``take`` a random sample of events.  Large
    groups are not placed first, because that would bias the test part toward events recorded by
    many stations.
    """
    n = len(y)
    pos = np.arange(n)
    if len(np.unique(codes)) == n:
        from sklearn.model_selection import train_test_split

        counts = np.bincount(y)
        small = np.flatnonzero(counts == 1)
        if len(small):
            raise ValueError(
                f"cannot stratify the {what} split: class(es) {names[small].tolist()} have a single event among "
                f"the {n} to split (a stratified split needs 2 per class); drop or merge rare classes"
            )
        try:
            keep, take = train_test_split(pos, test_size=ratio, stratify=y, random_state=seed, shuffle=True)
        except ValueError as e:
            raise ValueError(f"cannot make the {what} split of {n} events with ratio {ratio}: {e}") from None
        return np.sort(keep), np.sort(take)

    n_classes = int(y.max()) + 1
    n_groups = int(codes.max()) + 1
    per_group = np.zeros((n_groups, n_classes))
    np.add.at(per_group, (codes, y), 1)
    totals = per_group.sum(axis=0)
    # cost = sum_k w_k (taken_k - target_k)^2; adding counts c changes it by sum_k w_k c_k (2 (taken_k - target_k) + c_k).
    # Plain Python floats: with a handful of classes this loop is ~1 us per group.
    gap = (-ratio * totals).tolist()  # taken - target
    w = (1.0 / np.maximum(totals, 1) ** 2).tolist()
    rows = per_group.tolist()
    chosen = np.zeros(n_groups, dtype=bool)
    rng = np.random.default_rng(seed)
    for g in rng.permutation(n_groups).tolist():
        c = rows[g]
        if sum(wk * ck * (2 * gk + ck) for wk, ck, gk in zip(w, c, gap)) < 0:
            chosen[g] = True
            gap = [gk + ck for gk, ck in zip(gap, c)]
    take = pos[chosen[codes]]
    keep = pos[~chosen[codes]]
    if len(take) == 0 or len(keep) == 0:
        raise ValueError(
            f"cannot make the {what} split with ratio {ratio}: {n} events in {n_groups} event ids leave one "
            f"part empty; use more events or another ratio"
        )
    return keep, take


# ----------------------------------------------------------------------------------------------
# .npz with memory-mappable members
# ----------------------------------------------------------------------------------------------

_PAD_EXTRA_ID = 0x7377  # an unregistered zip "extra field" id; readers skip unknown ids


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write a standard, uncompressed ``.npz`` (``np.load`` reads it) whose array data start on 64-byte boundaries.

    The alignment lets :func:`_read_npz` memory-map big members instead of reading them.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, arr in arrays.items():
            name = f"{key}.npy"
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            # local header = 30 bytes + name + extra (ours + the 20-byte zip64 field zipfile adds);
            # the .npy header that follows is itself padded to a multiple of 64 bytes.
            start = zf.fp.tell() + 30 + len(name.encode()) + 20 + 4
            pad = -start % 64
            info.extra = struct.pack("<HH", _PAD_EXTRA_ID, pad) + b"\0" * pad
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=False)


def _mmap_member(path: Path, zf: zipfile.ZipFile, fh, name: str) -> np.ndarray | None:
    """A copy-on-write memory map of one stored ``.npy`` member, or None when it cannot be mapped."""
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
    mm = np.memmap(path, dtype=dtype, mode="c", offset=offset, shape=shape, order="F" if fortran else "C")
    return mm.view(np.ndarray)  # a plain array; it keeps the map alive


# ----------------------------------------------------------------------------------------------
# the adapter
# ----------------------------------------------------------------------------------------------


class WaveformDataAdapter:
    """Preprocess events once, split them, and hand out :class:`~seiswork.dataset.WaveformDataset` parts.

    Args:
        events: list of DataFrames with the ``channels`` as columns (extra columns are ignored), or of
            arrays ``(time, channel)`` in ``channels`` order.  An ``EventSet`` from
            :func:`seiswork.io.load_events` may be passed as is: its labels and ``.meta`` are used.
        labels: one class label per event (strings or ints); may be None for an ``EventSet``.
        channels: channel names, in the order of the last axis of ``x``.
        transforms: :class:`TransformOP` flags (``None`` for none).
        test_ratio: fraction of the kept events in the test part, in (0, 1).
        val_ratio: fraction of the *training* part held out for validation, in [0, 1).
            Keras' ``validation_split`` works the same way, and the test part stays at
            ``test_ratio`` of all events as in the seed.
        seed: seeds the split.  Same seed, same split.
        groups: an event id per event.  Recordings sharing an id never sit in two parts.
            Default: ``meta["event_id"]`` when present.  Missing ids count as unique.
        meta: per-event metadata table (one row per event).  Default: ``events.meta``.
        length: with TRIMMING, the common length in samples.  Default: the shortest kept event.
        min_length: events shorter than this (samples, after DROP_NAN) are an error: broken windows.
        trim: which part of a longer event TRIMMING keeps: ``"start"`` (default, see the module
            docstring), ``"center"`` or ``"end"``.
        nan_policy: NaN gaps inside an event: ``"drop"`` the event (default), ``"interpolate"`` gaps of
            at most ``max_gap`` samples, or ``"raise"``.
        max_gap: longest interior gap (samples) that ``nan_policy="interpolate"`` fills.
        eps: relative threshold below which a channel counts as constant for ZSCORE.
        verbose: print a short report.

    Attributes:
        x: float32 ``(n_kept, time, channel)``, rows grouped train, val, test.
        y: int64 ``(n_kept,)``, codes into ``classes``.
        classes: class names, sorted unique labels.
        kept: int64 ``(n_kept,)``, loaded index of each row of ``x``.
        split: :class:`Split` of loaded indices.
        report: :class:`PreprocessReport`.
    """

    def __init__(
        self,
        events: Sequence[pd.DataFrame | np.ndarray],
        labels=None,
        channels: Sequence[str] = ("Z", "N", "E"),
        transforms: TransformOP | None = TransformOP.DROP_NAN | TransformOP.TRIMMING | TransformOP.ZSCORE,
        test_ratio: float = 0.3,
        val_ratio: float = 0.1,
        seed: int = 0,
        groups=None,
        meta: pd.DataFrame | None = None,
        length: int | None = None,
        min_length: int = 100,
        *,
        trim: str = "start",
        nan_policy: str = "drop",
        max_gap: int = 25,
        eps: float = 1e-6,
        verbose: bool = True,
    ) -> None:
        # ---- parameters ----
        if transforms is None:
            transforms = TransformOP(0)
        if not isinstance(transforms, TransformOP):
            raise TypeError(f"transforms must be TransformOP flags (e.g. TransformOP.DROP_NAN | ...), got {transforms!r}")
        if isinstance(channels, str):
            raise TypeError(f"channels must be a sequence of column names like ('Z', 'N', 'E'), got the string {channels!r}")
        channels = tuple(channels)
        if not channels or len(set(channels)) != len(channels):
            raise ValueError(f"channels must be distinct column names, got {channels}")
        for name, v, lo_open in (("test_ratio", test_ratio, True), ("val_ratio", val_ratio, False)):
            if not isinstance(v, numbers.Real) or not ((0 < v < 1) if lo_open else (0 <= v < 1)):
                rng_txt = "0 < test_ratio < 1" if lo_open else "0 <= val_ratio < 1"
                raise ValueError(f"{name}={v!r} is out of range: need {rng_txt}")
        if trim not in _TRIMS:
            raise ValueError(f"trim={trim!r}: choose one of {_TRIMS}")
        if nan_policy not in _NAN_POLICIES:
            raise ValueError(f"nan_policy={nan_policy!r}: choose one of {_NAN_POLICIES}")
        if int(min_length) < 2:
            raise ValueError(f"min_length={min_length!r}: need at least 2 samples (a z-score needs a spread)")
        if length is not None:
            if TransformOP.TRIMMING not in transforms:
                raise ValueError(f"length={length} needs TransformOP.TRIMMING in transforms")
            if int(length) < min_length:
                raise ValueError(f"length={length} is below min_length={min_length}; pass a longer length")
        if max_gap < 1:
            raise ValueError(f"max_gap={max_gap!r}: need at least 1 sample")

        # ---- inputs: EventSet, labels, meta, event ids ----
        if isinstance(events, tuple) and len(events) == 2 and hasattr(events, "meta"):  # an io.EventSet
            meta = events.meta if meta is None else meta
            labels = events[1] if labels is None else labels
            events = events[0]
        elif meta is None:
            meta = getattr(events, "meta", None)
        if isinstance(events, (pd.DataFrame, np.ndarray)) or not hasattr(events, "__len__"):
            raise TypeError(
                f"events must be a list of DataFrames or arrays (time, channel), got {type(events).__name__}"
            )
        n = len(events)
        if n == 0:
            raise ValueError("events is empty: load some events first")
        labels = _as_labels(labels, n)
        if meta is not None:
            if not isinstance(meta, pd.DataFrame) or len(meta) != n:
                raise ValueError(
                    f"meta must be a DataFrame with one row per event ({n}), got "
                    f"{type(meta).__name__} with {len(meta) if hasattr(meta, '__len__') else '?'} rows"
                )
            meta = meta.reset_index(drop=True)
        if groups is None and meta is not None and "event_id" in meta.columns:
            groups = meta["event_id"].to_numpy()
            if pd.isna(groups).all():
                groups = None
        groups = _as_groups(groups, n)

        classes, codes_all = np.unique(labels, return_inverse=True)
        codes_all = codes_all.astype(np.int64)
        if len(classes) < 2:
            raise ValueError(
                f"labels hold a single class {classes[0].item()!r}; a classifier needs at least two classes"
            )

        self.channels = channels
        self.transforms = transforms
        self.test_ratio = float(test_ratio)
        self.val_ratio = float(val_ratio)
        self.seed = int(seed)
        self.trim = trim
        self.nan_policy = nan_policy
        self.max_gap = int(max_gap)
        self.min_length = int(min_length)
        self.eps = float(eps)
        self.classes = classes
        self.groups = groups
        self.meta = meta
        report = PreprocessReport(n_loaded=n)

        # ---- pass 1: each event's valid range (only integers are kept) ----
        drop_nan = TransformOP.DROP_NAN in transforms
        first, stop, raw_len, gaps = _scan(events, channels, drop_nan)
        valid_len = stop - first
        short = np.flatnonzero(valid_len < self.min_length)
        if len(short):
            desc = [f"{i} ({valid_len[i]} samples)" for i in short]
            raise ValueError(
                f"{len(short)} event(s) are shorter than min_length={self.min_length} samples"
                f"{' after removing NaN padding' if drop_nan else ''}: {_first(desc)}; remove them and their "
                f"labels, or lower min_length"
            )
        keep, fill = self._interior_gaps(events, gaps, first, stop, report)
        idx_kept, L = self._common_length(valid_len, keep, length, report)
        report.edge_nan_removed = int((raw_len - valid_len)[idx_kept].sum())
        report.interpolated = [(int(i), fill[i]) for i in idx_kept if i in fill]
        kept_counts = np.bincount(codes_all[idx_kept], minlength=len(classes))
        if np.count_nonzero(kept_counts) < 2:
            raise ValueError(
                f"only class {classes[kept_counts.argmax()].item()!r} has events left after dropping "
                f"{n - len(idx_kept)} event(s) ({report.dropped}); a classifier needs at least two classes"
            )

        # ---- split: needs only labels and event ids, so it comes before the big copy ----
        self.grouped = groups is not None
        self.split = self._make_split(codes_all[idx_kept], _group_codes(groups, n)[idx_kept], idx_kept)
        self.kept = np.concatenate(list(self.split))
        self.y = codes_all[self.kept]

        # ---- pass 2: write every kept event straight into the one output array ----
        self.x = self._fill(events, first, stop, fill, L, report)
        report.n_kept = len(self.kept)
        self.report = report
        if report.constant_channels:
            cc = [f"{i}:{c}" for i, c in report.constant_channels]
            warnings.warn(
                f"{len(cc)} constant channel(s) (event:channel) set to 0 by ZSCORE: {_first(cc)}",
                RuntimeWarning,
                stacklevel=2,
            )
        if report.nan_values_left:
            warnings.warn(
                f"x holds {report.nan_values_left} NaN values: DROP_NAN is off; add TransformOP.DROP_NAN to remove them",
                UserWarning,
                stacklevel=2,
            )
        if verbose:
            print(self._describe())

    # ------------------------------------------------------------------------------------------

    def _interior_gaps(self, events, gaps, first, stop, report):
        """Apply ``nan_policy`` to events with NaN inside their valid range: ``(keep mask, {event: samples to fill})``."""
        keep = np.ones(len(first), dtype=bool)
        fill: dict[int, int] = {}
        if not gaps:
            return keep, fill
        if self.nan_policy == "raise":
            raise ValueError(
                f"{len(gaps)} event(s) have NaN gaps inside the signal: {_first(gaps)}; pass "
                f"nan_policy='drop' to drop them or nan_policy='interpolate' to fill short gaps"
            )
        dropped = []
        for i in gaps:
            a = _channels_first(events[i], i, self.channels)
            bad = ~np.isfinite(a[:, first[i] : stop[i]].sum(axis=0))
            edges = np.diff(np.concatenate(([0], bad.view(np.int8), [0])))
            longest = int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())
            if self.nan_policy == "interpolate" and longest <= self.max_gap:
                fill[i] = int(bad.sum())
            else:
                dropped.append(i)
        if dropped:
            keep[dropped] = False
            report.dropped["interior_nan"] = [int(i) for i in dropped]
            hint = (
                f"gaps longer than max_gap={self.max_gap}" if self.nan_policy == "interpolate"
                else "pass nan_policy='interpolate' to fill short gaps instead"
            )
            warnings.warn(
                f"dropped {len(dropped)} event(s) with NaN gaps inside the signal: {_first(dropped)} ({hint})",
                UserWarning,
                stacklevel=3,
            )
        return keep, fill

    def _common_length(self, valid_len, keep, length, report):
        """``(kept event indices, common length)``; drops events shorter than a fixed ``length``."""
        idx = np.flatnonzero(keep)
        if len(idx) == 0:
            raise ValueError(f"every event was dropped ({report.dropped}); check nan_policy")
        trimming = TransformOP.TRIMMING in self.transforms
        if trimming and length is not None:
            L = int(length)
            short = idx[valid_len[idx] < L]
            if len(short):
                if len(short) == len(idx):
                    raise ValueError(
                        f"no event is at least length={L} samples long (longest: {int(valid_len[idx].max())}); "
                        f"pass a smaller length"
                    )
                report.dropped["shorter_than_length"] = [int(i) for i in short]
                warnings.warn(
                    f"dropped {len(short)} event(s) shorter than length={L}: {_first(short)}", UserWarning, stacklevel=3
                )
                idx = idx[valid_len[idx] >= L]
        elif trimming:
            L = int(valid_len[idx].min())
        else:
            lens = valid_len[idx]
            if lens.min() != lens.max():
                raise ValueError(
                    f"events have different lengths (from {int(lens.min())} samples at event "
                    f"{int(idx[lens.argmin()])} to {int(lens.max())} at event {int(idx[lens.argmax()])}); "
                    f"add TransformOP.TRIMMING to cut them to one length"
                )
            L = int(lens[0])
        report.length = L
        report.shortest_event = int(idx[valid_len[idx].argmin()])
        report.samples_before_trim = int(valid_len[idx].sum())
        report.samples_cut = report.samples_before_trim - L * len(idx)
        return idx, L

    def _make_split(self, y, group_codes, idx_kept) -> Split:
        """Test part from all kept events, then val from the rest; both stratified and grouped."""
        seeds = np.random.SeedSequence(self.seed).generate_state(2)
        train, test = _split_part(y, group_codes, self.test_ratio, int(seeds[0]), "test", self.classes)
        val = np.zeros(0, np.int64)
        if self.val_ratio > 0:
            sub_train, sub_val = _split_part(
                y[train], group_codes[train], self.val_ratio, int(seeds[1]), "validation", self.classes
            )
            train, val = train[sub_train], train[sub_val]
        return Split(*(idx_kept[p].astype(np.int64) for p in (train, val, test)))

    def _fill(self, events, first, stop, fill, L, report) -> np.ndarray:
        C = len(self.channels)
        x = np.empty((len(self.kept), L, C), dtype=np.float32)
        zscore = TransformOP.ZSCORE in self.transforms
        chunk = max(1, _CHUNK_BYTES // (8 * L * C))
        buf = np.empty((chunk, C, L), dtype=np.float64)
        const_rows: list[tuple[int, str]] = []
        nan_aware = TransformOP.DROP_NAN not in self.transforms  # with DROP_NAN no NaN is left
        for r0 in range(0, len(self.kept), chunk):
            rows = self.kept[r0 : r0 + chunk]
            b = buf[: len(rows)]
            for k, i in enumerate(rows):
                a = _channels_first(events[i], i, self.channels)
                f, s = int(first[i]), int(stop[i])
                if i in fill:  # linear fill of short interior gaps, per channel, on a copy
                    a = a[:, f:s].astype(np.float64)
                    f, s = 0, a.shape[1]
                    t = np.arange(s)
                    for j in range(C):
                        bad = ~np.isfinite(a[j])
                        if bad.any():
                            a[j, bad] = np.interp(t[bad], t[~bad], a[j, ~bad])
                excess = s - f - L
                off = 0 if self.trim == "start" else excess if self.trim == "end" else excess // 2
                b[k] = a[:, f + off : f + off + L]
            if zscore:
                const = self._zscore(b, nan_aware)
                for k, j in zip(*np.nonzero(const)):
                    const_rows.append((int(rows[k]), self.channels[j]))
            x[r0 : r0 + len(rows)] = b.transpose(0, 2, 1)
        report.constant_channels = const_rows
        if nan_aware:
            report.nan_values_left = int(np.count_nonzero(np.isnan(x)))
        return x

    def _zscore(self, b: np.ndarray, nan_aware: bool) -> np.ndarray:
        """Z-score ``b`` ``(events, channel, time)`` in place along time; returns the constant-channel mask."""
        if nan_aware and np.isnan(b).any():  # without DROP_NAN: statistics over the finite samples
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(b, axis=2)
                b -= mean[:, :, None]
                std = np.sqrt(np.nanmean(b * b, axis=2))
        else:
            mean = b.mean(axis=2)
            b -= mean[:, :, None]
            std = np.sqrt(np.einsum("bct,bct->bc", b, b) / b.shape[2])
        const = ~(std > self.eps * np.abs(mean))  # also catches std == 0 and NaN statistics
        std[const] = np.inf  # x / inf == 0: a constant channel becomes zeros, never NaN
        b /= std[:, :, None]
        return const

    # ------------------------------------------------------------------------------------------

    @property
    def n_loaded(self) -> int:
        return self.report.n_loaded

    def _rows(self, part: str) -> slice:
        if part not in _PARTS:
            raise ValueError(f"part={part!r}: choose one of {_PARTS}")
        n_tr, n_va = len(self.split.train), len(self.split.val)
        return {"train": slice(0, n_tr), "val": slice(n_tr, n_tr + n_va), "test": slice(n_tr + n_va, len(self.kept))}[part]

    def dataset(self, part: str, transform=None):
        """The ``"train"`` (without val), ``"val"`` or ``"test"`` part as a WaveformDataset.

        Its ``x``/``y`` are views of this adapter's arrays (no copy), in loaded order, so item ``j``
        is loaded event ``split.<part>[j]``.
        """
        from seiswork.dataset import WaveformDataset

        rows = self._rows(part)
        return WaveformDataset(self.x[rows], self.y[rows], transform=transform, classes=self.classes)

    def get_datasets(self, transform_train=None, transform_test=None):
        """``(train, test)`` WaveformDatasets with the given transforms (new objects each call, no copies)."""
        return self.dataset("train", transform_train), self.dataset("test", transform_test)

    def summary(self) -> pd.DataFrame:
        """Events per class (rows) and part (columns ``train``, ``val``, ``test``, ``total``)."""
        counts = {p: np.bincount(self.y[self._rows(p)], minlength=len(self.classes)) for p in _PARTS}
        df = pd.DataFrame(counts, index=pd.Index(self.classes, name="class"))
        df["total"] = df.sum(axis=1)
        df.loc["total"] = df.sum(axis=0)
        return df

    # ------------------------------------------------------------------------------------------

    def _describe(self) -> str:
        r = self.report
        ops = "|".join(op.name for op in TransformOP if op in self.transforms) or "none"
        lines = [
            f"WaveformDataAdapter: {r.n_loaded} events loaded, {r.n_kept} kept"
            + (f", {r.n_dropped} dropped ({', '.join(f'{k}: {len(v)}' for k, v in r.dropped.items())})" if r.n_dropped else ""),
            f"  x {tuple(self.x.shape)} float32 (event, time, channel), channels {','.join(self.channels)}, transforms {ops}",
        ]
        if TransformOP.DROP_NAN in self.transforms:
            lines.append(
                f"  DROP_NAN: {r.edge_nan_removed} samples of edge padding removed"
                + (f"; {len(r.interpolated)} events with short interior gaps interpolated" if r.interpolated else "")
            )
        if TransformOP.TRIMMING in self.transforms:
            lines.append(
                f"  TRIMMING (keep {self.trim}): cut {r.samples_cut} of {r.samples_before_trim} samples "
                f"({100 * r.cut_fraction:.1f}%) to length {r.length} samples (set by the shortest kept event, index {r.shortest_event})"
            )
        if TransformOP.ZSCORE in self.transforms:
            lines.append(f"  ZSCORE per event and channel; {len(r.constant_channels)} constant channel(s) set to 0")
        counts = np.bincount(self.y, minlength=len(self.classes))
        lines.append("  classes: " + ", ".join(f"{c} {k}" for c, k in zip(self.classes, counts)))
        how = "stratified, grouped by event id" if self.grouped else "stratified"
        lines.append(
            f"  split (seed {self.seed}, {how}): train {len(self.split.train)} / val {len(self.split.val)} / "
            f"test {len(self.split.test)}"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self._describe()

    # ------------------------------------------------------------------------------------------

    def save(self, path: str | Path, overwrite: bool = True) -> Path:
        """Write x, y, classes, split, kept, channels, event ids, settings and report to one ``.npz`` (no pickle).

        Written atomically.  The arrays are stored uncompressed and aligned, so :meth:`load` memory-maps ``x``.
        """
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"{path}: save to a file ending in .npz")
        info = {
            "format": _FORMAT,
            "transforms": self.transforms.value,
            "test_ratio": self.test_ratio,
            "val_ratio": self.val_ratio,
            "seed": self.seed,
            "trim": self.trim,
            "nan_policy": self.nan_policy,
            "max_gap": self.max_gap,
            "min_length": self.min_length,
            "eps": self.eps,
            "grouped": self.grouped,
            "report": self.report.as_dict(),
        }
        arrays = {
            "x": self.x,
            "y": self.y,
            "classes": self.classes,
            "kept": self.kept,
            "train": self.split.train,
            "val": self.split.val,
            "test": self.split.test,
            "channels": np.array(self.channels),
            "info": np.array(json.dumps(info)),
        }
        if self.groups is not None:
            arrays["groups"] = self.groups
        if self.meta is not None:
            arrays["meta"] = np.array(self.meta.to_json(orient="table", index=False))  # keeps dtypes
        with atomic_path(path, overwrite=overwrite) as tmp:
            _write_npz(tmp, arrays)
        return path

    @classmethod
    def load(cls, path: str | Path, mmap: bool = True) -> "WaveformDataAdapter":
        """Restore an adapter written by :meth:`save`: identical ``x``, ``y``, ``split``, ``classes``.

        With ``mmap=True`` (default) ``x`` is a copy-on-write memory map of the file, so loading takes
        milliseconds and pages are read as they are used.  Writing to ``x`` never changes the file.
        ``mmap=False`` reads everything now.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; write it with WaveformDataAdapter.save(path)")
        try:
            npz = np.load(path, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile) as e:
            raise ValueError(f"{path} is not a preprocessed-events .npz written by WaveformDataAdapter.save: {e}") from None
        with npz:
            need = {"x", "y", "classes", "kept", "train", "val", "test", "channels", "info"}
            missing = need - set(npz.files)
            if missing:
                raise ValueError(
                    f"{path} lacks {sorted(missing)}: not written by WaveformDataAdapter.save "
                    f"(for raw events use seiswork.io.load_events)"
                )
            info = json.loads(str(npz["info"]))
            if info.get("format") != _FORMAT:
                raise ValueError(f"{path}: unknown format {info.get('format')!r}, expected {_FORMAT!r}")
            self = cls.__new__(cls)
            x = None
            if mmap:
                with open(path, "rb") as fh, zipfile.ZipFile(fh) as zf:
                    x = _mmap_member(path, zf, fh, "x.npy")
            self.x = npz["x"] if x is None else x
            self.y = npz["y"]
            self.classes = npz["classes"]
            self.kept = npz["kept"]
            self.split = Split(npz["train"], npz["val"], npz["test"])
            self.channels = tuple(str(c) for c in npz["channels"])
            self.groups = npz["groups"] if "groups" in npz.files else None
            self.meta = (
                pd.read_json(io.StringIO(str(npz["meta"])), orient="table") if "meta" in npz.files else None
            )
        self.transforms = TransformOP(info["transforms"])
        for k in ("test_ratio", "val_ratio", "seed", "trim", "nan_policy", "max_gap", "min_length", "eps", "grouped"):
            setattr(self, k, info[k])
        self.report = PreprocessReport.from_dict(info["report"])
        return self
