"""Batches on the training device: the batched fast path or a seeded DataLoader; per-epoch stream seeds.

Two ways to feed data:

- **Batched fast path** (the default for ``WaveformDataset`` with ``transform=None``, or anything with
  ``.x``/``.y`` arrays and no ``.transform``): the arrays are wrapped once as a torch tensor (shared
  with numpy on CPU, moved to the GPU once on CUDA), each epoch indexes it with a seeded permutation,
  and ``train_transform``/``eval_transform`` run on whole batches on the training device. No
  per-item ``__getitem__``, no DataLoader.
- **Per-item path** (any other ``Dataset``, e.g. the seed's ``get_datasets(transform_train=...,
  transform_test=...)``): a seeded ``DataLoader``; its items are already model inputs, and
  ``train_transform``/``eval_transform`` (if given) are applied to the collated batches.

Across processes (``rank`` of ``world``, :mod:`seiswork.training.distributed`) each process takes its share:
a shuffled (training) epoch gives process ``rank`` every ``world``-th item of the epoch's global permutation
(the same on every process, padded as ``DistributedSampler`` pads so all take the same number of steps); an
unshuffled (evaluation) pass gives it one contiguous slice (:func:`~seiswork.training.distributed.slice_bounds`),
so the slices gathered in rank order are the data in order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from seiswork.data.dataset import seed_worker
from seiswork.data.npz import is_read_only_map, release_pages
from seiswork.training.distributed import share, slice_bounds
from seiswork.transforms import seed_pipeline

RELEASE_BYTES = 256 << 20  # read from a memory map between two page releases

__all__ = ["SHUFFLE", "AUGMENT", "DROPOUT", "Batches", "stream_seed", "permutation", "apply_transform",
           "set_mode", "transform_to_device", "dataset_labels", "dataset_classes"]

# stream ids for the per-epoch seeds (shuffle, augmentation, dropout) derived from (seed, epoch)
SHUFFLE, AUGMENT, DROPOUT = 1, 2, 3


def stream_seed(seed: int, epoch: int, stream: int, rank: int = 0) -> int:
    """A 32-bit seed for one (run seed, epoch, stream[, process rank]); independent streams, no seed+epoch
    collisions. Rank 0 (and a single process) gets the seed of ``(seed, epoch, stream)``, so a one-process run
    draws exactly what it drew before ranks existed."""
    entropy = [seed, epoch, stream] + ([rank] if rank else [])
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def permutation(n: int, seed: int) -> torch.Tensor:
    """The shuffled order of ``n`` items for one epoch's shuffle seed."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def set_mode(transform: Any, training: bool) -> bool | None:
    """Put an nn.Module transform in train/eval mode; return its previous mode (None if not a module)."""
    if isinstance(transform, nn.Module):
        previous = transform.training
        transform.train(training)
        return previous
    return None


def transform_to_device(transform: Any, device: torch.device) -> None:
    """Move a transform's parameters/buffers to ``device``; seiswork's augmentations hold none (their CPU
    generators draw parameters that they move to the data's device themselves), so they are left alone."""
    if isinstance(transform, nn.Module) and any(True for _ in itertools.chain(transform.parameters(),
                                                                             transform.buffers())):
        transform.to(device)


