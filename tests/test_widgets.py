"""seiswork.widgets: the tuner's state (no widgets), the widget wiring (values set in code, no browser),
and the headless preview."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")  # headless: no display in tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("ipywidgets")

from torch import nn  # noqa: E402

from seiswork.augment import AddNoise, AmplitudeScale, Compose, RandomApply, TimeShift, TimeStretch  # noqa: E402
from seiswork.transforms import FFTTransform, ToTensor, load_pipeline, pipeline_to_dict, save_pipeline  # noqa: E402
from seiswork.widgets import SPECS, AugmentationSetting, AugmentationTuner, TunerState, static_preview  # noqa: E402

from tests.conftest import make_seed_events  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
CLASSES = ["earthquake", "explosion"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def seed_pipeline_literal(seed=0):
    """The seed's augmentation pipeline, written out as in the seed text."""
    return Compose([
        RandomApply(TimeShift(max_shift=0.1), p=0.5),
        RandomApply(AddNoise(snr_min=15, snr_max=40), p=0.5),
        RandomApply(AmplitudeScale(0.9, 1.1), p=0.3),
        RandomApply(TimeStretch(0.95, 1.05), p=0.3),
    ], seed=seed)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 256, 3)).astype(np.float32)
    y = np.array([0, 1] * 6)
    return x, y


@pytest.fixture
def tuner(data, tmp_path):
    x, y = data
    return AugmentationTuner(x, y, classes=CLASSES, sampling_rate=100.0, fft_size=64,
                             save_path=tmp_path / "augmentation.json", seed=3, dpi=40)


def _same_outputs(a, b, x):
    a.train()
    b.train()
    for _ in range(3):  # several calls: the random streams advance identically
        np.testing.assert_array_equal(a(x), b(x))


# ------------------------------------------------------------------------------------------ state
def test_defaults_equal_the_seed_pipeline():
    state = TunerState()
    assert state.enabled == ["TimeShift", "AddNoise", "AmplitudeScale", "TimeStretch"]
    d = state.augmentations
    assert d["TimeShift"] == AugmentationSetting(True, 0.5, {"max_shift": 0.1})
    assert d["AddNoise"] == AugmentationSetting(True, 0.5, {"snr_min": 15.0, "snr_max": 40.0})
    assert d["AmplitudeScale"] == AugmentationSetting(True, 0.3, {"scale_min": 0.9, "scale_max": 1.1})
    assert d["TimeStretch"] == AugmentationSetting(True, 0.3, {"rate_min": 0.95, "rate_max": 1.05})
    # the state serialises through the pipeline format: the saved pipeline, nothing disabled
    assert state.to_dict()["pipeline"] == pipeline_to_dict(seed_pipeline_literal(0))
    assert state.to_dict()["disabled"] == []
    pipe = state.to_pipeline()
    assert repr(pipe) == repr(seed_pipeline_literal(0))
    x = np.random.default_rng(1).normal(size=(200, 3)).astype(np.float32)
    _same_outputs(pipe, seed_pipeline_literal(0), x)


def test_state_to_pipeline_to_json_rebuilds_an_identical_pipeline(tmp_path):
    state = TunerState(seed=11)
    state.set("AddNoise", p=0.9, snr_min=5.0, snr_max=12.5)
    state.set("AmplitudeScale", enabled=False)
    pipe = state.to_pipeline()
    path = save_pipeline(pipe, tmp_path / "aug.json")
    rebuilt = load_pipeline(path)
    assert repr(rebuilt) == repr(pipe)
    batch = torch.randn(5, 300, 3)
    _same_outputs(rebuilt, state.to_pipeline(), batch)
    assert TunerState.from_pipeline(rebuilt) == state


def test_from_pipeline_round_trips():
    state = TunerState(seed=4, class_name="explosion", index=2)
    state.set("TimeShift", max_shift=0.25, p=1.0)
    state.set("TimeStretch", enabled=False, rate_min=0.8, rate_max=1.2)
    back = TunerState.from_pipeline(state.to_pipeline(), class_name="explosion", index=2)
    # a disabled augmentation is not in the pipeline: it comes back disabled with default settings
    expected = TunerState.from_dict(state.to_dict())
    expected.augmentations["TimeStretch"] = TunerState().augmentations["TimeStretch"]
    expected.augmentations["TimeStretch"].enabled = False
    assert back == expected
    assert TunerState.from_pipeline(TunerState().to_pipeline()) == TunerState()


