"""seiswork.plots: every function returns a Figure with the expected panels and the data it was given."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")  # headless: no display in tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from seiswork import plots  # noqa: E402

from tests.conftest import make_seed_events  # noqa: E402

CLASSES = ("earthquake", "explosion")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")  # figures are pyplot-managed: close them so tests do not leak memory


@pytest.fixture(autouse=True)
def _no_show(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("plot functions must not call plt.show()")

    monkeypatch.setattr(plt, "show", fail)


def _stack_with_nan(events, channels=("Z", "N", "E")):
    longest = max(len(e) for e in events)
    out = np.full((len(events), longest, len(channels)), np.nan)
    for i, e in enumerate(events):
        out[i, : len(e)] = e[list(channels)].to_numpy()
    return out


def _bar_heights(ax):
    return [p.get_height() for p in ax.patches]


# ------------------------------------------------------------------------------------------ style
def test_import_does_not_change_style_and_set_style_does():
    before = dict(plt.rcParams)
    import importlib

    importlib.reload(plots)
    assert dict(plt.rcParams) == before
    with plt.rc_context():
        plots.set_style()
        assert plt.rcParams["figure.dpi"] == 100


# ------------------------------------------------------------------------------------------ class counts
def test_class_counts_bar_heights_equal_counts():
    labels = np.array(["earthquake"] * 7 + ["explosion"] * 3)
    fig = plots.class_counts(labels)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert _bar_heights(ax) == [7, 3]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["earthquake", "explosion"]
    texts = [t.get_text() for t in ax.texts]
    assert "7 (70%)" in texts and "3 (30%)" in texts
    assert "n=10" in ax.get_title()
    assert ax.get_ylabel() and ax.get_xlabel()


def test_class_counts_integer_labels_named_by_classes_and_order():
    fig = plots.class_counts(np.array([0, 1, 1, 1]), classes=["explosion", "earthquake"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["explosion", "earthquake"]
    assert _bar_heights(ax) == [1, 3]


def test_class_counts_uses_given_ax():
    fig, ax = plt.subplots()
    out = plots.class_counts(["a", "b", "b"], ax=ax)
    assert out is fig and _bar_heights(ax) == [1, 2]


def test_class_counts_per_part_from_dataframe_and_mapping():
    table = pd.DataFrame({"train": [10, 6], "val": [2, 1], "test": [4, 3]}, index=list(CLASSES))
    fig = plots.class_counts(table)
    ax = fig.axes[0]
    assert len(ax.patches) == 6
    # bars are drawn part by part: train bars, then val, then test
    assert _bar_heights(ax) == [10, 6, 2, 1, 4, 3]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "val", "test"]

    # WaveformDataAdapter.summary() adds a total row and column: they are not bars
    summary = table.assign(total=table.sum(axis=1))
    summary.loc["total"] = summary.sum(axis=0)
    ax_sum = plots.class_counts(summary).axes[0]
    assert _bar_heights(ax_sum) == [10, 6, 2, 1, 4, 3]
    assert "n=26" in ax_sum.get_title()

    parts = {"train": ["earthquake"] * 10 + ["explosion"] * 6, "test": ["earthquake"] * 4 + ["explosion"] * 3}
    ax2 = plots.class_counts(parts).axes[0]
    assert _bar_heights(ax2) == [10, 6, 4, 3]


def test_class_counts_rejects_unknown_class_and_wrong_ax():
    with pytest.raises(ValueError, match="do not occur"):
        plots.class_counts(["a", "b"], classes=["a", "c"])
    with pytest.raises(TypeError, match="Axes"):
        plots.class_counts(["a"], ax="not an axes")


# ------------------------------------------------------------------------------------------ lengths
def test_lengths_histogram_from_events_ignores_nan_padding():
    events, labels, _ = make_seed_events(n=8)
    finite = [int(e[["Z", "N", "E"]].notna().all(axis=1).sum()) for e in events]
    fig = plots.lengths_histogram(events, sampling_rate=100.0, labels=labels)
    ax = fig.axes[0]
    shortest = ax.lines[0].get_xdata()[0]
    assert shortest == pytest.approx(min(finite) / 100.0)
    assert ax.get_xlabel() == "Length (s)"
    assert any(c in t.get_text() for t in ax.get_legend().get_texts() for c in CLASSES)


def test_lengths_histogram_from_numbers_in_samples():
    fig = plots.lengths_histogram([100, 200, 200, 300])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Length (samples)"
    assert sum(_bar_heights(ax)) == 4
    with pytest.raises(ValueError, match="non-negative"):
        plots.lengths_histogram([100, -1])


# ------------------------------------------------------------------------------------------ fan chart
def test_nanquantile_matches_numpy_including_all_nan_columns():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(37, 50, 3))
    a[rng.random(a.shape) < 0.3] = np.nan
    a[:, 7, 1] = np.nan  # a column with no data
    q = [0.5, 0.1, 0.25, 0.75, 0.9, 0.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanquantile(a, q, axis=0)
    got = plots.nanquantile(a, q)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert np.isnan(got[:, 7, 1]).all()


def test_fan_chart_median_equals_nanmedian_on_unequal_nan_padded_events():
    events, labels, _ = make_seed_events(n=12)
    fig = plots.fan_chart(events, labels, sampling_rate=100.0, domain="time")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2 * 3  # classes x channels
    stack = _stack_with_nan(events)
    for r, cls in enumerate(CLASSES):
        for j, ch in enumerate("ZNE"):
            ax = fig.axes[r * 3 + j]
            assert ax.get_title().startswith(f"{cls} — {ch}")
            (median,) = [ln for ln in ax.lines if ln.get_label() == "median"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                expected = np.nanmedian(stack[labels == cls][:, :, j], axis=0)
            np.testing.assert_allclose(median.get_ydata(), expected, rtol=1e-5, equal_nan=True)
            np.testing.assert_allclose(median.get_xdata(), np.arange(stack.shape[1]) / 100.0)
            assert len(ax.collections) == 2  # the 10-90% and 25-75% bands
    assert fig.axes[3].get_xlabel() == "Time (s)"
    assert "counts" in fig.axes[0].get_ylabel()


def test_fan_chart_band_edges_are_the_quantiles():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 64, 3)).astype(np.float32)
    labels = np.array(["a"] * 40)
    fig = plots.fan_chart(x, labels, quantiles=(0.1, 0.25, 0.75, 0.9), domain="time")
    ax = fig.axes[0]
    outer = ax.collections[0]
    # the outer band polygon spans from the 10% quantile to the 90% quantile
    ys = outer.get_paths()[0].vertices[:, 1]
    q = np.quantile(x[:, :, 0], [0.1, 0.9], axis=0)
    assert ys.min() == pytest.approx(q[0].min(), rel=1e-5)
    assert ys.max() == pytest.approx(q[1].max(), rel=1e-5)
    assert ax.get_xlabel() == "Time (samples)"


def test_fan_chart_integer_labels_with_class_names_and_given_axes():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(10, 32, 2))
    y = np.array([0, 1] * 5)
    fig, axes = plt.subplots(2, 2)
    out = plots.fan_chart(x, y, classes=["quake", "blast"], channels=("Z", "N"), axes=axes)
    assert out is fig
    assert axes[1, 1].get_title().startswith("blast — N (n=5)")
    with pytest.raises(ValueError, match="panels"):
        plots.fan_chart(x, y, classes=["quake", "blast"], channels=("Z", "N"), axes=plt.subplots(1, 2)[1])


def test_fan_chart_frequency_domain_log_scale_and_median_of_spectra():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(9, 256, 3)).astype(np.float32)
    labels = np.array(["a", "b", "c"] * 3)
    fig = plots.fan_chart(x, labels, sampling_rate=50.0, domain="frequency", fft_size=64)
    assert len(fig.axes) == 9
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "" and fig.axes[6].get_xlabel() == "Frequency (Hz)"
    (median,) = [ln for ln in ax.lines if ln.get_label() == "median"]
    spectra = plots.magnitude_spectrum(x[labels == "a"], fft_size=64)
    np.testing.assert_allclose(median.get_ydata(), np.median(spectra[:, :, 0], axis=0), rtol=1e-6)
    np.testing.assert_allclose(median.get_xdata(), np.fft.rfftfreq(64, 1 / 50.0))


def test_fan_chart_frequency_domain_on_raw_nan_padded_events():
    events, labels, _ = make_seed_events(n=6)
    fig = plots.fan_chart(events, labels, domain="frequency", fft_size=128)
    for ax in fig.axes:
        (median,) = [ln for ln in ax.lines if ln.get_label() == "median"]
        assert median.get_ydata().shape == (65,)
        assert np.isfinite(median.get_ydata()).all()


def test_fan_chart_accepts_torch_tensors():
    torch = pytest.importorskip("torch")
    x = torch.randn(6, 50, 3)
    fig = plots.fan_chart(x, np.array(["a", "b"] * 3), domain="time")
    (median,) = [ln for ln in fig.axes[0].lines if ln.get_label() == "median"]
    np.testing.assert_allclose(median.get_ydata(), np.median(x.numpy()[0::2, :, 0], axis=0), rtol=1e-6)


def test_fan_chart_rejects_bad_inputs():
    x = np.zeros((4, 10, 3))
    labels = ["a", "b", "a", "b"]
    with pytest.raises(ValueError, match="domain"):
        plots.fan_chart(x, labels, domain="wavelet")
    with pytest.raises(ValueError, match="pairs"):
        plots.fan_chart(x, labels, quantiles=(0.1, 0.25, 0.9))
    with pytest.raises(ValueError, match="labels has 3 entries"):
        plots.fan_chart(x, labels[:3])
    with pytest.raises(ValueError, match="channels"):
        plots.fan_chart(x, labels, channels=("Z", "N"))
    with pytest.raises(ValueError, match="lacks channel"):
        plots.fan_chart([pd.DataFrame({"Z": [1.0], "N": [1.0]})], ["a"])
    with pytest.raises(ValueError, match="sampling_rate"):
        plots.fan_chart(x, labels, sampling_rate=-1)


def _weak_p_strong_s(n=24, sr=100.0, seconds=10.0, seed=6):
    """Events (n, time, 3) of noise, then P at 2-3 s (amplitude 1, mostly Z), then S at 5-6 s (amplitude 4
    on the horizontals, 2.5 on Z): what an envelope must show and a signed median cannot."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = 0.05 * rng.normal(size=(n, t.size, 3))
    p = (t >= 2) & (t < 3)
    s = (t >= 5) & (t < 6)
    x[:, p, :] += rng.normal(size=(n, p.sum(), 3)) * np.array([1.0, 0.3, 0.3])
    x[:, s, :] += rng.normal(size=(n, s.sum(), 3)) * np.array([2.5, 4.0, 4.0])
    return x.astype(np.float32), t


