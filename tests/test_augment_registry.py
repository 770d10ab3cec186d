"""Augmentations describe themselves: a class declared in one place (here, in a test file) is validated by its
declaration and picked up by the pipeline JSON, the tuner and the kernel/torch backend with no edit elsewhere."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from seiswork import augment
from seiswork.augment import (
    Augmentation,
    Compose,
    Param,
    RandomApply,
    TimeShift,
    TimeStretch,
    backend,
    register,
    registered,
    unregister,
)
from seiswork.transforms import default_pipelines, load_pipeline, pipeline_to_dict, save_pipeline


@pytest.fixture
def polarity():
    """A fifth augmentation, written as its own module would be: flip the sign of an event, times a gain."""

    @register
    class Polarity(Augmentation):
        """Multiply each event by ``+gain`` or ``-gain`` (a fair coin per event). Params: ``{"sign": (batch,)}``."""

        params = (Param("gain", 1.0, low=0.0, low_open=True, unit="factor", doc="size of the result",
                        label="gain", typical=(0.5, 2.0)),)
        order = 50
        draw_units = {"sign": "×"}

        def _draw(self, batch, length, channels, device):
            sign = torch.randint(0, 2, (batch,), generator=self._generator) * 2 - 1
            return {"sign": sign.to(device=device, dtype=torch.float32)}

        def _apply_params(self, x, params):
            return x * (params["sign"] * self.gain)[:, None, None]

    yield Polarity
    unregister("Polarity")


def test_registry_lists_the_augmentations_in_order_of_application(polarity):
    names = [cls.__name__ for cls in registered()]
    assert names == ["TimeShift", "AddNoise", "AmplitudeScale", "TimeStretch", "Polarity"]
    assert augment.Polarity is polarity
    with pytest.raises(ValueError, match="registered already"):
        register(type("Polarity", (Augmentation,), {}))


def test_the_declaration_makes_the_constructor_and_validates(polarity):
    import inspect

    assert str(inspect.signature(polarity)) == "(gain=1.0, seed=None)"
    assert repr(polarity(2, seed=4)) == "Polarity(gain=2.0, seed=4)"
    assert polarity(0.5).get_config() == {"gain": 0.5}
    with pytest.raises(ValueError, match=r"Polarity: gain must be > 0 \(factor\), got 0.0"):
        polarity(0.0)
    with pytest.raises(TypeError, match="gain must be a real number"):
        polarity("big")
    with pytest.raises(TypeError, match="unexpected keyword argument 'gian'"):
        polarity(gian=2.0)


def test_json_round_trip_knows_the_new_class(polarity, tmp_path):
    pipe = Compose([RandomApply(polarity(2.0), p=0.4), TimeShift(0.2)], seed=3)
    assert pipeline_to_dict(pipe)["transforms"][0] == {"type": "RandomApply", "p": 0.4,
                                                       "transform": {"type": "Polarity", "gain": 2.0}}
    rebuilt = load_pipeline(save_pipeline(pipe, tmp_path / "p.json"))
    assert repr(rebuilt) == repr(pipe)
    x = torch.randn(6, 50, 3)
    torch.testing.assert_close(rebuilt(x), pipe(x), rtol=0, atol=0)


def test_without_a_kernel_step_it_takes_the_torch_path(polarity):
    x = torch.randn(5, 40, 3)
    comp = Compose([polarity(1.5), TimeStretch(0.9, 1.1)], seed=0)
    params = comp.draw(5, 40, channels=3)
    assert backend.program(comp, params, x) is None
    sign = params["transforms"][0]["sign"]
    expected = TimeStretch(0.9, 1.1).apply_params(x * (1.5 * sign)[:, None, None], params["transforms"][1])
    torch.testing.assert_close(comp.apply_params(x, params), expected)


def test_the_tuner_picks_it_up(polarity):
    pytest.importorskip("ipywidgets")
    from seiswork.widgets import SPECS, AugmentationTuner, TunerState

    spec = SPECS["Polarity"]
    assert (spec.params, spec.default, spec.slider, spec.label) == (("gain",), (1.0,), (0.5, 2.0), "gain (factor)")
    state = TunerState()
    assert "Polarity" in state.augmentations and state.enabled == ["TimeShift", "AddNoise", "AmplitudeScale",
                                                                    "TimeStretch"]  # not in the default pipeline
    state.set("Polarity", enabled=True, p=0.25, gain=1.5)
    pipe = state.to_pipeline()
    assert repr(pipe[4]) == repr(Compose([RandomApply(polarity(1.5), p=0.25)])[0])
    assert TunerState.from_pipeline(pipe) == state
    assert TunerState.from_dict(state.to_dict()) == state
    with pytest.raises(ValueError, match="out of range"):
        state.set("Polarity", gain=0.0)
    x = np.random.default_rng(0).normal(size=(4, 128, 3)).astype(np.float32)
    tuner = AugmentationTuner(x, np.array([0, 1, 0, 1]), classes=["a", "b"], fft_size=64, pipeline=state, dpi=30)
    assert set(tuner.controls) == set(SPECS) and tuner.controls["Polarity"]["range"].value == 1.5


def test_the_default_pipeline_is_unchanged_by_a_class_without_default_p(polarity):
    train, _ = default_pipelines(64, seed=0, representation="spectrum")
    assert "Polarity" not in repr(train)
    assert [type(m.aug).__name__ for m in train[0]] == ["TimeShift", "AddNoise", "AmplitudeScale", "TimeStretch"]


def test_apply_is_nn_modules_again():
    assert Augmentation.apply is nn.Module.apply
    seen = []
    TimeShift(0.1).apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["TimeShift"]


@pytest.mark.parametrize("param, text", [
    (Param("a", 0.1, low=0.0, high=1.0, high_open=True), "in [0, 1)"),
    (Param("a", 1.0, low=0.0, low_open=True), "> 0"),
    (Param("a", 1.0, high=5.0), "<= 5"),
    (Param("a", 1.0), "any finite number"),
    (Param("a", "x", choices=("x", "y")), "one of ('x', 'y')"),
])
def test_param_interval_in_words(param, text):
    assert param.interval() == text


def test_param_pair_declares_a_range():
    low, high = Param.pair("snr", (1.0, 2.0), ("lowest", "highest"), unit="dB")
    assert (low.name, low.range_with, low.label, high.name, high.range_with) == ("snr_min", "snr_max", "snr",
                                                                               "snr_max", None)
