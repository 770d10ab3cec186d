"""seiswork.functional: exact maths on numpy and torch, one event or a batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from seiswork import functional as F

FS = 100.0  # Hz, for the tone tests


def tone(freq: float, n: int, channels: int = 3, fs: float = FS) -> np.ndarray:
    t = np.arange(n) / fs
    return np.stack([np.sin(2 * np.pi * freq * t + ph) for ph in np.linspace(0, 1, channels)], axis=1).astype(np.float32)


def peak_freq(x: np.ndarray, fs: float = FS, nfft: int = 2**18) -> float:
    """Peak of a long zero-padded, Hann-windowed FFT of one channel: resolution fs / nfft."""
    w = np.hanning(len(x))
    spec = np.abs(np.fft.rfft(x * w, n=nfft))
    return float(np.argmax(spec) * fs / nfft)


@pytest.fixture
def batch() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((5, 600, 3)).astype(np.float32)


# ---------------------------------------------------------------------------------------------- time_shift
@pytest.mark.parametrize("k", [0, 1, 7, -13, 599, 600, 1234, -1234])
def test_time_shift_equals_roll(batch, k):
    event = batch[0]
    np.testing.assert_array_equal(F.time_shift(event, k), np.roll(event, k, axis=0))


def test_time_shift_batch_per_event_shifts(batch):
    shifts = [3, -5, 0, 100, -599]
    out = F.time_shift(torch.from_numpy(batch), torch.tensor(shifts))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    for i, k in enumerate(shifts):
        np.testing.assert_array_equal(out[i].numpy(), np.roll(batch[i], k, axis=0))


def test_time_shift_rejects_fractional_shift(batch):
    with pytest.raises(ValueError, match="whole numbers"):
        F.time_shift(batch[0], 2.5)


@settings(max_examples=25, deadline=None)
@given(
    x=arrays(np.float32, st.tuples(st.integers(1, 40), st.integers(1, 3)), elements=st.floats(-1e3, 1e3, width=32)),
    k=st.integers(-100, 100),
)
def test_time_shift_is_invertible(x, k):
    np.testing.assert_array_equal(F.time_shift(F.time_shift(x, k), -k), x)


# ---------------------------------------------------------------------------------------------- amplitude_scale
def test_amplitude_scale_multiplies(batch):
    np.testing.assert_allclose(F.amplitude_scale(batch[0], 1.7), batch[0] * np.float32(1.7), rtol=1e-6)
    scales = np.array([0.5, 1.0, 2.0, 3.0, 0.1])
    out = F.amplitude_scale(batch, scales)
    np.testing.assert_allclose(out, batch * scales[:, None, None].astype(np.float32), rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    a=st.floats(-10, 10),
    b=st.floats(-10, 10),
    s=st.floats(0.01, 10),
    seed=st.integers(0, 2**16),
)
def test_amplitude_scale_is_linear(a, b, s, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((2, 50, 3)).astype(np.float32)
    lhs = F.amplitude_scale(np.float32(a) * x + np.float32(b) * y, s)
    rhs = np.float32(a) * F.amplitude_scale(x, s) + np.float32(b) * F.amplitude_scale(y, s)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-4, atol=1e-3)


# ---------------------------------------------------------------------------------------------- add_noise
def measured_snr(clean: np.ndarray, noisy: np.ndarray) -> np.ndarray:
    axes = (-2, -1)
    return 10 * np.log10(np.mean(clean.astype(np.float64) ** 2, axis=axes) / np.mean((noisy - clean).astype(np.float64) ** 2, axis=axes))


def test_add_noise_hits_the_snr_exactly(batch):
    rng = np.random.default_rng(1)
    noise = rng.standard_normal(batch.shape).astype(np.float32) * 3.0  # the noise's own scale does not matter
    snr = np.array([0.0, 10.0, 15.0, 27.5, 40.0])
    out = F.add_noise(batch, noise, snr)
    np.testing.assert_allclose(measured_snr(batch, out), snr, atol=1e-3)


def test_add_noise_snr_is_joint_over_channels():
    # channel 0 loud, channel 2 quiet: joint SNR means the same noise scale on every channel
    x = np.ones((400, 3), np.float32) * np.array([10.0, 1.0, 0.1], np.float32)
    noise = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    out = F.add_noise(x, noise, 20.0)
    added = (out - x).astype(np.float64)
    per_channel_scale = np.sum(added * noise, axis=0) / np.sum(noise.astype(np.float64) ** 2, axis=0)
    np.testing.assert_allclose(per_channel_scale, per_channel_scale[0], rtol=1e-4)
    assert measured_snr(x, out) == pytest.approx(20.0, abs=1e-3)


def test_add_noise_zero_signal_and_shape_errors(batch):
    zeros = np.zeros((100, 3), np.float32)
    np.testing.assert_array_equal(F.add_noise(zeros, np.ones((100, 3), np.float32), 10.0), zeros)
    with pytest.raises(ValueError, match="noise shape"):
        F.add_noise(batch, batch[:, :10], 10.0)
    with pytest.raises(ValueError, match="one value per event"):
        F.add_noise(batch, batch, [1.0, 2.0])


# ---------------------------------------------------------------------------------------------- time_stretch
@pytest.mark.parametrize("rate", [1.05, 0.95, 1.02])
def test_time_stretch_moves_a_tone_by_the_rate(rate):
    x = tone(10.0, 4000)
    out = F.time_stretch(x, rate)
    assert out.shape == x.shape
    # measure on the part that is a real resampling (the padded tail, for rate < 1, is left out)
    valid = int(len(x) * min(rate, 1.0)) - 1
    assert peak_freq(out[:valid, 0]) == pytest.approx(10.0 / rate, abs=0.01)


def test_time_stretch_rate_one_is_identity(batch):
    np.testing.assert_array_equal(F.time_stretch(batch, 1.0), batch)


@pytest.mark.parametrize("rate", [0.9, 1.0, 1.1, 0.97])
def test_time_stretch_matches_np_interp_with_edge_padding(batch, rate):
    x = batch[0]
    t = len(x)
    pos = np.minimum(np.arange(t) / np.float32(rate), t - 1)
    expected = np.stack([np.interp(pos, np.arange(t), x[:, c]) for c in range(3)], axis=1)
    np.testing.assert_allclose(F.time_stretch(x, rate, pad_mode="edge"), expected, rtol=1e-4, atol=1e-4)


def test_time_stretch_pad_modes():
    x = np.arange(10, dtype=np.float32)[:, None] + 1.0  # 1..10
    zeros = F.time_stretch(x, 0.5, pad_mode="zeros")[:, 0]
    np.testing.assert_allclose(zeros, [1, 3, 5, 7, 9, 0, 0, 0, 0, 0])
    edge = F.time_stretch(x, 0.5, pad_mode="edge")[:, 0]
    np.testing.assert_allclose(edge, [1, 3, 5, 7, 9, 10, 10, 10, 10, 10])
    reflect = F.time_stretch(x, 0.5, pad_mode="reflect")[:, 0]
    np.testing.assert_allclose(reflect, [1, 3, 5, 7, 9, 9, 7, 5, 3, 1])
    with pytest.raises(ValueError, match="pad_mode"):
        F.time_stretch(x, 0.5, pad_mode="wrap")
    with pytest.raises(ValueError, match="rate"):
        F.time_stretch(x, 0.0)


def test_time_stretch_batch_equals_per_event(batch):
    rates = [0.95, 1.0, 1.05, 0.99, 1.03]
    out = F.time_stretch(torch.from_numpy(batch), torch.tensor(rates))
    for i, r in enumerate(rates):
        np.testing.assert_array_equal(out[i].numpy(), F.time_stretch(batch[i], r))


# ---------------------------------------------------------------------------------------------- spectrum
@pytest.mark.parametrize("mode", ["welch", "first"])
@pytest.mark.parametrize("k", [1, 5, 40, 255])
def test_spectrum_sinusoid_peaks_at_its_bin(mode, k):
    n = 512
    x = tone(k * FS / n, 1700)  # exactly bin k
    spec = F.spectrum(x, n, mode=mode)
    assert spec.shape == (n // 2 + 1, 3)
    assert np.all(np.argmax(spec, axis=0) == k)


@pytest.mark.parametrize("window", ["hann", "boxcar"])
def test_spectrum_constant_is_dc(window):
    spec = F.spectrum(np.full((1000, 2), 3.0, np.float32), 256, window=window)
    assert np.all(np.argmax(spec, axis=0) == 0)
    if window == "boxcar":  # no leakage at all: only bin 0
        assert np.all(spec[1:] < 1e-4)
        np.testing.assert_allclose(spec[0], 3.0 * np.sqrt(256), rtol=1e-5)


def test_spectrum_normalisation_matches_scipy_welch():
    signal = pytest.importorskip("scipy.signal")
    n = 256
    x = np.random.default_rng(3).standard_normal((n + 7 * n // 2, 2)).astype(np.float32)  # whole hops
    _, pxx = signal.welch(x, fs=1.0, window="hann", nperseg=n, noverlap=n // 2, detrend=False,
                          scaling="density", return_onesided=False, axis=0)
    np.testing.assert_allclose(F.spectrum(x, n) ** 2, pxx[: n // 2 + 1], rtol=1e-4)


def test_spectrum_first_boxcar_is_ortho_rfft():
    x = np.random.default_rng(4).standard_normal((700, 3)).astype(np.float32)
    expected = np.abs(np.fft.rfft(x[:512], axis=0, norm="ortho"))
    np.testing.assert_allclose(F.spectrum(x, 512, mode="first", window="boxcar"), expected, rtol=1e-4, atol=1e-5)


def test_spectrum_welch_uses_the_whole_event():
    x = np.zeros((1700, 1), np.float32)
    x[-50:] = 1.0  # energy only in the tail: beyond the last regular hop
    assert F.spectrum(x, 512)[0, 0] > 0
    assert F.spectrum(x, 512, mode="first")[0, 0] == 0


def test_spectrum_white_noise_reads_about_one():
    x = np.random.default_rng(5).standard_normal((20000, 3)).astype(np.float32)
    spec = F.spectrum(x, 512)
    assert np.sqrt(np.mean(spec[1:-1] ** 2)) == pytest.approx(1.0, abs=0.05)


def test_spectrum_log_is_log1p(batch):
    np.testing.assert_allclose(F.spectrum(batch, 256, log=True), np.log1p(F.spectrum(batch, 256)), rtol=1e-6)


def test_spectrum_short_event_error():
    with pytest.raises(ValueError, match=r"fft_size=512 needs events of at least 512 samples, got 300"):
        F.spectrum(np.zeros((300, 3), np.float32), 512)


@pytest.mark.parametrize("bad", [0, 3, -4, 2.0, True])
def test_spectrum_rejects_bad_fft_size(bad):
    with pytest.raises(ValueError, match="fft_size"):
        F.spectrum(np.zeros((600, 3), np.float32), bad)


def test_spectrum_batch_equals_per_event_and_numpy_equals_torch(batch):
    out = F.spectrum(torch.from_numpy(batch), 256)
    assert isinstance(out, torch.Tensor) and out.shape == (5, 129, 3) and out.is_contiguous()
    for i in range(len(batch)):
        per_event = F.spectrum(batch[i], 256)
        assert isinstance(per_event, np.ndarray) and per_event.dtype == np.float32
        np.testing.assert_allclose(out[i].numpy(), per_event, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------- general
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.time_shift(x, 3),
        lambda x: F.amplitude_scale(x, 2.0),
        lambda x: F.time_stretch(x, 1.03),
        lambda x: F.add_noise(x, np.ones_like(x), 10.0),
        lambda x: F.spectrum(x, 128),
    ],
)
def test_types_dtypes_and_no_mutation(batch, fn):
    x64 = batch[0].astype(np.float64)
    before = x64.copy()
    out = fn(x64)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(x64, before)
    xt = torch.from_numpy(batch[0].copy())
    out_t = fn(xt)
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == torch.float32
    np.testing.assert_array_equal(xt.numpy(), batch[0])
    np.testing.assert_allclose(out_t.numpy(), out, rtol=1e-5, atol=1e-6)


def test_bad_shapes_are_explained():
    with pytest.raises(ValueError, match=r"\(time, channel\)"):
        F.time_shift(np.zeros(100), 1)
    with pytest.raises(ValueError, match="empty event"):
        F.amplitude_scale(np.zeros((0, 3)), 1.0)
    with pytest.raises(TypeError, match="real numbers"):
        F.amplitude_scale(np.array([["a", "b"]]), 1.0)