def _legends_clear_of_axes(fig):
    """Every legend's box lies outside every panel (drawn first, so the boxes are final)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert legends, "the figure has no legend"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), f"legend covers panel {ax.get_title()!r}"


def test_envelope_fan_chart_shows_weak_p_and_strong_s():
    x, t = _weak_p_strong_s()
    fig = plots.fan_chart(x, np.array(["quake"] * len(x)), sampling_rate=100.0)  # envelope is the default
    ax_z, ax_n = fig.axes[0], fig.axes[1]
    assert ax_z.get_yscale() == "log" and "RMS envelope" in ax_z.get_ylabel()
    assert ax_z.get_xlabel() == "Time (s)" and "0.5 s" in fig._suptitle.get_text()
    for ax in (ax_z, ax_n):
        (median,) = [ln for ln in ax.lines if ln.get_label() == "median"]
        y = median.get_ydata()
        assert np.all(np.isfinite(y)) and np.all(y > 0)
        noise, p, s = (y[(t >= a) & (t < b)].mean() for a, b in ((0.5, 1.5), (2.3, 2.7), (5.3, 5.7)))
        assert s > 2 * p and p > 2 * noise
    # the signed view of the same data has a median that averages to ~0 over the S window: the phases cancel
    signed = plots.fan_chart(x, np.array(["quake"] * len(x)), sampling_rate=100.0, domain="time")
    (median,) = [ln for ln in signed.axes[1].lines if ln.get_label() == "median"]
    assert abs(median.get_ydata()[(t >= 5) & (t < 6)].mean()) < 0.1 * s


def test_rms_envelope_values_and_nan_padding():
    x = np.full((100, 2), 2.0)
    x[:, 1] = np.where(np.arange(100) % 2, 3.0, -3.0)  # RMS 3 whatever the sign
    x[90:] = np.nan
    env = plots.rms_envelope(x, 10)
    assert env.shape == (100, 2) and env.dtype == np.float32
    np.testing.assert_allclose(env[:90, 0], 2.0, rtol=1e-6)
    np.testing.assert_allclose(env[5:85, 1], 3.0, rtol=1e-6)
    assert np.isnan(env[90:]).all()
    batch = plots.rms_envelope(np.stack([x, 2 * x]), 10)
    np.testing.assert_allclose(batch[1], 2 * env, rtol=1e-6, equal_nan=True)
    with pytest.raises(ValueError, match="window"):
        plots.rms_envelope(x, 0)
    with pytest.raises(ValueError, match="envelope_window"):
        plots.fan_chart(x[None, :, :1], ["a"], channels=("Z",), envelope_window=-1)


def test_spectrum_fan_chart_is_log_log_without_dc_and_says_relative_amplitude():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(9, 256, 3)).astype(np.float32)
    fig = plots.fan_chart(x, np.array(["a", "b", "c"] * 3), sampling_rate=50.0, domain="frequency", fft_size=64)
    for ax in fig.axes:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert ax.get_xlim()[0] == pytest.approx(50.0 / 64)  # starts at the first bin above 0 Hz
        for band in ax.collections:
            assert band.get_paths()[0].vertices[:, 0].min() > 0  # no band reaches 0 Hz
    assert "Magnitude" not in fig.axes[0].get_ylabel() and "Relative amplitude" in fig.axes[0].get_ylabel()
    assert "0 Hz not shown" in fig._suptitle.get_text()


def test_class_medians_overlays_classes_per_channel():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(12, 256, 3)).astype(np.float32)
    labels = np.array(["earthquake", "explosion"] * 6)
    fig = plots.class_medians(x, labels, sampling_rate=100.0, fft_size=64)
    assert len(fig.axes) == 3
    ax_n = fig.axes[1]
    assert ax_n.get_title() == "N" and ax_n.get_xlabel() == "Frequency (Hz)"
    assert ax_n.get_xscale() == "log" and ax_n.get_yscale() == "log"
    lines = {ln.get_label(): ln for ln in ax_n.lines}
    assert set(lines) == {"earthquake (n=6)", "explosion (n=6)"}
    spectra = plots.magnitude_spectrum(x[labels == "explosion"], fft_size=64)
    np.testing.assert_allclose(lines["explosion (n=6)"].get_ydata(), np.median(spectra[:, :, 1], axis=0), rtol=1e-6)
    assert len(ax_n.collections) == 2  # one quartile band per class
    _legends_clear_of_axes(fig)
    env = plots.class_medians(x, labels, sampling_rate=100.0, domain="envelope", band=None)
    assert env.axes[0].get_xlabel() == "Time (s)" and env.axes[0].get_yscale() == "log"
    assert len(env.axes[0].collections) == 0
    with pytest.raises(ValueError, match="band"):
        plots.class_medians(x, labels, band=(0.6, 0.9))


def test_legends_do_not_cover_data():
    events, labels, _ = make_seed_events(n=8)
    x, _ = _weak_p_strong_s(n=6)
    figures = [
        plots.learning_curves(_history()),
        plots.compare_runs({"lstm": {"accuracy": 0.9, "balanced_accuracy": 0.88, "macro_f1": 0.87}}),
        plots.lengths_histogram(events, sampling_rate=100.0, labels=labels),
        plots.fan_chart(x, np.array(["a", "b"] * 3), sampling_rate=100.0),
        plots.roc_curve(np.array([0, 1] * 5), np.linspace(0, 1, 10)),
        plots.class_counts({"train": ["a", "b", "b"], "test": ["a", "b"]}),
    ]
    for fig in figures:
        _legends_clear_of_axes(fig)


def test_confusion_matrix_and_roc_titles_name_the_model():
    cm = plots.confusion_matrix(np.array([[8, 2], [1, 9]]), CLASSES, model="lstm_attention").axes[0]
    assert cm.get_title() == "Confusion matrix — lstm_attention (n=20)"
    roc = plots.roc_curve(np.array([0, 1, 0, 1]), [0.1, 0.9, 0.3, 0.6], classes=CLASSES, model="lstm").axes[0]
    assert roc.get_title() == "ROC curve — lstm (positive class: explosion)"


# ------------------------------------------------------------------------------------------ augmentation
def test_augmentation_before_after_panels_and_data():
    rng = np.random.default_rng(4)
    before = rng.normal(size=(300, 3)).astype(np.float32)
    after = np.roll(before, 20, axis=0) * 1.5
    fig = plots.augmentation_before_after(before, after, sampling_rate=100.0, fft_size=128, note="TimeShift: +20")
    assert len(fig.axes) == 3 * 2
    wave_n, spec_n = fig.axes[2], fig.axes[3]  # row 1 = channel N
    assert wave_n.get_title() == "N — waveform"
    assert spec_n.get_title().startswith("N — magnitude spectrum")
    np.testing.assert_allclose(wave_n.lines[0].get_ydata(), before[:, 1])
    np.testing.assert_allclose(wave_n.lines[1].get_ydata(), after[:, 1])
    assert [ln.get_label() for ln in wave_n.lines] == ["before", "after"]
    assert spec_n.get_yscale() == "log"
    np.testing.assert_allclose(spec_n.lines[1].get_ydata(), plots.magnitude_spectrum(after, 128)[:, 1], rtol=1e-6)
    assert fig.axes[4].get_xlabel() == "Time (s)" and fig.axes[5].get_xlabel() == "Frequency (Hz)"
    assert "TimeShift: +20" in fig._suptitle.get_text()


def test_augmentation_before_after_accepts_dataframes_tensors_and_axes():
    torch = pytest.importorskip("torch")
    df = pd.DataFrame(np.ones((600, 3)), columns=["Z", "N", "E"])
    df.iloc[:5] = np.nan  # padding is dropped
    fig, axes = plt.subplots(3, 2)
    out = plots.augmentation_before_after(df, torch.ones(600, 3), axes=axes)
    assert out is fig
    assert len(axes[0, 0].lines[0].get_ydata()) == 595
    with pytest.raises(ValueError, match="channels"):
        plots.augmentation_before_after(np.ones((600, 2)), np.ones((600, 2)))


def _spectrogram_transform(band=(1.0, 20.0)):
    """The SpectrogramTransform of the study's eval pipeline at 100 Hz (2.56 s window, 1 s hop)."""
    pytest.importorskip("torch")
    from seiswork.transforms import default_pipelines

    return default_pipelines(representation="spectrogram", band=band, sampling_rate=100.0)[1][0]


