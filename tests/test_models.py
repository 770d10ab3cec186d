"""Models: shapes, gradients, validation, registry, save/load, summary."""

from __future__ import annotations

import pytest
import torch

from seiswork.models import (
    INPUT_NORMS,
    MODELS,
    InputSummary,
    LSTMAttentionModel,
    LSTMModel,
    build_model,
    model_summary,
)

TINY = {"hidden": 8, "layers": 2, "dropout": 0.1}


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny(name: str, channels: int = 3, classes: int = 2, seed: int = 0, **kw):
    return build_model(name, seed=seed, channels=channels, classes=classes, **{**TINY, **kw})


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("classes", [2, 4])
def test_forward_shape(name, channels, classes):
    model = tiny(name, channels=channels, classes=classes)
    x = torch.rand(5, 33, channels) * 100  # spectra are non-negative and large
    for mode in (True, False):
        model.train(mode)
        out = model(x)
        assert out.shape == (5, classes)
        assert out.dtype == torch.float32
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_batch_of_one_and_varied_length(name):
    model = tiny(name).eval()
    assert model(torch.rand(1, 257, 3)).shape == (1, 2)
    assert model(torch.rand(2, 7, 3)).shape == (2, 2)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("input_norm", INPUT_NORMS)
@pytest.mark.parametrize("summary", [False, True])
def test_backward_gives_finite_gradients_for_all_parameters(name, input_norm, summary):
    model = tiny(name, input_norm=input_norm, summary=summary).train()
    x = torch.rand(4, 21, 3) * 50
    loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 0, 1]))
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname


