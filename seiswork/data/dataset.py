"""Datasets of preprocessed events and seeded DataLoaders.

A :class:`WaveformDataset` wraps arrays ``x`` (float32, ``(n, time, channel)``) and ``y`` (int64, ``(n,)``)
without copying them, and yields ``(tensor, int label)`` items as the seed's datasets do.
:func:`make_loader` builds a DataLoader whose shuffling and per-worker augmentation streams
depend only on ``seed``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from seiswork.data.npz import is_read_only_map
from seiswork.transforms import seed_pipeline

__all__ = ["WaveformDataset", "make_loader"]


class WaveformDataset(Dataset):
    """Events ``x`` ``(n, time, channel)`` float32 with labels ``y`` ``(n,)`` int64; items are ``(tensor, int)``.

    Args:
        x: float32 array ``(n, time, channel)``.  Kept as is (a view, no copy) when already float32.
        y: integer labels ``(n,)``.
        transform: callable applied to one event, a numpy array ``(time, channel)``.  It gets its own copy,
            so an in-place transform never alters ``x``.  A result that is not a tensor is converted to
            a float32 tensor.  With ``transform=None`` the item is ``torch.from_numpy(x[i])``, which shares
            memory with ``x``.
        classes: class names, ``classes[y[i]]`` is the name of item ``i``.
        indices: optional row indices into ``x``/``y``: the dataset is that subset, read lazily.
            ``.x``/``.y`` then copy those rows once, on first access.

    The training loop's fast path reads ``.x``/``.y`` directly and applies the transform to whole batches.
    """

    def __init__(self, x, y, transform: Callable | None = None, classes=None, indices=None) -> None:
        # no copy when x is already float32; a read-only memory map stays one (training reads it in batches)
        x = x if is_read_only_map(x) and x.dtype == np.float32 else np.asarray(x, dtype=np.float32)
        y = np.asarray(y)
        if x.ndim != 3:
            raise ValueError(f"x must be (event, time, channel), got shape {x.shape}")
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(f"y must hold one label per event: x has {len(x)} events, y has shape {y.shape}")
        if y.dtype.kind not in "iu":
            raise TypeError(f"y must hold integer class codes, got dtype {y.dtype}; map labels to codes first")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable (an nn.Module or function), got {type(transform).__name__}")
        if indices is not None:
            indices = np.asarray(indices, dtype=np.int64)
            if indices.ndim != 1:
                raise ValueError(f"indices must be one-dimensional, got shape {indices.shape}")
            if len(indices) and (indices.min() < -len(x) or indices.max() >= len(x)):
                raise IndexError(f"indices reach outside x's {len(x)} events (min {indices.min()}, max {indices.max()})")
        self._x = x
        self._y = y.astype(np.int64, copy=False)
        self._indices = indices
        self._cache: dict[str, np.ndarray] = {}
        self.transform = transform
        self.classes = None if classes is None else np.asarray(classes)

    @property
    def x(self) -> np.ndarray:
        """float32 ``(n, time, channel)``: the caller's array, or its selected rows (copied once)."""
        if self._indices is None:
            return self._x
        if "x" not in self._cache:
            self._cache["x"] = np.asarray(self._x[self._indices])
        return self._cache["x"]

    @property
    def y(self) -> np.ndarray:
        """int64 ``(n,)`` class codes."""
        return self._y if self._indices is None else self._y[self._indices]

    def __len__(self) -> int:
        return len(self._x) if self._indices is None else len(self._indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        n = len(self)
        i = int(i)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for a dataset of {n} events")
        row = i % n if self._indices is None else int(self._indices[i])
        if self.transform is None:
            event = self._x[row]
            return torch.from_numpy(event if event.flags.writeable else np.array(event)), int(self._y[row])
        out = self.transform(self._x[row].copy())
        if not isinstance(out, torch.Tensor):
            out = torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))
        elif out.dtype != torch.float32:
            out = out.to(torch.float32)
        return out, int(self._y[row])

    def class_counts(self) -> dict:
        """Events per class, ``{class name (or code): count}``."""
        counts = np.bincount(self.y, minlength=0 if self.classes is None else len(self.classes))
        names = range(len(counts)) if self.classes is None else self.classes.tolist()
        return {name: int(c) for name, c in zip(names, counts)}

    def __repr__(self) -> str:
        shape = tuple(self._x.shape[1:])
        counts = ", ".join(f"{k}: {v}" for k, v in self.class_counts().items())
        return (
            f"WaveformDataset({len(self)} events of {shape} (time, channel) float32, "
            f"classes {{{counts}}}, transform={_describe_transform(self.transform)})"
        )


def _describe_transform(t) -> str:
    if t is None:
        return "None"
    if isinstance(t, torch.nn.Sequential):
        return f"Sequential({', '.join(type(m).__name__ for m in t)})"
    return type(t).__name__


# ----------------------------------------------------------------------------------------------
# loaders with seeded workers
# ----------------------------------------------------------------------------------------------


def seed_worker(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: give this worker's copy of the transform its own stream.

    PyTorch sets each worker's seed to ``base_seed + worker_id``, where ``base_seed`` is drawn from the
    loader's seeded generator each time an epoch starts.  The streams are therefore distinct per worker,
    the same for the same ``seed``, and different from one epoch to the next.  A fixed
    ``seed + worker_id`` would replay the same augmentations every epoch.
    """
    info = torch.utils.data.get_worker_info()
    ds = info.dataset
    while not hasattr(ds, "transform") and hasattr(ds, "dataset"):  # e.g. a Subset around our dataset
        ds = ds.dataset
    seed_pipeline(getattr(ds, "transform", None), int(info.seed % 2**32))


def make_loader(
    dataset: Dataset,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    num_workers: int = 0,
    **kw,
) -> DataLoader:
    """A DataLoader whose order and per-worker transform randomness depend only on ``seed``.

    Shuffling draws from a ``torch.Generator`` seeded with ``seed``.  Each worker reseeds its copy of the
    dataset's transform (see :func:`seed_worker`).  Other keyword arguments go to ``DataLoader``.  A
    ``worker_init_fn`` given there runs after the reseeding.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}: need at least 1")
    if num_workers < 0:
        raise ValueError(f"num_workers={num_workers!r}: need 0 (main process) or more")
    if "generator" in kw:
        raise TypeError("make_loader seeds its own generator; pass seed= instead of generator=")
    user_init = kw.pop("worker_init_fn", None)
    init = seed_worker if user_init is None else _Chain(user_init)
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        generator=generator,
        worker_init_fn=init,
        **kw,
    )


class _Chain:
    """Picklable worker_init_fn: our reseeding, then the user's function."""

    def __init__(self, fn: Callable[[int], None]) -> None:
        self.fn = fn

    def __call__(self, worker_id: int) -> None:
        seed_worker(worker_id)
        self.fn(worker_id)
