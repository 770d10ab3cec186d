"""Containers: :class:`RandomApply` (a coin per event) and :class:`Compose` (a sequence sharing one stream)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch import nn

from seiswork import functional as F
from seiswork.augment.base import Augmentation, Params, event_index
from seiswork.augment.params import Param

__all__ = ["RandomApply", "Compose"]


class RandomApply(Augmentation):
    """Apply ``aug`` to each event with probability ``p`` (an independent coin per event).

    Params: ``{"apply": bool (batch,), "params": aug's params for the applied events only, in batch order}``;
    only the applied events are drawn for and computed. Shares its generator with ``aug``.
    """

    params = (Param("p", 0.5, low=0.0, high=1.0, doc="probability that an event is augmented"),)

    def __init__(self, aug: Augmentation, p: float = params[0].default, seed: Optional[int] = None) -> None:
        if not isinstance(aug, Augmentation):
            raise TypeError(
                f"RandomApply: aug must be a seiswork augmentation (TimeShift, AddNoise, ..., Compose), "
                f"got {type(aug).__name__}"
            )
        super().__init__(p, seed)
        self.aug = aug
        aug._share_generator(self._generator)

    def _children_aug(self):
        return [self.aug]

    def _draw(self, batch, length, channels, device):
        apply = torch.rand(batch, generator=self._generator) < self.p
        inner = self.aug.draw(int(apply.sum()), length, device, channels=channels)
        return {"apply": apply.to(device), "params": inner}

    def _apply_params(self, x, params, owned: bool = False):
        idx = params["apply"].nonzero().squeeze(1)
        if idx.numel() == 0 or not params["params"]:
            return x
        if idx.numel() == x.shape[0]:
            return self.aug.run_torch(x, params["params"], owned)
        # only the chosen events are computed, channel-first (free on functional's outputs)
        xc = F.channel_first(x)
        owned = owned or xc.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()  # a copy: ours
        y = F.channel_first(self.aug.run_torch(F.time_channel(xc.index_select(0, idx)), params["params"], owned=True))
        if owned:
            return F.time_channel(xc.index_copy_(0, idx, y))
        return F.time_channel(xc.index_copy(0, idx, y))  # out of place: the caller's x is kept

    def _apply_owned(self, x, params):
        return self._apply_params(x, params, owned=True)

    def kernel_children(self, params: Params, rows: np.ndarray) -> list[tuple[Any, Params, np.ndarray]]:
        """The child and the events whose coin came up (:mod:`seiswork.augment.backend`)."""
        return [(self.aug, params["params"], rows[params["apply"].numpy()])]

    def select_params(self, params, index):
        idx = event_index(index).to(params["apply"].device)
        apply = params["apply"]
        rank = torch.cumsum(apply.long(), 0) - 1  # position of each applied event among the applied ones
        chosen = apply[idx]
        inner = params["params"]
        if inner:
            inner = self.aug.select_params(inner, rank[idx][chosen])
        return {"apply": chosen, "params": inner}


class Compose(Augmentation):
    """Apply augmentations in order; owns one generator that every module inside draws from.

    ``Compose([...], seed=s)`` makes the whole pipeline reproducible; ``reseed(s)`` restarts it.
    Params: ``{"transforms": [params of each child]}``.
    """

    def __init__(self, transforms: Sequence[Augmentation], seed: Optional[int] = None) -> None:
        if isinstance(transforms, (Augmentation, nn.Module)) or not isinstance(transforms, (list, tuple)):
            raise TypeError(f"Compose: transforms must be a list of augmentations, got {type(transforms).__name__}")
        for i, t in enumerate(transforms):
            if not isinstance(t, Augmentation):
                raise TypeError(
                    f"Compose: transforms[{i}] must be a seiswork augmentation (TimeShift, AddNoise, AmplitudeScale, "
                    f"TimeStretch, RandomApply, Compose), got {type(t).__name__}; put FFTTransform/ToTensor after "
                    "the Compose in an nn.Sequential"
                )
        super().__init__(seed)
        self.transforms = nn.ModuleList(transforms)
        for t in self.transforms:
            t._share_generator(self._generator)

    def _children_aug(self):
        return list(self.transforms)

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, i: int) -> Augmentation:
        return self.transforms[i]

    def _draw(self, batch, length, channels, device):
        return {"transforms": [t.draw(batch, length, device, channels=channels) for t in self.transforms]}

    def _apply_params(self, x, params, owned: bool = False):
        for t, p in zip(self.transforms, params["transforms"]):
            y = t.run_torch(x, p, owned)
            # every step returns either its input or fresh memory: once fresh, later steps may write into it
            owned = owned or y is not x
            x = y
        return x

    def _apply_owned(self, x, params):
        return self._apply_params(x, params, owned=True)

    def kernel_children(self, params: Params, rows: np.ndarray) -> list[tuple[Any, Params, np.ndarray]]:
        """Every child, on the same events (:mod:`seiswork.augment.backend`)."""
        return [(t, p, rows) for t, p in zip(self.transforms, params["transforms"])]

    def select_params(self, params, index):
        return {"transforms": [t.select_params(p, index) if p else p for t, p in zip(self.transforms, params["transforms"])]}
