"""The seed's pipelines: :func:`default_augmentation` and :func:`default_pipelines`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import nn

from seiswork import defaults
from seiswork.augment import Compose, RandomApply, registered
from seiswork.transforms.pipeline import Pipeline, seed_pipeline
from seiswork.transforms.serialise import load_pipeline
from seiswork.transforms.spectrogram import SpectrogramTransform, spectrogram_size
from seiswork.transforms.spectrum import FFTTransform, ToTensor

__all__ = ["default_augmentation", "default_pipelines", "model_inputs", "REPRESENTATIONS", "INPUT_NORM",
           "INPUT_SUMMARY"]


def default_augmentation(seed: int | None = 0) -> Compose:
    """The seed's augmentation: ``RandomApply(Aug(), p=Aug.default_p)`` of every registered augmentation with a
    ``default_p``, at its declared defaults, in ``order``: ``TimeShift(0.1)`` p=0.5, ``AddNoise(15, 40)`` p=0.5,
    ``AmplitudeScale(0.9, 1.1)`` p=0.3, ``TimeStretch(0.95, 1.05)`` p=0.3."""
    return Compose([RandomApply(cls(), p=cls.default_p) for cls in registered() if cls.default_p is not None],
                   seed=seed)


REPRESENTATIONS = ("spectrum", "spectrogram")
# The models' input_norm for each representation: the spectrum's scale follows the data (a learned batch norm
# centres it); the spectrogram is already log power relative to each event's mean, and a batch norm per
# feature (bin x channel) only adds noise to it (benchmarks/bench_quality.py; numbers in the merge report).
INPUT_NORM = {"spectrum": "batch", "spectrogram": "none"}
# The models' summary for each representation: off for the seed's spectrum; on for the spectrogram, where each
# band's mean and peak log power over the window reach the classifier beside the recurrent state (3 averaged
# LSTMs, pooled out-of-fold balanced accuracy: 40 Hz stand-in Z only 0.589 -> 0.806, Z/N/E 0.815 -> 0.877,
# PhaseNet 0.952 -> 0.939; README, "The number to beat").
INPUT_SUMMARY = {"spectrum": False, "spectrogram": True}


def model_inputs(representation: str) -> dict:
    """The model arguments that suit ``representation``: ``{"input_norm": ..., "summary": ...}`` (for
    ``build_model(name, channels=..., classes=..., **model_inputs(representation))``)."""
    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
    return {"input_norm": INPUT_NORM[representation], "summary": INPUT_SUMMARY[representation]}


def default_pipelines(
    fft_size: int = 512, seed: int = 0, augment: bool = True, augmentation: nn.Module | str | Path | None = None,
    representation: str = defaults.REPRESENTATION, n_fft: int | None = None, hop: int | None = None,
    band: tuple[float, float] | None = None, sampling_rate: float | None = None,
    background: bool = defaults.SPECTROGRAM_BACKGROUND,
) -> tuple[nn.Module, nn.Module]:
    """The seed's pipelines: ``(train_transform, eval_transform)``.

    train: :func:`default_augmentation` (``Compose([RandomApply(TimeShift(0.1), 0.5), RandomApply(AddNoise(15,
    40), 0.5), RandomApply(AmplitudeScale(0.9, 1.1), 0.3), RandomApply(TimeStretch(0.95, 1.05), 0.3)])``), then
    the representation and ``ToTensor()`` (without ``augment``: the representation only); eval: the
    representation and ``ToTensor()``. ``augmentation`` replaces the seed's Compose: a module, or the path of one
    saved with :func:`seiswork.save_pipeline` (the tuner of notebook 03); it is reseeded from ``seed``.

    ``representation``:

    - ``"spectrum"``: ``FFTTransform(fft_size)``, ``(B, time, channel) -> (B, fft_size // 2 + 1,
      channel)``, read along frequency (the seed's pipelines, unchanged).
    - ``"spectrogram"`` (the default, :data:`seiswork.defaults.REPRESENTATION`): :class:`SpectrogramTransform`,
      ``(B, time, channel) -> (B, frames, bins * channel)``, read along time. ``n_fft`` and ``hop`` in samples;
      None: 2.56 s and 1 s at ``sampling_rate`` Hz, or 256 and 100 samples without one
      (:func:`seiswork.transforms.spectrogram.spectrogram_size`, which says why). ``band=(fmin, fmax)`` Hz keeps
      those bins only (needs ``sampling_rate``). ``background`` (default
      :data:`seiswork.defaults.SPECTROGRAM_BACKGROUND`) adds each bin relative to its median over the event's
      frames, ``(B, frames, 2 * bins * channel)``. A model reads it with
      ``channels=eval_transform[0].n_features(channel)`` and ``**model_inputs("spectrogram")``
      (``input_norm="none"``, ``summary=True``).

    Both run on any device; ``eval_transform(batch)`` is ``(batch, seq_len, features)`` for either.
    """
    if representation not in REPRESENTATIONS:
        raise ValueError(f"default_pipelines: representation must be one of {REPRESENTATIONS}, got {representation!r}")
    if representation == "spectrum":
        if isinstance(fft_size, bool) or not isinstance(fft_size, (int, np.integer)):
            raise TypeError(f"fft_size must be an int >= 2, got {fft_size!r} ({type(fft_size).__name__})")
        if fft_size < 2:
            raise ValueError(f"fft_size must be >= 2, got {fft_size}")
        fft_size = int(fft_size)

        def represent() -> nn.Module:
            return FFTTransform(fft_size=fft_size)
    else:
        default_n, default_hop = spectrogram_size(sampling_rate)
        n_fft = default_n if n_fft is None else n_fft
        hop = default_hop if hop is None else hop

        def represent() -> nn.Module:
            return SpectrogramTransform(n_fft=n_fft, hop=hop, band=band, sampling_rate=sampling_rate,
                                        background=background)
    eval_transform = Pipeline(represent(), ToTensor())
    if not augment:
        return Pipeline(represent(), ToTensor()), eval_transform
    if augmentation is not None:
        if not isinstance(augmentation, nn.Module):
            augmentation = load_pipeline(augmentation)
        seed_pipeline(augmentation, seed)
        return Pipeline(augmentation, represent(), ToTensor()), eval_transform
    return Pipeline(default_augmentation(seed), represent(), ToTensor()), eval_transform
