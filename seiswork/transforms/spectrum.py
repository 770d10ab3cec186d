"""The representation modules: :class:`FFTTransform` (waveform -> magnitude spectrum) and :class:`ToTensor`."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
from torch import nn

from seiswork import functional as F

__all__ = ["FFTTransform", "ToTensor"]


class FFTTransform(nn.Module):
    """One-sided magnitude spectrum per channel: ``(time, channel) -> (fft_size // 2 + 1, channel)``.

    Also ``(batch, time, channel) -> (batch, fft_size // 2 + 1, channel)``; bins run from 0 Hz to Nyquist
    (bin ``k`` = ``k * sampling_rate / fft_size`` Hz). ``mode="welch"`` (default) averages Hann-windowed segments
    of ``fft_size`` samples with 50% overlap over the whole event; ``mode="first"`` uses only the first
    ``fft_size`` samples. Normalised so white noise of unit variance reads about 1 in every bin; ``log=True``
    returns ``log1p`` of the magnitude. Details: :func:`seiswork.functional.spectrum`. numpy in -> numpy out.
    """

    def __init__(self, fft_size: int = 512, mode: str = "welch", log: bool = False, window: str = "hann") -> None:
        super().__init__()
        if isinstance(fft_size, bool) or not isinstance(fft_size, numbers.Integral) or fft_size < 2 or fft_size % 2:
            raise ValueError(f"FFTTransform: fft_size must be a positive even integer, got {fft_size!r}")
        if mode not in F.SPECTRUM_MODES:
            raise ValueError(f"FFTTransform: mode must be one of {F.SPECTRUM_MODES}, got {mode!r}")
        if not isinstance(log, bool):
            raise TypeError(f"FFTTransform: log must be True or False, got {log!r}")
        if window not in F.WINDOWS:
            raise ValueError(f"FFTTransform: window must be one of {F.WINDOWS}, got {window!r}")
        self.fft_size, self.mode, self.log, self.window = int(fft_size), mode, log, window

    @property
    def n_bins(self) -> int:
        return self.fft_size // 2 + 1

    def get_config(self) -> dict:
        return {"fft_size": self.fft_size, "mode": self.mode, "log": self.log, "window": self.window}

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())

    def check_length(self, x: Any) -> None:
        """Raise a ValueError naming the fix when the events of ``x`` are shorter than ``fft_size``."""
        length = x.shape[-2] if hasattr(x, "shape") and len(x.shape) >= 2 else None
        if length is not None and length < self.fft_size:
            raise ValueError(
                f"FFTTransform(fft_size={self.fft_size}): events have {length} samples (input shape "
                f"{tuple(x.shape)}), fewer than fft_size; use FFTTransform(fft_size=<= {length}, even) or bring "
                f"events to >= {self.fft_size} samples (e.g. a fixed TRIMMING target length)"
            )

    def forward(self, x: Any) -> Any:
        self.check_length(x)
        return F.spectrum(x, self.fft_size, self.mode, self.log, self.window)


class ToTensor(nn.Module):
    """Any event/batch (numpy, array-like, tensor) -> float32 ``torch.Tensor`` (same shape, same device)."""

    def get_config(self) -> dict:
        return {}

    def forward(self, x: Any) -> torch.Tensor:
        if isinstance(x, torch.Tensor):
            if x.is_complex():
                raise TypeError(f"ToTensor: expected real values, got dtype {x.dtype}")
            return x if x.dtype == torch.float32 else x.to(torch.float32)
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"ToTensor: expected real numbers, got dtype {arr.dtype}")
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if not arr.flags.writeable:
            arr = arr.copy()
        return torch.from_numpy(arr)
