"""Models: shapes, gradients, validation, registry, save/load, summary."""

from __future__ import annotations

import pytest
import torch

from seiswork.models import (
    INPUT_NORMS,
    MODELS,
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
def test_backward_gives_finite_gradients_for_all_parameters(name, input_norm):
    model = tiny(name, input_norm=input_norm).train()
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


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_gives_identical_outputs(name, tmp_path):
    model = tiny(name)
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


@pytest.mark.parametrize("name", sorted(MODELS))
def test_lstm_gate_biases_are_chrono_initialised(name):
    model = tiny(name, layers=2)
    h = model.lstm.hidden_size
    assert len(model.lstm.layers) == 2
    for lstm in model.lstm.layers:
        b_ih, b_hh = lstm.bias_ih_l0, lstm.bias_hh_l0
        forget = b_ih[h:2 * h]
        assert (forget >= 0).all() and (forget <= torch.log(torch.tensor(256.0))).all()
        assert forget.std() > 0  # a spread of time scales, not one value
        torch.testing.assert_close(b_ih[:h], -forget)
        assert (b_hh[:2 * h] == 0).all()


def test_stacked_lstm_matches_nn_lstm_outputs_and_locks_dropout_over_time():
    from seiswork.models import StackedLSTM

    stack = StackedLSTM(3, 8, layers=2, dropout=0.5)
    ref = torch.nn.LSTM(3, 8, num_layers=2, batch_first=True)
    with torch.no_grad():
        for k, lstm in enumerate(stack.layers):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(ref, f"{name}_l{k}").copy_(getattr(lstm, f"{name}_l0"))
    x = torch.rand(4, 12, 3)
    stack.eval()
    out, (h, c) = stack(x)
    ref_out, (ref_h, ref_c) = ref(x)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h, ref_h)
    torch.testing.assert_close(c, ref_c)
    assert h.shape == (2, 4, 8)
    # in training, the dropout mask between layers is the same at every time step
    stack.train()
    seen = []
    stack.layers[1].register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    stack(x)
    dropped = seen[0] == 0
    assert dropped.any() and (dropped == dropped[:, :1]).all()


def _step(model, x, y, shards):
    """Logits and parameter gradients of one training step with ``cpu_shards=shards``."""
    model.lstm.cpu_shards = shards
    model.zero_grad(set_to_none=True)
    torch.manual_seed(3)  # the same dropout masks in every call
    logits = model(x)
    torch.nn.functional.cross_entropy(logits, y).backward()
    return logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_cpu_shards_give_the_unsharded_logits_and_gradients(name):
    from seiswork.models import MIN_SHARD

    model = tiny(name).train()
    x, y = torch.rand(2 * MIN_SHARD + 3, 21, 3) * 10, torch.randint(0, 2, (2 * MIN_SHARD + 3,))
    one_logits, one_grads = _step(model, x, y, 1)
    logits, grads = _step(model, x, y, 2)
    # sequences are independent in an LSTM: only the summation order of the parameter gradients differs
    torch.testing.assert_close(logits, one_logits, rtol=0, atol=1e-6)
    assert grads.keys() == one_grads.keys()
    for n in grads:
        torch.testing.assert_close(grads[n], one_grads[n], rtol=1e-4, atol=1e-6, msg=n)
    # same seed, same gradients, bit for bit: the shards' gradients are summed in a fixed order
    again_logits, again = _step(model, x, y, 2)
    assert torch.equal(again_logits, logits) and all(torch.equal(again[n], grads[n]) for n in grads)
    # gradients reach an input that asks for them, through the shards
    xg, xr = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    for shards, inputs in ((2, xg), (1, xr)):
        model.lstm.cpu_shards = shards
        torch.manual_seed(3)
        model(inputs).sum().backward()
    torch.testing.assert_close(xg.grad, xr.grad)
    # evaluation (no graph) runs sharded too, with the same outputs
    model.eval()
    with torch.no_grad():
        model.lstm.cpu_shards = 2
        sharded = model(x)
        model.lstm.cpu_shards = 1
        torch.testing.assert_close(sharded, model(x), rtol=0, atol=1e-6)