def test_spectrogram_before_after_images_are_the_transform_output_with_physical_extents():
    st = _spectrogram_transform()
    rng = np.random.default_rng(5)
    before = rng.normal(size=(3000, 3)).astype(np.float32)
    after = before + 0.5 * rng.normal(size=before.shape).astype(np.float32)
    fig = plots.spectrogram_before_after(before, after, st, sampling_rate=100.0, unit="z-score", note="AddNoise")
    assert len(fig.axes) == 3 * 3 + 1  # waveform, before, after per channel, and the colour bar
    frames, bins = st.n_frames(3000), st.n_bins
    assert (frames, bins) == (28, 49)  # 1-20 Hz at 100/256 Hz per bin: bins 3..51
    # images: channel N (row 1), 10 * the transform's own output for that channel, bins up, frames across
    im_before, im_after = fig.axes[4].images[0], fig.axes[5].images[0]
    # (the study's transform also gives each bin against its background: a second block, not drawn)
    assert st(before).shape == (frames, st.n_features(3)) == (frames, 2 * 3 * bins)
    expected = 10 * st(before)[:, :3 * bins].reshape(frames, 3, bins)[:, 1, :].T
    np.testing.assert_allclose(im_before.get_array(), expected, rtol=1e-6)
    np.testing.assert_allclose(im_after.get_array(), 10 * st(after)[:, :3 * bins].reshape(frames, 3, bins)[:, 1, :].T,
                               rtol=1e-6)
    # extents: pixel j centred on frame j's centre (128 + 100 j samples), pixel k on bin k's frequency
    df = 100.0 / 256
    t0, t1, f0, f1 = im_before.get_extent()
    assert t0 == pytest.approx(0.78) and t1 == pytest.approx(0.78 + frames * 1.0)
    assert (t0 + t1) / 2 == pytest.approx((1.28 + (1.28 + 27)) / 2)  # midway between first and last frame centres
    assert f0 == pytest.approx(2.5 * df) and f1 == pytest.approx(51.5 * df)
    np.testing.assert_allclose([f0 + df / 2, f1 - df / 2], st.frequencies()[[0, -1]])
    # physical units on every axis, one colour scale for before and after, the colour bar in dB
    assert fig.axes[4].get_ylabel() == "Frequency (Hz)" and fig.axes[8].get_xlabel() == "Time (s)"
    assert fig.axes[0].get_ylabel() == "Amplitude (z-score)"
    assert im_before.get_clim() == im_after.get_clim()
    lo, hi = im_before.get_clim()
    assert lo <= min(expected.min(), im_after.get_array().min()) and hi >= expected.max()
    assert "dB" in fig.axes[-1].get_ylabel()
    assert "AddNoise" in fig._suptitle.get_text()


