"""Training engine: ``fit`` / ``evaluate`` / checkpoints / history / metrics, and the ``train`` command.

Data flow (shapes for the default pipeline)::

    dataset .x (n, time, channel) float32, .y (n,) int64
      -> batch (B, time, channel) on the training device     (seeded permutation per epoch)
      -> train_transform: augmentations + FFT -> (B, 257, channel)   (eval_transform: FFT only)
      -> model -> logits (B, classes)

Two ways to feed data:

- **Batched fast path** (the default for ``WaveformDataset`` with ``transform=None``, or anything with
  ``.x``/``.y`` arrays and no ``.transform``): the arrays are wrapped once as a torch tensor (shared
  with numpy on CPU, moved to the GPU once on CUDA), each epoch indexes it with a seeded permutation,
  and ``train_transform``/``eval_transform`` run on whole batches on the training device. No
  per-item ``__getitem__``, no DataLoader.
- **Per-item path** (any other ``Dataset``, e.g. the seed's ``get_datasets(transform_train=...,
  transform_test=...)``): a seeded ``DataLoader``; its items are already model inputs, and
  ``train_transform``/``eval_transform`` (if given) are applied to the collated batches.

Reproducibility. ``fit`` runs inside ``torch.random.fork_rng``, so the caller's global torch RNG
is untouched. At the start of every epoch it derives three seeds from ``(seed, epoch)``: one for
the shuffling permutation, one reseeding the augmentation pipeline
(``seiswork.transforms.seed_pipeline``), and one for ``torch.manual_seed`` inside the fork (dropout
draws from the global torch RNG). Nothing random carries over from one epoch to the next except
the model and optimizer state, which the checkpoint stores — so a run resumed from ``last.pt`` ends
exactly like an uninterrupted one, and the same seed gives the same history on the same machine.
Initial weights are the caller's: build the model with ``build_model(name, seed=...)``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import ctypes
import itertools
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from seiswork.dataset import seed_worker
from seiswork.models import MODELS, StackedLSTM, build_model, model_summary, shard_sizes
from seiswork.paths import atomic_path, atomic_write
from seiswork.threads import cores_to_workers
from seiswork.transforms import seed_pipeline

__all__ = [
    "HISTORY_COLUMNS",
    "FitResult",
    "get_device",
    "retain_freed_memory",
    "compute_class_weights",
    "fit",
    "predict",
    "evaluate",
    "report_to_json",
    "save_metrics",
    "load_checkpoint",
    "load_model",
    "default_pipelines",
    "train_main",
]

HISTORY_COLUMNS = [
    "epoch",
    "train_loss",
    "train_accuracy",
    "train_balanced_accuracy",
    "train_macro_f1",
    "val_loss",
    "val_accuracy",
    "val_balanced_accuracy",
    "val_macro_f1",
    "lr",
    "seconds",
]
CHECKPOINT_FORMAT = "seiswork-checkpoint/1"
BEST, LAST, HISTORY = "best.pt", "last.pt", "history.csv"
# stream ids for the per-epoch seeds (shuffle, augmentation, dropout) derived from (seed, epoch)
_SHUFFLE, _AUGMENT, _DROPOUT = 1, 2, 3


# =========================================================================== small helpers
def get_device(device: str | torch.device | None = None) -> torch.device:
    """The training device: ``device`` if given, else CUDA when available, else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device {device!r} is not a torch device ({exc}); use 'cpu', 'cuda' or 'cuda:N'") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available; use device='cpu' or None (auto)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) present")
    return dev


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters (malloc.h)
_retained = False