def test_from_pipeline_reads_train_pipeline_bare_augmentations_and_extra_settings():
    train = nn.Sequential(Compose([TimeStretch(0.9, 1.1, pad_mode="zeros"), RandomApply(AddNoise(10, 20), p=0.2)],
                                  seed=7), FFTTransform(64), ToTensor())
    state = TunerState.from_pipeline(train)
    assert state.seed == 7
    assert state.enabled == ["AddNoise", "TimeStretch"]  # canonical order
    assert state.augmentations["TimeStretch"].p == 1.0
    assert state.augmentations["TimeStretch"].extra == {"pad_mode": "zeros"}
    assert "pad_mode='zeros'" in repr(state.to_pipeline())
    with pytest.raises(ValueError, match="twice"):
        TunerState.from_pipeline(Compose([TimeShift(), TimeShift()]))
    with pytest.raises(ValueError, match="no Compose"):
        TunerState.from_pipeline(nn.Sequential(FFTTransform(64)))


def test_to_dict_from_dict_through_json():
    state = TunerState(seed=2, class_name="explosion", index=1, force_all=True, draw=3)
    state.set("AddNoise", snr_min=0.0, snr_max=10.0)
    again = TunerState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state
    # a switched-off augmentation keeps its settings, extra ones included, as a RandomApply entry
    state.set("TimeStretch", enabled=False, p=0.2, rate_min=0.8, rate_max=1.2)
    state.augmentations["TimeStretch"].extra = {"pad_mode": "zeros"}
    d = state.to_dict()
    assert d["disabled"] == [{"type": "RandomApply", "p": 0.2, "transform": {
        "type": "TimeStretch", "rate_min": 0.8, "rate_max": 1.2, "pad_mode": "zeros"}}]
    assert TunerState.from_dict(json.loads(json.dumps(d))) == state
    with pytest.raises(ValueError, match="unknown TunerState field"):
        TunerState.from_dict({"sed": 1})


def test_toggling_an_augmentation_off_removes_it_from_the_pipeline():
    state = TunerState()
    state.set("TimeShift", enabled=False)
    pipe = state.to_pipeline()
    assert len(pipe) == 3
    assert "TimeShift" not in repr(pipe)
    for name in SPECS:
        state.set(name, enabled=False)
    empty = state.to_pipeline()
    assert len(empty) == 0
    x = np.random.default_rng(2).normal(size=(100, 3)).astype(np.float32)
    np.testing.assert_array_equal(empty(x), x)
    state.set("TimeShift", enabled=True)
    assert [type(m.aug).__name__ for m in state.to_pipeline()] == ["TimeShift"]


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "AddNoise", "snr_min": 40.0, "snr_max": 10.0}, "min <= max"),
    ({"name": "AmplitudeScale", "scale_min": 1.2, "scale_max": 1.1}, "min <= max"),
    ({"name": "TimeStretch", "rate_min": 0.0, "rate_max": 1.0}, "out of range"),
    ({"name": "TimeShift", "max_shift": 1.0}, "out of range"),
    ({"name": "TimeShift", "p": 1.5}, "probability"),
    ({"name": "AddNoise", "snr_min": float("nan")}, "finite"),
    ({"name": "AddNoise", "rate_min": 1.0}, "no parameter"),
    ({"name": "Reverse"}, "unknown augmentation"),
])
def test_invalid_settings_are_rejected_and_leave_the_state_unchanged(kwargs, match):
    state = TunerState()
    before = state.to_dict()
    kwargs = dict(kwargs)
    with pytest.raises(ValueError, match=match):
        state.set(kwargs.pop("name"), **kwargs)
    assert state.to_dict() == before


def test_invalid_dict_and_seed_rejected():
    bad = TunerState().to_dict()
    bad["pipeline"]["transforms"][1]["transform"].update(snr_min=30.0, snr_max=20.0)
    with pytest.raises(ValueError, match="snr_min"):
        TunerState.from_dict(bad)
    with pytest.raises(ValueError, match="seed"):
        TunerState(seed=-1)


