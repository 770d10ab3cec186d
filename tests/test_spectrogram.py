"""SpectrogramTransform: where energy lands (frames, bins), batches, numpy/torch, JSON, errors, models reading it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import seiswork
from seiswork import LSTMAttentionModel, LSTMModel, SpectrogramTransform
from seiswork.augment import AddNoise, Compose, RandomApply, TimeShift
from seiswork.transforms import (
    Pipeline, ToTensor, default_pipelines, model_inputs, pipeline_from_dict, pipeline_to_dict,
)
from seiswork.transforms.spectrogram import spectrogram_size

RATE = 100.0


def two_tones(length: int = 3000, channels: int = 3) -> np.ndarray:
    """5 Hz during the first third (0-10 s) and 20 Hz during the last third (20-30 s), on channel 0 only;
    channels 1.. carry a faint 12 Hz tone throughout."""
    t = np.arange(length) / RATE
    x = np.zeros((length, channels), np.float32)
    x[t < 10, 0] = np.sin(2 * np.pi * 5 * t[t < 10])
    x[t >= 20, 0] = np.sin(2 * np.pi * 20 * t[t >= 20])
    x[:, 1:] = 0.01 * np.sin(2 * np.pi * 12 * t)[:, None]
    return x


def test_tones_land_in_their_frames_and_bins():
    st = SpectrogramTransform(n_fft=256, hop=100, sampling_rate=RATE)
    y = st(two_tones())
    frames = st.n_frames(3000)
    assert y.shape == (frames, 129 * 3) == (28, 387)
    z = y[:, :129]  # channel 0
    freqs = st.frequencies()
    centre_s = (np.arange(frames) * 100 + 128) / RATE
    early, late = centre_s < 8, centre_s > 22  # frames wholly inside one tone
    assert np.all(np.abs(freqs[z[early].argmax(axis=1)] - 5) <= RATE / 256)
    assert np.all(np.abs(freqs[z[late].argmax(axis=1)] - 20) <= RATE / 256)
    # the 5 Hz bin is loud early and silent (at the floor) late; the 20 Hz bin the other way round
    k5, k20 = int(round(5 * 256 / RATE)), int(round(20 * 256 / RATE))
    assert z[early, k5].min() > z[late, k5].max() + 3
    assert z[late, k20].min() > z[early, k20].max() + 3
    # features are channel-major: channel 1 (the 12 Hz tone) is the next block of 129
    k12 = int(round(12 * 256 / RATE))
    assert np.all(y[:, 129:258].argmax(axis=1) == k12)


def test_chirp_peak_frequency_rises_with_time():
    t = np.arange(6000) / RATE
    f0, f1 = 2.0, 30.0  # linear chirp over 60 s
    x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) / (2 * 60) * t**2)).astype(np.float32)[:, None]
    st = SpectrogramTransform(n_fft=256, hop=100, sampling_rate=RATE)
    y = st(x)
    centre_s = (np.arange(len(y)) * 100 + 128) / RATE
    expected = f0 + (f1 - f0) * centre_s / 60
    assert np.all(np.abs(st.frequencies()[y.argmax(axis=1)] - expected) <= 2 * RATE / 256)


def test_band_keeps_the_bins_inside_it():
    st = SpectrogramTransform(n_fft=256, hop=100, band=(1.0, 20.0), sampling_rate=RATE)
    f = st.frequencies()
    assert f[0] >= 1.0 and f[-1] <= 20.0 and f[0] - RATE / 256 < 1.0 and f[-1] + RATE / 256 > 20.0
    full = SpectrogramTransform(n_fft=256, hop=100, sampling_rate=RATE)
    x = np.random.default_rng(0).standard_normal((1000, 3)).astype(np.float32)
    y, yf = st(x), full(x)
    assert y.shape == (full.n_frames(1000), st.n_bins * 3)
    # the same power relative to a different mean (over fewer bins): a constant offset per event
    lo = st.bin_lo
    diff = y[:, : st.n_bins] - yf[:, lo:lo + st.n_bins]
    np.testing.assert_allclose(diff, diff.mean(), atol=1e-4)
    assert abs(diff.mean()) > 1e-3

def test_batch_equals_per_event_and_numpy_equals_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 700, 3)).astype(np.float32) * rng.uniform(0.1, 10, (5, 1, 1)).astype(np.float32)
    st = SpectrogramTransform(n_fft=128, hop=50)
    batch = st(x)
    assert isinstance(batch, np.ndarray) and batch.shape == (5, st.n_frames(700), 65 * 3)
    for i in range(5):
        np.testing.assert_allclose(st(x[i]), batch[i], rtol=1e-5, atol=1e-5)
    out = st(torch.from_numpy(x))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out.is_contiguous()
    np.testing.assert_allclose(out.numpy(), batch, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(st(torch.from_numpy(x).double()).numpy(), batch, rtol=1e-6, atol=1e-6)


def test_white_noise_reads_about_zero_whatever_its_units_and_a_silent_event_stays_finite():
    x = np.random.default_rng(2).standard_normal((20000, 1)).astype(np.float32)
    st = SpectrogramTransform(n_fft=256, hop=128)
    y = st(x)
    assert abs(float(np.mean(10 ** y[:, 1:-1])) - 1.0) < 0.05  # each bin about the mean power
    np.testing.assert_allclose(st(x * 1e4), y, atol=1e-4)  # counts or z-scored: the same spectrogram
    z = st(np.zeros((1000, 3), np.float32))
    np.testing.assert_allclose(z, np.log10(st.eps))  # silent: at the floor, finite

def test_json_round_trip_and_seiswork_export():
    st = seiswork.SpectrogramTransform(n_fft=200, hop=40, band=(0.5, 15), sampling_rate=40.0, eps=1e-5)
    pipe = Pipeline(Compose([RandomApply(TimeShift(0.1), p=0.5)], seed=3), st, ToTensor())
    d = json.loads(json.dumps(pipeline_to_dict(pipe)))
    assert d["modules"][1] == {"type": "SpectrogramTransform", "n_fft": 200, "hop": 40, "band": [0.5, 15.0],
                               "sampling_rate": 40.0, "eps": 1e-5, "background": False}
    back = pipeline_from_dict(d)
    assert pipeline_to_dict(back) == d
    x = torch.randn(4, 800, 3)
    back.eval(), pipe.eval()
    torch.testing.assert_close(back(x), pipe(x))
    # saved before `background` existed: it reads as it did then, one block of features
    del d["modules"][1]["background"]
    assert pipeline_from_dict(d)[1].background is False
    with_background = SpectrogramTransform(n_fft=200, hop=40, background=True)
    assert pipeline_from_dict(pipeline_to_dict(with_background)).background is True


def microseism_and_local_event(length: int = 3000) -> np.ndarray:
    """30 s at 100 Hz, one channel: a 0.25 Hz microseism 100x stronger than an 8 Hz burst during 10-14 s over a
    faint white floor, so that the window's mean power is the microseism's."""
    t = np.arange(length) / RATE
    rng = np.random.default_rng(5)
    x = 100 * np.sin(2 * np.pi * 0.25 * t) + 0.01 * rng.standard_normal(length)
    burst = (t >= 10) & (t < 14)
    x[burst] += np.sin(2 * np.pi * 8 * t[burst])
    return x.astype(np.float32)[:, None]


def test_background_gives_each_bin_against_its_median_so_a_burst_under_microseism_stands_out():
    x = microseism_and_local_event()
    plain = SpectrogramTransform(n_fft=256, hop=100, sampling_rate=RATE)
    st = SpectrogramTransform(n_fft=256, hop=100, sampling_rate=RATE, background=True)
    y = st(x)
    bins = plain.n_bins
    assert st.n_features(1) == 2 * bins == y.shape[1] and st.n_features(3) == 6 * bins
    np.testing.assert_allclose(y[:, :bins], plain(x), atol=1e-6)  # the first block is the plain spectrogram
    lower_median = np.sort(y[:, :bins], axis=0)[(len(y) - 1) // 2]  # torch's median: the lower of two middles
    np.testing.assert_allclose(y[:, bins:], y[:, :bins] - lower_median, atol=1e-5)
    k8 = int(round(8 * 256 / RATE))
    centre_s = (np.arange(len(y)) * 100 + 128) / RATE
    inside = (centre_s > 11.3) & (centre_s < 12.7)  # frames wholly inside the burst
    quiet = (centre_s < 8) | (centre_s > 16)
    # against the mean power the burst is far below zero (the microseism holds the power) ...
    assert y[inside, k8].max() < -2
    # ... against its band's background it is more than 30 dB up, and the quiet frames read about 0
    assert y[inside, bins + k8].min() > 3
    assert np.abs(np.median(y[quiet, bins + k8])) < 0.2


def test_background_batch_equals_per_event_and_numpy_equals_torch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 900, 3)).astype(np.float32)
    x[1, 300:400] *= 30  # an arrival in one event only: its median, not its neighbours', is its reference
    st = SpectrogramTransform(n_fft=128, hop=50, background=True)
    batch = st(x)
    assert batch.shape == (4, st.n_frames(900), 2 * 65 * 3)
    for i in range(4):
        np.testing.assert_allclose(st(x[i]), batch[i], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(st(torch.from_numpy(x)).numpy(), batch, rtol=1e-6, atol=1e-6)


def test_argument_errors_name_the_fix():
    with pytest.raises(ValueError, match=r"300 samples.*n_fft=512"):
        SpectrogramTransform(n_fft=512, hop=100)(np.zeros((300, 3), np.float32))
    with pytest.raises(ValueError, match="sampling_rate"):
        SpectrogramTransform(band=(1, 20))
    with pytest.raises(ValueError, match="no frequency bin"):
        SpectrogramTransform(n_fft=64, band=(60, 70), sampling_rate=100.0)
    with pytest.raises(ValueError, match="fmin < fmax"):
        SpectrogramTransform(band=(20, 1), sampling_rate=100.0)
    for bad in ({"n_fft": 1}, {"hop": 0}, {"n_fft": 2.5}, {"eps": 0}, {"sampling_rate": -1}, {"background": "yes"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            SpectrogramTransform(**bad)


def test_after_augmentations_pipeline_equals_steps_one_by_one():
    x = torch.randn(6, 1200, 3)
    aug = Compose([RandomApply(TimeShift(0.1), p=0.5), RandomApply(AddNoise(15, 40), p=0.5)], seed=7)
    st = SpectrogramTransform(n_fft=256, hop=100)
    expected = st(aug(x))
    aug.reseed(7)
    torch.testing.assert_close(Pipeline(aug, st, ToTensor())(x), expected)
    aug.reseed(7)
    torch.testing.assert_close(torch.nn.Sequential(aug, st)(x), expected)


def test_default_pipelines_representations():
    x = torch.randn(4, 2900, 3)
    train_t, eval_t = default_pipelines(seed=0, representation="spectrogram", sampling_rate=100.0)
    n_fft, hop = spectrogram_size(100.0)
    assert (n_fft, hop) == (256, 100) and eval_t[0].n_fft == 256 and eval_t[0].hop == 100
    # the default adds each bin against its background (seiswork.defaults.SPECTROGRAM_BACKGROUND): 2 x 129 x 3
    assert eval_t[0].background and eval_t(x).shape == (4, 27, 774) and train_t(x).shape == (4, 27, 774)
    assert eval_t[0].n_features(3) == 774
    _, plain = default_pipelines(seed=0, sampling_rate=100.0, background=False)
    assert plain(x).shape == (4, 27, 387)
    torch.testing.assert_close(plain(x), eval_t(x)[..., :387])
    # seconds, not samples: at 40 Hz the window is still 2.56 s (102 samples) and the hop 1 s
    _, eval_40 = default_pipelines(representation="spectrogram", sampling_rate=40.0)
    assert (eval_40[0].n_fft, eval_40[0].hop) == (102, 40)
    _, eval_band = default_pipelines(representation="spectrogram", sampling_rate=100.0, band=(1, 20), n_fft=200)
    assert eval_band[0].n_fft == 200 and eval_band[0].frequencies()[[0, -1]].tolist() == [1.0, 20.0]
    # the default is the study's representation (seiswork.defaults), the spectrum one parameter away, unchanged
    _, default_eval = default_pipelines(seed=0, sampling_rate=100.0)
    assert pipeline_to_dict(default_eval) == pipeline_to_dict(
        default_pipelines(seed=0, representation="spectrogram", sampling_rate=100.0)[1])
    spec_train, spec_eval = default_pipelines(seed=0, representation="spectrum")
    assert spec_eval(x).shape == (4, 257, 3)
    with pytest.raises(ValueError, match="representation"):
        default_pipelines(representation="wavelet")
    with pytest.raises(ValueError, match="sampling_rate"):
        default_pipelines(representation="spectrogram", band=(1, 20))


def test_each_representation_builds_the_model_that_reads_it():
    assert model_inputs("spectrum") == {"input_norm": "batch", "summary": False}  # the seed's model
    assert model_inputs("spectrogram") == {"input_norm": "none", "summary": True}
    with pytest.raises(ValueError, match="representation"):
        model_inputs("wavelet")
    # a study builds its model with them, whichever representation it names
    for representation in ("spectrum", "spectrogram"):
        for name in ("lstm", "lstm_attention"):
            study = seiswork.Study(representation=representation, model=name)
            model = seiswork.build_model(name, **study.model_kwargs(features=12, classes=3))
            assert (model.summary is not None) == model_inputs(representation)["summary"]
            assert model.input_norm.mode == model_inputs(representation)["input_norm"]


@pytest.mark.parametrize("cls", [LSTMModel, LSTMAttentionModel])
def test_models_train_a_step_on_spectrogram_input(cls):
    torch.manual_seed(0)
    _, eval_t = default_pipelines(representation="spectrogram", sampling_rate=100.0, band=(1, 20))
    x = eval_t(torch.randn(8, 1500, 3))
    model = cls(channels=eval_t[0].n_features(3), classes=2, hidden=16, max_steps=x.shape[1])
    assert model.config["max_steps"] == x.shape[1]
    assert type(model)(**model.config).config == model.config
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1] * 4))
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    # the default max_steps is not written to .config: old configs and checkpoints compare equal
    assert "max_steps" not in cls(channels=3).config