def test_shard_sizes_split_only_large_cpu_batches():
    from seiswork.models import MIN_SHARD, _shard_sizes

    big = torch.zeros(2 * MIN_SHARD + 1, 5, 3)
    assert _shard_sizes(big, 2) == [MIN_SHARD + 1, MIN_SHARD]
    assert _shard_sizes(big, 1) == [2 * MIN_SHARD + 1]
    assert _shard_sizes(big, 8) == [MIN_SHARD + 1, MIN_SHARD]  # never below MIN_SHARD sequences a shard
    assert _shard_sizes(torch.zeros(MIN_SHARD, 5, 3), 2) == [MIN_SHARD]
    assert _shard_sizes(torch.zeros(0, 5, 3), 2) == [0]
    torch.set_num_threads(2)  # None: one shard per intra-op thread (the one_thread fixture restores it)
    assert _shard_sizes(big, None) == [MIN_SHARD + 1, MIN_SHARD]


def test_shard_sizes_cap_training_shards_and_follow_the_held_width():
    from seiswork.models import MAX_EVAL_SHARD, MAX_TRAIN_SHARD, MIN_SHARD, _shard_sizes
    from seiswork.threads import cores_to_workers

    torch.set_num_threads(1)
    batch = torch.zeros(128, 5, 3)
    # one core: a training batch of 128 still runs as shards of at most MAX_TRAIN_SHARD (in turn)
    assert _shard_sizes(batch, None, grad=True) == [32, 32, 32, 32]
    assert max(_shard_sizes(torch.zeros(100, 5, 3), None, grad=True)) <= MAX_TRAIN_SHARD
    assert _shard_sizes(batch, None, grad=False) == [128]  # forward passes keep their speed up to MAX_EVAL_SHARD
    assert len(_shard_sizes(torch.zeros(MAX_EVAL_SHARD + 1, 5, 3), None, grad=False)) == 2
    assert _shard_sizes(torch.zeros(MIN_SHARD, 5, 3), None, grad=True) == [MIN_SHARD]
    assert _shard_sizes(batch, 2, grad=True) == [64, 64]  # an explicit count is taken as given
    with cores_to_workers(2):  # the caller runs one thread, the shards follow the cores held
        assert torch.get_num_threads() == 1
        assert _shard_sizes(batch, None, grad=False) == [64, 64]


def test_more_shards_than_workers_give_the_unsharded_gradients():
    from seiswork.threads import cores_to_workers

    model = tiny("lstm").train()
    x, y = torch.rand(100, 21, 3) * 10, torch.randint(0, 2, (100,))
    one_logits, one_grads = _step(model, x, y, 1)
    with cores_to_workers(2):
        logits, grads = _step(model, x, y, None)  # 3 shards of at most MAX_TRAIN_SHARD on 2 workers
        _, again = _step(model, x, y, None)
    torch.testing.assert_close(logits, one_logits, rtol=0, atol=1e-6)
    for n in grads:
        torch.testing.assert_close(grads[n], one_grads[n], rtol=1e-4, atol=1e-6, msg=n)
        assert torch.equal(again[n], grads[n]), n  # whichever worker ran a shard, the sum order is fixed


def test_shard_workers_leave_the_callers_thread_count_alone():
    from seiswork.threads import workers

    torch.set_num_threads(2)
    pool = workers(2)
    assert set(pool.map(lambda _: torch.get_num_threads(), range(4))) == {1}  # each shard on one core
    assert torch.get_num_threads() == 2


def test_cores_to_workers_holds_the_cores_and_restores_the_callers_threads():
    from seiswork.threads import cores_to_workers, width

    torch.set_num_threads(2)
    assert width() == 2
    with cores_to_workers() as held:
        assert held == 2 and width() == 2 and torch.get_num_threads() == 1
        with cores_to_workers(5) as inner:  # nested: the outer block's cores stay
            assert inner == 2 and width() == 2
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2 and width() == 2
    with pytest.raises(RuntimeError), cores_to_workers(3):
        assert width() == 3
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 2 and width() == 2  # restored on an error too


def test_worker_pool_grows_and_never_shuts_down_under_a_caller():
    from seiswork.threads import workers

    two = workers(2)
    assert workers(1) is two  # a smaller request reuses the pool
    three = workers(3)
    assert three is not two
    assert two.submit(lambda: 7).result() == 7  # a caller still holding the old pool can go on submitting
    assert workers(2) is three
    assert set(three.map(lambda _: torch.get_num_threads(), range(6))) == {1}
