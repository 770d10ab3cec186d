"""Runtime: device choice, glibc's memory setting, the CPU thread policy models declare."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from seiswork.models import build_model
from seiswork.training import get_device
from tests.training_standins import data, model_, run  # noqa: F401  (data: a fixture)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_get_device():
    assert get_device("cpu") == torch.device("cpu")
    assert get_device() == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="not a torch device"):
        get_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            get_device("cuda")


def test_retain_freed_memory(monkeypatch):
    import platform

    import seiswork.training.runtime as train_module

    monkeypatch.setattr(train_module, "_retained", False)
    monkeypatch.setenv("SEISWORK_RETAIN_MEMORY", "0")
    assert train_module.retain_freed_memory() is False and train_module._retained is False
    monkeypatch.delenv("SEISWORK_RETAIN_MEMORY")
    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert train_module.retain_freed_memory() is expected
    assert train_module.retain_freed_memory() is expected  # idempotent


def test_sharded_cpu_fit_gives_the_cores_to_the_shard_workers(data):
    """Inside fit a sharded CPU model's step runs the caller on one torch thread, with the shards over the
    caller's cores; the caller's thread count is back afterwards. Its unsharded batches run on one thread
    (too small for OpenMP threads that sleep between ops); other models keep torch's threads."""
    from seiswork.threads import width

    train, val = data
    torch.set_num_threads(2)
    seen = []

    def probe(record):
        seen.append((torch.get_num_threads(), width()))

    run(train, val, epochs=1, batch_size=64, progress=probe)  # batches of 64: two shards of 32
    assert seen == [(1, 2)]
    assert torch.get_num_threads() == 2
    seen.clear()
    run(train, val, epochs=1, batch_size=16, progress=probe)  # one shard: one thread
    assert seen == [(1, 1)]
    seen.clear()
    model = model_()
    model.lstm.cpu_shards = 1  # sharding off: nothing to give the cores to
    run(train, val, model=model, epochs=1, batch_size=64, progress=probe)
    assert seen == [(1, 1)]
    seen.clear()
    run(train, val, model=nn.Sequential(nn.Flatten(), nn.LazyLinear(2)), epochs=1, progress=probe)
    assert seen == [(2, 2)]
    seen.clear()
    attention = build_model("lstm_attention", seed=0, channels=3, classes=2, hidden=8, layers=2, heads=2)
    run(train, val, model=attention, epochs=1, batch_size=64, progress=probe)  # attention runs outside the shards
    assert seen == [(1, 1)]


def test_cpu_threads_asks_the_model_for_its_thread_needs():
    """Without training: a model declares whether it wants the cores for its shard workers at a batch size."""
    from seiswork.training import cpu_threads

    torch.set_num_threads(2)
    cpu = torch.device("cpu")
    lstm = build_model("lstm", hidden=8, layers=1)
    assert lstm.wants_cores_for_shards(64, grad=True) and not lstm.wants_cores_for_shards(16, grad=True)
    attention = build_model("lstm_attention", hidden=8, layers=1, heads=2)
    assert not attention.wants_cores_for_shards(64, grad=True)  # its attention runs outside the shards
    for model, batch, device, threads in [(lstm, 64, cpu, 1), (lstm, 16, cpu, 1), (attention, 64, cpu, 1),
                                          (nn.Linear(2, 2), 64, cpu, 2), (lstm, 64, torch.device("cuda"), 2)]:
        with cpu_threads(model, device, batch, grad=True):
            assert torch.get_num_threads() == threads, (type(model).__name__, batch, device)
        assert torch.get_num_threads() == 2
    torch.set_num_threads(1)  # one core: nothing to give
    with cpu_threads(lstm, cpu, 64, grad=True):
        assert torch.get_num_threads() == 1
