"""The seed's pipelines: :func:`default_augmentation` and :func:`default_pipelines`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import nn

from seiswork.augment import Compose, RandomApply, registered
from seiswork.transforms.pipeline import Pipeline, seed_pipeline
from seiswork.transforms.serialise import load_pipeline
from seiswork.transforms.spectrum import FFTTransform, ToTensor

__all__ = ["default_augmentation", "default_pipelines"]


def default_augmentation(seed: int | None = 0) -> Compose:
    """The seed's augmentation: ``RandomApply(Aug(), p=Aug.default_p)`` of every registered augmentation with a
    ``default_p``, at its declared defaults, in ``order``: ``TimeShift(0.1)`` p=0.5, ``AddNoise(15, 40)`` p=0.5,
    ``AmplitudeScale(0.9, 1.1)`` p=0.3, ``TimeStretch(0.95, 1.05)`` p=0.3."""
    return Compose([RandomApply(cls(), p=cls.default_p) for cls in registered() if cls.default_p is not None],
                   seed=seed)


def default_pipelines(
    fft_size: int = 512, seed: int = 0, augment: bool = True, augmentation: nn.Module | str | Path | None = None
) -> tuple[nn.Module, nn.Module]:
    """The seed's pipelines: ``(train_transform, eval_transform)``.

    train: :func:`default_augmentation` (``Compose([RandomApply(TimeShift(0.1), 0.5), RandomApply(AddNoise(15,
    40), 0.5), RandomApply(AmplitudeScale(0.9, 1.1), 0.3), RandomApply(TimeStretch(0.95, 1.05), 0.3)])``), then
    ``FFTTransform(fft_size)`` and ``ToTensor()`` (without ``augment``: the spectrum only);
    eval: ``FFTTransform(fft_size)``, ``ToTensor()``. Both map ``(B, time, channel)`` to
    ``(B, fft_size // 2 + 1, channel)`` on any device.
    ``augmentation`` replaces the seed's Compose: a module, or the path of one saved with
    :func:`seiswork.save_pipeline` (the tuner of notebook 03); it is reseeded from ``seed``.
    """
    if isinstance(fft_size, bool) or not isinstance(fft_size, (int, np.integer)):
        raise TypeError(f"fft_size must be an int >= 2, got {fft_size!r} ({type(fft_size).__name__})")
    if fft_size < 2:
        raise ValueError(f"fft_size must be >= 2, got {fft_size}")
    fft_size = int(fft_size)
    eval_transform = Pipeline(FFTTransform(fft_size=fft_size), ToTensor())
    if not augment:
        return Pipeline(FFTTransform(fft_size=fft_size), ToTensor()), eval_transform
    if augmentation is not None:
        if not isinstance(augmentation, nn.Module):
            augmentation = load_pipeline(augmentation)
        seed_pipeline(augmentation, seed)
        return Pipeline(augmentation, FFTTransform(fft_size=fft_size), ToTensor()), eval_transform
    return Pipeline(default_augmentation(seed), FFTTransform(fft_size=fft_size), ToTensor()), eval_transform
