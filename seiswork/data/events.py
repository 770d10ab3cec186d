"""The event layer: every input becomes a ``(time, channel)`` array here, every label array a clean 1-D array.

One event is a DataFrame whose columns are channel names, a numpy array ``(time, channel)``, a torch
tensor (any device) or a nested list.  :func:`event_values` is the one conversion; the loaders, the
writer of ``.npz`` files, the adapter and the plots call it, each with a ``where`` that names the file
and event in its errors.  :func:`as_labels` is the one label normalisation and :func:`channel_names`
the one check of channel names.

The plots and the tuner use :func:`to_numpy`, :func:`event_array`, :func:`stack_events`,
:func:`label_names`, :func:`finite_rows` and :func:`check_sampling_rate`.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from seiswork import defaults

__all__ = [
    "DEFAULT_CHANNELS",
    "COMPONENT_ALIASES",
    "channel_names",
    "to_numpy",
    "event_values",
    "event_array",
    "stack_events",
    "frames",
    "as_labels",
    "label_names",
    "finite_rows",
    "check_has_data",
    "check_sampling_rate",
    "head_list",
]

DEFAULT_CHANNELS = defaults.CHANNELS
# seismometers that name their horizontal components 1 and 2 instead of N and E
COMPONENT_ALIASES = {"N": "1", "E": "2"}
_NUMERIC = "fiu"  # dtype kinds a waveform may have (bool, complex, text and objects are refused)


def head_list(items: Iterable, k: int = 10) -> str:
    """The first ``k`` items, comma separated, with the total when there are more: for error messages."""
    items = list(items)
    text = ", ".join(str(i) for i in items[:k])
    return text + (f", ... ({len(items)} in all)" if len(items) > k else "")


def channel_names(channels: Sequence[str] | str) -> tuple[str, ...]:
    """Channel names as a tuple of distinct non-empty strings; ``"ZNE"`` means ``("Z", "N", "E")``."""
    if isinstance(channels, str):
        channels = tuple(channels)
    channels = tuple(channels)
    if not channels or not all(isinstance(c, str) and c for c in channels):
        raise ValueError(f"channels={channels!r}: give channel names such as ('Z', 'N', 'E')")
    if len(set(channels)) != len(channels):
        raise ValueError(f"channels={channels!r} names a channel twice; give each channel once")
    return channels


def check_sampling_rate(sampling_rate: float | None) -> None:
    """Raise unless ``sampling_rate`` is None or a positive, finite number of Hz."""
    if sampling_rate is not None and not (np.isfinite(sampling_rate) and sampling_rate > 0):
        raise ValueError(f"sampling_rate must be a positive number of Hz or None, got {sampling_rate!r}")


def to_numpy(a: Any) -> np.ndarray:
    """numpy view of a numpy array, torch tensor (any device) or DataFrame."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # torch tensor, without importing torch here
        return a.detach().cpu().numpy()
    if isinstance(a, pd.DataFrame):
        return a.to_numpy()
    return np.asarray(a)


# ------------------------------------------------------------------------------------------ one event


def _frame_values(df: pd.DataFrame, channels: tuple[str, ...], where: str) -> np.ndarray:
    names = df.columns.tolist()
    # df.to_numpy() is a view when the frame is one numeric block; selecting the columns one by one
    # through pandas costs far more per event, which adds up over a data set
    if names == list(channels):
        values = df.to_numpy()
        if values.dtype.kind in _NUMERIC:
            return values
    missing = [c for c in channels if c not in names]
    if missing:
        raise ValueError(
            f"{where} has no column(s) {missing} (it has {list(map(str, names))}): it lacks channel columns "
            f"that channels= asks for; pass channels= naming columns the data has"
        )
    for c in channels:
        if names.count(c) > 1:
            raise ValueError(f"{where} has several columns named {c!r}; rename or drop the duplicates")
    values = df.to_numpy()
    if values.dtype.kind in _NUMERIC:
        return values[:, [names.index(c) for c in channels]]
    columns = []  # other columns (text, ...) made it an object array: take the channels one by one
    for c in channels:
        col = df[c]
        # pandas' nullable numbers (Float64, Int64) are numbers; their missing values become NaN
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            v = col.to_numpy()
            if v.dtype.kind not in _NUMERIC:
                v = col.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            raise ValueError(
                f"{where} has non-numeric data in column {c!r} (dtype {col.dtype}) among channels {list(channels)}; "
                f"waveforms must be numbers"
            )
        columns.append(v)
    return np.column_stack(columns)


