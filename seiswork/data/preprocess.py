"""The preprocessing steps: DROP_NAN, TRIMMING and ZSCORE, and the report of what they did.

:class:`~seiswork.data.adapter.WaveformDataAdapter` runs them in two passes over the events:
:func:`scan` finds each event's valid range, :func:`interior_gaps` and :func:`common_length` decide
which events are kept and their length, :func:`fill` writes the kept events, trimmed and z-scored,
into one float32 array ``(n_kept, time, channel)``.

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
"""

from __future__ import annotations

import enum
import numbers
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from seiswork.data.events import event_values, head_list

__all__ = [
    "TransformOP", "PreprocessReport", "NAN_POLICIES", "TRIMS", "check_settings", "channels_first", "scan",
    "interior_gaps", "common_length", "fill", "fill_chunks", "zscore",
]

NAN_POLICIES = ("drop", "interpolate", "raise")
TRIMS = ("start", "center", "end")
# Z-scoring works on chunks of events in a (chunk, channel, time) float64 buffer: reductions along
# contiguous time are fast and exact enough, and ~1 MB stays in cache.
CHUNK_BYTES = 1 << 20
# Events read from disk come in reads of about this many bytes: few calls into HDF5, bounded memory.
READ_BYTES = 64 << 20


class TransformOP(enum.Flag):
    """Preprocessing steps, combinable with ``|``: ``DROP_NAN | TRIMMING | ZSCORE`` (the default)."""

    DROP_NAN = enum.auto()
    TRIMMING = enum.auto()
    ZSCORE = enum.auto()



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


def check_settings(transforms: TransformOP | None, *, test_ratio: float, val_ratio: float, trim: str,
                   nan_policy: str, min_length: int, length: int | None, max_gap: int) -> TransformOP:
    """The preprocessing and split settings checked once, with an error naming the bad one; returns the flags
    (``None`` -> no step)."""
    if transforms is None:
        transforms = TransformOP(0)
    if not isinstance(transforms, TransformOP):
        raise TypeError(f"transforms must be TransformOP flags (e.g. TransformOP.DROP_NAN | ...), got {transforms!r}")
    for name, v, lo_open in (("test_ratio", test_ratio, True), ("val_ratio", val_ratio, False)):
        if not isinstance(v, numbers.Real) or not ((0 < v < 1) if lo_open else (0 <= v < 1)):
            rng_txt = "0 < test_ratio < 1" if lo_open else "0 <= val_ratio < 1"
            raise ValueError(f"{name}={v!r} is out of range: need {rng_txt}")
    if trim not in TRIMS:
        raise ValueError(f"trim={trim!r}: choose one of {TRIMS}")
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy={nan_policy!r}: choose one of {NAN_POLICIES}")
    if int(min_length) < 2:
        raise ValueError(f"min_length={min_length!r}: need at least 2 samples (a z-score needs a spread)")
    if length is not None:
        if TransformOP.TRIMMING not in transforms:
            raise ValueError(f"length={length} needs TransformOP.TRIMMING in transforms")
        if int(length) < min_length:
            raise ValueError(f"length={length} is below min_length={min_length}; pass a longer length")
    if max_gap < 1:
        raise ValueError(f"max_gap={max_gap!r}: need at least 1 sample")
    return transforms


# ----------------------------------------------------------------------------------------------
# the two passes over the events
# ----------------------------------------------------------------------------------------------


def channels_first(event: pd.DataFrame | np.ndarray, index: int, channels: tuple[str, ...]) -> np.ndarray:
    """The event's channels as an array ``(channel, time)``: a view of the caller's data where possible.

    Never written to.  The adapter reads every event twice, so it takes DataFrames and numpy arrays,
    which it can view, and no other kinds of event.
    """
    if not isinstance(event, (pd.DataFrame, np.ndarray)):
        raise TypeError(
            f"event {index} is a {type(event).__name__}; expected a pandas DataFrame with columns "
            f"{list(channels)} or a numpy array (time, channel)"
        )
    return event_values(event, channels, f"event {index}").T


