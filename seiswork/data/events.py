"""Events as arrays: one event as ``(time, channel)``, a stack of events, label names.

Placeholder with the event-layer contract (issue 13): the six helpers, moved verbatim from
``seiswork.plots`` under public names. DATA's ``seiswork/data/events.py`` replaces this file at the merge.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = ["to_numpy", "event_array", "stack_events", "label_names", "finite_rows", "check_sampling_rate"]


def check_sampling_rate(sampling_rate: float | None) -> None:
    if sampling_rate is not None and not (np.isfinite(sampling_rate) and sampling_rate > 0):
        raise ValueError(f"sampling_rate must be a positive number of Hz or None, got {sampling_rate!r}")


def to_numpy(a: Any) -> np.ndarray:
    """numpy view of a numpy array, torch tensor (any device) or DataFrame."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # torch tensor, without importing torch here
        return a.detach().cpu().numpy()
    if isinstance(a, pd.DataFrame):
        return a.to_numpy()
    return np.asarray(a)


def event_array(event: Any, channels: Sequence[str], where: str = "event") -> np.ndarray:
    """One event as a float array (time, channel); DataFrames are read by channel name."""
    if isinstance(event, pd.DataFrame):
        missing = [c for c in channels if c not in event.columns]
        if missing:
            raise ValueError(
                f"{where} lacks channel column(s) {missing}; it has {list(event.columns)}. "
                f"Pass channels= matching the data."
            )
        return event[list(channels)].to_numpy(dtype=float)
    a = to_numpy(event)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{where} must be 2-D (time, channel), got shape {a.shape}")
    if a.shape[1] != len(channels):
        raise ValueError(
            f"{where} has {a.shape[1]} channels (shape {a.shape}, layout (time, channel)) but channels={tuple(channels)}"
        )
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
            raise ValueError(f"integer labels must lie in 0..{len(classes) - 1} to index classes={classes}, got {lab.min()}..{lab.max()}")
        return np.asarray(classes, dtype=object)[lab], classes
    unknown = [c for c in classes if not np.any(lab == c)]
    if unknown:
        raise ValueError(f"classes {unknown} do not occur in labels (labels hold {sorted(pd.unique(lab).tolist(), key=str)})")
    return lab, classes


def finite_rows(a: np.ndarray) -> np.ndarray:
    """The rows of (time, channel) between the first and last all-finite row (NaN padding removed)."""
    ok = np.all(np.isfinite(a), axis=1)
    if not ok.any():
        return a[:0]
    idx = np.flatnonzero(ok)
    return a[idx[0] : idx[-1] + 1]