def event_values(event: Any, channels: Sequence[str], where: str = "event") -> np.ndarray:
    """One event as a numeric array ``(time, channel)``, channels in the order of ``channels``.

    DataFrames are read by column name (other columns are ignored); arrays, tensors and nested lists
    must already be ``(time, channel)`` (a 1-D array is one channel).  The result is a view of the
    caller's data where possible (a DataFrame holding exactly the channel columns, a numeric array), so
    callers must not write to it.  Errors start with ``where``, e.g. ``"VRAC.pkl: event 5"``.
    """
    channels = tuple(channels)
    if isinstance(event, pd.DataFrame):
        return _frame_values(event, channels, where)
    a = to_numpy(event)
    shape = a.shape
    if a.ndim == 1 and len(channels) == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[1] != len(channels):
        raise ValueError(
            f"{where} has shape {shape}; expected (time, {len(channels)}) (layout (time, channel)) "
            f"for channels {list(channels)}"
        )
    if a.dtype.kind not in _NUMERIC:
        raise ValueError(f"{where} has dtype {a.dtype}; waveforms must be numbers (a float or integer array)")
    return a


def event_array(event: Any, channels: Sequence[str], where: str = "event") -> np.ndarray:
    """One event as a float array (time, channel); DataFrames are read by channel name.

    A DataFrame gives a new array (callers may write to it); an array or tensor gives a view when it
    is float64 already.
    """
    a = event_values(event, channels, where)
    if isinstance(event, pd.DataFrame):
        return np.array(a, dtype=float)
    return a.astype(float, copy=False)


def stack_events(x: Any, channels: Sequence[str]) -> np.ndarray:
    """(n, time, channel) float32, events of unequal length padded at the end with NaN."""
    if isinstance(x, (list, tuple)):
        if len(x) == 0:
            raise ValueError("no events to plot: x is empty")
        arrays = [event_array(e, channels, where=f"event {i}") for i, e in enumerate(x)]
        longest = max(a.shape[0] for a in arrays)
        out = np.full((len(arrays), longest, len(channels)), np.nan, dtype=np.float32)
        for i, a in enumerate(arrays):
            out[i, : a.shape[0]] = a
        return out
    a = to_numpy(x)
    if a.ndim != 3:
        raise ValueError(
            f"x must be a (n, time, channel) array or a list of events, got an array of shape {a.shape}"
        )
    if a.shape[0] == 0:
        raise ValueError("no events to plot: x is empty")
    if a.shape[2] != len(channels):
        raise ValueError(f"x has {a.shape[2]} channels (shape {a.shape}) but channels={tuple(channels)}")
    return a


def frames(arrays: Iterable[np.ndarray], channels: Sequence[str]) -> list[pd.DataFrame]:
    """DataFrames (time, channel) from 2-D arrays, without copying them."""
    columns = pd.Index(list(channels))
    return [pd.DataFrame(a, columns=columns, copy=False) for a in arrays]


def finite_rows(a: np.ndarray) -> np.ndarray:
    """The rows of (time, channel) between the first and last all-finite row (NaN padding removed)."""
    ok = np.all(np.isfinite(a), axis=1)
    if not ok.any():
        return a[:0]
    idx = np.flatnonzero(ok)
    return a[idx[0] : idx[-1] + 1]