def test_preview_pipeline_forces_p_and_offsets_seed_but_saved_one_does_not():
    state = TunerState(seed=5, force_all=True, draw=2)
    preview = state.to_pipeline(preview=True)
    assert all(m.p == 1.0 for m in preview)
    assert preview.seed == 7
    saved = state.to_pipeline()
    assert [m.p for m in saved] == [0.5, 0.5, 0.3, 0.3]
    assert saved.seed == 5


# ------------------------------------------------------------------------------------------ widget
def test_tuner_builds_and_draws_once(tuner):
    import ipywidgets as w

    assert isinstance(tuner.widget, w.VBox)
    assert tuner.n_redraws == 1
    assert isinstance(tuner.figure, Figure)
    assert len(tuner.figure.axes) == 6
    assert tuner.png.startswith(PNG) and bytes(tuner.image.value) == tuner.png
    assert "seiswork-tuner-figure" in tuner.image._dom_classes
    assert tuner.params_text.value.count("\n") == 3  # one line per augmentation
    assert tuner.state.seed == 3 and tuner.state.class_name == "earthquake"
    assert callable(tuner._ipython_display_)
    assert "AugmentationTuner(12 events" in repr(tuner)


def test_slider_change_updates_state_redraws_and_is_saved(tuner):
    png, fig = tuner.png, tuner.figure
    tuner.force_all_box.value = True  # every augmentation applied: the figure must change
    assert tuner.n_redraws == 2
    tuner.controls["AddNoise"]["range"].value = (0.0, 2.0)
    assert tuner.state.augmentations["AddNoise"].params == {"snr_min": 0.0, "snr_max": 2.0}
    assert tuner.n_redraws == 3
    assert tuner.figure is not fig and tuner.png != png and bytes(tuner.image.value) == tuner.png
    assert "AddNoise (p=1.00): snr_db=" in tuner.params_text.value
    tuner.controls["TimeShift"]["p"].value = 0.8
    tuner.controls["TimeShift"]["range"].value = 0.2
    assert tuner.n_redraws == 5
    path = tuner.save()
    doc = json.loads(path.read_text())
    items = doc["pipeline"]["transforms"]
    assert items[0] == {"type": "RandomApply", "p": 0.8, "transform": {"type": "TimeShift", "max_shift": 0.2}}
    assert items[1]["transform"] == {"type": "AddNoise", "snr_min": 0.0, "snr_max": 2.0}
    assert doc["pipeline"]["seed"] == 3
    assert "saved 4 augmentations" in tuner.status.value
    # force_all is a preview option only: the saved p values are the sliders'
    assert [i["p"] for i in items] == [0.8, 0.5, 0.3, 0.3]
    assert TunerState.from_pipeline(load_pipeline(path)).augmentations == tuner.state.augmentations


def test_preview_shows_exactly_what_the_preview_pipeline_does(tuner, data):
    x, _ = data
    tuner.force_all_box.value = True
    expected = tuner.state.to_pipeline(preview=True)(x[tuner.event_index])
    after_z = tuner.figure.axes[0].lines[1].get_ydata()
    np.testing.assert_allclose(after_z, expected[:, 0], rtol=1e-6)
    np.testing.assert_allclose(tuner.figure.axes[0].lines[0].get_ydata(), x[tuner.event_index][:, 0])


def test_checkbox_off_removes_augmentation_and_disables_its_sliders(tuner):
    tuner.controls["TimeStretch"]["enabled"].value = False
    assert "TimeStretch" not in tuner.state.enabled
    assert all(type(m.aug).__name__ != "TimeStretch" for m in tuner.pipeline)
    assert tuner.controls["TimeStretch"]["p"].disabled and tuner.controls["TimeStretch"]["range"].disabled
    assert tuner.n_redraws == 2
    assert "TimeStretch" not in tuner.params_text.value


def test_class_event_seed_and_new_draw(tuner, data):
    _, y = data
    tuner.class_dropdown.value = "explosion"
    assert tuner.n_redraws == 2  # one redraw, not one per widget the class change touches
    assert y[tuner.event_index] == 1 and tuner.event_slider.max == 5
    tuner.event_slider.value = 4
    assert tuner.event_index == int(np.flatnonzero(y == 1)[4])
    assert tuner.n_redraws == 3
    tuner.seed_box.value = 9
    assert tuner.state.seed == 9 and tuner.pipeline.seed == 9
    tuner.force_all_box.value = True
    before = tuner.params_text.value
    tuner.draw_button.click()
    assert tuner.state.draw == 1 and tuner.n_redraws == 6
    assert tuner.params_text.value != before
    assert tuner.pipeline.seed == 9  # a new draw does not change the saved seed


