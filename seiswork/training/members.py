"""Training an ensemble: :func:`fit_members` fits ``members`` copies of a model, each from its own seed, and
returns their :class:`~seiswork.models.EnsembleModel` (why: :mod:`seiswork.models.ensemble`).

Layout of ``checkpoint_dir`` with more than one member::

    member-0/ ... member-<K-1>/   each a ``fit`` run folder: best.pt, last.pt, history.csv
    best.pt                       the ensemble (model class, configuration and weights: ``load_model`` reads it)
    history.csv                   the members' histories, one after the other, with a ``member`` column

With one member it is ``fit`` itself: the same folder layout, result and numbers as before ensembles existed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from torch import nn

from seiswork.models import EnsembleModel, build_model, model_name
from seiswork.paths import atomic_write
from seiswork.training import distributed
from seiswork.training.checkpoints import (BEST, CHECKPOINT_FORMAT, HISTORY, LAST, CheckpointDir, model_entries,
                                          save_checkpoint)
from seiswork.training.evaluation import predict
from seiswork.training.loop import FitResult, fit
from seiswork.training.metrics import epoch_metrics

__all__ = ["fit_members", "member_seed", "first_last_checkpoint"]


def member_seed(seed: int, member: int) -> int:
    """Member ``member``'s seed (initial weights, shuffling, augmentation, dropout); member 0 keeps ``seed``."""
    return seed + 1000 * member


def first_last_checkpoint(checkpoint_dir: str | Path, members: int) -> Path:
    """The ``last.pt`` that says a run of ``members`` members in ``checkpoint_dir`` can be resumed: its own with
    one member, the first member's with more."""
    folder = Path(checkpoint_dir)
    return folder / LAST if members == 1 else folder / "member-0" / LAST


def _drop_members(folder: Path, keep: int) -> None:
    """Delete the member folders ``member-<k>`` of an earlier run with ``k >= keep`` (starting afresh over it with
    fewer members): none can then be mistaken for part of this run."""
    for path in folder.glob("member-*"):
        number = path.name.removeprefix("member-")
        if path.is_dir() and number.isdigit() and int(number) >= keep:
            shutil.rmtree(path)


def fit_members(model: nn.Module, train: Any, val: Any, *, members: int, checkpoint_dir: str | Path,
                seed: int = 0, resume: bool = False, overwrite: bool = False,
                progress: bool | Callable[[dict[str, Any]], None] | None = None, **fit_args: Any) -> FitResult:
    """Fit ``model`` and ``members - 1`` fresh copies of it (``build_model`` of its registered name and
    ``.config``; the initial weights of copy ``k`` drawn from :func:`member_seed`), each with
    ``fit(..., seed=member_seed(seed, k))`` and its own early stopping on ``val``; return their ensemble.

    ``fit_args`` go to every member's :func:`~seiswork.training.fit` (``epochs``, ``batch_size``, transforms,
    ...). ``resume`` continues each member from its ``last.pt`` (a finished member trains no further), so an
    interrupted ensemble goes on where it stopped.

    Returns a :class:`FitResult` whose ``model`` is the :class:`~seiswork.models.EnsembleModel`, ``members``
    the members' results, ``history`` theirs one after the other (``member`` column), ``best_score`` the
    ensemble's validation macro F1, ``best_epoch`` the latest epoch a member kept and ``stopped_early`` whether
    every member stopped early.
    """
    if isinstance(members, bool) or not isinstance(members, int) or members < 1:
        raise ValueError(f"members must be a whole number >= 1, got {members!r}")
    folder = Path(checkpoint_dir)
    if overwrite and not resume and distributed.is_main():
        _drop_members(folder, keep=members if members > 1 else 0)
    if members == 1:
        return fit(model, train, val, seed=seed, checkpoint_dir=folder, resume=resume, overwrite=overwrite,
                   progress=progress, **fit_args)
    name = model_name(model)  # the copies are built from the registry, before any member trains
    if distributed.is_main() and not resume:  # a single model's best.pt/last.pt here is not one of ours
        CheckpointDir(folder).start(resume=False, overwrite=overwrite)
    results = []
    for k in range(members):
        net = model if k == 0 else build_model(name, seed=member_seed(seed, k), **model.config).to(
            next(model.parameters()).device)
        if progress is None or progress is True:
            print(f"member {k + 1} of {members}", flush=True)
        results.append(fit(net, train, val, seed=member_seed(seed, k), checkpoint_dir=folder / f"member-{k}",
                           resume=resume, overwrite=overwrite, progress=progress, **fit_args))
    ensemble = EnsembleModel.of([r.model for r in results]).eval()
    device = results[0].device
    logits, labels = predict(ensemble, val, transform=fit_args.get("eval_transform"), device=device)
    history = pd.concat([r.history.assign(member=k) for k, r in enumerate(results)], ignore_index=True)
    if distributed.is_main():
        save_checkpoint(folder / BEST, {"format": CHECKPOINT_FORMAT, **model_entries(ensemble),
                                        "classes": results[0].classes,
                                        "members": [f"member-{k}" for k in range(members)]})
        with atomic_write(folder / HISTORY, "w") as f:
            history.to_csv(f, index=False)
    distributed.barrier()
    return FitResult(
        model=ensemble, history=history, best_checkpoint=folder / BEST, last_checkpoint=None, device=device,
        best_epoch=max(r.best_epoch for r in results), best_score=epoch_metrics(labels, logits.argmax(1))["macro_f1"],
        stopped_early=all(r.stopped_early for r in results), classes=results[0].classes,
        world_size=results[0].world_size, members=results)
