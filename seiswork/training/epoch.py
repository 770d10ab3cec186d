"""One training epoch: its seeds, the optimisation steps, the validation pass and its history record.

Every epoch derives three seeds from ``(seed, epoch)`` (:func:`~seiswork.training.batches.stream_seed`): one
for the shuffling permutation, one reseeding the augmentation pipeline (``seiswork.transforms.seed_pipeline``)
and one for ``torch.manual_seed`` (dropout draws from the global torch RNG, which ``fit`` forks). Nothing
random carries over from one epoch to the next except the model and optimizer state.

Across processes (:mod:`seiswork.training.distributed`) the model runs wrapped in ``DistributedDataParallel``;
the shuffling seed is the same on every process (one global permutation that the processes share out), the
augmentation and dropout seeds also derive from the process's rank, and the epoch's training loss and metrics
and its validation predictions are gathered from all processes, so every process computes the same record
(and so takes the same early-stopping and scheduler decisions).

Weight averaging (``ema``). With ``settings.ema`` the weights that are validated, selected, checkpointed and
returned are an exponential moving average over epochs of the trained weights (the newest epoch weighs
``ema``), while the optimizer goes on from the trained weights themselves. On small sets a few batches move
a single model's validation score by points from one epoch to the next; the average is the smoother model,
and the epoch selected on a small validation part is less of a lucky draw (README, "The number to beat").
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from seiswork.training import distributed
from seiswork.training.arguments import FitSettings
from seiswork.training.batches import AUGMENT, DROPOUT, SHUFFLE, Batches, apply_transform, set_mode, stream_seed
from seiswork.training.evaluation import predict_batches
from seiswork.training.metrics import epoch_metrics
from seiswork.training.progress import Progress
from seiswork.training.runtime import cpu_runs_bf16_lstm
from seiswork.transforms import seed_pipeline

__all__ = ["Trainer"]


class Trainer:
    """The model with its loss, AdamW optimizer, learning-rate scheduler and gradient scaler for one ``fit``.

    ``weights``: the loss's class weights ``(classes,)`` (None: unweighted). ``model`` is the plain module
    (evaluated, checkpointed); ``net`` is what the training steps call: ``model`` in ``DistributedDataParallel``
    while a process group is up, else ``model`` itself.
    """

    def __init__(self, model: nn.Module, settings: FitSettings, weights: np.ndarray | None, device: torch.device,
                 train_transform: Any, eval_transform: Any) -> None:
        self.model, self.settings, self.device = model, settings, device
        self.rank = distributed.rank()
        self.net = distributed.wrap(model, device)
        self.train_transform, self.eval_transform = train_transform, eval_transform
        self.weight_t = None if weights is None else torch.tensor(weights, dtype=torch.float32, device=device)
        self.criterion = nn.CrossEntropyLoss(weight=self.weight_t)
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        self.scheduler: Any = None
        if settings.scheduler == "plateau":
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer, mode="max", factor=0.5, patience=max(1, (settings.patience or 4) // 2))
        elif settings.scheduler == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=settings.epochs)
        self.amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
        self.amp = settings.amp
        if self.amp and device.type == "cpu" and not cpu_runs_bf16_lstm():
            warnings.warn("amp=True: this CPU cannot run an LSTM in bfloat16 (oneDNN's bf16 LSTM needs AVX-512); "
                          "training in float32, as with amp=False", stacklevel=3)
            self.amp = False
        self.scaler = torch.amp.GradScaler("cuda") if self.amp and device.type == "cuda" else None
        # with ema: the trained weights and their average, which the model holds between epochs (None before
        # the first epoch)
        self.trained: dict[str, torch.Tensor] | None = None
        self.averaged: dict[str, torch.Tensor] | None = None

    def state_dicts(self) -> dict[str, Any]:
        """The optimizer, scheduler and scaler states, as a checkpoint stores them."""
        return {
            "optimizer_state": self.optimizer.state_dict(),
            "scheduler_state": None if self.scheduler is None else self.scheduler.state_dict(),
            "scaler_state": None if self.scaler is None else self.scaler.state_dict(),
            # the model's weights are the average (what load_model rebuilds); training goes on from these
            "trained_state": None if self.trained is None else {k: v.cpu() for k, v in self.trained.items()},
        }

    def load(self, ckpt: dict[str, Any]) -> None:
        """Continue from a checkpoint: model weights, optimizer, scheduler and scaler states."""
        self.model.load_state_dict(ckpt["model_state"])
        trained = ckpt.get("trained_state")
        if self.settings.ema is not None:
            state = trained if trained is not None else ckpt["model_state"]
            self.trained = {k: v.to(self.device) for k, v in state.items()}
            self.averaged = {k: v.to(self.device).clone() for k, v in ckpt["model_state"].items()}
        elif trained is not None:  # averaged before, not now: train on from the trained weights
            self.model.load_state_dict(trained)
        self.optimizer.load_state_dict(ckpt["optimizer_state"])
        if self.scheduler is not None and ckpt.get("scheduler_state") is not None:
            self.scheduler.load_state_dict(ckpt["scheduler_state"])
        if self.scaler is not None and ckpt.get("scaler_state") is not None:
            self.scaler.load_state_dict(ckpt["scaler_state"])

    def run_epoch(self, epoch: int, train: Batches, val: Batches, progress: Progress) -> dict[str, Any]:
        """Train and validate epoch ``epoch`` (0-based); returns its history record (``HISTORY_COLUMNS``)."""
        t0 = time.perf_counter()
        seed, device, rank = self.settings.seed, self.device, self.rank
        torch.manual_seed(stream_seed(seed, epoch, DROPOUT, rank))
        seed_pipeline(self.train_transform, stream_seed(seed, epoch, AUGMENT, rank))
        self.model.train()
        set_mode(self.train_transform, True)
        batches = train.epoch(stream_seed(seed, epoch, SHUFFLE))
        batches = ((apply_transform(self.train_transform, xb, device), yb) for xb, yb in batches)
        if self.trained is not None:  # the optimizer goes on from the trained weights, not their average
            self.model.load_state_dict(self.trained)
        train_loss, train_m = self._train(progress.batches(batches, len(train), epoch + 1))
        distributed.sync_buffers(self.model)
        if self.settings.ema is not None:
            self._average()

        val_logits, val_labels = predict_batches(self.model, val, self.eval_transform, device, self.amp,
                                                 self.amp_dtype)
        val_loss = float(self.criterion(torch.from_numpy(val_logits).to(device),
                                        torch.from_numpy(val_labels).to(device)))
        val_m = epoch_metrics(val_labels, val_logits.argmax(1))
        record = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            **{f"train_{k}": v for k, v in train_m.items()},
            "val_loss": val_loss,
            **{f"val_{k}": v for k, v in val_m.items()},
            "lr": float(self.optimizer.param_groups[0]["lr"]),
            "seconds": time.perf_counter() - t0,
        }
        if self.scheduler is not None:
            if self.settings.scheduler == "plateau":
                self.scheduler.step(val_m["macro_f1"])
            else:
                self.scheduler.step()
        return record

    def _average(self) -> None:
        """Keep the trained weights aside and give the model their running average (the first epoch's weights
        start it). Integer buffers (a batch norm's step count) are taken as they are."""
        alpha = self.settings.ema
        self.trained = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        if self.averaged is None:
            self.averaged = {k: v.clone() for k, v in self.trained.items()}
        else:
            with torch.no_grad():
                for k, v in self.trained.items():
                    if v.is_floating_point():
                        self.averaged[k].mul_(1.0 - alpha).add_(v, alpha=alpha)
                    else:
                        self.averaged[k].copy_(v)
        self.model.load_state_dict(self.averaged)

    def _train(self, batches: Any) -> tuple[float, dict[str, float]]:
        """The optimisation steps of one epoch: its weighted mean loss and its metrics."""
        model, optimizer, scaler, device = self.net, self.optimizer, self.scaler, self.device
        amp, grad_clip = self.amp, self.settings.grad_clip
        loss_sum = torch.zeros((), device=device)
        weight_sum = torch.zeros((), device=device)
        preds, labels = [], []
        for xb, yb in batches:
            with torch.autocast(device.type, dtype=self.amp_dtype, enabled=amp):
                logits = model(xb)
            loss = self.criterion(logits.float(), yb)
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
            w = self.weight_t[yb].sum() if self.weight_t is not None else torch.tensor(float(len(yb)), device=device)
            loss_sum += loss.detach() * w
            weight_sum += w
            preds.append(logits.detach().argmax(1))
            labels.append(yb)
        sums = distributed.all_sum(torch.stack([loss_sum, weight_sum]))
        labels_np, preds_np = torch.cat(labels).cpu().numpy(), torch.cat(preds).cpu().numpy()
        if distributed.active():  # every process took the same number of items
            sizes = [len(labels_np)] * distributed.world_size()
            labels_np, preds_np = distributed.gather_rows(labels_np, sizes), distributed.gather_rows(preds_np, sizes)
        return float(sums[0] / sums[1]), epoch_metrics(labels_np, preds_np)