def test_save_button_without_path_reports_instead_of_raising(data):
    x, y = data
    t = AugmentationTuner(x, y, fft_size=64)
    t.save_button.click()
    assert "save failed" in t.status.value and "save_path" in t.status.value
    with pytest.raises(ValueError, match="save_path"):
        t.save()


def test_set_state_and_start_from_saved_pipeline(tuner, data, tmp_path):
    x, y = data
    new = TunerState(seed=1, class_name="explosion", index=3)
    new.set("AddNoise", snr_min=20.0, snr_max=25.0, p=0.1)
    tuner.set_state(new)
    assert tuner.controls["AddNoise"]["range"].value == (20.0, 25.0)
    assert tuner.controls["AddNoise"]["p"].value == 0.1
    assert tuner.event_slider.value == 3 and tuner.class_dropdown.value == "explosion"
    assert tuner.n_redraws == 2
    path = tuner.save(tmp_path / "other.json")
    again = AugmentationTuner(x, y, classes=CLASSES, fft_size=64, pipeline=path)
    assert again.state.augmentations == tuner.state.augmentations and again.state.seed == 1
    with pytest.raises(ValueError, match="out of range for class"):
        tuner.set_state(TunerState(class_name="explosion", index=6))


def test_tuner_on_raw_nan_padded_events():
    events, labels, _ = make_seed_events(n=6)
    t = AugmentationTuner(events, labels, fft_size=64, unit="counts")
    assert t.n_redraws == 1 and t.last_error is None
    assert np.isfinite(t.figure.axes[0].lines[1].get_ydata()).all()
    assert t.figure.axes[0].get_ylabel() == "Amplitude (counts)"


# ------------------------------------------------------------------------------------------ headless
def test_static_preview_is_the_same_figure_without_widgets(data):
    x, y = data
    pipe = seed_pipeline_literal(0)
    fig = static_preview(x, y, pipe, index=2, classes=CLASSES, fft_size=64, force_all=True, seed=0)
    assert isinstance(fig, Figure) and len(fig.axes) == 6
    assert "event 2 (earthquake)" in fig._suptitle.get_text()
    assert "TimeShift (p=1.00)" in fig._suptitle.get_text()
    expected = TunerState(seed=0, force_all=True).to_pipeline(preview=True)(x[2])
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), expected[:, 0], rtol=1e-6)


def test_static_preview_leaves_the_callers_pipeline_alone(data):
    x, y = data
    pipe = nn.Sequential(seed_pipeline_literal(4), FFTTransform(64), ToTensor())
    fig = static_preview(x, y, pipe, index=1, class_name="explosion", classes=CLASSES, fft_size=64)
    # the train pipeline's FFT is not applied: the "after" trace is a waveform of the event's length
    assert len(fig.axes[0].lines[1].get_ydata()) == 256
    assert pipe[0].last_params is None  # the caller's modules never ran
    fresh = nn.Sequential(seed_pipeline_literal(4), FFTTransform(64), ToTensor())
    np.testing.assert_array_equal(pipe(x[0]).numpy(), fresh(x[0]).numpy())
    with pytest.raises(ValueError, match="index"):
        static_preview(x, y, pipe, index=99)


# ------------------------------------------------------------------------------------------ representation
@pytest.fixture
def long_data():
    """12 events of 10 s at 100 Hz: 8 spectrogram frames of the default 2.56 s window and 1 s hop."""
    rng = np.random.default_rng(1)
    return rng.normal(size=(12, 1000, 3)).astype(np.float32), np.array([0, 1] * 6)


def _eval_transform(representation, **kwargs):
    from seiswork.transforms import default_pipelines

    return default_pipelines(representation=representation, sampling_rate=100.0, **kwargs)[1]