def test_spectrogram_before_after_shows_the_change_in_db_the_model_reads():
    st = _spectrogram_transform(band=None)
    rng = np.random.default_rng(6)
    before = rng.normal(size=(2000, 3)).astype(np.float32)
    louder_z = before * np.array([10.0, 1.0, 1.0], np.float32)  # Z 20 dB up against N and E
    fig = plots.spectrogram_before_after(before, louder_z, st)
    images = [(fig.axes[3 * j + 1].images[0].get_array(), fig.axes[3 * j + 2].images[0].get_array())
              for j in range(3)]
    change = [after - before for before, after in images]
    # bins well above the transform's floor (eps, 60 dB under the mean), where the floor adds < 0.01 dB
    clear = np.all([im > -30 for pair in images for im in pair], axis=0)
    assert clear.mean() > 0.9
    # relative to the event's mean power: the contrast between channels is what changes, by exactly 20 dB
    np.testing.assert_allclose((change[0] - change[1])[clear], 20.0, atol=0.01)
    np.testing.assert_allclose(change[2][clear], change[1][clear], atol=0.01)
    # a gain on the whole event is invisible to the model (its input is relative to the event's mean power)
    fig = plots.spectrogram_before_after(before, 3.0 * before, st)
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), fig.axes[1].images[0].get_array(), atol=1e-3)


