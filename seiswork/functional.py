"""Pure maths for augmentation and spectra: no settings, no randomness.

Every function takes one event ``(time, channel)`` or a batch ``(batch, time, channel)``, as a numpy array
or a torch tensor on any device, and returns the same kind (numpy in -> numpy out, tensor in -> tensor out
on the same device) as float32. Results of the waveform functions are transposed views of channel-first memory
(not contiguous; call ``.contiguous()``/``np.ascontiguousarray`` if you need that). Per-event parameters are a scalar (the same for every event) or a
sequence/array/tensor of length ``batch``. Inputs are never modified.

The modules in :mod:`seiswork.augment` and :mod:`seiswork.transforms` draw the random parameters and
call these functions (the torchaudio ``functional``/``transforms`` split). :mod:`seiswork.kernels` holds compiled
CPU versions of the same maths (a whole augmentation draw per event, the spectrum in chunks) and decides which
path a batch takes (:func:`seiswork.kernels.use_kernels`); tests/test_kernels.py keeps the two equal.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Union

import numpy as np
import torch

from seiswork import kernels

Array = Union[np.ndarray, torch.Tensor]
PerEvent = Union[float, int, np.ndarray, torch.Tensor, list, tuple]

PAD_MODES = ("reflect", "edge", "zeros")
SPECTRUM_MODES = ("welch", "first")
WINDOWS = ("hann", "boxcar")

__all__ = [
    "as_batch",
    "channel_first",
    "time_channel",
    "time_shift",
    "add_noise",
    "amplitude_scale",
    "time_stretch",
    "spectrum",
    "batch_spectrum",
    "PAD_MODES",
    "SPECTRUM_MODES",
    "WINDOWS",
]


def as_batch(x: Any, name: str = "x") -> tuple[torch.Tensor, Callable[[torch.Tensor], Array]]:
    """Bring an event or a batch to a float32 tensor ``(batch, time, channel)``.

    Returns the tensor and a function that turns a result back into the caller's kind: a numpy input gives
    numpy back, a single event ``(time, channel)`` loses the batch dimension again. Float32 inputs are
    shared, not copied (nothing here writes into them).
    """
    was_numpy = not isinstance(x, torch.Tensor)
    if was_numpy:
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name}: expected real numbers, got dtype {arr.dtype}; convert the data to float32 first")
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if not arr.flags.writeable:  # torch.from_numpy warns on read-only arrays; a copy is cheap
            arr = arr.copy()
        t = torch.from_numpy(arr)
    else:
        if x.is_complex():
            raise TypeError(f"{name}: expected a real tensor, got dtype {x.dtype}")
        t = x if x.dtype == torch.float32 else x.to(torch.float32)
    if t.ndim not in (2, 3):
        raise ValueError(
            f"{name}: expected one event (time, channel) or a batch (batch, time, channel), got shape "
            f"{tuple(t.shape)}; a single channel needs an explicit channel axis, e.g. x[:, None]"
        )
    single = t.ndim == 2
    if single:
        t = t.unsqueeze(0)
    if t.shape[1] == 0 or t.shape[2] == 0:
        raise ValueError(f"{name}: empty event (time={t.shape[1]}, channel={t.shape[2]}); events need samples")

    def restore(y: torch.Tensor) -> Array:
        if single:
            y = y.squeeze(0)
        return y.numpy() if was_numpy else y

    return t, restore


def _per_event(value: PerEvent, batch: int, name: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A per-event parameter as a tensor ``(batch,)``: a scalar is repeated, a sequence must have length ``batch``."""
    t = torch.as_tensor(np.asarray(value) if isinstance(value, (list, tuple)) else value)
    if dtype == torch.int64 and t.is_floating_point():
        if not bool(torch.all(t == torch.round(t))):
            raise ValueError(f"{name}: expected whole numbers of samples, got {t.tolist()}")
    t = t.to(device=device, dtype=dtype)
    if t.ndim == 0:
        return t.expand(batch)
    if t.ndim != 1 or t.shape[0] != batch:
        raise ValueError(f"{name}: expected a scalar or one value per event ({batch}), got shape {tuple(t.shape)}")
    return t