def check_has_data(
    source: str,
    lengths: Sequence[int] | np.ndarray,
    has_data: Sequence[bool] | np.ndarray,
    fix: str,
    what: str = "event",
    names: Sequence[str] | None = None,
) -> None:
    """Raise when an event has no samples (``lengths``) or nothing but NaN (``has_data`` false).

    The message names the first such event (with its name from ``names``), counts them, lists up to
    ten and ends with ``fix``; the readers call this once per file.
    """
    for bad, problem in ((np.flatnonzero(np.asarray(lengths) <= 0), "has no samples"),
                         (np.flatnonzero(~np.asarray(has_data, dtype=bool)), "is all NaN")):
        if len(bad):
            first = int(bad[0])
            label = f"{what} {first}" + (f" ({names[first]})" if names is not None else "")
            raise ValueError(f"{source}: {label} {problem} ({len(bad)} such: {head_list(bad)}); {fix}")


# ---------------------------------------------------------------------------------------------- labels


def as_labels(labels: Any, n: int, where: str = "") -> np.ndarray:
    """Labels as a 1-D numpy array of str or int64 (or float, bool), one per event.

    Accepts lists, arrays, Series, tensors and ``(n, 1)`` columns.  Strings (and bytes) become ``str``,
    Python/numpy integers and whole floats (``0.0``/``1.0`` read from a CSV) become ``int64``.  Missing
    labels (None, NaN), a mix of strings and numbers, and dates or objects are errors that name the
    events; ``where`` (a file, a column) starts each message.
    """
    at = f"{where}: " if where else ""
    if labels is None:
        raise TypeError(f"{at}labels is None: pass one label per event (or an EventSet from seiswork.load_events)")
    if isinstance(labels, (pd.Series, pd.Index)):
        labels = labels.to_numpy()
    try:
        arr = to_numpy(labels)
    except Exception as err:  # ragged or odd objects
        raise ValueError(f"{at}labels could not be read as an array ({err}); give one label per event") from err
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{at}labels have shape {arr.shape}; expected one label per event, shape ({n},)")
    if len(arr) != n:
        raise ValueError(
            f"{at}{n} events but {len(arr)} labels; give exactly one label per event, in the same order"
        )
    if arr.dtype.kind in "Of":
        missing = np.flatnonzero(pd.isna(arr))
        if len(missing):
            raise ValueError(
                f"{at}labels are missing (None/NaN) for event(s) {head_list(missing)}; label them or remove them"
            )
    if arr.dtype == object:
        if all(isinstance(v, str) for v in arr):
            arr = arr.astype(str)
        elif all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in arr):
            arr = arr.astype(np.int64)
        else:
            kinds = sorted({type(v).__name__ for v in arr})
            raise ValueError(f"{at}labels mix types {kinds}; use all strings or all integers")
    elif arr.dtype.kind == "f":
        if np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)  # 0.0/1.0 class ids read from a CSV
    elif arr.dtype.kind == "S":
        arr = arr.astype(str)
    elif arr.dtype.kind not in "Uiub":
        raise ValueError(f"{at}labels have dtype {arr.dtype}; use strings or integers")
    return arr


def label_names(labels: Any, n: int, classes: Sequence | None) -> tuple[np.ndarray, list]:
    """Labels as displayed names plus the class order.

    Integer labels with string ``classes`` are read as indices into ``classes`` (``adapter.y`` with
    ``adapter.classes``); otherwise ``classes`` selects and orders the classes to show.
    """
    lab = to_numpy(labels).ravel()
    if lab.shape[0] != n:
        raise ValueError(f"labels has {lab.shape[0]} entries but there are {n} events; they must match one to one")
    if classes is None:
        return lab, sorted(pd.unique(lab).tolist(), key=str)
    classes = list(to_numpy(classes).ravel()) if not isinstance(classes, (list, tuple)) else list(classes)
    if np.issubdtype(lab.dtype, np.integer) and classes and all(isinstance(c, str) for c in classes):
        if lab.size and (lab.min() < 0 or lab.max() >= len(classes)):
            raise ValueError(
                f"integer labels must lie in 0..{len(classes) - 1} to index classes={classes}, got {lab.min()}..{lab.max()}"
            )
        return np.asarray(classes, dtype=object)[lab], classes
    unknown = [c for c in classes if not np.any(lab == c)]
    if unknown:
        raise ValueError(f"classes {unknown} do not occur in labels (labels hold {sorted(pd.unique(lab).tolist(), key=str)})")
    return lab, classes
