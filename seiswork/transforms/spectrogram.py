"""The time–frequency representation: :class:`SpectrogramTransform` (waveform -> log power spectrogram over time).

The LSTMs read it along time, frame by frame, so they see *when* energy arrives in each band (the P-then-S
sequence, the coda, an emergent onset), as in Linville et al. (2019, GRL), where an LSTM reads a log
spectrogram of three components along time.

Default window and hop (:func:`spectrogram_size`): a Hann window of ``WINDOW_S`` = 2.56 s and a hop of
``HOP_S`` = 1 s. Why these: 2.56 s resolves 0.4 Hz, enough to separate the 1–20 Hz bands that carry the
seismological discriminants while being short against a P–S interval or a coda; a 1 s hop gives one frame per
second, i.e. tens of frames for windows of 15 s to a few minutes (a short sequence an LSTM carries its state
through, instead of the 257 frequency steps of the spectrum). Without a sampling rate the sizes are in samples:
256 and 100 (the same at 100 Hz).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch
from torch import nn

from seiswork import functional as F
from seiswork import kernels

__all__ = ["SpectrogramTransform", "spectrogram_size", "WINDOW_S", "HOP_S", "N_FFT", "HOP"]

WINDOW_S = 2.56  # default window, seconds (when the sampling rate is known)
HOP_S = 1.0  # default hop, seconds
N_FFT = 256  # default window, samples (no sampling rate)
HOP = 100  # default hop, samples


def spectrogram_size(sampling_rate: float | None = None, window_s: float = WINDOW_S,
                     hop_s: float = HOP_S) -> tuple[int, int]:
    """``(n_fft, hop)`` in samples: ``window_s`` and ``hop_s`` seconds at ``sampling_rate`` Hz (rounded, at least
    2 and 1 samples), or ``(N_FFT, HOP)`` without a sampling rate."""
    if sampling_rate is None:
        return N_FFT, HOP
    sr = _positive("sampling_rate", sampling_rate)
    return max(2, round(_positive("window_s", window_s) * sr)), max(1, round(_positive("hop_s", hop_s) * sr))


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"SpectrogramTransform: {name} must be a positive number, got {value!r}")
    return float(value)


def _count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"SpectrogramTransform: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class SpectrogramTransform(nn.Module):
    """Log power spectrogram per channel, read along time: ``(time, channel) -> (frames, bins * channel)``, or
    ``(frames, 2 * bins * channel)`` with ``background=True``.

    Also ``(batch, time, channel) -> (batch, frames, bins * channel)``; numpy in -> numpy out, a tensor stays on
    its device. Frame ``j`` covers samples ``[j * hop, j * hop + n_fft)`` (its centre is at
    ``(j * hop + n_fft / 2) / sampling_rate`` s); ``frames = (time - n_fft) // hop + 1`` (samples after the last
    full frame are not used). Bin ``k`` is ``k * sampling_rate / n_fft`` Hz; with ``band=(fmin, fmax)`` Hz only
    the bins with ``fmin <= f <= fmax`` are kept (needs ``sampling_rate``). Features are channel-major: feature
    ``c * bins + k`` is bin ``k`` of channel ``c``; with ``background=True`` feature ``bins * channel + c * bins
    + k`` is the same bin relative to its background (below). On CPU tensors a compiled kernel computes it
    (:func:`seiswork.kernels.spectrogram`), equal to the torch path (CUDA, ``SEISWORK_KERNELS=0``) to float
    rounding.

    Values: ``log10(power / mean_power + eps)``: the log power ``|rfft(hann * frame)|**2`` relative to the event's
    own mean power (over all its frames, kept bins and channels); white noise reads about 0 in every bin. Why:

    - log10 of the power, not ``log1p``: seismic band powers span many decades; the log keeps relative contrast
      at every level (a factor 10 is one unit whether in the quiet noise or in the S wave), while ``log1p`` is
      linear below 1 and erases the quiet bands.
    - relative to the event's mean power: the values do not depend on the units or the gain (counts, m/s,
      z-scored), only on how energy is distributed over time, frequency and components, so the models read it
      without a learned input normalisation (``input_norm="none"``, see
      :data:`seiswork.transforms.defaults.INPUT_NORM`); ``eps`` floors silent frames (zero padding, a dead
      channel) at ``log10(eps)`` below the mean.
    - ``background=True`` adds each bin's log power relative to its own median over the event's frames (the
      band's background level while no wave passes): a signal-to-noise ratio per band and frame. Relative to
      the mean power alone, a window dominated by microseisms below 1 Hz holds a local event's 4–16 Hz onset
      10–30 dB under the mean, where it is easily missed; against the band's own background it stands out
      as it does on a seismologist's filtered trace. The median, not the mean, so that an event filling up
      to half the window does not raise its own reference (of an even number of frames, the lower middle one).

    Args:
        n_fft: window length in samples (Hann window); the bins are ``n_fft // 2 + 1`` from 0 Hz to Nyquist.
        hop: samples between frame starts.
        band: ``(fmin, fmax)`` in Hz, or None for all bins.
        sampling_rate: Hz; needed for ``band`` only (the transform itself works in samples).
        eps: floor relative to the event's mean power, > 0 (the default 1e-6: 60 dB below it).
        background: also give each bin relative to its median over the frames (the features double). False
            here, so that a transform saved before this option existed reads the same; the pipelines'
            default is :data:`seiswork.defaults.SPECTROGRAM_BACKGROUND`.
    """

    def __init__(self, n_fft: int = N_FFT, hop: int = HOP, band: tuple[float, float] | None = None,
                 sampling_rate: float | None = None, eps: float = 1e-6, background: bool = False) -> None:
        super().__init__()
        if not isinstance(background, (bool, np.bool_)):
            raise ValueError(f"SpectrogramTransform: background must be True or False, got {background!r}")
        self.background = bool(background)
        self.n_fft, self.hop = _count("n_fft", n_fft, 2), _count("hop", hop, 1)
        self.sampling_rate = None if sampling_rate is None else _positive("sampling_rate", sampling_rate)
        self.eps = _positive("eps", eps)
        self.band: tuple[float, float] | None = None
        lo, hi = 0, self.n_fft // 2 + 1
        if band is not None:
            if self.sampling_rate is None:
                raise ValueError(
                    f"SpectrogramTransform: band={band!r} is in Hz and needs the sampling rate; pass "
                    f"sampling_rate=<Hz> (e.g. the events' rate) or band=None")
            if not (isinstance(band, (tuple, list)) and len(band) == 2):
                raise ValueError(f"SpectrogramTransform: band must be (fmin, fmax) in Hz, got {band!r}")
            fmin, fmax = float(band[0]), float(band[1])
            nyquist = self.sampling_rate / 2
            if not (0 <= fmin < fmax):
                raise ValueError(f"SpectrogramTransform: band=(fmin, fmax) needs 0 <= fmin < fmax, got {band!r}")
            df = self.sampling_rate / self.n_fft
            lo, hi = int(np.ceil(fmin / df - 1e-9)), min(hi, int(np.floor(fmax / df + 1e-9)) + 1)
            if lo >= hi:
                raise ValueError(
                    f"SpectrogramTransform: band={band!r} Hz holds no frequency bin (bins every {df:g} Hz up to "
                    f"the Nyquist frequency {nyquist:g} Hz at n_fft={self.n_fft}); widen the band or raise n_fft")
            self.band = (fmin, fmax)
        self.bin_lo, self.bin_hi = lo, hi

    @property
    def n_bins(self) -> int:
        """Frequency bins per channel (after the band)."""
        return self.bin_hi - self.bin_lo

    def frequencies(self) -> np.ndarray:
        """The kept bins' frequencies in Hz ``(n_bins,)`` (needs ``sampling_rate``)."""
        if self.sampling_rate is None:
            raise ValueError("SpectrogramTransform.frequencies: needs sampling_rate=<Hz>")
        return np.arange(self.bin_lo, self.bin_hi) * self.sampling_rate / self.n_fft

    def n_frames(self, length: int) -> int:
        """Frames of an event of ``length`` samples."""
        return (int(length) - self.n_fft) // self.hop + 1

    def n_features(self, channels: int) -> int:
        """Features per frame for ``channels`` channels: the ``channels=`` of a model that reads this."""
        return self.n_bins * int(channels) * (2 if self.background else 1)

    def get_config(self) -> dict:
        return {"n_fft": self.n_fft, "hop": self.hop, "band": None if self.band is None else list(self.band),
                "sampling_rate": self.sampling_rate, "eps": self.eps, "background": self.background}

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())

    def check_length(self, x: Any) -> None:
        """Raise a ValueError naming the fix when the events of ``x`` are shorter than one window."""
        length = x.shape[-2] if hasattr(x, "shape") and len(x.shape) >= 2 else None
        if length is not None and length < self.n_fft:
            raise ValueError(
                f"SpectrogramTransform(n_fft={self.n_fft}): events have {length} samples (input shape "
                f"{tuple(x.shape)}), fewer than one window of n_fft={self.n_fft}; use n_fft <= {length} (a shorter "
                f"window) or bring events to >= {self.n_fft} samples")

    def forward(self, x: Any) -> Any:
        self.check_length(x)
        xb, restore = F.as_batch(x, "SpectrogramTransform")
        return restore(self._batch(xb))

    def _batch(self, xb: torch.Tensor) -> torch.Tensor:
        """``(B, time, channel)`` float32 -> ``(B, frames, bins * channel)`` (twice that with ``background``),
        contiguous. The compiled kernel on the CPU (:func:`seiswork.kernels.spectrogram`), else torch."""
        if kernels.use_kernels(xb) and not xb.requires_grad:
            return kernels.spectrogram(xb, self.n_fft, self.hop, self.bin_lo, self.bin_hi, self.eps, self.background)
        b, _, c = xb.shape
        w = torch.hann_window(self.n_fft, periodic=True, dtype=xb.dtype, device=xb.device)
        frames = xb.transpose(1, 2).unfold(-1, self.n_fft, self.hop)  # (B, C, frames, n_fft), a view
        spec = torch.fft.rfft(frames * w, dim=-1)[..., self.bin_lo:self.bin_hi]
        # |z|**2 from the (re, im) pairs: cheaper than complex abs (no square root) and vectorised
        power = torch.view_as_real(spec).square().sum(-1)  # (B, C, frames, bins); its scale cancels below
        mean = power.mean(dim=(1, 2, 3), keepdim=True).clamp_min_(torch.finfo(xb.dtype).tiny)  # 0 for a silent event
        out = power.div_(mean).add_(self.eps).log10_()
        out = out.permute(0, 2, 1, 3).reshape(b, out.shape[2], c * self.n_bins)
        if not self.background:
            return out
        return torch.cat([out, out - out.median(dim=1, keepdim=True).values], dim=2)
