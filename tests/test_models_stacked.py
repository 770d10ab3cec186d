"""StackedLSTM: chrono initialisation, locked dropout, CPU shards (same logits and gradients as one call)."""

from __future__ import annotations

import pytest
import torch

from seiswork.models import MODELS, build_model

TINY = {"hidden": 8, "layers": 2, "dropout": 0.1}


def tiny(name: str, channels: int = 3, classes: int = 2, seed: int = 0, **kw):
    return build_model(name, seed=seed, channels=channels, classes=classes, **{**TINY, **kw})


pytestmark = pytest.mark.usefixtures("one_thread")


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
@pytest.mark.parametrize("projection", [False, True])
def test_cpu_shards_give_the_unsharded_logits_and_gradients(name, projection):
    from seiswork.models import MIN_SHARD

    model = tiny(name, projection=projection).train()
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
    from seiswork.models import MIN_SHARD, shard_sizes_of

    big = torch.zeros(2 * MIN_SHARD + 1, 5, 3)
    assert shard_sizes_of(big, 2) == [MIN_SHARD + 1, MIN_SHARD]
    assert shard_sizes_of(big, 1) == [2 * MIN_SHARD + 1]
    assert shard_sizes_of(big, 8) == [MIN_SHARD + 1, MIN_SHARD]  # never below MIN_SHARD sequences a shard
    assert shard_sizes_of(torch.zeros(MIN_SHARD, 5, 3), 2) == [MIN_SHARD]
    assert shard_sizes_of(torch.zeros(0, 5, 3), 2) == [0]
    torch.set_num_threads(2)  # None: one shard per intra-op thread (the one_thread fixture restores it)
    assert shard_sizes_of(big, None) == [MIN_SHARD + 1, MIN_SHARD]


def test_shard_sizes_cap_training_shards_and_follow_the_held_width():
    from seiswork.models import MAX_EVAL_SHARD, MAX_TRAIN_SHARD, MIN_SHARD, shard_sizes_of
    from seiswork.threads import cores_to_workers

    torch.set_num_threads(1)
    batch = torch.zeros(128, 5, 3)
    # one core: a training batch of 128 still runs as shards of at most MAX_TRAIN_SHARD (in turn)
    assert shard_sizes_of(batch, None, grad=True) == [32, 32, 32, 32]
    assert max(shard_sizes_of(torch.zeros(100, 5, 3), None, grad=True)) <= MAX_TRAIN_SHARD
    assert shard_sizes_of(batch, None, grad=False) == [128]  # forward passes keep their speed up to MAX_EVAL_SHARD
    assert len(shard_sizes_of(torch.zeros(MAX_EVAL_SHARD + 1, 5, 3), None, grad=False)) == 2
    assert shard_sizes_of(torch.zeros(MIN_SHARD, 5, 3), None, grad=True) == [MIN_SHARD]
    assert shard_sizes_of(batch, 2, grad=True) == [64, 64]  # an explicit count is taken as given
    with cores_to_workers(2):  # the caller runs one thread, the shards follow the cores held
        assert torch.get_num_threads() == 1
        assert shard_sizes_of(batch, None, grad=False) == [64, 64]


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
