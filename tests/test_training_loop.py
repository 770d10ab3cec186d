"""fit: learning, history, reproducibility, progress, schedulers, early stopping, data paths, argument errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from seiswork.models import build_model
from seiswork.training import HISTORY_COLUMNS, FitResult, evaluate, fit, load_checkpoint
from tests.training_standins import (  # noqa: F401  (data: a fixture)
    ArrayDataset,
    RandomGain,
    Spectrum,
    assert_same_weights,
    data,
    make_data,
    no_seconds,
    run,
    weights,
)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_fit_uses_class_weights_in_loss(data, tmp_path):
    train, val = data
    x, y = make_data(96, seed=3, imbalance=0.25)
    res = run(ArrayDataset(x, y), val, epochs=1, checkpoint_dir=tmp_path / "imb")
    # the weights used are recorded in the checkpoint arguments: balanced from the training label counts
    counts = np.bincount(y, minlength=2)
    expected = len(y) / (2 * counts)
    np.testing.assert_allclose(load_checkpoint(res.last_checkpoint)["fit_args"]["class_weights"], expected)
    # the epoch loss is the weighted mean: with all weights scaled the loss is unchanged
    a = run(ArrayDataset(x, y), val, epochs=1, class_weights=[1.0, 3.0])
    b = run(ArrayDataset(x, y), val, epochs=1, class_weights=[2.0, 6.0])
    assert a.history["train_loss"][0] == pytest.approx(b.history["train_loss"][0], rel=1e-5)
    c = run(ArrayDataset(x, y), val, epochs=1, class_weights=False)
    assert c.history["train_loss"][0] != pytest.approx(a.history["train_loss"][0], rel=1e-3)
    with pytest.raises(ValueError, match="class_weights must be"):
        run(train, val, epochs=1, class_weights=[1.0])
    with pytest.raises(ValueError, match="class_weights must be"):
        run(train, val, epochs=1, class_weights="inverse")
    res = run(train, val, epochs=1, class_weights=np.array([1.0, 2.0]), checkpoint_dir=tmp_path)
    assert load_checkpoint(res.last_checkpoint)["fit_args"]["class_weights"] == [1.0, 2.0]
    res = run(train, val, epochs=1, class_weights="balanced", checkpoint_dir=tmp_path / "b")
    assert load_checkpoint(res.last_checkpoint)["fit_args"]["class_weights"] == [1.0, 1.0]


def test_fit_learns_separable_data(data):
    train, val = data
    res = run(train, val, epochs=6)
    assert isinstance(res, FitResult)
    assert list(res.history.columns) == HISTORY_COLUMNS
    assert res.history["epoch"].tolist() == list(range(1, len(res.history) + 1))
    assert res.history["val_accuracy"].max() > 0.9
    assert res.best_epoch == int(res.history["val_macro_f1"].idxmax()) + 1
    assert res.best_checkpoint.name == "best.pt" and res.device == torch.device("cpu")
    assert res.world_size == 1 and not torch.distributed.is_initialized()  # one process: no process group
    assert not res.model.training
    # the model returned holds the best epoch's weights
    report = evaluate(res.model, val, transform=Spectrum(), device="cpu")
    assert report["macro_f1"] == pytest.approx(res.history.loc[res.best_epoch - 1, "val_macro_f1"])
    assert "best_epoch" in repr(res)


def test_same_seed_same_history_and_weights_different_seed_differs(data):
    train, val = data
    a, b = run(train, val), run(train, val)
    pd.testing.assert_frame_equal(no_seconds(a.history), no_seconds(b.history))
    assert_same_weights(weights(a.model), weights(b.model))
    c = run(train, val, seed=1)
    assert not no_seconds(c.history).equals(no_seconds(a.history))


def test_fit_leaves_global_rng_untouched(data):
    train, val = data
    state = torch.get_rng_state()
    run(train, val, epochs=1)
    assert torch.equal(torch.get_rng_state(), state)


def test_progress_modes(data, capsys):
    train, val = data
    run(train, val, epochs=2, progress=None)  # not a terminal under pytest: one plain line per epoch
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 2 and "val loss" in lines[0] and "/2" in lines[0]
    run(train, val, epochs=1, progress=False)
    assert capsys.readouterr().out == ""
    records = []
    run(train, val, epochs=2, progress=records.append)
    assert [r["epoch"] for r in records] == [1, 2] and set(records[0]) == set(HISTORY_COLUMNS)


def test_amp_and_schedulers_run(data):
    train, val = data
    res = run(train, val, epochs=2, amp=True)
    assert np.isfinite(res.history["train_loss"]).all()
    res = run(train, val, epochs=3, scheduler="cosine")
    assert res.history["lr"].iloc[0] == pytest.approx(3e-2) and res.history["lr"].iloc[-1] < 3e-2
    run(train, val, epochs=1, scheduler="plateau")
    with pytest.raises(ValueError, match="scheduler must be"):
        run(train, val, epochs=1, scheduler="step")


def test_amp_on_a_cpu_without_a_bf16_lstm_warns_and_trains_as_without_amp(data, monkeypatch):
    from seiswork.training import epoch

    monkeypatch.setattr(epoch, "cpu_runs_bf16_lstm", lambda: False)  # an AVX2-only CPU: oneDNN would raise
    train, val = data
    with pytest.warns(UserWarning, match="amp=True: this CPU cannot run an LSTM in bfloat16"):
        res = run(train, val, epochs=2, amp=True)
    pd.testing.assert_frame_equal(no_seconds(res.history), no_seconds(run(train, val, epochs=2).history))


def test_the_bf16_probe_leaves_the_global_rng_untouched():
    from seiswork.training.runtime import cpu_runs_bf16_lstm

    before = torch.random.get_rng_state()
    assert isinstance(cpu_runs_bf16_lstm.__wrapped__(), bool)  # uncached: the probe itself runs
    assert torch.equal(torch.random.get_rng_state(), before)


def test_early_stopping_stops(data):
    train, val = data
    # a learning rate this small changes nothing: validation F1 never improves after epoch 1
    res = run(train, val, epochs=10, lr=1e-12, patience=2)
    assert res.stopped_early
    assert len(res.history) == 3 and res.best_epoch == 1


def test_per_item_path_matches_fast_path_without_augmentation(data):
    train, val = data
    fast = run(train, val, train_transform=Spectrum(), eval_transform=Spectrum())
    # the seed's way: datasets whose items are already spectra, iterated by a seeded DataLoader
    item_train = ArrayDataset(train.x, train.y, transform=Spectrum())
    item_val = ArrayDataset(val.x, val.y, transform=Spectrum())
    slow = run(item_train, item_val, train_transform=None, eval_transform=None)
    pd.testing.assert_frame_equal(no_seconds(fast.history), no_seconds(slow.history), atol=1e-5, rtol=1e-5)


def test_per_item_path_with_random_item_transform_is_reproducible(data):
    train, val = data

    def make():
        return ArrayDataset(train.x, train.y, transform=nn.Sequential(RandomGain(), Spectrum()))

    a = run(make(), ArrayDataset(val.x, val.y, transform=Spectrum()), train_transform=None, eval_transform=None)
    b = run(make(), ArrayDataset(val.x, val.y, transform=Spectrum()), train_transform=None, eval_transform=None)
    pd.testing.assert_frame_equal(no_seconds(a.history), no_seconds(b.history))


def test_dataloader_workers_are_seeded(data):
    train, val = data

    def go(construction_seed):
        gain = RandomGain(seed=construction_seed)
        item_train = ArrayDataset(train.x, train.y, transform=nn.Sequential(gain, Spectrum()))
        return run(item_train, ArrayDataset(val.x, val.y, transform=Spectrum()), epochs=1, num_workers=1,
                   train_transform=None, eval_transform=None)

    # each worker reseeds the item transform from the run seed: its construction seed does not matter
    pd.testing.assert_frame_equal(no_seconds(go(1).history), no_seconds(go(2).history))


def test_tensor_dataset_and_subset_work(data):
    train, val = data
    spec = Spectrum()
    tds = torch.utils.data.TensorDataset(spec(torch.from_numpy(train.x)), torch.from_numpy(train.y))
    vds = torch.utils.data.Subset(ArrayDataset(val.x, val.y, transform=spec), np.arange(20))
    res = run(tds, vds, epochs=1, train_transform=None, eval_transform=None)
    assert len(res.history) == 1


def test_missing_eval_transform_warns(data):
    train, val = data
    # raw (64, 3) waveforms are a valid LSTM input too, so nothing else would catch this mistake
    with pytest.warns(UserWarning, match="eval_transform is None"):
        run(train, val, epochs=1, eval_transform=None)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"epochs": 0}, ValueError, "epochs must be >= 1, got 0"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an int"),
        ({"lr": -1.0}, ValueError, "lr must be > 0"),
        ({"patience": 0}, ValueError, "patience must be >= 1"),
        ({"resume": True}, ValueError, "resume=True needs checkpoint_dir"),
        ({"device": "tpu9"}, ValueError, "not a torch device"),
    ],
)
def test_fit_argument_errors(data, kwargs, error, match):
    train, val = data
    with pytest.raises(error, match=match):
        run(train, val, **kwargs)


def test_fit_data_errors(data):
    train, val = data
    with pytest.raises(ValueError, match="train dataset is empty"):
        run(ArrayDataset(train.x[:0], train.y[:0]), val)
    with pytest.raises(ValueError, match=r"train labels must lie in \[0, 2\)"):
        run(ArrayDataset(train.x, train.y + 1), val)
    with pytest.raises(TypeError, match="val dataset is None"):
        run(train, None)


def test_fit_with_real_dataset_and_pipelines():
    from seiswork import default_pipelines
    from seiswork.data import adapter as preprocess

    from tests.conftest import make_seed_events

    events, labels, ids = make_seed_events(40, seed=0)
    adapter = preprocess.WaveformDataAdapter(events, labels, test_ratio=0.25, val_ratio=0.2, seed=0)
    train, val = adapter.dataset("train"), adapter.dataset("val")
    assert train.transform is None  # the fast path
    train_t, eval_t = default_pipelines(fft_size=64, seed=0, representation="spectrum")
    model = build_model("lstm", seed=0, hidden=8, layers=1, classes=len(adapter.classes))
    kwargs = {"epochs": 2, "batch_size": 8, "lr": 1e-2, "train_transform": train_t, "eval_transform": eval_t,
              "progress": False, "device": "cpu"}
    a = fit(model, train, val, **kwargs)
    b = fit(build_model("lstm", seed=0, hidden=8, layers=1, classes=len(adapter.classes)), train, val, **kwargs)
    pd.testing.assert_frame_equal(no_seconds(a.history), no_seconds(b.history))
    report = evaluate(a.model, adapter.dataset("test"), transform=eval_t, device="cpu")
    assert report["classes"] == [str(c) for c in adapter.classes]


def test_fit_without_checkpoint_dir_writes_a_temporary_run_folder(data, tmp_path):
    """The result names a checkpoint that load_model reads (it was None, and load_model(None) a TypeError)."""
    from seiswork.training import load_model

    train, val = data
    res = run(train, val, epochs=3)
    folder = res.best_checkpoint.parent
    assert folder.name.startswith("seiswork-fit-") and res.last_checkpoint == folder / "last.pt"
    assert sorted(p.name for p in folder.iterdir()) == ["best.pt", "history.csv", "last.pt"]
    rebuilt = load_model(res.best_checkpoint)
    x = Spectrum()(torch.from_numpy(val.x[:8]))
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), res.model(x), rtol=0, atol=0)
    # the same run into a folder given: the same history and weights
    given = run(train, val, epochs=3, checkpoint_dir=tmp_path)
    pd.testing.assert_frame_equal(no_seconds(res.history), no_seconds(given.history))
    assert_same_weights(weights(res.model), weights(given.model))
    # each call gets its own folder
    assert run(train, val, epochs=1).best_checkpoint.parent != folder


def test_fit_of_a_model_without_config_writes_no_checkpoint(data):
    train, val = data
    res = run(train, val, model=nn.Sequential(nn.Flatten(), nn.Linear(33 * 3, 2)), epochs=1)
    assert res.best_checkpoint is None and res.last_checkpoint is None
