"""What reading gives: an :class:`EventSet` (events, labels, metadata) and, per file, a :class:`Part`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from seiswork.data.events import DEFAULT_CHANNELS

__all__ = ["EventSet", "Part", "rename_clashes", "META_FIRST", "CONVERT_HINT"]

# meta columns every EventSet has first, in this order (event_id / station only when known)
META_FIRST = ("source", "index", "label", "event_id", "station", "sampling_rate")
CONVERT_HINT = "if you trust this file, convert it once with `python -m seiswork convert IN OUT.npz` (or pass trusted=True)"


class EventSet(tuple):
    """``(events, labels)`` plus metadata; unpacks as ``events, labels = event_set``.

    Attributes:
        events: list of ``n`` DataFrames ``(time, channel)``, columns = :attr:`channels`; or, loaded with
            ``lazy=True``, a :class:`~seiswork.data.lazy.LazyEvents` sequence of arrays read on demand.
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
        lazy = hasattr(events, "read")  # LazyEvents: stays on disk
        self = super().__new__(cls, (events if lazy else list(events), np.asarray(labels)))
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


@dataclass
class Part:
    """What a reader makes of one file, before :func:`~seiswork.data.load.load_events` joins the files."""

    events: list  # DataFrames, columns = channels
    labels: np.ndarray
    meta: pd.DataFrame  # label, event_id, station, sampling_rate, extras (no source/index yet)
    kind: str


def rename_clashes(df: pd.DataFrame, prefix: str, reserved: Iterable[str] = ("source", "index", "label")) -> pd.DataFrame:
    """``df`` with columns named like a reserved meta column renamed to ``prefix + name``."""
    clash = {c: f"{prefix}{c}" for c in df.columns if c in set(reserved)}
    return df.rename(columns=clash) if clash else df