def apply_transform(transform: Any, xb: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``transform(xb)`` as a float32 tensor on ``device`` (``xb`` itself without a transform)."""
    if transform is None:
        return xb
    out = transform(xb)
    if not isinstance(out, torch.Tensor):
        out = torch.as_tensor(np.asarray(out))
    return out.to(device=device, dtype=torch.float32)


def dataset_labels(dataset: Any) -> np.ndarray:
    """Integer labels of a dataset without running its transform where possible."""
    for attr in ("y", "targets", "labels"):
        y = getattr(dataset, attr, None)
        if y is not None and not callable(y):
            return np.asarray(y).astype(np.int64, copy=False).reshape(-1)
    if isinstance(dataset, torch.utils.data.Subset):
        return dataset_labels(dataset.dataset)[np.asarray(dataset.indices)]
    return np.array([int(dataset[i][1]) for i in range(len(dataset))], dtype=np.int64)


def dataset_classes(dataset: Any) -> list[str] | None:
    """A dataset's class names (``.classes``, also through a ``Subset``), or None."""
    classes = getattr(dataset, "classes", None)
    if classes is None and isinstance(dataset, torch.utils.data.Subset):
        return dataset_classes(dataset.dataset)
    return None if classes is None else [str(c) for c in classes]


class Batches:
    """Batches ``(x, y)`` on ``device`` from a dataset: the batched fast path or a seeded DataLoader.

    ``rank``/``world``: this process's share of the data when ``world`` processes train together (see the
    module docstring); ``world=1`` is the whole data set.
    """

    def __init__(self, dataset: Any, batch_size: int, device: torch.device, num_workers: int, name: str,
                 rank: int = 0, world: int = 1) -> None:
        if dataset is None:
            raise TypeError(f"{name} dataset is None; pass a Dataset (e.g. adapter.dataset({name!r}))")
        try:
            n = len(dataset)
        except TypeError as exc:
            raise TypeError(f"{name} dataset must be a sized torch Dataset, got {type(dataset).__name__}") from exc
        if n == 0:
            raise ValueError(f"{name} dataset is empty; check the split ratios or the data")
        if n < world:
            raise ValueError(f"{name} dataset has {n} event(s), fewer than the {world} processes training together; "
                             "every process needs at least one: use fewer processes (--nproc_per_node) or more data")
        self.rank, self.world = rank, world
        self.dataset, self.batch_size, self.device, self.num_workers, self.name = (
            dataset, batch_size, device, num_workers, name)
        self.n = n
        self.fast = (
            getattr(dataset, "x", None) is not None
            and getattr(dataset, "y", None) is not None
            and getattr(dataset, "transform", None) is None
        )
        # a read-only memory map (a set larger than memory): batches are read from it, never the whole of it
        self.mapped = self.fast and is_read_only_map(dataset.x)
        if self.fast:
            x = dataset.x if self.mapped else np.asarray(dataset.x)
            y = np.asarray(dataset.y)
            if x.ndim != 3 or len(x) != len(y):
                raise ValueError(
                    f"{name} dataset: .x must be (n, time, channel) with len(.x) == len(.y); "
                    f"got x {x.shape}, y {y.shape}")
        if self.mapped:
            self.x, self.y = x, torch.from_numpy(y.astype(np.int64))
        elif self.fast:
            x = np.ascontiguousarray(x, dtype=np.float32)
            if not x.flags.writeable:  # torch.from_numpy warns on read-only arrays (memmaps); copy once
                x = x.copy()
            self.x = torch.from_numpy(x)  # shares memory with the dataset on CPU: no copy
            self.y = torch.from_numpy(y.astype(np.int64))
            if device.type == "cuda":
                # the arrays are small next to GPU memory (4433 x 1700 x 3 float32 = 90 MB): move once
                free, _ = torch.cuda.mem_get_info(device)
                if self.x.nbytes < 0.25 * free:
                    self.x, self.y = self.x.to(device), self.y.to(device)
                else:
                    self.x, self.y = self.x.pin_memory(), self.y.pin_memory()

    def __len__(self) -> int:
        """The number of batches of a shuffled (training) epoch on this process."""
        return -(-(-(-self.n // self.world)) // self.batch_size)

    def sizes(self) -> list[int]:
        """How many items each process's unshuffled (evaluation) pass holds, in rank order."""
        return [b - a for a, b in (slice_bounds(self.n, self.world, r) for r in range(self.world))]

    def labels(self) -> np.ndarray:
        """The labels of the whole data set (every process's share), in order."""
        return self.y.cpu().numpy() if self.fast else dataset_labels(self.dataset)

    def _order(self, shuffle_seed: int | None) -> torch.Tensor | None:
        """This process's items of one pass in order (None: all items in dataset order)."""
        if shuffle_seed is not None:
            order = permutation(self.n, shuffle_seed)
            return share(order, self.world, self.rank) if self.world > 1 else order
        if self.world > 1:
            return torch.arange(*slice_bounds(self.n, self.world, self.rank))
        return None

    def epoch(self, shuffle_seed: int | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One pass; shuffled with ``shuffle_seed`` (None: in order)."""
        if self.fast:
            yield from self._fast_epoch(shuffle_seed)
        else:
            yield from self._loader_epoch(shuffle_seed)

    def _fast_epoch(self, shuffle_seed: int | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self._order(shuffle_seed)
        if order is not None and not self.mapped:
            order = order.to(self.x.device)
        read = 0
        for start in range(0, self.n if order is None else len(order), self.batch_size):
            rows = slice(start, start + self.batch_size) if order is None else order[start:start + self.batch_size]
            xb, yb = self._take(rows), self.y[rows]
            if self.mapped:  # every RELEASE_BYTES read, the map's pages leave this process's resident memory
                read += xb.nbytes
                if read >= RELEASE_BYTES:
                    release_pages(self.x)
                    read = 0
            yield xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)
        if self.mapped:
            release_pages(self.x)

    def _take(self, rows: slice | torch.Tensor) -> torch.Tensor:
        """The events ``rows`` of ``x``; out of a read-only memory map as a copy (the pages stay in the page
        cache, so memory does not grow with the data)."""
        if not self.mapped:
            return self.x[rows]
        batch = self.x[rows if isinstance(rows, slice) else rows.numpy()]  # a fancy index already copies
        return torch.from_numpy(batch if batch.flags.writeable else np.array(batch))

    def _loader_epoch(self, shuffle_seed: int | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        transform = getattr(self.dataset, "transform", None)
        if shuffle_seed is not None and self.num_workers == 0:
            # the per-item transform draws in this process: reseed it per epoch like the batched path
            seed_pipeline(transform, stream_seed(shuffle_seed, 0, AUGMENT, self.rank))
        # the same permutation as the fast path (DataLoader's own shuffle would first draw worker seeds
        # from the generator, giving another order); workers' base seed comes from the generator
        order = self._order(shuffle_seed)
        order = None if order is None else order.tolist()
        loader = torch.utils.data.DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=order,
            generator=torch.Generator().manual_seed(self._worker_seed(shuffle_seed)),
            num_workers=self.num_workers,
            worker_init_fn=seed_worker if self.num_workers else None,
            pin_memory=self.device.type == "cuda",
        )
        for xb, yb in loader:
            xb = torch.as_tensor(xb, dtype=torch.float32)
            yield xb.to(self.device, non_blocking=True), torch.as_tensor(yb, dtype=torch.int64).to(self.device)

    def _worker_seed(self, shuffle_seed: int | None) -> int:
        """The DataLoader generator's seed (its workers' base seed): the shuffle seed, another one per rank."""
        base = shuffle_seed if shuffle_seed is not None else 0
        return stream_seed(base, 0, SHUFFLE, self.rank) if self.rank else base