def _image_db(transform, event, channel):
    """What the model reads of ``event`` on one channel relative to the event's mean power, in dB: (bins, frames)
    (the first block of features; the second, each bin against its background, is not drawn)."""
    st = transform[0]
    out = st(event)[:, :3 * st.n_bins]
    return 10 * out.reshape(out.shape[0], 3, st.n_bins)[:, channel, :].T


def test_static_preview_with_a_spectrogram_shows_what_the_model_reads(long_data):
    x, y = long_data
    eval_t = _eval_transform("spectrogram", band=(1.0, 40.0))
    st = eval_t[0]
    gain = Compose([AmplitudeScale(0.5, 0.5)], seed=0)  # a known gain of 0.5 (-6 dB) on every event
    fig = static_preview(x, y, gain, index=3, classes=CLASSES, sampling_rate=100.0, transform=eval_t)
    assert len(fig.axes) == 3 * 3 + 1
    z_before, z_after = fig.axes[1].images[0], fig.axes[2].images[0]
    np.testing.assert_allclose(z_before.get_array(), _image_db(eval_t, x[3], 0), rtol=1e-6)
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), 0.5 * x[3][:, 0], rtol=1e-6)
    # the spectrogram is relative to the event's mean power: a gain changes the waveform by -6 dB, the input by 0
    np.testing.assert_allclose(z_after.get_array(), z_before.get_array(), atol=1e-3)
    t0, t1, f0, f1 = z_before.get_extent()
    assert (t0, t1) == pytest.approx(((128 - 50) / 100.0, (128 - 50) / 100.0 + st.n_frames(1000) * 1.0))
    df = 100.0 / 256
    assert (f0, f1) == pytest.approx(((st.bin_lo - 0.5) * df, (st.bin_hi - 0.5) * df))
    assert st.frequencies()[0] >= 1.0 and st.frequencies()[-1] <= 40.0
    assert fig.axes[1].get_ylabel() == "Frequency (Hz)" and fig.axes[-2].get_xlabel() == "Time (s)"


def test_tuner_with_a_spectrogram_redraws_the_after_image_from_the_preview_pipeline(long_data):
    x, y = long_data
    eval_t = _eval_transform("spectrogram")
    t = AugmentationTuner(x, y, classes=CLASSES, sampling_rate=100.0, transform=eval_t, seed=2, dpi=40)
    t.force_all_box.value = True  # every augmentation drawn: the after image differs from the before image
    expected = t.state.to_pipeline(preview=True)(x[t.event_index])
    before, after = t.figure.axes[1].images[0].get_array(), t.figure.axes[2].images[0].get_array()
    np.testing.assert_allclose(before, _image_db(eval_t, x[t.event_index], 0), rtol=1e-6)
    np.testing.assert_allclose(after, _image_db(eval_t, expected, 0), rtol=1e-5, atol=1e-4)
    assert np.abs(after - before).max() > 1.0
    assert t.png.startswith(PNG) and t.last_error is None
    with pytest.raises(ValueError, match="sampling_rate=50.0 Hz differs"):
        AugmentationTuner(x, y, sampling_rate=50.0, transform=eval_t)


def test_spectrum_representation_keeps_waveform_and_spectrum(data):
    from seiswork import plots

    x, y = data
    eval_t = _eval_transform("spectrum", fft_size=64)
    fig = static_preview(x, y, seed_pipeline_literal(0), index=2, classes=CLASSES, transform=eval_t, force_all=True)
    assert len(fig.axes) == 6 and not any(ax.images for ax in fig.axes)
    assert fig.axes[1].get_title() == "Z — magnitude spectrum (fft_size=64)"  # the transform's fft_size
    after = fig.axes[0].lines[1].get_ydata()[:, None].repeat(3, axis=1)
    np.testing.assert_allclose(fig.axes[1].lines[1].get_ydata(), plots.magnitude_spectrum(after, 64)[:, 0], rtol=1e-6)
    t = AugmentationTuner(x, y, classes=CLASSES, transform=eval_t, dpi=40)
    assert t.fft_size == 64 and len(t.figure.axes) == 6
    with pytest.raises(ValueError, match="fft_size=128 differs"):
        AugmentationTuner(x, y, transform=eval_t, fft_size=128)
    with pytest.raises(ValueError, match="transform must be"):
        static_preview(x, y, transform=nn.Identity())