def channel_first(xb: torch.Tensor) -> torch.Tensor:
    """``(batch, time, channel)`` -> channel-first ``(batch, channel, time)``, contiguous.

    The work is done channel-first: time is then the contiguous axis, so per-time gathers, interpolation
    weights and FFT frames vectorise (with 3 channels innermost they do not). Free when ``xb`` is already a
    transposed view of channel-first memory, which is what every function here returns.
    """
    return xb.transpose(1, 2).contiguous()


def time_channel(yc: torch.Tensor) -> torch.Tensor:
    """Channel-first result -> ``(batch, time, channel)`` view (no copy; not contiguous)."""
    return yc.transpose(1, 2)


def _gather_time(xc: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``out[b, c, j] = xc[b, c, idx[b, j]]`` for channel-first ``xc`` and ``idx`` of shape ``(batch, time)``."""
    b, c, _ = xc.shape
    return torch.gather(xc, 2, idx[:, None, :].expand(b, c, idx.shape[1]))


def time_shift(x: Array, shift_samples: PerEvent) -> Array:
    """Circular shift along time by ``shift_samples`` (int, or one int per event).

    Positive shifts move the signal later in time, as ``np.roll(x, k, axis=0)`` does for one event; samples
    pushed past the end wrap around to the start. Shape ``(time, channel)`` or ``(batch, time, channel)``.
    """
    xb, restore = as_batch(x)
    b, t, _ = xb.shape
    shift = torch.remainder(_per_event(shift_samples, b, "shift_samples", torch.int64, xb.device), t)
    # out[:, j] = x[:, (j - k) mod t]: one gather handles a different k per event
    idx = torch.arange(t, device=xb.device)[None, :] - shift[:, None]
    idx = torch.where(idx < 0, idx + t, idx)
    return restore(time_channel(_gather_time(channel_first(xb), idx)))


def _power(xc: torch.Tensor) -> torch.Tensor:
    """Mean square per event over channel and time, ``(batch,)``."""
    flat = xc.reshape(xc.shape[0], -1)
    return torch.linalg.vector_norm(flat, dim=1).square() / max(flat.shape[1], 1)


def add_noise(x: Array, noise: Array, snr_db: PerEvent) -> Array:
    """Add ``noise`` scaled so the signal-to-noise ratio of each event is ``snr_db`` decibels.

    The caller draws ``noise`` (same shape as ``x``; unit Gaussian noise in practice). Power is the mean square
    over the whole event, **joint over all channels**: ``P = mean(x**2)`` over time and channel, and the noise
    is scaled so that ``10 * log10(P_signal / P_added_noise) == snr_db`` exactly for each event (the actual power
    of the given noise is used, not its expected power, as torchaudio does). One scale per event keeps the
    noise level equal on all components, as for a real sensor; after per-channel z-scoring it is the same as
    per-channel SNR. An all-zero event gets no noise (its SNR is undefined).
    """
    xb, restore = as_batch(x)
    nb, _ = as_batch(noise, "noise")
    if nb.shape != xb.shape:
        raise ValueError(f"add_noise: noise shape {tuple(nb.shape)} must equal the signal shape {tuple(xb.shape)}")
    xc, nc = channel_first(xb), channel_first(nb.to(xb.device))
    snr = _per_event(snr_db, xb.shape[0], "snr_db", torch.float32, xb.device)
    p_noise = _power(nc).clamp_min(torch.finfo(torch.float32).tiny)
    scale = torch.sqrt(_power(xc) / (p_noise * torch.pow(10.0, snr / 10.0)))
    return restore(time_channel(torch.addcmul(xc, nc, scale[:, None, None])))


def amplitude_scale(x: Array, scale: PerEvent) -> Array:
    """Multiply each event by ``scale`` (a scalar or one factor per event)."""
    xb, restore = as_batch(x)
    s = _per_event(scale, xb.shape[0], "scale", torch.float32, xb.device)
    return restore(time_channel(channel_first(xb) * s[:, None, None]))


def time_stretch(x: Array, rate: PerEvent, pad_mode: str = "reflect") -> Array:
    """Stretch the time axis by ``rate`` (a scalar or one rate per event), keeping the length.

    ``y[j] = x(j / rate)`` by linear interpolation: ``rate > 1`` slows the event down (a 10 Hz tone comes out at
    ``10 / rate`` Hz) and the part beyond the original length is cropped; ``rate < 1`` speeds it up and the end is
    padded. The start of the event (sample 0) stays in place. ``pad_mode``: ``"reflect"`` (default: mirror the
    stretched signal at its last sample, so there is no jump and the tail keeps the event's texture),
    ``"edge"`` (repeat the last sample) or ``"zeros"``. No anti-alias filter is applied: meant for rates near 1.
    """
    if pad_mode not in PAD_MODES:
        raise ValueError(f"time_stretch: pad_mode must be one of {PAD_MODES}, got {pad_mode!r}")
    xb, restore = as_batch(x)
    b, t, c = xb.shape
    r = _per_event(rate, b, "rate", torch.float32, xb.device)
    if not bool(torch.all(torch.isfinite(r) & (r > 0))):
        raise ValueError(f"time_stretch: rate must be finite and > 0, got {r.tolist()}")
    xc = channel_first(xb)
    if t == 1:
        return restore(time_channel(xc.clone()))
    last = t - 1
    pos = torch.arange(t, device=xb.device, dtype=torch.float32)[None, :] / r[:, None]  # (batch, time)
    outside = pos > last
    if pad_mode == "reflect":
        period = 2 * last  # mirror about the last sample, repeatedly for very small rates
        if bool((r < 0.5).any()):  # positions beyond one period: fold them back first
            pos = torch.remainder(pos, period)
        pos = torch.minimum(pos, period - pos)
    else:
        pos = pos.clamp(max=last)
    i0 = pos.to(torch.int64).clamp_(max=last - 1)  # pos >= 0, so truncation is floor
    w = (pos - i0)[:, None, :]
    # the right neighbour is read through the view x[..., 1:] at the same index (no second index tensor);
    # lerp is exact at w == 0 and w == 1, so rate 1 is the identity
    y = torch.lerp(_gather_time(xc, i0), _gather_time(xc[..., 1:], i0), w)
    if pad_mode == "zeros":
        y = y.masked_fill(outside[:, None, :], 0.0)
    return restore(time_channel(y))


@functools.lru_cache(maxsize=32)
def _window(name: str, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The window and ``sqrt(sum(w**2))``; cached (read only) because building them costs more than a small FFT."""
    if name == "hann":
        w = torch.hann_window(n, periodic=True, dtype=torch.float32, device=device)
    else:
        w = torch.ones(n, dtype=torch.float32, device=device)
    return w, w.square().sum().sqrt()


def _power_spectrum(frames: torch.Tensor) -> torch.Tensor:
    """``sum over segments of |rfft(frame)|**2``: ``(..., segments, n) -> (..., n // 2 + 1)``.

    Squares the interleaved real/imaginary parts in one contiguous pass and sums segments before adding the
    two parts: ``abs()`` and reductions over the size-2 real/imaginary axis are several times slower on the CPU.
    """
    sq = torch.view_as_real(torch.fft.rfft(frames, dim=-1)).square_()
    s = sq.sum(dim=-3)
    return s[..., 0] + s[..., 1]


def _segments(t: int, fft_size: int, mode: str) -> tuple[int, bool]:
    """``(count, tail)``: ``count`` segments every ``fft_size // 2`` samples, plus one ending at the last sample
    (``tail``) when the hop missed it (welch); mode "first": one segment."""
    if mode == "first":
        return 1, False
    count = (t - fft_size) // (fft_size // 2) + 1
    return count, (count - 1) * (fft_size // 2) + fft_size < t


def spectrum(
    x: Array, fft_size: int = 512, mode: str = "welch", log: bool = False, window: str = "hann"
) -> Array:
    """One-sided magnitude spectrum, ``fft_size // 2 + 1`` bins from 0 Hz to Nyquist, per channel.

    Shape ``(time, channel) -> (fft_size // 2 + 1, channel)`` or ``(batch, time, channel) -> (batch, bins, channel)``
    (contiguous); bin ``k`` is ``k * sampling_rate / fft_size`` Hz.

    ``mode="welch"`` (default) uses the whole event: segments of ``fft_size`` samples with 50% overlap (plus one
    segment aligned to the end when the hop does not land there, so every sample counts), each multiplied by the
    window; the result is the root of the mean power over segments. ``mode="first"`` uses only the first
    ``fft_size`` samples (the seed's naive choice; drops the rest of the event).

    Normalisation: ``|rfft(w * segment)| / sqrt(sum(w**2))``, RMS-averaged over segments. White noise of variance
    ``s**2`` then reads ``s`` in every bin on average, whatever ``fft_size`` and window, so z-scored events give
    values of order 1. The square equals ``scipy.signal.welch(..., fs=1, scaling="density",
    return_onesided=False, detrend=False)`` on its first ``fft_size // 2 + 1`` bins; with ``window="boxcar"`` and
    ``mode="first"`` it is ``abs(np.fft.rfft(x[:fft_size], norm="ortho"))``.
    ``log=True`` returns ``log1p(magnitude)`` (amplitude compression).
    On the CPU the same maths runs in :func:`seiswork.kernels.spectrum` (cache-sized chunks of events, split
    over the cores): see :func:`batch_spectrum`.
    """
    if mode not in SPECTRUM_MODES:
        raise ValueError(f"spectrum: mode must be one of {SPECTRUM_MODES}, got {mode!r}")
    if window not in WINDOWS:
        raise ValueError(f"spectrum: window must be one of {WINDOWS}, got {window!r}")
    if isinstance(fft_size, bool) or not isinstance(fft_size, (int, np.integer)) or fft_size < 2 or fft_size % 2:
        raise ValueError(f"spectrum: fft_size must be a positive even integer, got {fft_size!r}")
    fft_size = int(fft_size)
    xb, restore = as_batch(x)
    b, t, c = xb.shape
    if t < fft_size:
        raise ValueError(
            f"spectrum: fft_size={fft_size} needs events of at least {fft_size} samples, got {t} "
            f"(input shape {tuple(xb.shape)}); use a smaller fft_size or longer events"
        )
    return restore(batch_spectrum(xb, fft_size, mode, log, window))


def batch_spectrum(
    xb: torch.Tensor, fft_size: int, mode: str, log: bool, window: str, program: kernels.Program | None = None
) -> torch.Tensor:
    """:func:`spectrum` of a float32 batch ``(batch, time, channel)`` whose arguments are already checked.

    The kernel path on the CPU (:func:`seiswork.kernels.use_kernels`), else torch. ``program``: an augmentation
    draw (:func:`seiswork.augment.backend.program`) applied to each chunk of events first, kernel path only
    (``seiswork.transforms.Pipeline``'s one pass).
    """
    b, t, c = xb.shape
    w, w_norm = _window(window, fft_size, xb.device)
    hop = fft_size // 2
    count, tail = _segments(t, fft_size, mode)
    if kernels.use_kernels(xb):
        starts = [k * hop for k in range(count)] + [t - fft_size] * tail
        return kernels.spectrum(xb, w, float(w_norm), starts, log, program)
    if program:
        raise ValueError("batch_spectrum: an augmentation program runs on the kernel path only (CPU tensors)")
    if mode == "first":
        frames = torch.mul(channel_first(xb[:, :fft_size])[..., None, :], w)
    else:
        sig = channel_first(xb)  # frames are cut along the contiguous time axis
        regular = sig.unfold(-1, fft_size, hop)  # (batch, channel, count, fft_size), a view
        # windowed segments written straight into one buffer: a single FFT call over all of them
        frames = sig.new_empty((b, c, count + tail, fft_size))
        torch.mul(regular, w, out=frames[:, :, :count])
        if tail:
            torch.mul(sig[..., t - fft_size :], w, out=frames[:, :, -1])
    power = _power_spectrum(frames) / frames.shape[-2]
    mag = torch.sqrt(power) / w_norm
    if log:
        mag = torch.log1p(mag)
    return mag.transpose(1, 2).contiguous()