def test_attention_pooling_variants_and_weights():
    model = tiny("lstm_attention", pooling="attention").eval()
    model(torch.rand(3, 10, 3))
    w = model.last_pool_weights
    assert w.shape == (3, 10)
    torch.testing.assert_close(w.sum(1), torch.ones(3))
    mean = tiny("lstm_attention", pooling="mean").eval()
    assert mean(torch.rand(3, 10, 3)).shape == (3, 2)
    assert mean.pool_score is None


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (LSTMModel, {"hidden": 0}, "hidden must be >= 1, got 0"),
        (LSTMModel, {"layers": -1}, "layers must be >= 1, got -1"),
        (LSTMModel, {"channels": 0}, "channels must be >= 1, got 0"),
        (LSTMModel, {"classes": 1}, "classes must be >= 2, got 1"),
        (LSTMModel, {"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        (LSTMModel, {"dropout": -0.1}, r"dropout must be in \[0, 1\), got -0.1"),
        (LSTMModel, {"input_norm": "layer"}, "input_norm must be one of"),
        (LSTMAttentionModel, {"hidden": 10, "heads": 3}, "hidden must be divisible by heads, got hidden=10, heads=3"),
        (LSTMAttentionModel, {"heads": 0}, "heads must be >= 1, got 0"),
        (LSTMAttentionModel, {"pooling": "max"}, "pooling must be one of"),
        (LSTMAttentionModel, {"attention_dropout": 1.5}, r"attention_dropout must be in \[0, 1\), got 1.5"),
    ],
)
def test_validation_errors_name_parameter_and_value(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("kwargs", [{"hidden": 8.0}, {"layers": True}, {"dropout": "0.3"}, {"channels": None}])
def test_wrong_types_raise_type_error(kwargs):
    with pytest.raises(TypeError, match=next(iter(kwargs))):
        LSTMModel(**kwargs)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_bad_input_shape_is_explained(name):
    model = tiny(name)
    with pytest.raises(ValueError, match=r"channels=3.*got \(10, 3\).*unsqueeze"):
        model(torch.rand(10, 3))
    with pytest.raises(ValueError, match=r"got \(2, 10, 2\)"):
        model(torch.rand(2, 10, 2))


def test_registry_and_build_model():
    assert MODELS == {"lstm": LSTMModel, "lstm_attention": LSTMAttentionModel}
    assert isinstance(build_model("lstm"), LSTMModel)
    model = build_model("lstm_attention", hidden=16, heads=4)
    assert isinstance(model, LSTMAttentionModel)
    assert model.config["heads"] == 4 and model.config["hidden"] == 16
    with pytest.raises(ValueError, match="unknown model 'gru'.*lstm, lstm_attention"):
        build_model("gru")


def test_attention_dropout_acts_on_the_attention_weights_only():
    default = LSTMAttentionModel(hidden=8, heads=2, dropout=0.3)
    assert default.attention.dropout == 0.0 and default.config["attention_dropout"] == 0.0
    assert default.head[2].p == 0.3 and default.lstm.dropout == 0.3  # dropout still acts elsewhere
    assert LSTMAttentionModel(hidden=8, heads=2, attention_dropout=0.2).attention.dropout == 0.2
    # a checkpoint config written before the argument existed still builds the model
    old = {k: v for k, v in default.config.items() if k != "attention_dropout"}
    assert LSTMAttentionModel(**old).config == default.config


def test_build_model_seed_is_reproducible_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    a, b, c = tiny("lstm", seed=1), tiny("lstm", seed=1), tiny("lstm", seed=2)
    assert torch.equal(torch.get_rng_state(), state)
    for (_, pa), (_, pb), (_, pc) in zip(a.state_dict().items(), b.state_dict().items(), c.state_dict().items()):
        assert torch.equal(pa, pb)
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_config_keeps_constructor_arguments(name):
    model = tiny(name, channels=1, classes=3)
    rebuilt = type(model)(**model.config)
    assert rebuilt.config == model.config
    assert model.config["channels"] == 1 and model.config["classes"] == 3 and model.config["hidden"] == 8
    assert "hidden=8" in repr(model)


def test_input_summary_is_the_mean_and_peak_of_each_feature_over_the_sequence():
    summary = InputSummary(channels=2, hidden=4, dropout=0.5).eval()
    with torch.no_grad():
        summary.project.weight.copy_(torch.eye(4))
        summary.project.bias.zero_()
    x = torch.tensor([[[1.0, -4.0], [3.0, -2.0], [2.0, -6.0]]])  # (batch 1, 3 steps, 2 features)
    # mean over steps (2, -4), then the peak (3, -2); the ReLU zeroes the negative ones
    torch.testing.assert_close(summary(x), torch.tensor([[2.0, 0.0, 3.0, 0.0]]))
    summary.train()  # dropout acts on those four values while training only
    torch.manual_seed(0)
    dropped = [summary(x) for _ in range(20)]
    assert any(not torch.equal(d, dropped[0]) for d in dropped)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_summary_joins_the_head_and_is_off_in_the_seed_models(name):
    seed_model = tiny(name)
    assert seed_model.summary is None and "summary" not in seed_model.config
    assert not any(k.startswith("summary.") for k in seed_model.state_dict())
    model = tiny(name, summary=True).eval()
    assert model.config["summary"] is True and isinstance(model.summary, InputSummary)
    assert model.summary.project.in_features == 2 * 3 and model.summary.project.out_features == TINY["hidden"]
    # the peak of one early frame reaches the head through the summary: with the projection reading only that
    # peak, the output moves for a spiked event and not for a silent one
    silent = torch.zeros(1, 40, 3)
    spiked = silent.clone()
    spiked[0, 3, 0] = 5.0
    with torch.no_grad():
        model.summary.project.weight.zero_()
        model.summary.project.bias.zero_()
        before = model(spiked), model(silent)
        model.summary.project.weight[:, 3] = 1.0  # the peak of feature 0
        assert not torch.allclose(model(spiked), before[0])
        torch.testing.assert_close(model(silent), before[1], rtol=0, atol=0)
    with pytest.raises(TypeError, match="summary must be True or False"):
        tiny(name, summary="yes")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_projection_maps_the_features_to_hidden_before_the_lstm_and_is_off_in_the_seed_models(name):
    seed_model = tiny(name)
    assert seed_model.lstm.projection is None and "projection" not in seed_model.config
    assert seed_model.lstm.layers[0].input_size == 3
    model = tiny(name, channels=40, projection=True).eval()
    assert model.config["projection"] is True
    assert model.lstm.projection.in_features == 40 and model.lstm.projection.out_features == TINY["hidden"]
    assert model.lstm.layers[0].input_size == TINY["hidden"]
    # the first layer reads the projection: with it zeroed, the input no longer reaches the recurrent state
    x = torch.rand(2, 9, 40) * 3
    with torch.no_grad():
        _, (h, _) = model.lstm(x)
        model.lstm.projection.weight.zero_()
        _, (h_zero, _) = model.lstm(x)
        _, (h_other, _) = model.lstm(torch.rand(2, 9, 40))
    assert not torch.allclose(h, h_zero)
    torch.testing.assert_close(h_zero, h_other, rtol=0, atol=0)
    with pytest.raises(TypeError, match="projection must be True or False"):
        tiny(name, projection=1)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("summary", [False, True])
@pytest.mark.parametrize("projection", [False, True])
def test_save_load_gives_identical_outputs(name, summary, projection, tmp_path):
    model = tiny(name, summary=summary, projection=projection)
    # move BatchNorm running statistics away from their initial values first
    model.train()
    model(torch.rand(8, 15, 3) * 30)
    model.eval()
    path = tmp_path / "model.pt"
    torch.save({"class": type(model).__name__, "config": model.config, "state": model.state_dict()}, path)
    ckpt = torch.load(path, weights_only=True)
    rebuilt = MODELS[name](**ckpt["config"])
    rebuilt.load_state_dict(ckpt["state"])
    rebuilt.eval()
    x = torch.rand(4, 15, 3) * 30
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=0)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_summary(name):
    model = tiny(name).train()
    state = torch.get_rng_state()
    summary = model_summary(model, input_shape=(1, 257, 3))
    text = str(summary)
    assert type(model).__name__ in text and "[1, 257, 3]" in text and "[1, 2]" in text
    assert summary.total_params == sum(p.numel() for p in model.parameters())
    assert model.training  # mode restored
    assert torch.equal(torch.get_rng_state(), state)
    with pytest.raises(ValueError, match="input_shape"):
        model_summary(model, input_shape=(257, 3))
