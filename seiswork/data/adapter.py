"""Preprocess once, split, hand out datasets: :class:`WaveformDataAdapter`.

The adapter turns a list of events (DataFrames with channel columns, or arrays ``(time, channel)``)
into one float32 array ``x`` of shape ``(n_kept, time, channel)``, integer labels ``y`` and a seeded,
stratified, event-grouped train/val/test split (:mod:`seiswork.data.split`).  The steps are chosen
with :class:`~seiswork.data.preprocess.TransformOP` flags, as in the seed::

    adapter = WaveformDataAdapter(events, labels, transforms=TransformOP.DROP_NAN | TransformOP.TRIMMING | TransformOP.ZSCORE)
    train, test = adapter.get_datasets(transform_train=..., transform_test=...)

The steps and their policies are described in :mod:`seiswork.data.preprocess`.

Rows of ``x`` are grouped by split part: first the train events, then val, then test, each in
loaded order.  ``kept[r]`` is the loaded index of row ``r``.  This way every part is a contiguous
slice of ``x``, and the datasets are views that copy nothing.  ``split.train`` etc. index the
*loaded* events (dropped events appear in no part).

:meth:`WaveformDataAdapter.save` writes the result to one ``.npz`` (:mod:`seiswork.data.npz`) that
:meth:`WaveformDataAdapter.load` memory-maps.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import pandas as pd

from seiswork import defaults
from seiswork.data.events import DEFAULT_CHANNELS, as_labels, channel_names, head_list
from seiswork.data.npz import StreamedArray, read_npz, write_npz
from seiswork.data.preprocess import (
    PreprocessReport, TransformOP, check_settings, common_length, fill, fill_chunks, interior_gaps, scan,
)
from seiswork.data.split import Split, as_groups, group_codes, make_split, split_from_parts

if TYPE_CHECKING:
    from seiswork.data.dataset import WaveformDataset

__all__ = ["WaveformDataAdapter"]

FORMAT = "seiswork.preprocessed/1"
PARTS = ("train", "val", "test")


class WaveformDataAdapter:
    """Preprocess events once, split them, and hand out :class:`~seiswork.data.dataset.WaveformDataset` parts.

    Args:
        events: list of DataFrames with the ``channels`` as columns (extra columns are ignored), or of
            arrays ``(time, channel)`` in ``channels`` order.  An ``EventSet`` from
            :func:`seiswork.load_events` may be passed as is: its labels and ``.meta`` are used.
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
        split_column: a ``meta`` column naming each event's part (``train``, ``dev`` or ``val``, ``test``, as
            SeisBench's ``split``): used instead of drawing a split (``test_ratio``/``val_ratio``/``seed`` unused).
        out: stream the preprocessed array into this ``.npz`` (as :meth:`save` writes it) and memory-map ``x``
            read-only from it, instead of building it in memory: with ``load_events(..., lazy=True)`` memory then
            holds one chunk of events, whatever the data size.  Same result as without ``out``.
        length: with TRIMMING, the common length in samples.  Default: the shortest kept event.
        min_length: events shorter than this (samples, after DROP_NAN) are an error: broken windows.
        trim: which part of a longer event TRIMMING keeps: ``"start"`` (default, see the module
            docstring of :mod:`seiswork.data.preprocess`), ``"center"`` or ``"end"``.
        nan_policy: NaN gaps inside an event: ``"drop"`` the event (default), ``"interpolate"`` gaps of
            at most ``max_gap`` samples, or ``"raise"``.
        max_gap: longest interior gap (samples) that ``nan_policy="interpolate"`` fills.
        eps: relative threshold below which a channel counts as constant for ZSCORE.
        verbose: print a short report.

    Attributes:
        x: float32 ``(n_kept, time, channel)``, rows grouped train, val, test (a read-only memory map with ``out``).
        y: int64 ``(n_kept,)``, codes into ``classes``.
        classes: class names, sorted unique labels.
        kept: int64 ``(n_kept,)``, loaded index of each row of ``x``.
        lengths: int64 ``(n_loaded,)``, samples of each loaded event (after DROP_NAN's edge padding removal).
        split: :class:`Split` of loaded indices.
        report: :class:`PreprocessReport`.
    """

    def __init__(
        self,
        events: Sequence[pd.DataFrame | np.ndarray],
        labels: Any = None,
        channels: Sequence[str] = DEFAULT_CHANNELS,
        transforms: TransformOP | None = TransformOP.DROP_NAN | TransformOP.TRIMMING | TransformOP.ZSCORE,
        test_ratio: float = defaults.TEST_RATIO,
        val_ratio: float = defaults.VAL_RATIO,
        seed: int = 0,
        groups: Any = None,
        meta: pd.DataFrame | None = None,
        length: int | None = None,
        min_length: int = 100,
        *,
        split_column: str | None = None,
        out: str | Path | None = None,
        trim: str = "start",
        nan_policy: str = "drop",
        max_gap: int = 25,
        eps: float = 1e-6,
        verbose: bool = True,
    ) -> None:
        # ---- parameters ----
        transforms = check_settings(transforms, test_ratio=test_ratio, val_ratio=val_ratio, trim=trim,
                                    nan_policy=nan_policy, min_length=min_length, length=length, max_gap=max_gap)
        channels = channel_names(channels)
        if out is not None and Path(out).suffix != ".npz":
            raise ValueError(f"out={str(out)!r}: the preprocessed file must end in .npz")

        # ---- inputs: EventSet, labels, meta, event ids ----
        if isinstance(events, tuple) and len(events) == 2 and hasattr(events, "meta"):  # an EventSet
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
        labels = as_labels(labels, n)
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
        groups = as_groups(groups, n)

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
        first, stop, raw_len, gaps = scan(events, channels, drop_nan)
        valid_len = stop - first
        self.lengths = valid_len
        short = np.flatnonzero(valid_len < self.min_length)
        if len(short):
            desc = [f"{i} ({valid_len[i]} samples)" for i in short]
            raise ValueError(
                f"{len(short)} event(s) are shorter than min_length={self.min_length} samples"
                f"{' after removing NaN padding' if drop_nan else ''}: {head_list(desc)}; remove them and their "
                f"labels, or lower min_length"
            )
        keep, to_fill = interior_gaps(
            events, gaps, first, stop, report, channels=channels, nan_policy=nan_policy, max_gap=self.max_gap
        )
        idx_kept, L = common_length(valid_len, keep, length, report, trimming=TransformOP.TRIMMING in transforms)
        report.edge_nan_removed = int((raw_len - valid_len)[idx_kept].sum())
        report.interpolated = [(int(i), to_fill[i]) for i in idx_kept if i in to_fill]
        kept_counts = np.bincount(codes_all[idx_kept], minlength=len(classes))
        if np.count_nonzero(kept_counts) < 2:
            raise ValueError(
                f"only class {classes[kept_counts.argmax()].item()!r} has events left after dropping "
                f"{n - len(idx_kept)} event(s) ({report.dropped}); a classifier needs at least two classes"
            )

        # ---- split: needs only labels and event ids, so it comes before the big copy ----
        self.grouped = groups is not None
        if split_column is None:
            self.split = make_split(
                codes_all[idx_kept], group_codes(groups, n)[idx_kept], idx_kept,
                self.test_ratio, self.val_ratio, self.seed, classes,
            )
        elif meta is None or split_column not in meta.columns:
            raise ValueError(f"split_column={split_column!r} is not a metadata column "
                             f"(columns: {[] if meta is None else list(meta.columns)})")
        else:
            self.split = split_from_parts(meta[split_column].to_numpy(), idx_kept, split_column)
        self.split_column = split_column
        self.kept = np.concatenate(list(self.split))
        self.y = codes_all[self.kept]

        # ---- pass 2: write every kept event straight into the one output array (or file) ----
        steps = dict(channels=channels, transforms=transforms, trim=trim, eps=self.eps)
        report.n_kept = len(self.kept)
        self.report = report
        if out is None:
            self.x = fill(events, self.kept, first, stop, to_fill, L, report, **steps)
        else:
            chunks = fill_chunks(events, self.kept, first, stop, to_fill, L, report, **steps)
            self.x = StreamedArray((len(self.kept), L, len(channels)), np.float32, chunks)
            self.save(out)
            self.x = read_npz(out, "a preprocessed-events .npz", "", mmap=("x",), mode="r")["x"]
        if report.constant_channels:
            cc = [f"{i}:{c}" for i, c in report.constant_channels]
            warnings.warn(
                f"{len(cc)} constant channel(s) (event:channel) set to 0 by ZSCORE: {head_list(cc)}",
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

    @property
    def n_loaded(self) -> int:
        return self.report.n_loaded

    def _rows(self, part: str) -> slice:
        if part not in PARTS:
            raise ValueError(f"part={part!r}: choose one of {PARTS}")
        n_tr, n_va = len(self.split.train), len(self.split.val)
        return {"train": slice(0, n_tr), "val": slice(n_tr, n_tr + n_va), "test": slice(n_tr + n_va, len(self.kept))}[part]

    def dataset(self, part: str, transform: Callable | None = None) -> "WaveformDataset":
        """The ``"train"`` (without val), ``"val"`` or ``"test"`` part as a WaveformDataset.

        Its ``x``/``y`` are views of this adapter's arrays (no copy), in loaded order, so item ``j``
        is loaded event ``split.<part>[j]``.
        """
        from seiswork.data.dataset import WaveformDataset  # torch is imported only when a dataset is asked for

        rows = self._rows(part)
        return WaveformDataset(self.x[rows], self.y[rows], transform=transform, classes=self.classes)

    def get_datasets(
        self, transform_train: Callable | None = None, transform_test: Callable | None = None
    ) -> tuple["WaveformDataset", "WaveformDataset"]:
        """``(train, test)`` WaveformDatasets with the given transforms (new objects each call, no copies)."""
        return self.dataset("train", transform_train), self.dataset("test", transform_test)

    def summary(self) -> pd.DataFrame:
        """Events per class (rows) and part (columns ``train``, ``val``, ``test``, ``total``)."""
        counts = {p: np.bincount(self.y[self._rows(p)], minlength=len(self.classes)) for p in PARTS}
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
        how = f"seed {self.seed}, {how}" if self.split_column is None else f"from the {self.split_column!r} column"
        lines.append(
            f"  split ({how}): train {len(self.split.train)} / val {len(self.split.val)} / "
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
        info = lambda: {  # noqa: E731  (called after x is written: a streamed x completes the report)
            "format": FORMAT,
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
            **({"split_column": self.split_column} if self.split_column is not None else {}),
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
            "lengths": self.lengths,
            "info": lambda: np.array(json.dumps(info())),
        }
        if self.groups is not None:
            arrays["groups"] = self.groups
        if self.meta is not None:
            arrays["meta"] = np.array(self.meta.to_json(orient="table", index=False))  # keeps dtypes
        return write_npz(path, arrays, overwrite=overwrite)

    @classmethod
    def load(cls, path: str | Path, mmap: bool | str = True) -> "WaveformDataAdapter":
        """Restore an adapter written by :meth:`save`: identical ``x``, ``y``, ``split``, ``classes``.

        With ``mmap=True`` (default) ``x`` is a copy-on-write memory map of the file, so loading reads
        almost nothing and pages are read as they are used.  Writing to ``x`` never changes the file.
        ``mmap="r"`` maps it read-only (what a set larger than memory wants: training then reads it without
        keeping it resident).  ``mmap=False`` reads everything now.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; write it with WaveformDataAdapter.save(path)")
        need = {"x", "y", "classes", "kept", "train", "val", "test", "channels", "info"}

        def check(keys: set[str]) -> None:
            if not need <= keys:
                raise ValueError(
                    f"{path} lacks {sorted(need - keys)}: not written by WaveformDataAdapter.save "
                    f"(for raw events use seiswork.load_events)"
                )

        z = read_npz(
            path, "a preprocessed-events .npz written by WaveformDataAdapter.save",
            "write it with WaveformDataAdapter.save(path)", mmap=("x",) if mmap else (), check=check,
            mode="r" if mmap == "r" else "c",
        )
        info = json.loads(str(z["info"]))
        if info.get("format") != FORMAT:
            raise ValueError(f"{path}: unknown format {info.get('format')!r}, expected {FORMAT!r}")
        self = cls.__new__(cls)
        self.x, self.y, self.classes, self.kept = z["x"], z["y"], z["classes"], z["kept"]
        self.lengths = z.get("lengths")  # files written before it was saved have none
        self.split = Split(z["train"], z["val"], z["test"])
        self.channels = tuple(str(c) for c in z["channels"])
        self.groups = z.get("groups")
        self.meta = pd.read_json(io.StringIO(str(z["meta"])), orient="table") if "meta" in z else None
        self.transforms = TransformOP(info["transforms"])
        for k in ("test_ratio", "val_ratio", "seed", "trim", "nan_policy", "max_gap", "min_length", "eps", "grouped"):
            setattr(self, k, info[k])
        self.split_column = info.get("split_column")
        self.report = PreprocessReport.from_dict(info["report"])
        return self
