"""seiswork.kernels: the compiled CPU path computes what the torch path computes, for any pipeline shape."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seiswork import SpectrogramTransform
from seiswork import functional as F
from seiswork import kernels
from seiswork.augment import AddNoise, AmplitudeScale, Compose, RandomApply, TimeShift, TimeStretch, backend
from seiswork.kernels.spectrogram import RANK_FRAMES

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba kernels not available")


def torch_path(monkeypatch, fn):
    """``fn()`` with the kernels turned off (the module-by-module torch code)."""
    with monkeypatch.context() as m:
        m.setenv("SEISWORK_KERNELS", "0")
        assert not kernels.available()
        return fn()


def seed_compose(seed=0, p=(0.5, 0.5, 0.3, 0.3), pad_mode="reflect") -> Compose:
    return Compose(
        [
            RandomApply(TimeShift(max_shift=0.1), p=p[0]),
            RandomApply(AddNoise(snr_min=15, snr_max=40), p=p[1]),
            RandomApply(AmplitudeScale(0.9, 1.1), p=p[2]),
            RandomApply(TimeStretch(0.95, 1.05, pad_mode=pad_mode), p=p[3]),
        ],
        seed=seed,
    )


def events(batch, time, channels, seed=0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((batch, time, channels)).astype(np.float32))


@pytest.mark.parametrize("p", [(1.0, 1.0, 1.0, 1.0), (0.5, 0.5, 0.3, 0.3), (0.0, 0.0, 0.0, 0.0)])
@pytest.mark.parametrize("pad_mode", ["reflect", "edge", "zeros"])
def test_seed_pipeline_equals_the_torch_path(monkeypatch, p, pad_mode):
    x = events(37, 700, 3)
    comp = seed_compose(seed=3, p=p, pad_mode=pad_mode)
    params = comp.draw(37, 700, channels=3)
    assert backend.program(comp, params, x) is not None  # really the kernel
    fast = comp.apply_params(x, params)
    slow = torch_path(monkeypatch, lambda: comp.apply_params(x, params))
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-5, atol=1e-5)


def test_channel_first_input_numpy_event_and_input_untouched(monkeypatch):
    x = events(9, 500, 3)
    channel_first = x.transpose(1, 2).contiguous().transpose(1, 2)  # what every augmentation returns
    keep = x.clone()
    comp = seed_compose(seed=1, p=(1.0, 1.0, 1.0, 1.0))
    params = comp.draw(9, 500, channels=3)
    a, b = comp.apply_params(x, params), comp.apply_params(channel_first, params)
    assert torch.equal(a, b) and torch.equal(x, keep)
    assert a.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()
    one = comp.apply_params(x[4].numpy(), comp.select_params(params, 4))  # numpy in, numpy out
    assert isinstance(one, np.ndarray) and one.shape == (500, 3)
    np.testing.assert_allclose(one, a[4].numpy(), rtol=1e-5, atol=1e-6)


def test_results_do_not_depend_on_the_thread_split():
    x = events(64, 400, 3)
    comp = seed_compose(seed=2, p=(1.0, 1.0, 1.0, 1.0))
    params = comp.draw(64, 400, channels=3)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = comp.apply_params(x, params)
        torch.set_num_threads(2)
        two = comp.apply_params(x, params)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one, two)


class Doubled(TimeShift):  # a user's subclass: its maths is not the kernel's
    def _apply_params(self, x, params):
        return 2 * super()._apply_params(x, params)


def test_modules_without_a_kernel_take_the_torch_path():
    x = events(5, 300, 2)
    comp = Compose([RandomApply(Doubled(0.1), p=1.0), AmplitudeScale(1.5, 1.5)], seed=0)
    params = comp.draw(5, 300, channels=2)
    assert backend.program(comp, params, x) is None
    shifts = params["transforms"][0]["params"]["shift"]
    expected = torch.stack([torch.roll(x[i], int(shifts[i]), 0) for i in range(5)]) * 3.0
    np.testing.assert_allclose(comp.apply_params(x, params).numpy(), expected.numpy(), rtol=1e-6)
    two_banks = Compose([AddNoise(), AddNoise()], seed=0)
    assert backend.program(two_banks, two_banks.draw(5, 300, channels=2), x) is None


LEAVES = st.sampled_from(["shift", "noise", "scale", "stretch"])


def build(kinds, ps, pad_mode, nested):
    leaves = {
        "shift": lambda: TimeShift(0.3),
        "noise": lambda: AddNoise(0, 30),
        "scale": lambda: AmplitudeScale(0.5, 2.0),
        "stretch": lambda: TimeStretch(0.4, 1.6, pad_mode=pad_mode),  # below 0.5: reflect folds twice
    }
    noise_seen = False
    steps = []
    for kind, p in zip(kinds, ps):
        if kind == "noise":
            if noise_seen:
                continue  # one noise bank per kernel program
            noise_seen = True
        steps.append(RandomApply(leaves[kind](), p=p))
    if nested and len(steps) > 1:
        steps = [steps[0], RandomApply(Compose(steps[1:]), p=0.7)]
    return Compose(steps, seed=0)


@settings(max_examples=40, deadline=None)
@given(
    kinds=st.lists(LEAVES, min_size=1, max_size=5),
    ps=st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=5, max_size=5),
    pad_mode=st.sampled_from(["reflect", "edge", "zeros"]),
    nested=st.booleans(),
    batch=st.integers(1, 40),  # from 16 on, two threads split the batch
    time=st.integers(1, 90),
    channels=st.integers(1, 4),
    channel_first=st.booleans(),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
def test_any_pipeline_equals_the_torch_path(kinds, ps, pad_mode, nested, batch, time, channels, channel_first,
                                            threads, seed):
    comp = build(kinds, ps, pad_mode, nested)
    comp.reseed(seed)
    x = events(batch, time, channels, seed) * 3 + 1
    if channel_first:  # the layout every augmentation returns
        x = x.transpose(1, 2).contiguous().transpose(1, 2)
    params = comp.draw(batch, time, channels=channels)
    program = backend.program(comp, params, x)
    assert program is not None
    fft_size = 2 * max(1, time // 4)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        fast = comp.apply_params(x, params)
        # the fused pass (transforms.Pipeline): augment each chunk, then its spectrum
        fused = None if time < 2 else F.batch_spectrum(x, fft_size, "welch", False, "hann", program or None)
    finally:
        torch.set_num_threads(previous)
    with pytest.MonkeyPatch.context() as m:
        m.setenv("SEISWORK_KERNELS", "0")
        slow = comp.apply_params(x, params)
        slow_spectrum = F.spectrum(slow, fft_size) if time >= 2 else None
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=2e-5, atol=2e-5)
    if fused is not None:
        np.testing.assert_allclose(fused.numpy(), slow_spectrum.numpy(), rtol=1e-4, atol=1e-4)


def test_spectrum_of_an_empty_batch():
    assert F.spectrum(torch.zeros(0, 8, 3), 4).shape == (0, 3, 3)


# ---------------------------------------------------------------------------------------------- spectrum
@pytest.mark.parametrize("mode", ["welch", "first"])
@pytest.mark.parametrize("window", ["hann", "boxcar"])
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("length", [64, 96, 150])  # exactly one segment, hop-aligned, a tail segment
def test_spectrum_equals_the_torch_path(monkeypatch, mode, window, log, length):
    x = events(45, length, 3) * 2  # 45 events: several chunks and both thread parts
    fast = F.spectrum(x, 64, mode=mode, log=log, window=window)
    slow = torch_path(monkeypatch, lambda: F.spectrum(x, 64, mode=mode, log=log, window=window))
    assert fast.shape == slow.shape == (45, 33, 3)
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-5, atol=1e-6)
    channel_first = x.transpose(1, 2).contiguous().transpose(1, 2)
    assert torch.equal(F.spectrum(channel_first, 64, mode=mode, log=log, window=window), fast)


def test_spectrum_of_one_numpy_event(monkeypatch):
    x = events(1, 1700, 3)[0].numpy()
    fast = F.spectrum(x, 512)
    slow = torch_path(monkeypatch, lambda: F.spectrum(x, 512))
    assert isinstance(fast, np.ndarray) and fast.shape == (257, 3)
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-6)


def test_a_draw_that_applies_nothing_returns_the_input_as_the_torch_path_does():
    x = events(8, 300, 3)
    comp = seed_compose(seed=0, p=(0.0, 0.0, 0.0, 0.0))
    assert comp(x) is x


# ---------------------------------------------------------------------------------------------- spectrogram
# 10 and 11 frames (the median by ranks), 98 and 99 (by selection); an even count takes the lower median
SPECTROGRAM_LENGTHS = [600, 650, 4978, 5028]


def test_spectrogram_lengths_take_both_median_paths():
    frames = [SpectrogramTransform(n_fft=128, hop=50).n_frames(n) for n in SPECTROGRAM_LENGTHS]
    assert frames == [10, 11, 98, 99] and frames[1] <= RANK_FRAMES < frames[2]


@pytest.mark.parametrize("background", [False, True])
@pytest.mark.parametrize("band", [None, (2.0, 30.0)])
@pytest.mark.parametrize("length", SPECTROGRAM_LENGTHS)
def test_spectrogram_equals_the_torch_path(monkeypatch, background, band, length):
    x = events(45, length, 3) * torch.linspace(0.1, 3.0, length)[None, :, None]  # 45 events: chunks and both parts
    x[3] = 0.0  # a silent event: every bin at the floor
    x[7, :, 1] = 0.0  # a dead channel: a column of equal values for the median
    x[9, 200:260] *= 40  # an arrival in one event only
    st = SpectrogramTransform(n_fft=128, hop=50, band=band, sampling_rate=100.0, background=background)
    fast = st(x)
    slow = torch_path(monkeypatch, lambda: st(x))
    assert fast.shape == slow.shape == (45, st.n_frames(length), st.n_features(3))
    assert fast.is_contiguous()
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-5, atol=1e-5)
    channel_first = x.transpose(1, 2).contiguous().transpose(1, 2)
    assert torch.equal(st(channel_first), fast)
    numpy_event = st(x[9].numpy())
    assert isinstance(numpy_event, np.ndarray)
    np.testing.assert_allclose(numpy_event, fast[9].numpy(), rtol=1e-6, atol=1e-6)


def test_spectrogram_does_not_depend_on_the_thread_split_nor_touch_its_input():
    x = events(64, 900, 3)
    keep = x.clone()
    st = SpectrogramTransform(n_fft=128, hop=50, background=True)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = st(x)
        torch.set_num_threads(2)
        two = st(x)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one, two) and torch.equal(x, keep)
    assert st(torch.zeros(0, 900, 3)).shape == (0, st.n_frames(900), st.n_features(3))
