"""The training engine: ``fit``, ``evaluate``, checkpoints, metrics and reports; no application code.

Modules, each the home of one concern:

- :mod:`~seiswork.training.loop`: :func:`fit` (orchestration) and :class:`FitResult`.
- :mod:`~seiswork.training.members`: :func:`fit_members`, an ensemble of models trained from their own seeds.
- :mod:`~seiswork.training.epoch`: one epoch (seeds, optimisation steps, validation, history record).
- :mod:`~seiswork.training.state`: :class:`RunState`: history, best epoch, patience, early stop, resume.
- :mod:`~seiswork.training.checkpoints`: the checkpoint format, :func:`load_checkpoint`, :func:`load_model`.
- :mod:`~seiswork.training.batches`: batches on the device (fast path or DataLoader), per-epoch stream seeds.
- :mod:`~seiswork.training.metrics`: per-epoch metrics, ``HISTORY_COLUMNS``, :func:`compute_class_weights`.
- :mod:`~seiswork.training.evaluation`: :func:`predict`, :func:`evaluate`.
- :mod:`~seiswork.training.report`: the report dict, :func:`report_to_json`, :func:`save_metrics`.
- :mod:`~seiswork.training.progress`: tqdm bars, plain lines or a callback.
- :mod:`~seiswork.training.runtime`: :func:`get_device`, :func:`retain_freed_memory`, the CPU thread policy.
- :mod:`~seiswork.training.distributed`: training over ``torchrun``'s processes (DDP): process group, shares, gathers.
- :mod:`~seiswork.training.arguments`: ``fit``'s arguments checked once.
"""

from __future__ import annotations

from seiswork.training.checkpoints import BEST, CHECKPOINT_FORMAT, HISTORY, LAST, load_checkpoint, load_model
from seiswork.training.evaluation import evaluate, predict
from seiswork.training.loop import FitResult, fit
from seiswork.training.members import fit_members
from seiswork.training.metrics import HISTORY_COLUMNS, compute_class_weights
from seiswork.training.report import report_to_json, save_metrics
from seiswork.training.runtime import cpu_threads, get_device, retain_freed_memory
from seiswork.training.state import RunState

__all__ = [
    "BEST",
    "CHECKPOINT_FORMAT",
    "HISTORY",
    "HISTORY_COLUMNS",
    "LAST",
    "FitResult",
    "RunState",
    "compute_class_weights",
    "cpu_threads",
    "evaluate",
    "fit",
    "fit_members",
    "get_device",
    "load_checkpoint",
    "load_model",
    "predict",
    "report_to_json",
    "retain_freed_memory",
    "save_metrics",
]