def test_spectrogram_before_after_checks_rate_axes_and_length():
    st = _spectrogram_transform()
    x = np.ones((1000, 3), np.float32)
    with pytest.raises(ValueError, match="sampling_rate=50.0 Hz differs"):
        plots.spectrogram_before_after(x, x, st, sampling_rate=50.0)
    fig, axes = plt.subplots(3, 3)
    assert plots.spectrogram_before_after(x, x, st, axes=axes) is fig
    with pytest.raises(ValueError, match="n_fft=256"):
        plots.spectrogram_before_after(x[:100], x[:100], st)
    with pytest.raises(TypeError, match="SpectrogramTransform"):
        plots.spectrogram_db(x, object())


def test_spectrogram_db_draws_the_first_block_of_a_transform_with_background():
    from seiswork import SpectrogramTransform

    x = np.random.default_rng(7).normal(size=(1500, 3)).astype(np.float32)
    plain = SpectrogramTransform(n_fft=256, hop=100, sampling_rate=100.0)
    both = SpectrogramTransform(n_fft=256, hop=100, sampling_rate=100.0, background=True)
    image = plots.spectrogram_db(x, both)
    assert image.shape == (3, plain.n_bins, plain.n_frames(1500))
    np.testing.assert_allclose(image, plots.spectrogram_db(x, plain), atol=1e-4)


