"""The seed's pipelines (temporary home until the representation module takes them)."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from seiswork.training.arguments import check_int as _check_int
from seiswork.transforms import seed_pipeline

__all__ = ["default_pipelines"]


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
