"""Events that stay on disk until read: :class:`LazyEvents`, what ``load_events(..., lazy=True)`` gives.

A data set larger than memory (a SeisBench set of tens of GB) is indexed, not read: the metadata and the
file layout are read now, the waveforms when preprocessing asks for them, a chunk of rows at a time
(:func:`seiswork.data.preprocess.fill_chunks`). ``WaveformDataAdapter(lazy_events, ..., out="x.npz")``
then streams the preprocessed array into a memory-mapped file, so memory holds a chunk, never the set.

Readers are :class:`~seiswork.data.seisbench.SeisBenchTraces` and :class:`~seiswork.data.npz.NpzEvents`:
anything with ``len()`` and ``read(rows) -> list of (time, channel) float32 arrays``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from seiswork.data.preprocess import READ_BYTES

__all__ = ["LazyEvents"]


class LazyEvents(Sequence):
    """A sequence of events ``(time, channel)`` read from files on demand.

    ``events[i]`` reads one event; iterating reads about ``READ_BYTES`` at a time; :meth:`read` reads many
    rows with one call per file. Nothing is cached, so memory stays bounded whatever the data size.
    """

    def __init__(self, segments: list[tuple[Any, np.ndarray]]) -> None:
        #: (reader, rows of that reader), in order; event i is the i-th row over the segments
        self.segments = [(reader, np.asarray(rows, dtype=np.int64)) for reader, rows in segments]
        self._starts = np.cumsum([0] + [len(rows) for _, rows in self.segments])

    @classmethod
    def of(cls, reader: Any) -> "LazyEvents":
        """Every event of one reader."""
        return cls([(reader, np.arange(len(reader)))])

    @classmethod
    def concat(cls, parts: Sequence["LazyEvents"]) -> "LazyEvents":
        return cls([segment for part in parts for segment in part.segments])

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __getitem__(self, i: Any) -> np.ndarray:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"LazyEvents index must be an integer, got {type(i).__name__}; use take(rows)")
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"event {i} is out of range for {n} events")
        return self.read(np.array([i % n]))[0]

    def __iter__(self) -> Iterator[np.ndarray]:
        n = len(self)
        if n == 0:
            return
        first = self.read(np.array([0]))[0]  # its size sets how many events one read takes
        yield first
        step = max(1, READ_BYTES // max(1, first.nbytes))
        for start in range(1, n, step):
            yield from self.read(np.arange(start, min(n, start + step)))

    def read(self, rows: Any) -> list[np.ndarray]:
        """Events ``rows`` (indices into this sequence) as float32 arrays ``(time, channel)``, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        out: list = [None] * len(rows)
        segment = np.searchsorted(self._starts, rows, side="right") - 1
        for s in np.unique(segment):
            members = np.flatnonzero(segment == s)
            reader, local = self.segments[s]
            wanted = local[rows[members] - self._starts[s]]
            order = np.argsort(wanted, kind="stable")  # readers read fastest in file order
            arrays = reader.read(wanted[order])
            for k, a in zip(members[order], arrays):
                out[k] = a
        return out

    def take(self, rows: Any) -> "LazyEvents":
        """The events ``rows``, in that order, still on disk."""
        rows = np.asarray(rows, dtype=np.int64)
        segment = np.searchsorted(self._starts, rows, side="right") - 1
        out: list[tuple[Any, np.ndarray]] = []
        for s, group in _runs(segment):
            reader, local = self.segments[s]
            out.append((reader, local[rows[group] - self._starts[s]]))
        return LazyEvents(out)

    def __repr__(self) -> str:
        return f"LazyEvents({len(self)} events on disk in {len({id(r) for r, _ in self.segments})} file(s))"


def _runs(values: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``(value, positions)`` for each run of equal consecutive values."""
    if len(values) == 0:
        return []
    cuts = np.flatnonzero(np.diff(values)) + 1
    return [(int(values[g[0]]), g) for g in np.split(np.arange(len(values)), cuts)]
