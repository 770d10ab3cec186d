"""``fit``: the training loop as orchestration of the engine's parts, and :class:`FitResult`.

Data flow (shapes for the default pipeline)::

    dataset .x (n, time, channel) float32, .y (n,) int64
      -> batch (B, time, channel) on the training device     (seeded permutation per epoch)
      -> train_transform: augmentations + FFT -> (B, 257, channel)   (eval_transform: FFT only)
      -> model -> logits (B, classes)

Reproducibility. ``fit`` runs inside ``torch.random.fork_rng``, so the caller's global torch RNG is untouched,
and every epoch reseeds shuffling, augmentation and dropout from ``(seed, epoch)``
(:mod:`seiswork.training.epoch`). Nothing random carries over from one epoch to the next except the model and
optimizer state, which the checkpoint stores — so a run resumed from ``last.pt`` ends exactly like an
uninterrupted one, and the same seed gives the same history on the same machine. Initial weights are the
caller's: build the model with ``build_model(name, seed=...)``.

Across processes. Inside a process group (``torchrun``; :func:`seiswork.training.distributed.session`) ``fit``
trains one model over all the processes with ``DistributedDataParallel``: each takes its share of every epoch's
batches of ``batch_size`` (so a step sees ``world_size x batch_size`` events), gradients are averaged, the
epoch's metrics are gathered so every process computes the same history and stops at the same epoch, and
rank 0 alone writes the checkpoints and history. Every process calls ``fit`` with the same arguments.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from seiswork import defaults
from seiswork.training import distributed
from seiswork.training.arguments import FitSettings
from seiswork.training.batches import Batches, dataset_classes, set_mode, transform_to_device
from seiswork.training.checkpoints import CheckpointDir, check_resumable, make_checkpoint, model_spec
from seiswork.training.epoch import Trainer
from seiswork.training.metrics import HISTORY_COLUMNS, loss_weights, model_classes
from seiswork.training.progress import Progress
from seiswork.training.runtime import cpu_threads, get_device, retain_freed_memory
from seiswork.training.state import RunState

__all__ = ["FitResult", "fit"]


@dataclass
class FitResult:
    """What :func:`fit` returns. ``model`` holds the best weights (by validation macro F1); ``world_size``: the
    number of processes that trained it.

    ``best_checkpoint`` / ``last_checkpoint``: the files ``best.pt`` / ``last.pt`` (in ``checkpoint_dir``, or in
    the temporary run folder ``fit`` made without one); None only for a model without a ``.config`` dict, which
    no checkpoint could rebuild.
    """

    model: nn.Module
    history: pd.DataFrame
    best_checkpoint: Path | None
    last_checkpoint: Path | None
    device: torch.device
    best_epoch: int
    best_score: float
    stopped_early: bool
    classes: list[str] = field(default_factory=list)
    world_size: int = 1
    members: list["FitResult"] = field(default_factory=list)

    def __repr__(self) -> str:
        runs = f"members={len(self.members)}, " if self.members else f"epochs_run={len(self.history)}, "
        return (
            f"FitResult({runs}best_epoch={self.best_epoch}, "
            f"best_val_macro_f1={self.best_score:.4f}, stopped_early={self.stopped_early}, "
            f"device={self.device}, best_checkpoint={self.best_checkpoint})")

    def describe(self, patience: int | None = None) -> str:
        """One sentence on how training ended: which epoch was kept, of how many, whether it stopped early."""
        if self.members:
            kept = ", ".join(f"{m.best_epoch} of {len(m.history)}" for m in self.members)
            return (f"an ensemble of {len(self.members)} models averaging their probabilities; each member kept "
                    f"its epoch of best validation macro F1 (epochs kept of run: {kept}); the ensemble's "
                    f"validation macro F1 is {self.best_score:.3f}")
        why = f" ({patience} epochs without gain)" if patience else ""
        return (f"the model of epoch {self.best_epoch} (best validation macro F1) of {len(self.history)} epochs run"
                + (f"; training stopped early{why}" if self.stopped_early else ""))


def fit(
    model: nn.Module,
    train: Any,
    val: Any,
    *,
    epochs: int,
    batch_size: int = defaults.BATCH_SIZE,
    lr: float = defaults.LR,
    train_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    eval_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    device: str | torch.device | None = None,
    seed: int = 0,
    patience: int | None = defaults.PATIENCE,
    min_delta: float = 0.0,
    class_weights: bool | str | Sequence[float] = True,
    weight_decay: float = defaults.WEIGHT_DECAY,
    grad_clip: float | None = 1.0,
    scheduler: str | None = None,
    ema: float | None = defaults.EMA,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    amp: bool = False,
    num_workers: int = 0,
    eval_batch_size: int | None = None,
    progress: bool | Callable[[dict[str, Any]], None] | None = None,
) -> FitResult:
    """Train ``model`` (in place, moved to ``device``) with AdamW and (weighted) cross-entropy.

    Args:
        model: maps ``(B, seq_len, channels)`` to logits ``(B, classes)``; needs a ``.config`` dict when
            checkpoints are written (all ``seiswork.models`` have one).
        train, val: datasets of ``(x, label)`` items; with ``.x``/``.y`` arrays and no ``.transform`` they take
            the batched fast path (see :mod:`seiswork.training.batches`). ``val`` drives early stopping and model
            selection.
        epochs: maximum number of epochs (total, counting epochs done before a resume).
        batch_size: training batch size (per process: across N processes a step sees N x ``batch_size``).
        lr: AdamW learning rate.
        train_transform: applied to every training batch ``(B, time, channel)`` on the device, in train mode
            (augmentations, then spectrum). Reseeded from ``(seed, epoch)`` at each epoch start.
        eval_transform: applied to validation batches in eval mode (spectrum only).
        device: None picks CUDA when present, else CPU (:func:`get_device`).
        seed: run seed for shuffling, augmentation and dropout (not the initial weights: see ``build_model``).
        patience: stop after this many epochs without a validation macro F1 gain > ``min_delta``; None never stops.
        class_weights: True / ``"balanced"`` weights the loss by inverse training class frequency
            (:func:`compute_class_weights`); False / None: unweighted; or one weight per class.
        weight_decay: AdamW weight decay.
        grad_clip: clip the gradient norm to this value (None: no clipping); LSTMs occasionally spike.
        scheduler: None, ``"plateau"`` (halve lr when val macro F1 stalls for ``max(1, patience // 2)`` epochs)
            or ``"cosine"`` (cosine decay over ``epochs``).
        ema: the weights validated, selected, checkpointed and returned are an exponential moving average over
            epochs of the trained weights, the newest epoch weighing ``ema`` (default
            :data:`seiswork.defaults.EMA`); training goes on from the trained weights. None (or 1): no average,
            the trained weights of the best epoch. The history's ``train_*`` columns are the trained weights',
            its ``val_*`` columns the average's.
        checkpoint_dir: where ``best.pt`` (best val macro F1), ``last.pt`` and ``history.csv`` (every epoch) are written
            atomically (by rank 0 alone across processes). None: a fresh temporary folder
            (``tempfile.mkdtemp(prefix="seiswork-fit-")``, left in place for the caller, its path in
            ``FitResult.best_checkpoint``), so that ``load_model`` works on every result; a model without a
            ``.config`` dict then gets no checkpoints (None in the result).
        resume: continue from ``checkpoint_dir/last.pt`` when it exists (the same arguments must be passed; across
            processes every process reads it).
        overwrite: allow starting afresh over existing checkpoints in ``checkpoint_dir``.
        amp: mixed precision: bfloat16 autocast on CPU, float16 autocast + gradient scaling on CUDA. CPUs with
            bf16 support (AMX, AVX512-BF16) train faster at the same accuracy (``benchmarks/bench_train.py
            --amp-study``); CPUs without it gain little or nothing, and those without a bf16 LSTM kernel (no
            AVX-512) train in float32 with a warning.
        num_workers: DataLoader workers for the per-item path (the fast path uses none).
        eval_batch_size: validation batch size (default ``max(batch_size, 256)``).
        progress: None = auto (tqdm bars in a notebook or terminal, one plain line per epoch otherwise);
            True / False; or a callable receiving each epoch's history record (dict).

    Returns:
        :class:`FitResult`; ``.history`` has the columns ``HISTORY_COLUMNS``, one row per epoch.
    """
    settings = FitSettings.check(
        model, train_transform, eval_transform, resume, checkpoint_dir, epochs=epochs, batch_size=batch_size, lr=lr,
        seed=seed, weight_decay=weight_decay, min_delta=min_delta, num_workers=num_workers, patience=patience,
        grad_clip=grad_clip, scheduler=scheduler, eval_batch_size=eval_batch_size, amp=amp, ema=ema)

    import sklearn.metrics  # noqa: F401  (its first import takes seconds: not inside epoch 1's clock)

    device = distributed.local_device(get_device(device))
    rank, world = distributed.rank(), distributed.world_size()
    if device.type == "cpu":
        retain_freed_memory()
    model.to(device)
    for t in (train_transform, eval_transform):
        transform_to_device(t, device)
    train_batches = Batches(train, settings.batch_size, device, settings.num_workers, "train", rank, world)
    val_batches = Batches(val, settings.eval_batch_size, device, settings.num_workers, "val", rank, world)
    if train_transform is not None and eval_transform is None and val_batches.fast:
        warnings.warn(
            "train_transform is set but eval_transform is None: validation batches reach the model untransformed "
            "(raw waveforms); pass eval_transform (the spectrum-only pipeline)", stacklevel=2)
    weights, classes = _weights_and_classes(model, train, train_batches, class_weights)
    trainer = Trainer(model, settings, weights, device, train_transform, eval_transform)
    fit_args = settings.checkpoint_args(weights)

    state, best_weights = RunState(settings.patience, settings.min_delta), None
    if checkpoint_dir is None and isinstance(getattr(model, "config", None), dict):
        # the result names a checkpoint file either way; a model without .config cannot be rebuilt from one
        checkpoint_dir = tempfile.mkdtemp(prefix="seiswork-fit-")
    folder = None if checkpoint_dir is None else CheckpointDir(checkpoint_dir)
    spec = None if folder is None else model_spec(model)
    ckpt, resumed_best = (None, None) if folder is None else _start(folder, resume, overwrite)
    if ckpt is not None:
        check_resumable(ckpt, folder.last, spec, fit_args)
        trainer.load(ckpt)
        state.resume_from(ckpt)
        best_weights = resumed_best

    fork_devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    shown = Progress(progress if rank == 0 else False, settings.epochs, state.epoch)
    previous_modes = (set_mode(train_transform, True), set_mode(eval_transform, False))
    try:
        with shown, torch.random.fork_rng(devices=fork_devices), \
                cpu_threads(model, device, settings.batch_size, grad=True):
            while state.running(settings.epochs):
                record = trainer.run_epoch(state.epoch, train_batches, val_batches, shown)
                improved = state.update(record, record["val_macro_f1"])
                if improved:
                    best_weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
                if folder is not None and rank == 0:
                    payload = make_checkpoint(spec, model, trainer.state_dicts(), state, classes, fit_args,
                                              settings.seed)
                    folder.save(payload, improved, state.history)
                shown.epoch_done(record, improved, state.best_epoch)
    finally:
        for t, mode in zip((train_transform, eval_transform), previous_modes):
            if mode is not None:
                set_mode(t, mode)

    if state.stopped_early:
        shown.stopped_early(settings.patience, state.best_epoch, state.best_score)
    if best_weights is not None:
        model.load_state_dict(best_weights)
    model.eval()
    frame = pd.DataFrame(state.history, columns=HISTORY_COLUMNS)
    frame["epoch"] = frame["epoch"].astype(np.int64)
    return FitResult(
        model=model, history=frame, device=device, best_epoch=state.best_epoch, best_score=state.best_score,
        best_checkpoint=None if folder is None else folder.written(folder.best),
        last_checkpoint=None if folder is None else folder.written(folder.last),
        stopped_early=state.stopped_early, classes=classes, world_size=world)


def _start(folder: CheckpointDir, resume: bool, overwrite: bool) -> tuple[dict[str, Any] | None, Any]:
    """The checkpoint to resume from (None: a fresh start, :meth:`CheckpointDir.start`) and its best weights.

    Across processes rank 0 alone reads (and on ``overwrite`` deletes) the folder and hands what it read, or
    the error it met, to the others: every process resumes from the same state even where only rank 0 sees
    the folder."""
    found: Any = None
    if distributed.rank() == 0:
        try:
            ckpt = folder.start(resume, overwrite)
            found = (ckpt, None if ckpt is None else folder.best_weights())
        except (OSError, ValueError) as exc:
            if not distributed.active():
                raise
            found = exc
    found = distributed.broadcast_object(found)
    if isinstance(found, BaseException):
        raise found
    return found


def _weights_and_classes(
    model: nn.Module, train: Any, batches: Batches, class_weights: bool | str | Sequence[float] | None
) -> tuple[np.ndarray | None, list[str]]:
    """The loss's class weights (None: unweighted) and the class names, checked against the training labels."""
    labels = batches.labels()
    n_classes = model_classes(model) or int(labels.max()) + 1
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(
            f"train labels must lie in [0, {n_classes}) for a model with classes={n_classes}; "
            f"got values from {labels.min()} to {labels.max()}")
    weights = loss_weights(class_weights, labels, n_classes)
    return weights, dataset_classes(train) or [str(i) for i in range(n_classes)]