# ------------------------------------------------------------------------------------------ training
def _history():
    return pd.DataFrame({
        "epoch": [1, 2, 3, 4],
        "train_loss": [0.9, 0.7, 0.5, 0.4],
        "val_loss": [0.95, 0.8, 0.85, 0.9],
        "train_accuracy": [0.6, 0.7, 0.8, 0.85],
        "val_accuracy": [0.55, 0.65, 0.62, 0.6],
        "val_macro_f1": [0.5, 0.6, 0.6, 0.58],
        "lr": [1e-3] * 4,
    })


def test_learning_curves_loss_and_metric_panels():
    fig = plots.learning_curves(_history())
    assert len(fig.axes) == 2
    ax_loss, ax_metric = fig.axes
    labels = [ln.get_label() for ln in ax_loss.lines]
    assert "train_loss" in labels and "val_loss" in labels
    (train_loss,) = [ln for ln in ax_loss.lines if ln.get_label() == "train_loss"]
    np.testing.assert_allclose(train_loss.get_ydata(), [0.9, 0.7, 0.5, 0.4])
    np.testing.assert_allclose(train_loss.get_xdata(), [1, 2, 3, 4])
    assert {ln.get_label() for ln in ax_metric.lines} >= {"train_accuracy", "val_accuracy", "val_macro_f1"}
    assert "lr" not in {ln.get_label() for ln in ax_metric.lines}
    # the marked epoch is the one fit() keeps: best val macro F1, first of ties (epochs 2 and 3 tie at 0.6)
    assert any("best val_macro_f1 (epoch 2)" in t.get_text() for t in ax_loss.get_legend().get_texts())
    assert ax_loss.get_xlabel() == "Epoch"
    without_f1 = plots.learning_curves(_history().drop(columns="val_macro_f1"))
    assert any("best val_loss (epoch 2)" in t.get_text() for t in without_f1.axes[0].get_legend().get_texts())
    plt.close(without_f1)