def retain_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse instead of handing it back to the kernel; True when set.

    Every training batch allocates and frees the same large buffers (batch of waveforms, FFT frames, LSTM
    gates). By default glibc serves blocks of a few MB with ``mmap`` and returns freed heap to the kernel, so
    the next batch page-faults the same memory in again; on virtual machines a fault is expensive. Setting
    ``M_TRIM_THRESHOLD`` to 1 GiB and ``M_MMAP_THRESHOLD`` to 32 MiB (glibc's maximum) keeps that memory in the
    process, as the jemalloc/tcmalloc that PyTorch's CPU tuning guide recommends would. On the 2-core VM here
    it made the batched seed augmentation + Welch spectrum 1.4-2x faster at batch 256 (alternating runs of
    ``benchmarks/bench_augment.py`` with and without ``--no-retain``); training steps gained little.
    The cost: the process keeps its peak heap until it exits. :func:`fit` calls this; it is process-wide,
    idempotent, a no-op off glibc (macOS, Windows, musl), and ``SEISWORK_RETAIN_MEMORY=0`` turns it off.
    """
    global _retained
    if _retained:
        return True
    if os.environ.get("SEISWORK_RETAIN_MEMORY", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)) and bool(libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20))
    except (OSError, AttributeError):  # not glibc
        return False
    _retained = ok
    return ok


def _shard_threads(
    model: nn.Module, device: torch.device, batch_size: int, grad: bool
) -> contextlib.AbstractContextManager:
    """The block ``fit`` and ``predict`` run their batches in.

    On the CPU, when a model does nearly all its work in per-core shards (``model.cpu_work_in_shards``, as
    ``LSTMModel``) and batches of ``batch_size`` are sharded, the cores go to the shard workers
    (:func:`seiswork.threads.cores_to_workers`): the calling thread's idle OpenMP threads otherwise spin on
    them. Unsharded batches (a training batch of 40 or fewer) keep torch's threads for the whole LSTM, and so
    do other models (``LSTMAttentionModel``'s attention runs outside the shards).
    """
    if device.type != "cpu" or torch.get_num_threads() < 2 or not getattr(model, "cpu_work_in_shards", False):
        return contextlib.nullcontext()
    if any(isinstance(m, StackedLSTM) and len(shard_sizes(batch_size, m.cpu_shards, grad)) > 1
           for m in model.modules()):
        return cores_to_workers()
    return contextlib.nullcontext()


def _check_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_positive(name: str, value: Any, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {value}")
    return value


def _stream_seed(seed: int, epoch: int, stream: int) -> int:
    """A 32-bit seed for one (run seed, epoch, stream); independent streams, no seed+epoch collisions."""
    return int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1)[0])


def _set_mode(transform: Any, training: bool) -> bool | None:
    """Put an nn.Module transform in train/eval mode; return its previous mode (None if not a module)."""
    if isinstance(transform, nn.Module):
        previous = transform.training
        transform.train(training)
        return previous
    return None


def _to_device(transform: Any, device: torch.device) -> None:
    """Move a transform's parameters/buffers to ``device``; seiswork's augmentations hold none (their CPU
    generators draw parameters that they move to the data's device themselves), so they are left alone."""
    if isinstance(transform, nn.Module) and any(True for _ in itertools.chain(transform.parameters(),
                                                                             transform.buffers())):
        transform.to(device)


def _model_classes(model: nn.Module) -> int | None:
    config = getattr(model, "config", None)
    if isinstance(config, dict) and "classes" in config:
        return int(config["classes"])
    return None


def _dataset_labels(dataset: Any) -> np.ndarray:
    """Integer labels of a dataset without running its transform where possible."""
    for attr in ("y", "targets", "labels"):
        y = getattr(dataset, attr, None)
        if y is not None and not callable(y):
            return np.asarray(y).astype(np.int64, copy=False).reshape(-1)
    if isinstance(dataset, torch.utils.data.Subset):
        return _dataset_labels(dataset.dataset)[np.asarray(dataset.indices)]
    return np.array([int(dataset[i][1]) for i in range(len(dataset))], dtype=np.int64)


def _dataset_classes(dataset: Any) -> list[str] | None:
    classes = getattr(dataset, "classes", None)
    if classes is None and isinstance(dataset, torch.utils.data.Subset):
        return _dataset_classes(dataset.dataset)
    return None if classes is None else [str(c) for c in classes]


def compute_class_weights(labels: Sequence[int] | np.ndarray, n_classes: int) -> np.ndarray:
    """``"balanced"`` class weights ``n_samples / (n_present_classes * count)``, as scikit-learn computes them.

    A class absent from ``labels`` gets weight 0 (it never contributes to the loss) with a warning.
    Returns float64 ``(n_classes,)``.
    """
    labels = np.asarray(labels).astype(np.int64, copy=False)
    if labels.size == 0:
        raise ValueError("cannot compute class weights from an empty label array")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must lie in [0, {n_classes}), got values from {labels.min()} to {labels.max()}")
    counts = np.bincount(labels, minlength=n_classes)
    present = counts > 0
    if not present.all():
        warnings.warn(f"classes {np.flatnonzero(~present).tolist()} have no training samples; their weight is 0")
    weights = np.zeros(n_classes)
    weights[present] = labels.size / (present.sum() * counts[present])
    return weights


def _metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    with warnings.catch_warnings():
        # per-epoch metrics on a small split: a class that is never predicted is expected early on
        warnings.simplefilter("ignore")
        return {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        }


# =========================================================================== batches
class _Batches:
    """Batches ``(x, y)`` on ``device`` from a dataset: the batched fast path or a seeded DataLoader."""

    def __init__(self, dataset: Any, batch_size: int, device: torch.device, num_workers: int, name: str) -> None:
        if dataset is None:
            raise TypeError(f"{name} dataset is None; pass a Dataset (e.g. adapter.dataset({name!r}))")
        try:
            n = len(dataset)
        except TypeError as exc:
            raise TypeError(f"{name} dataset must be a sized torch Dataset, got {type(dataset).__name__}") from exc
        if n == 0:
            raise ValueError(f"{name} dataset is empty; check the split ratios or the data")
        self.dataset, self.batch_size, self.device, self.num_workers, self.name = (
            dataset, batch_size, device, num_workers, name)
        self.n = n
        self.fast = (
            getattr(dataset, "x", None) is not None
            and getattr(dataset, "y", None) is not None
            and getattr(dataset, "transform", None) is None
        )
        if self.fast:
            x = np.asarray(dataset.x)
            y = np.asarray(dataset.y)
            if x.ndim != 3 or len(x) != len(y):
                raise ValueError(
                    f"{name} dataset: .x must be (n, time, channel) with len(.x) == len(.y); "
                    f"got x {x.shape}, y {y.shape}")
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
        return -(-self.n // self.batch_size)

    def labels(self) -> np.ndarray:
        return self.y.cpu().numpy() if self.fast else _dataset_labels(self.dataset)

    def epoch(self, shuffle_seed: int | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One pass; shuffled with ``shuffle_seed`` (None: in order)."""
        if self.fast:
            yield from self._fast_epoch(shuffle_seed)
        else:
            yield from self._loader_epoch(shuffle_seed)

    def _fast_epoch(self, shuffle_seed: int | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = None
        if shuffle_seed is not None:
            order = _permutation(self.n, shuffle_seed).to(self.x.device)
        for start in range(0, self.n, self.batch_size):
            if order is None:
                xb, yb = self.x[start:start + self.batch_size], self.y[start:start + self.batch_size]
            else:
                idx = order[start:start + self.batch_size]
                xb, yb = self.x[idx], self.y[idx]
            yield xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)

    def _loader_epoch(self, shuffle_seed: int | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        transform = getattr(self.dataset, "transform", None)
        if shuffle_seed is not None and self.num_workers == 0:
            # the per-item transform draws in this process: reseed it per epoch like the batched path
            seed_pipeline(transform, _stream_seed(shuffle_seed, 0, _AUGMENT))
        # the same permutation as the fast path (DataLoader's own shuffle would first draw worker seeds
        # from the generator, giving another order); workers' base seed comes from the generator
        order = None if shuffle_seed is None else _permutation(self.n, shuffle_seed).tolist()
        loader = torch.utils.data.DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=order,
            generator=torch.Generator().manual_seed(shuffle_seed if shuffle_seed is not None else 0),
            num_workers=self.num_workers,
            worker_init_fn=seed_worker if self.num_workers else None,
            pin_memory=self.device.type == "cuda",
        )
        for xb, yb in loader:
            xb = torch.as_tensor(xb, dtype=torch.float32)
            yield xb.to(self.device, non_blocking=True), torch.as_tensor(yb, dtype=torch.int64).to(self.device)


def _permutation(n: int, seed: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def _apply(transform: Any, xb: torch.Tensor, device: torch.device) -> torch.Tensor:
    if transform is None:
        return xb
    out = transform(xb)
    if not isinstance(out, torch.Tensor):
        out = torch.as_tensor(np.asarray(out))
    return out.to(device=device, dtype=torch.float32)


# =========================================================================== checkpoints
def _model_spec(model: nn.Module) -> tuple[str, dict[str, Any]]:
    config = getattr(model, "config", None)
    if not isinstance(config, dict):
        raise TypeError(
            f"{type(model).__name__} has no .config dict of constructor arguments, so a checkpoint could not "
            "rebuild it; use a model from seiswork.models (or give yours a .config)")
    return type(model).__name__, dict(config)


def _save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`fit` (tensors on CPU, no code executed: ``weights_only``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt / foreign files
        raise ValueError(f"{path} is not a readable seiswork checkpoint: {exc}") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a seiswork checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    return ckpt


def _stored_config(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint's model constructor arguments, completed for checkpoints written before an argument existed:
    ``LSTMAttentionModel`` applied its ``dropout`` to the attention weights until ``attention_dropout`` came."""
    config = dict(ckpt["model_config"])
    if ckpt.get("model_class") == "LSTMAttentionModel" and "attention_dropout" not in config:
        config["attention_dropout"] = config.get("dropout", 0.0)
    return config


def load_model(checkpoint: str | Path | dict[str, Any]) -> nn.Module:
    """Rebuild a model from a checkpoint (its class name + constructor arguments + weights), on CPU, in eval mode."""
    ckpt = checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint)
    by_name = {cls.__name__: cls for cls in MODELS.values()}
    name = ckpt.get("model_class")
    if name not in by_name:
        raise ValueError(
            f"checkpoint model class {name!r} is not a registered model ({', '.join(sorted(by_name))}); "
            "register it in seiswork.models.MODELS")
    model = by_name[name](**_stored_config(ckpt))
    model.load_state_dict(ckpt["model_state"])
    return model.eval()


# =========================================================================== fit
@dataclass
class FitResult:
    """What :func:`fit` returns. ``model`` holds the best weights (by validation macro F1)."""

    model: nn.Module
    history: pd.DataFrame
    best_checkpoint: Path | None
    last_checkpoint: Path | None
    device: torch.device
    best_epoch: int
    best_score: float
    stopped_early: bool
    classes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"FitResult(epochs_run={len(self.history)}, best_epoch={self.best_epoch}, "
            f"best_val_macro_f1={self.best_score:.4f}, stopped_early={self.stopped_early}, "
            f"device={self.device}, best_checkpoint={self.best_checkpoint})")


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (tqdm.auto then draws widget bars)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _interactive() -> bool:
    """True in a Jupyter kernel or when stderr is a terminal (then tqdm bars; else one line per epoch)."""
    return _in_kernel() or sys.stderr.isatty()


def _epoch_line(record: dict[str, Any], epochs: int, best: bool) -> str:
    r = record
    return (
        f"epoch {r['epoch']:>3}/{epochs}  "
        f"train loss {r['train_loss']:.4f} acc {r['train_accuracy']:.3f} f1 {r['train_macro_f1']:.3f} | "
        f"val loss {r['val_loss']:.4f} acc {r['val_accuracy']:.3f} bal {r['val_balanced_accuracy']:.3f} "
        f"f1 {r['val_macro_f1']:.3f} | lr {r['lr']:.2e} | {r['seconds']:.1f} s{'  *best' if best else ''}")


def fit(
    model: nn.Module,
    train: Any,
    val: Any,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    train_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    eval_transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    device: str | torch.device | None = None,
    seed: int = 0,
    patience: int | None = 10,
    min_delta: float = 0.0,
    class_weights: bool | str | Sequence[float] = True,
    weight_decay: float = 1e-4,
    grad_clip: float | None = 1.0,
    scheduler: str | None = None,
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
            the batched fast path (see the module docstring). ``val`` drives early stopping and model selection.
        epochs: maximum number of epochs (total, counting epochs done before a resume).
        batch_size: training batch size.
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
        checkpoint_dir: where ``best.pt`` (best val macro F1), ``last.pt`` and ``history.csv`` (every epoch) are written
            atomically. None keeps the best weights in memory only.
        resume: continue from ``checkpoint_dir/last.pt`` when it exists (the same arguments must be passed).
        overwrite: allow starting afresh over existing checkpoints in ``checkpoint_dir``.
        amp: mixed precision: bfloat16 autocast on CPU, float16 autocast + gradient scaling on CUDA. Measured
            (``benchmarks/bench_train.py --amp-study``): on a 2-core Xeon with AMX epochs 1.31x faster, test
            accuracy within 0.2 points of fp32; on a 2-core AMD EPYC (AVX512-BF16, batch 64, 3 seeds) 1.46x
            faster, test accuracy 0.9 points higher. CPUs without bf16 support gain little or nothing.
        num_workers: DataLoader workers for the per-item path (the fast path uses none).
        eval_batch_size: validation batch size (default ``max(batch_size, 256)``).
        progress: None = auto (tqdm bars in a notebook or terminal, one plain line per epoch otherwise);
            True / False; or a callable receiving each epoch's history record (dict).

    Returns:
        :class:`FitResult`; ``.history`` has the columns ``HISTORY_COLUMNS``, one row per epoch.
    """
    epochs = _check_int("epochs", epochs)
    batch_size = _check_int("batch_size", batch_size)
    lr = _check_positive("lr", lr)
    seed = _check_int("seed", seed, minimum=0)
    weight_decay = _check_positive("weight_decay", weight_decay, allow_zero=True)
    min_delta = _check_positive("min_delta", min_delta, allow_zero=True)
    num_workers = _check_int("num_workers", num_workers, minimum=0)
    if patience is not None:
        patience = _check_int("patience", patience)
    if grad_clip is not None:
        grad_clip = _check_positive("grad_clip", grad_clip)
    if scheduler not in (None, "plateau", "cosine"):
        raise ValueError(f"scheduler must be None, 'plateau' or 'cosine', got {scheduler!r}")
    eval_batch_size = max(batch_size, 256) if eval_batch_size is None else _check_int("eval_batch_size", eval_batch_size)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, t in (("train_transform", train_transform), ("eval_transform", eval_transform)):
        if t is not None and not callable(t):
            raise TypeError(f"{name} must be callable (an nn.Module pipeline) or None, got {type(t).__name__}")
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs checkpoint_dir (the folder holding last.pt)")

    import sklearn.metrics  # noqa: F401  (its first import takes seconds: not inside epoch 1's clock)

    device = get_device(device)
    if device.type == "cpu":
        retain_freed_memory()
    model.to(device)
    for t in (train_transform, eval_transform):
        _to_device(t, device)
    train_batches = _Batches(train, batch_size, device, num_workers, "train")
    val_batches = _Batches(val, eval_batch_size, device, num_workers, "val")
    if train_transform is not None and eval_transform is None and val_batches.fast:
        warnings.warn(
            "train_transform is set but eval_transform is None: validation batches reach the model untransformed "
            "(raw waveforms); pass eval_transform (the spectrum-only pipeline)", stacklevel=2)

    # classes and loss weights
    train_labels = train_batches.labels()
    n_classes = _model_classes(model) or int(train_labels.max()) + 1
    if train_labels.min() < 0 or train_labels.max() >= n_classes:
        raise ValueError(
            f"train labels must lie in [0, {n_classes}) for a model with classes={n_classes}; "
            f"got values from {train_labels.min()} to {train_labels.max()}")
    if isinstance(class_weights, str) and class_weights != "balanced":
        raise ValueError(f"class_weights must be True, 'balanced', False or one weight per class; got {class_weights!r}")
    if class_weights is True or isinstance(class_weights, str):
        weights = compute_class_weights(train_labels, n_classes)
    elif class_weights is False or class_weights is None:
        weights = None
    else:
        weights = np.asarray(class_weights, dtype=np.float64)
        if weights.shape != (n_classes,) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(
                f"class_weights must be True, 'balanced', False or {n_classes} finite non-negative numbers; "
                f"got {class_weights!r}")
    weight_t = None if weights is None else torch.tensor(weights, dtype=torch.float32, device=device)
    criterion = nn.CrossEntropyLoss(weight=weight_t)
    classes = _dataset_classes(train) or [str(i) for i in range(n_classes)]

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched: Any = None
    if scheduler == "plateau":
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=0.5, patience=max(1, (patience or 4) // 2))
    elif scheduler == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    scaler = torch.amp.GradScaler("cuda") if amp and device.type == "cuda" else None

    # checkpoints and resume
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    best_path = last_path = None
    history: list[dict[str, Any]] = []
    start_epoch, best_epoch, best_score, bad_epochs, stopped_early = 0, 0, -math.inf, 0, False
    best_state: dict[str, torch.Tensor] | None = None
    fit_args = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed, "patience": patience,
                "min_delta": min_delta, "weight_decay": weight_decay, "grad_clip": grad_clip,
                "scheduler": scheduler, "amp": bool(amp), "class_weights": None if weights is None else weights.tolist()}
    if ckpt_dir is not None:
        model_class, model_config = _model_spec(model)
        best_path, last_path = ckpt_dir / BEST, ckpt_dir / LAST
        existing = [p for p in (best_path, last_path) if p.exists()]
        if resume and last_path.exists():
            ckpt = load_checkpoint(last_path)
            stored = _stored_config(ckpt)
            if (ckpt["model_class"], stored) != (model_class, model_config):
                raise ValueError(
                    f"cannot resume from {last_path}: it holds {ckpt['model_class']}({stored}), "
                    f"the model passed is {model_class}({model_config})")
            changed = {k: (ckpt["fit_args"].get(k), v) for k, v in fit_args.items()
                       if k != "epochs" and ckpt["fit_args"].get(k) != v}
            if changed:
                warnings.warn(f"resuming {last_path} with changed arguments (was, now): {changed}; "
                              "the result will differ from an uninterrupted run", stacklevel=2)
            model.load_state_dict(ckpt["model_state"])
            optimizer.load_state_dict(ckpt["optimizer_state"])
            if sched is not None and ckpt.get("scheduler_state") is not None:
                sched.load_state_dict(ckpt["scheduler_state"])
            if scaler is not None and ckpt.get("scaler_state") is not None:
                scaler.load_state_dict(ckpt["scaler_state"])
            history = list(ckpt["history"])
            start_epoch, best_epoch, best_score = ckpt["epoch"], ckpt["best_epoch"], ckpt["best_score"]
            bad_epochs, stopped_early = ckpt["bad_epochs"], ckpt["stopped_early"]
            best_state = load_checkpoint(best_path)["model_state"] if best_path.exists() else None
        elif existing and not resume and not overwrite:
            raise FileExistsError(
                f"{ckpt_dir} already holds {', '.join(p.name for p in existing)}; pass resume=True to continue "
                "that run, overwrite=True to start afresh, or choose another checkpoint_dir")
        else:
            for p in existing:
                p.unlink()

    def checkpoint(epoch_done: int) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "model_class": model_class,
            "model_config": model_config,
            "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "optimizer_state": optimizer.state_dict(),
            "scheduler_state": None if sched is None else sched.state_dict(),
            "scaler_state": None if scaler is None else scaler.state_dict(),
            "epoch": epoch_done,
            "history": copy.deepcopy(history),
            "best_epoch": best_epoch,
            "best_score": best_score,
            "bad_epochs": bad_epochs,
            "stopped_early": stopped_early,
            "classes": classes,
            "fit_args": fit_args,
            # RNG: nothing to restore: every epoch reseeds shuffle, augmentation and dropout from
            # (seed, epoch) (module docstring); the torch state is kept for inspection only
            "seed": seed,
            "rng_scheme": "per-epoch reseed from (seed, epoch)",
            "torch_rng_state": torch.get_rng_state(),
        }

    interactive = _interactive() if progress is None else progress is True
    callback = progress if callable(progress) else None
    bar = None
    if interactive and callback is None:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, initial=start_epoch, desc="epochs", unit="epoch")
    # Per-batch bars only in a terminal: in a notebook each one is a new widget, and the messages of a
    # long fit overflow clients that read them after the cell (nbval drops past 1000, then times out).
    batch_bars = bar is not None and not _in_kernel()

    fork_devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    previous_modes = (_set_mode(train_transform, True), _set_mode(eval_transform, False))
    try:
        with torch.random.fork_rng(devices=fork_devices), _shard_threads(model, device, batch_size, grad=True):
            epoch = start_epoch
            while epoch < epochs and not stopped_early:
                t0 = time.perf_counter()
                torch.manual_seed(_stream_seed(seed, epoch, _DROPOUT))
                seed_pipeline(train_transform, _stream_seed(seed, epoch, _AUGMENT))
                model.train()
                _set_mode(train_transform, True)
                loss_sum = torch.zeros((), device=device)
                weight_sum = torch.zeros((), device=device)
                preds, labels = [], []
                batches = train_batches.epoch(_stream_seed(seed, epoch, _SHUFFLE))
                batches = ((_apply(train_transform, xb, device), yb) for xb, yb in batches)
                if batch_bars:
                    batches = tqdm(batches, total=len(train_batches), desc=f"epoch {epoch + 1}", leave=False)
                for xb, yb in batches:
                    with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                        logits = model(xb)
                    loss = criterion(logits.float(), yb)
                    optimizer.zero_grad(set_to_none=True)
                    if scaler is not None:
                        scaler.scale(loss).backward()
                        scaler.unscale_(optimizer)
                    else:
                        loss.backward()
                    if grad_clip is not None:
                        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                    if scaler is not None:
                        scaler.step(optimizer)
                        scaler.update()
                    else:
                        optimizer.step()
                    # the weighted mean over the epoch, not a mean of batch means
                    w = weight_t[yb].sum() if weight_t is not None else torch.tensor(float(len(yb)), device=device)
                    loss_sum += loss.detach() * w
                    weight_sum += w
                    preds.append(logits.detach().argmax(1))
                    labels.append(yb)
                train_m = _metrics(torch.cat(labels).cpu().numpy(), torch.cat(preds).cpu().numpy())
                train_loss = float(loss_sum / weight_sum)

                val_logits, val_labels = _predict(model, val_batches, eval_transform, device, amp, amp_dtype)
                val_loss = float(criterion(torch.from_numpy(val_logits).to(device), torch.from_numpy(val_labels).to(device)))
                val_m = _metrics(val_labels, val_logits.argmax(1))
                record = {
                    "epoch": epoch + 1,
                    "train_loss": train_loss,
                    **{f"train_{k}": v for k, v in train_m.items()},
                    "val_loss": val_loss,
                    **{f"val_{k}": v for k, v in val_m.items()},
                    "lr": float(optimizer.param_groups[0]["lr"]),
                    "seconds": time.perf_counter() - t0,
                }
                history.append(record)
                if sched is not None:
                    sched.step(val_m["macro_f1"]) if scheduler == "plateau" else sched.step()

                improved = val_m["macro_f1"] > best_score + min_delta
                if improved:
                    best_epoch, best_score, bad_epochs = epoch + 1, val_m["macro_f1"], 0
                    best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
                else:
                    bad_epochs += 1
                if patience is not None and bad_epochs >= patience:
                    stopped_early = True
                if ckpt_dir is not None:
                    payload = checkpoint(epoch + 1)
                    if improved:
                        _save_checkpoint(best_path, payload)
                    _save_checkpoint(last_path, payload)
                    with atomic_write(ckpt_dir / HISTORY, "w") as f:  # readable while training runs
                        pd.DataFrame(history).to_csv(f, index=False)
                if callback is not None:
                    callback(dict(record))
                elif bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{train_loss:.3f}", val_f1=f"{val_m['macro_f1']:.3f}",
                                    best=best_epoch)
                elif progress is not False:
                    print(_epoch_line(record, epochs, improved), flush=True)
                epoch += 1
    finally:
        if bar is not None:
            bar.close()
        for t, mode in zip((train_transform, eval_transform), previous_modes):
            if mode is not None:
                _set_mode(t, mode)

    if stopped_early and callback is None and progress is not False:
        print(f"early stop: no val macro F1 gain for {patience} epochs; best epoch {best_epoch} "
              f"(val macro F1 {best_score:.4f})", flush=True)
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    frame = pd.DataFrame(history, columns=HISTORY_COLUMNS)
    frame["epoch"] = frame["epoch"].astype(np.int64)
    return FitResult(
        model=model,
        history=frame,
        best_checkpoint=best_path if best_path is not None and best_path.exists() else None,
        last_checkpoint=last_path if last_path is not None and last_path.exists() else None,
        device=device,
        best_epoch=best_epoch,
        best_score=best_score,
        stopped_early=stopped_early,
        classes=classes,
    )


# =========================================================================== predict / evaluate
def _predict(
    model: nn.Module, batches: _Batches, transform: Any, device: torch.device, amp: bool = False,
    amp_dtype: torch.dtype = torch.bfloat16,
) -> tuple[np.ndarray, np.ndarray]:
    was_training = model.training
    previous = _set_mode(transform, False)
    model.eval()
    logits, labels = [], []
    try:
        with torch.no_grad(), _shard_threads(model, device, batches.batch_size, grad=False):
            for xb, yb in batches.epoch(None):
                xb = _apply(transform, xb, device)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                    out = model(xb)
                logits.append(out.float())
                labels.append(yb)
    finally:
        model.train(was_training)
        if previous is not None:
            _set_mode(transform, previous)
    return torch.cat(logits).cpu().numpy(), torch.cat(labels).cpu().numpy()


def predict(
    model: nn.Module, data: Any, transform: Any = None, device: str | torch.device | None = None,
    batch_size: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``(n, classes)`` float32 and labels ``(n,)`` int64 of a dataset, in dataset order (model in eval mode)."""
    device = get_device(device)
    model.to(device)
    _to_device(transform, device)
    return _predict(model, _Batches(data, _check_int("batch_size", batch_size), device, 0, "test"), transform, device)


def evaluate(
    model: nn.Module,
    test: Any,
    transform: Any = None,
    device: str | torch.device | None = None,
    batch_size: int = 256,
    classes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Test-set report computed with scikit-learn.

    ``transform`` is the eval pipeline (spectrum only) applied to batches of ``test`` when its items are raw
    waveforms. Returns a dict: ``accuracy``, ``balanced_accuracy``, ``macro_f1`` (floats), ``roc_auc``
    (two classes: AUC of the class-1 probability; more classes: one-vs-rest macro AUC; NaN when a class is
    absent from ``test``), ``confusion_matrix`` (int64 ``(K, K)``, rows true class, columns predicted),
    ``per_class`` (DataFrame precision/recall/f1/support indexed by class name), ``predictions`` ``(n,)``,
    ``probabilities`` ``(n, K)`` (softmax), ``labels`` ``(n,)``, ``classes`` (names), ``n_samples``.
    See :func:`report_to_json` for a JSON-friendly version.
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

    logits, labels = predict(model, test, transform, device, batch_size)
    n_classes = logits.shape[1]
    if classes is None:
        classes = _dataset_classes(test)
    classes = [str(c) for c in classes] if classes is not None else [str(i) for i in range(n_classes)]
    if len(classes) != n_classes:
        raise ValueError(f"{len(classes)} class names {classes} for a model with {n_classes} outputs")
    probabilities = torch.softmax(torch.from_numpy(logits).double(), dim=1).numpy()
    predictions = logits.argmax(1).astype(np.int64)
    ids = list(range(n_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predictions, labels=ids, zero_division=0)
    per_class = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)},
        index=pd.Index(classes, name="class"))
    present = np.unique(labels)
    roc_auc = float("nan")
    if len(present) == n_classes:
        if n_classes == 2:
            roc_auc = float(roc_auc_score(labels, probabilities[:, 1]))
        else:
            roc_auc = float(roc_auc_score(labels, probabilities, multi_class="ovr", average="macro", labels=ids))
    return {
        **_metrics(labels, predictions),
        "roc_auc": roc_auc,
        "confusion_matrix": confusion_matrix(labels, predictions, labels=ids).astype(np.int64),
        "per_class": per_class,
        "predictions": predictions,
        "probabilities": probabilities,
        "labels": labels.astype(np.int64),
        "classes": classes,
        "n_samples": int(len(labels)),
    }


def report_to_json(report: dict[str, Any], include_predictions: bool = False) -> dict[str, Any]:
    """A JSON-serialisable copy of an :func:`evaluate` report (NaN -> None; arrays -> lists).

    ``predictions``/``probabilities``/``labels`` are left out unless ``include_predictions``.
    """
    def plain(value: Any) -> Any:
        if isinstance(value, pd.DataFrame):
            # per cell, not iterrows (a row Series turns the int support column into floats)
            return {str(i): {str(c): plain(value.at[i, c]) for c in value.columns} for i in value.index}
        if isinstance(value, np.ndarray):
            return [plain(v) for v in value.tolist()]
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (np.integer,)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return None if not math.isfinite(float(value)) else float(value)
        return value

    skip = () if include_predictions else ("predictions", "probabilities", "labels")
    return {k: plain(v) for k, v in report.items() if k not in skip}


def save_metrics(report: dict[str, Any], path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write ``report_to_json(report)`` (plus ``extra`` entries) to ``path`` atomically as indented JSON."""
    path = Path(path)
    payload = report_to_json(report)
    if extra:
        payload.update(report_to_json(extra, include_predictions=True))
    with atomic_write(path, "w") as f:
        json.dump(payload, f, indent=2)
    return path


# =========================================================================== pipelines and the command
def default_pipelines(
    fft_size: int = 512, seed: int = 0, augment: bool = True, augmentation: nn.Module | str | Path | None = None
) -> tuple[nn.Module, nn.Module]:
    """The seed's pipelines: ``(train_transform, eval_transform)``.

    train: ``Compose([RandomApply(TimeShift(0.1), 0.5), RandomApply(AddNoise(15, 40), 0.5),
    RandomApply(AmplitudeScale(0.9, 1.1), 0.3), RandomApply(TimeStretch(0.95, 1.05), 0.3)])``, then
    ``FFTTransform(fft_size)`` and ``ToTensor()`` (without ``augment``: the spectrum only);
    eval: ``FFTTransform(fft_size)``, ``ToTensor()``. Both map ``(B, time, channel)`` to
    ``(B, fft_size // 2 + 1, channel)`` on any device.
    ``augmentation`` replaces the seed's Compose: a module, or the path of one saved with
    :func:`seiswork.save_pipeline` (the tuner of notebook 03); it is reseeded from ``seed``.
    """
    from seiswork.augment import AddNoise, AmplitudeScale, Compose, RandomApply, TimeShift, TimeStretch
    from seiswork.transforms import FFTTransform, Pipeline, ToTensor, load_pipeline

    fft_size = _check_int("fft_size", fft_size, minimum=2)
    eval_transform = Pipeline(FFTTransform(fft_size=fft_size), ToTensor())
    if not augment:
        return Pipeline(FFTTransform(fft_size=fft_size), ToTensor()), eval_transform
    if augmentation is not None:
        if not isinstance(augmentation, nn.Module):
            augmentation = load_pipeline(augmentation)
        seed_pipeline(augmentation, seed)
        return Pipeline(augmentation, FFTTransform(fft_size=fft_size), ToTensor()), eval_transform
    augmentation = Compose([
        RandomApply(TimeShift(max_shift=0.1), p=0.5),
        RandomApply(AddNoise(snr_min=15, snr_max=40), p=0.5),
        RandomApply(AmplitudeScale(0.9, 1.1), p=0.3),
        RandomApply(TimeStretch(0.95, 1.05), p=0.3),
    ], seed=seed)
    return Pipeline(augmentation, FFTTransform(fft_size=fft_size), ToTensor()), eval_transform


def _train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seiswork train",
        description="Train an LSTM classifier on 3-component events: load -> preprocess -> augment + FFT -> fit "
                    "-> test report. Writes best.pt, last.pt, history.csv and metrics.json into --out.")
    p.add_argument("--model", choices=sorted(MODELS), default="lstm", help="model name (default: lstm)")
    p.add_argument("--data", nargs="+", default=None, metavar="PATH",
                   help="event files (.pkl/.npz/...); default: the built-in synthetic data set")
    p.add_argument("--channels", default="ZNE", help="channel order, e.g. ZNE or Z (default: ZNE)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--patience", type=int, default=8, help="early-stopping patience in epochs (0: never stop)")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=2, help="attention heads (lstm_attention only)")
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--fft-size", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test-ratio", type=float, default=0.3)
    p.add_argument("--val-ratio", type=float, default=0.1)
    p.add_argument("--no-augment", action="store_true", help="train without augmentation (spectrum only)")
    p.add_argument("--no-class-weights", action="store_true", help="unweighted loss")
    p.add_argument("--amp", action="store_true", help="mixed precision (bf16 on CPU, fp16 on CUDA)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: CUDA when present)")
    p.add_argument("--out", type=Path, default=None, help="run folder (default: runs/train-<timestamp>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    p.add_argument("--overwrite", action="store_true", help="start afresh over checkpoints already in --out")
    p.add_argument("--quiet", action="store_true", help="no per-epoch output")
    return p


def train_main(argv: list[str] | None = None) -> int:
    """``python -m seiswork train ...``: the seed's ``pipelines/train_lstm.py`` as a command. Returns an exit code."""
    args = _train_parser().parse_args(argv)
    try:
        return _train(args)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"seiswork train: error: {exc}", file=sys.stderr)
        return 1


def _train(args: argparse.Namespace) -> int:
    from seiswork.io import load_events
    from seiswork.preprocess import WaveformDataAdapter

    channels = tuple(args.channels)
    out = args.out or Path("runs") / f"train-{datetime.now():%Y%m%d-%H%M%S}"
    loaded = load_events(args.data, channels=channels)
    events, labels = loaded
    meta = getattr(loaded, "meta", None)
    adapter = WaveformDataAdapter(events, labels, channels=channels, test_ratio=args.test_ratio,
                                  val_ratio=args.val_ratio, seed=args.seed, meta=meta)
    train_ds, val_ds, test_ds = (adapter.dataset(part) for part in ("train", "val", "test"))
    classes = [str(c) for c in adapter.classes]
    print(f"classes: {classes}; events train/val/test: {len(train_ds)}/{len(val_ds)}/{len(test_ds)}; "
          f"event shape (time, channel): {tuple(adapter.x.shape[1:])}")

    train_t, eval_t = default_pipelines(args.fft_size, seed=args.seed, augment=not args.no_augment)
    kwargs = {"channels": len(channels), "classes": len(classes), "hidden": args.hidden, "layers": args.layers,
              "dropout": args.dropout}
    if args.model == "lstm_attention":
        kwargs["heads"] = args.heads
    model = build_model(args.model, seed=args.seed, **kwargs)
    seq_len = args.fft_size // 2 + 1
    print(f"model input shape (seq_len, channels): ({seq_len}, {len(channels)})")
    print(model_summary(model, (1, seq_len, len(channels))))

    result = fit(
        model, train_ds, val_ds, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, train_transform=train_t, eval_transform=eval_t, device=args.device,
        seed=args.seed, patience=args.patience or None, class_weights=not args.no_class_weights,
        checkpoint_dir=out, resume=args.resume, overwrite=args.overwrite, amp=args.amp,
        progress=False if args.quiet else None)
    report = evaluate(result.model, test_ds, transform=eval_t, device=result.device, classes=classes)

    save_metrics(report, out / "metrics.json", extra={
        "model": args.model, "model_config": result.model.config, "best_epoch": result.best_epoch,
        "epochs_run": len(result.history), "stopped_early": result.stopped_early,
        "best_val_macro_f1": result.best_score, "seed": args.seed, "data": args.data,
        "n_train": len(train_ds), "n_val": len(val_ds), "n_test": len(test_ds), "fft_size": args.fft_size,
        "augment": not args.no_augment, "device": str(result.device)})
    print(f"test ({report['n_samples']} events): accuracy {report['accuracy']:.4f}, "
          f"balanced accuracy {report['balanced_accuracy']:.4f}, macro F1 {report['macro_f1']:.4f}, "
          f"ROC-AUC {report['roc_auc']:.4f}")
    print(report["per_class"].round(4).to_string())
    print(f"wrote {out / BEST}, {out / HISTORY}, {out / 'metrics.json'}")
    return 0
