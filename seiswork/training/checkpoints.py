"""The checkpoint format: what ``fit`` writes (``best.pt``, ``last.pt``, ``history.csv``), reading it back,
rebuilding a model, and the check that a checkpoint can be resumed with a given model.

A checkpoint is a dict (``format`` = :data:`CHECKPOINT_FORMAT`) of plain values and tensors, readable with
``torch.load(weights_only=True)``: the model's class name, constructor arguments (``model_config``) and
weights, the optimizer/scheduler/scaler states, the run state (:meth:`RunState.to_checkpoint`), the class
names and ``fit``'s arguments.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from seiswork.models import MODELS, EnsembleModel
from seiswork.paths import atomic_path, atomic_write
from seiswork.training.state import RunState

__all__ = ["CHECKPOINT_FORMAT", "BEST", "LAST", "HISTORY", "CheckpointDir", "model_spec", "model_entries",
           "make_checkpoint",
           "save_checkpoint",
           "read_torch_file", "load_checkpoint", "stored_config", "check_resumable", "load_model"]

CHECKPOINT_FORMAT = "seiswork-checkpoint/1"
BEST, LAST, HISTORY = "best.pt", "last.pt", "history.csv"


def model_spec(model: nn.Module) -> tuple[str, dict[str, Any]]:
    """``(class name, constructor arguments)`` of a model, as a checkpoint stores them."""
    config = getattr(model, "config", None)
    if not isinstance(config, dict):
        raise TypeError(
            f"{type(model).__name__} has no .config dict of constructor arguments, so a checkpoint could not "
            "rebuild it; use a model from seiswork.models (or give yours a .config)")
    return type(model).__name__, dict(config)


def model_entries(model: nn.Module, spec: tuple[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """What rebuilds ``model`` (:func:`load_model` reads it): ``model_class``, ``model_config`` (its
    :func:`model_spec`, given or taken) and ``model_state`` (weights on CPU)."""
    name, config = model_spec(model) if spec is None else spec
    return {"model_class": name, "model_config": config,
            "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()}}


def make_checkpoint(spec: tuple[str, dict[str, Any]], model: nn.Module, optimisation: dict[str, Any],
                    state: RunState, classes: list[str], fit_args: dict[str, Any], seed: int) -> dict[str, Any]:
    """The checkpoint of a run after ``state.epoch`` epochs.

    ``spec``: :func:`model_spec` of ``model``; ``optimisation``: ``optimizer_state``, ``scheduler_state`` and
    ``scaler_state`` (``Trainer.state_dicts``); ``fit_args``: ``fit``'s arguments, compared on resume.
    """
    return {
        "format": CHECKPOINT_FORMAT,
        **model_entries(model, spec),
        **optimisation,
        **state.to_checkpoint(),
        "classes": classes,
        "fit_args": fit_args,
        # RNG: nothing to restore: every epoch reseeds shuffle, augmentation and dropout from
        # (seed, epoch) (seiswork.training.epoch); the torch state is kept for inspection only
        "seed": seed,
        "rng_scheme": "per-epoch reseed from (seed, epoch)",
        "torch_rng_state": torch.get_rng_state(),
    }


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write a checkpoint atomically: a crash leaves the previous file or the new one, never half of one."""
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def read_torch_file(path: str | Path, what: str = "checkpoint") -> Any:
    """The object in a file written by ``torch.save`` (tensors on CPU, no code executed: ``weights_only``).

    Raises ``FileNotFoundError``, or a ``ValueError`` that says what is wrong: an empty file, a file that is
    not a PyTorch checkpoint, a damaged one. ``what`` names the file's kind in the messages.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} not found")
    if path.stat().st_size == 0:
        raise ValueError(f"{what} {path} is empty (0 bytes): the run that wrote it was probably interrupted; "
                         f"use another {what} of the run (best.pt / last.pt) or train again")
    if not (zipfile.is_zipfile(path) or _legacy_pickle(path)):
        raise ValueError(f"{what} {path} is not a PyTorch checkpoint (neither the zip archive torch.save writes "
                         f"nor a legacy torch pickle; {path.stat().st_size} bytes); pass a file written by seiswork")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt / truncated archives
        reason = str(exc).strip() or type(exc).__name__  # some torch errors carry no message
        raise ValueError(f"{what} {path} is a damaged PyTorch checkpoint ({reason}); the run that wrote it was "
                         "probably interrupted: use another file of the run or train again") from exc


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`fit` (tensors on CPU, no code executed: ``weights_only``)."""
    ckpt = read_torch_file(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a seiswork checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    return ckpt


def _legacy_pickle(path: Path) -> bool:
    """Whether ``path`` starts like a pickle (protocol 2+), as ``torch.save(_use_new_zipfile_serialization=False)``
    writes it."""
    with open(path, "rb") as f:
        head = f.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def stored_config(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint's model constructor arguments, completed for checkpoints written before an argument existed:
    ``LSTMAttentionModel`` applied its ``dropout`` to the attention weights until ``attention_dropout`` came."""
    config = dict(ckpt["model_config"])
    if ckpt.get("model_class") == "LSTMAttentionModel" and "attention_dropout" not in config:
        config["attention_dropout"] = config.get("dropout", 0.0)
    return config


def load_model(checkpoint: str | Path | dict[str, Any]) -> nn.Module:
    """Rebuild a model from a checkpoint (its class name + constructor arguments + weights), on CPU, in eval mode.

    A dict is used as it is: a checkpoint read already, or any dict with :func:`model_entries`."""
    ckpt = checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint)
    by_name = {cls.__name__: cls for cls in (*MODELS.values(), EnsembleModel)}
    name = ckpt.get("model_class")
    if name not in by_name:
        raise ValueError(
            f"checkpoint model class {name!r} is not a registered model ({', '.join(sorted(by_name))}); "
            "register it in seiswork.models.MODELS")
    model = by_name[name](**stored_config(ckpt))
    model.load_state_dict(ckpt["model_state"])
    return model.eval()


def check_resumable(ckpt: dict[str, Any], path: Path, spec: tuple[str, dict[str, Any]], fit_args: dict[str, Any],
                    stacklevel: int = 2) -> None:
    """Raise unless ``ckpt`` holds the model of ``spec`` (:func:`model_spec`); warn about changed ``fit_args``
    (other than ``epochs``), with which the result differs from an uninterrupted run."""
    model_class, model_config = spec
    stored = stored_config(ckpt)
    if (ckpt["model_class"], stored) != (model_class, model_config):
        raise ValueError(
            f"cannot resume from {path}: it holds {ckpt['model_class']}({stored}), "
            f"the model passed is {model_class}({model_config})")
    changed = {k: (ckpt["fit_args"].get(k), v) for k, v in fit_args.items()
               if k != "epochs" and ckpt["fit_args"].get(k) != v}
    if changed:
        warnings.warn(f"resuming {path} with changed arguments (was, now): {changed}; "
                      "the result will differ from an uninterrupted run", stacklevel=stacklevel + 1)


class CheckpointDir:
    """The folder of one run's checkpoints: ``best.pt``, ``last.pt`` and ``history.csv``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.best, self.last, self.history = self.folder / BEST, self.folder / LAST, self.folder / HISTORY

    def start(self, resume: bool, overwrite: bool) -> dict[str, Any] | None:
        """The checkpoint to resume from (``last.pt`` with ``resume``), or None for a fresh start.

        A fresh start over existing checkpoints needs ``overwrite`` (which deletes them), so a finished run is
        never replaced by accident.
        """
        existing = [p for p in (self.best, self.last) if p.exists()]
        if resume and self.last.exists():
            return load_checkpoint(self.last)
        if existing and not resume and not overwrite:
            raise FileExistsError(
                f"{self.folder} already holds {', '.join(p.name for p in existing)}; pass resume=True to continue "
                "that run, overwrite=True to start afresh, or choose another checkpoint_dir")
        for p in existing:
            p.unlink()
        return None

    def best_weights(self) -> dict[str, torch.Tensor] | None:
        """The model weights in ``best.pt`` (None when there is none yet)."""
        return load_checkpoint(self.best)["model_state"] if self.best.exists() else None

    def save(self, payload: dict[str, Any], improved: bool, history: list[dict[str, Any]]) -> None:
        """Write an epoch's checkpoint as ``last.pt`` (and ``best.pt`` when it ``improved``), and the history."""
        if improved:
            save_checkpoint(self.best, payload)
        save_checkpoint(self.last, payload)
        with atomic_write(self.history, "w") as f:  # readable while training runs
            pd.DataFrame(history).to_csv(f, index=False)

    def written(self, path: Path) -> Path | None:
        """``path`` when that file exists."""
        return path if path.exists() else None
