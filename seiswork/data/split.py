"""The train/val/test split: seeded, stratified by class, grouped by event id.

Recordings of one event (several stations) share an event id and never sit in two parts, so the test
score is not inflated by near-copies of training events.  The test part is drawn from all kept events,
then validation from the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Split", "as_groups", "group_codes", "split_part", "make_split"]


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


def as_groups(groups: Any, n_events: int) -> np.ndarray | None:
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


def group_codes(groups: np.ndarray | None, n: int) -> np.ndarray:
    """Integer group codes; events without an id get a code of their own."""
    if groups is None:
        return np.arange(n)
    missing = pd.isna(groups) | (groups == "") if groups.dtype.kind in "OU" else pd.isna(groups)
    codes, _ = pd.factorize(pd.Series(groups).where(~missing), use_na_sentinel=True)
    codes = codes.astype(np.int64)
    lone = np.flatnonzero(codes < 0)
    codes[lone] = codes.max(initial=-1) + 1 + np.arange(len(lone))
    return codes



def split_part(
    y: np.ndarray, codes: np.ndarray, ratio: float, seed: int, what: str, names: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
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
    # Plain Python floats: with a handful of classes they beat numpy's per-call overhead in this loop.
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



#: part names a split column may hold (SeisBench writes train, dev, test) -> seiswork's parts
PART_NAMES = {"train": "train", "dev": "val", "val": "val", "validation": "val", "test": "test"}


def split_from_parts(parts: Any, kept: np.ndarray, column: str = "split") -> Split:
    """The split a column gives: ``parts`` names the part of every *loaded* event (``train``, ``dev`` or
    ``val``, ``test``, any case); ``kept`` are the loaded indices that survived preprocessing."""
    names = np.asarray(parts, dtype=object)[kept]
    mapped = np.array([PART_NAMES.get(str(p).strip().lower(), "") for p in names])
    unknown = sorted({str(p) for p, m in zip(names, mapped) if not m})
    if unknown:
        raise ValueError(f"the {column!r} column holds {unknown[:5]}: each event must be in train, dev (or val) "
                         "or test; fix the column or draw a split instead")
    split = Split(*(np.sort(kept[mapped == part]).astype(np.int64) for part in ("train", "val", "test")))
    for part, rows in zip(("train", "val", "test"), split):
        if len(rows) == 0:
            raise ValueError(f"the {column!r} column puts no kept event in the {part} part; "
                             "training needs train, dev (or val) and test events")
    return split


def make_split(
    y: np.ndarray, codes: np.ndarray, kept: np.ndarray, test_ratio: float, val_ratio: float, seed: int, classes: np.ndarray
) -> Split:
    """Test part from all kept events, then val from the rest; both stratified by ``y`` and grouped by ``codes``.

    ``y`` and ``codes`` are the class and group codes of the kept events ``kept`` (loaded indices);
    the parts hold loaded indices.  ``classes`` names the class codes in errors.
    """
    seeds = np.random.SeedSequence(seed).generate_state(2)
    train, test = split_part(y, codes, test_ratio, int(seeds[0]), "test", classes)
    val = np.zeros(0, np.int64)
    if val_ratio > 0:
        sub_train, sub_val = split_part(y[train], codes[train], val_ratio, int(seeds[1]), "validation", classes)
        train, val = train[sub_train], train[sub_val]
    return Split(*(kept[p].astype(np.int64) for p in (train, val, test)))