def scan(
    events: Sequence, channels: tuple[str, ...], drop_nan: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Each event's valid range ``[first, stop)`` and raw length, and the events with NaN inside that range.

    With ``drop_nan`` the range excludes the leading and trailing rows in which any channel is NaN or
    infinite; without it the range is the whole event.  An event with no fully finite row is an error.
    """
    n = len(events)
    first, stop, raw_len = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    gaps: list[int] = []
    all_nan: list[str] = []
    for i, ev in enumerate(events):
        a = channels_first(ev, i, channels)
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
            f"{head_list(all_nan)}; remove these events (or pick channels= that hold data) before building the adapter"
        )
    return first, stop, raw_len, gaps


def interior_gaps(
    events: Sequence, gaps: list[int], first: np.ndarray, stop: np.ndarray, report: PreprocessReport, *,
    channels: tuple[str, ...], nan_policy: str, max_gap: int,
) -> tuple[np.ndarray, dict[int, int]]:
    """Apply ``nan_policy`` to events with NaN inside their valid range: ``(keep mask, {event: samples to fill})``."""
    keep = np.ones(len(first), dtype=bool)
    to_fill: dict[int, int] = {}
    if not gaps:
        return keep, to_fill
    if nan_policy == "raise":
        raise ValueError(
            f"{len(gaps)} event(s) have NaN gaps inside the signal: {head_list(gaps)}; pass "
            f"nan_policy='drop' to drop them or nan_policy='interpolate' to fill short gaps"
        )
    dropped = []
    for i in gaps:
        a = channels_first(events[i], i, channels)
        bad = ~np.isfinite(a[:, first[i] : stop[i]].sum(axis=0))
        edges = np.diff(np.concatenate(([0], bad.view(np.int8), [0])))
        longest = int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())
        if nan_policy == "interpolate" and longest <= max_gap:
            to_fill[i] = int(bad.sum())
        else:
            dropped.append(i)
    if dropped:
        keep[dropped] = False
        report.dropped["interior_nan"] = [int(i) for i in dropped]
        hint = (
            f"gaps longer than max_gap={max_gap}" if nan_policy == "interpolate"
            else "pass nan_policy='interpolate' to fill short gaps instead"
        )
        warnings.warn(
            f"dropped {len(dropped)} event(s) with NaN gaps inside the signal: {head_list(dropped)} ({hint})",
            UserWarning,
            stacklevel=3,
        )
    return keep, to_fill


def common_length(
    valid_len: np.ndarray, keep: np.ndarray, length: int | None, report: PreprocessReport, *, trimming: bool
) -> tuple[np.ndarray, int]:
    """``(kept event indices, common length)``; drops events shorter than a fixed ``length``."""
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        raise ValueError(f"every event was dropped ({report.dropped}); check nan_policy")
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
                f"dropped {len(short)} event(s) shorter than length={L}: {head_list(short)}", UserWarning, stacklevel=3
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


def fill(
    events: Sequence, kept: np.ndarray, first: np.ndarray, stop: np.ndarray, to_fill: dict[int, int], L: int,
    report: PreprocessReport, *, channels: tuple[str, ...], transforms: TransformOP, trim: str, eps: float,
) -> np.ndarray:
    """Pass 2: the ``kept`` events, in that order, cut to ``L`` samples and z-scored, as float32 ``(n, L, channel)``.

    Each event's ``[first, stop)`` range is read; events in ``to_fill`` get their interior gaps filled
    linearly first.  Records the constant channels (and NaN left without DROP_NAN) in ``report``.
    """
    x = np.empty((len(kept), L, len(channels)), dtype=np.float32)
    r0 = 0
    for block in fill_chunks(events, kept, first, stop, to_fill, L, report, channels=channels,
                             transforms=transforms, trim=trim, eps=eps):
        x[r0 : r0 + len(block)] = block
        r0 += len(block)
    return x


def fill_chunks(
    events: Sequence, kept: np.ndarray, first: np.ndarray, stop: np.ndarray, to_fill: dict[int, int], L: int,
    report: PreprocessReport, *, channels: tuple[str, ...], transforms: TransformOP, trim: str, eps: float,
) -> Iterator[np.ndarray]:
    """:func:`fill` one chunk at a time: float32 blocks ``(k, L, channel)`` of the ``kept`` events in order.

    Events that read from disk (``events.read(rows)``, :class:`~seiswork.data.lazy.LazyEvents`) are read one
    chunk of rows at a time, so memory holds a chunk, never the data set. ``report`` is complete once the
    last block has been yielded.
    """
    C = len(channels)
    do_zscore = TransformOP.ZSCORE in transforms
    chunk = max(1, CHUNK_BYTES // (8 * L * C))
    buf = np.empty((chunk, C, L), dtype=np.float64)
    const_rows: list[tuple[int, str]] = []
    nan_left = 0
    nan_aware = TransformOP.DROP_NAN not in transforms  # with DROP_NAN no NaN is left
    read = getattr(events, "read", None)
    per_read = max(chunk, READ_BYTES // (4 * L * C)) if read is not None else chunk
    for g0 in range(0, len(kept), per_read):
        group = kept[g0 : g0 + per_read]
        arrays = read(group) if read is not None else None
        for r0 in range(0, len(group), chunk):
            rows = group[r0 : r0 + chunk]
            b = buf[: len(rows)]
            for k, i in enumerate(rows):
                event = arrays[r0 + k] if arrays is not None else events[i]
                a = channels_first(event, i, channels)
                f, s = int(first[i]), int(stop[i])
                if i in to_fill:  # linear fill of short interior gaps, per channel, on a copy
                    a = a[:, f:s].astype(np.float64)
                    f, s = 0, a.shape[1]
                    t = np.arange(s)
                    for j in range(C):
                        bad = ~np.isfinite(a[j])
                        if bad.any():
                            a[j, bad] = np.interp(t[bad], t[~bad], a[j, ~bad])
                excess = s - f - L
                off = 0 if trim == "start" else excess if trim == "end" else excess // 2
                b[k] = a[:, f + off : f + off + L]
            if do_zscore:
                const = zscore(b, nan_aware, eps)
                for k, j in zip(*np.nonzero(const)):
                    const_rows.append((int(rows[k]), channels[j]))
            block = b.transpose(0, 2, 1).astype(np.float32)
            if nan_aware:
                nan_left += int(np.count_nonzero(np.isnan(block)))
            yield block
    report.constant_channels = const_rows
    report.nan_values_left = nan_left


def zscore(b: np.ndarray, nan_aware: bool, eps: float) -> np.ndarray:
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
    const = ~(std > eps * np.abs(mean))  # also catches std == 0 and NaN statistics
    std[const] = np.inf  # x / inf == 0: a constant channel becomes zeros, never NaN
    b /= std[:, :, None]
    return const