def test_learning_curves_of_an_ensemble_draw_each_member_with_one_legend_entry():
    h = pd.concat([_history().assign(member=0), _history().assign(member=1, train_loss=[1.0, 0.8, 0.6, 0.3])],
                  ignore_index=True)
    fig = plots.learning_curves(h)
    ax_loss = fig.axes[0]
    train = [ln for ln in ax_loss.lines if ln.get_color() == ax_loss.lines[0].get_color() and ln.get_linestyle() == "-"]
    assert len(train) == 2  # one train_loss curve per member, over epochs 1-4 each
    np.testing.assert_allclose(train[1].get_ydata(), [1.0, 0.8, 0.6, 0.3])
    np.testing.assert_allclose(train[1].get_xdata(), [1, 2, 3, 4])
    texts = [t.get_text() for t in ax_loss.get_legend().get_texts()]
    assert texts.count("train_loss") == 1 and "member" not in {ln.get_label() for ln in fig.axes[1].lines}
    assert any("one line per member of 2" in t for t in texts)
    plt.close(fig)


def test_learning_curves_accepts_dict_and_rejects_empty():
    fig = plots.learning_curves({"train_loss": [1.0, 0.5]})
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="empty"):
        plots.learning_curves(pd.DataFrame())
    with pytest.raises(ValueError, match="no loss"):
        plots.learning_curves({"val_accuracy": [0.5]})


def test_confusion_matrix_annotations_counts_and_row_percent():
    cm = np.array([[8, 2], [1, 9]])
    fig = plots.confusion_matrix(cm, CLASSES)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["8\n(80.0%)", "2\n(20.0%)", "1\n(10.0%)", "9\n(90.0%)"]
    np.testing.assert_allclose(ax.images[0].get_array(), cm / cm.sum(1, keepdims=True))
    assert [t.get_text() for t in ax.get_yticklabels()] == list(CLASSES)
    assert ax.get_xlabel() == "Predicted class" and ax.get_ylabel() == "True class"
    assert len(fig.axes) == 2  # the matrix and its colour bar

    raw = plots.confusion_matrix(cm, CLASSES, normalize=False).axes[0]
    np.testing.assert_array_equal(raw.images[0].get_array(), cm)


def test_confusion_matrix_empty_row_and_bad_shapes():
    ax = plots.confusion_matrix([[0, 0], [3, 1]], CLASSES).axes[0]
    assert ax.texts[0].get_text() == "0\n(0.0%)"
    with pytest.raises(ValueError, match="class names"):
        plots.confusion_matrix(np.eye(3), CLASSES)
    with pytest.raises(ValueError, match="square"):
        plots.confusion_matrix(np.ones((2, 3)), CLASSES)


def test_roc_curve_auc_in_legend():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(5)
    y = np.array(["earthquake", "explosion"] * 20)
    score = (y == "explosion") * 0.5 + rng.random(40)
    fig = plots.roc_curve(y, score)
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == f"AUC = {roc_auc_score(y == 'explosion', score):.3f}"
    assert "explosion" in ax.get_title()

    probs = np.column_stack([1 - score, score])
    runs = plots.roc_curve(y == "explosion", {"lstm": probs, "attention": score[::-1]}).axes[0]
    texts = [t.get_text() for t in runs.get_legend().get_texts()]
    assert texts[0].startswith("lstm: AUC =") and texts[1].startswith("attention: AUC =")


def test_roc_curve_from_an_evaluate_report_style_input():
    # evaluate() gives integer labels, (n, 2) softmax probabilities and the class names
    labels = np.array([0, 1, 0, 1, 1, 0])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55], [0.7, 0.3]])
    ax = plots.roc_curve(labels, probs, classes=CLASSES).axes[0]
    assert ax.get_legend().get_texts()[0].get_text() == "AUC = 1.000"
    assert ax.get_title().endswith("(positive class: explosion)")
    assert ax.get_xlabel() == "False positive rate"


def test_roc_curve_rejects_more_than_two_classes():
    with pytest.raises(ValueError, match="two classes"):
        plots.roc_curve([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="entries"):
        plots.roc_curve([0, 1, 1], [0.1, 0.2])


def test_compare_runs_grouped_bars():
    metrics = {
        "lstm": {"accuracy": 0.9, "balanced_accuracy": 0.88, "macro_f1": 0.87, "confusion_matrix": [[1]]},
        "lstm_attention": pd.Series({"accuracy": 0.92, "balanced_accuracy": 0.9, "macro_f1": 0.91}),
    }
    fig = plots.compare_runs(metrics)
    ax = fig.axes[0]
    assert _bar_heights(ax) == pytest.approx([0.9, 0.88, 0.87, 0.92, 0.9, 0.91])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["lstm", "lstm_attention"]
    assert "0.920" in [t.get_text() for t in ax.texts]
    nested = plots.compare_runs({"lstm": {"test": {"accuracy": 0.5, "balanced_accuracy": 0.4, "macro_f1": 0.3}}})
    assert _bar_heights(nested.axes[0]) == pytest.approx([0.5, 0.4, 0.3])
    with pytest.raises(ValueError, match="no metric"):
        plots.compare_runs({"lstm": {"accuracy": 0.9}})


# ------------------------------------------------------------------------------------------ saving
def test_save_figure_writes_png_atomically(tmp_path):
    fig = plots.class_counts(["a", "b"])
    out = plots.save_figure(fig, tmp_path / "figures" / "counts.png")
    assert out == tmp_path / "figures" / "counts.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["counts.png"]  # no temp file left
    assert plots.save_figure(fig, tmp_path / "noext").suffix == ".png"
    with pytest.raises(FileExistsError):
        plots.save_figure(fig, out, overwrite=False)
    with pytest.raises(TypeError):
        plots.save_figure("fig", tmp_path / "x.png")


def test_fan_charts_of_large_classes_draw_a_seeded_sample():
    from seiswork.plots.fans import sample_per_class

    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 200, 3)).astype(np.float32)
    labels = np.array(["a"] * 50 + ["b"] * 10)
    fig = plots.fan_chart(x, labels, sampling_rate=100.0, max_events=8)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert any("(n=8 of 50)" in t for t in titles) and any("(n=8 of 10)" in t for t in titles)
    picked, names, totals = sample_per_class(x, labels, ["a", "b"], 8)
    again, _, _ = sample_per_class(x, labels, ["a", "b"], 8)
    np.testing.assert_array_equal(picked, again)  # same seed, same draw
    assert totals == {"a": 50, "b": 10} and list(np.unique(names, return_counts=True)[1]) == [8, 8]
    small = plots.class_medians(x[50:], labels[50:], sampling_rate=100.0)  # 10 of b: all shown
    assert any("n=10)" in t.get_text() for t in small.axes[-1].get_legend().get_texts())
    plt.close("all")
