"""Training engine: fit (fast and per-item paths), reproducibility, resume, checkpoints, evaluate, train_main.

Most tests use tiny stand-ins defined here (an array dataset with ``.x``/``.y`` and batch transforms), so
they do not depend on the data and transform modules; the integration tests at the end use the real ones.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from seiswork.models import LSTMModel, build_model
from seiswork.train import (
    BEST,
    HISTORY_COLUMNS,
    LAST,
    FitResult,
    compute_class_weights,
    evaluate,
    fit,
    get_device,
    load_checkpoint,
    load_model,
    report_to_json,
    save_metrics,
)

TIME = 64  # samples per event; the stand-in spectrum has TIME // 2 + 1 = 33 bins


pytestmark = pytest.mark.usefixtures("one_thread")


# --------------------------------------------------------------------------- stand-ins
class ArrayDataset(torch.utils.data.Dataset):
    """Like WaveformDataset: ``.x`` (n, time, channel) float32, ``.y`` int64, ``.transform``, ``.classes``."""

    def __init__(self, x, y, transform=None, classes=("low", "high")):
        self.x, self.y, self.transform, self.classes = x, y, transform, np.array(classes)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        item = torch.from_numpy(self.x[i])
        if self.transform is not None:
            item = self.transform(item.unsqueeze(0)).squeeze(0)
        return item, int(self.y[i])


class Spectrum(nn.Module):
    """Batch magnitude spectrum (B, time, channel) -> (B, time // 2 + 1, channel)."""

    def forward(self, x):
        return torch.fft.rfft(x, dim=1).abs()


class RandomGain(nn.Module):
    """A random augmentation with its own generator and a ``reseed`` hook; identity in eval mode."""

    def __init__(self, seed=0):
        super().__init__()
        self.generator = torch.Generator().manual_seed(seed)

    def reseed(self, seed):
        self.generator.manual_seed(seed)

    def forward(self, x):
        if not self.training:
            return x
        gain = 0.8 + 0.4 * torch.rand(x.shape[0], 1, 1, generator=self.generator)
        return x * gain.to(x.device)


def make_data(n=96, seed=0, channels=3, noise=0.3, imbalance=None):
    """Two classes of sines: class 0 at a low frequency, class 1 near Nyquist, plus noise.

    The high class differs at the end of the spectrum, which a tiny LSTM reading its final state learns in a
    few epochs (a difference at bin 12 of 33 takes a tiny model far longer)."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(np.int64) if imbalance is None else (rng.random(n) < imbalance).astype(np.int64)
    t = np.arange(TIME)
    freq = np.where(y == 0, 4, 26)[:, None] + rng.uniform(-1, 1, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    base = np.sin(2 * np.pi * freq * t[None] / TIME + phase)
    x = base[:, :, None] * rng.uniform(0.5, 1.5, (n, 1, channels)) + noise * rng.normal(size=(n, TIME, channels))
    return x.astype(np.float32), y


@pytest.fixture
def data():
    x, y = make_data(96, seed=0)
    xv, yv = make_data(48, seed=1)
    return ArrayDataset(x, y), ArrayDataset(xv, yv)


def model_(seed=0, **kw):
    return build_model("lstm", seed=seed, channels=3, classes=2, hidden=8, layers=1, dropout=0.1, **kw)


def run(train, val, model=None, **kw):
    """``fit`` with small defaults: a fresh seeded tiny model, stand-in augmentation + spectrum, quiet, on CPU."""
    args = {"epochs": 3, "batch_size": 16, "lr": 3e-2, "train_transform": nn.Sequential(RandomGain(), Spectrum()),
            "eval_transform": Spectrum(), "progress": False, "device": "cpu", **kw}
    return fit(model if model is not None else model_(), train, val, **args)


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


def no_seconds(history):
    return history.drop(columns="seconds")


# --------------------------------------------------------------------------- device, class weights
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

    import seiswork.train as train_module

    monkeypatch.setattr(train_module, "_retained", False)
    monkeypatch.setenv("SEISWORK_RETAIN_MEMORY", "0")
    assert train_module.retain_freed_memory() is False and train_module._retained is False
    monkeypatch.delenv("SEISWORK_RETAIN_MEMORY")
    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert train_module.retain_freed_memory() is expected
    assert train_module.retain_freed_memory() is expected  # idempotent


def test_class_weights_match_scikit_learn():
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.array([0] * 30 + [1] * 10 + [2] * 5)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=labels)
    np.testing.assert_allclose(compute_class_weights(labels, 3), expected)
    with pytest.warns(UserWarning, match=r"classes \[2\] have no training samples"):
        w = compute_class_weights(np.array([0, 0, 1]), 3)
    np.testing.assert_allclose(w, [0.75, 1.5, 0.0])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        compute_class_weights(np.array([0, 2]), 2)


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


# --------------------------------------------------------------------------- learning, history, progress
def test_fit_learns_separable_data(data):
    train, val = data
    res = run(train, val, epochs=6)
    assert isinstance(res, FitResult)
    assert list(res.history.columns) == HISTORY_COLUMNS
    assert res.history["epoch"].tolist() == list(range(1, len(res.history) + 1))
    assert res.history["val_accuracy"].max() > 0.9
    assert res.best_epoch == int(res.history["val_macro_f1"].idxmax()) + 1
    assert res.best_checkpoint is None and res.device == torch.device("cpu")
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


def test_early_stopping_stops(data):
    train, val = data
    # a learning rate this small changes nothing: validation F1 never improves after epoch 1
    res = run(train, val, epochs=10, lr=1e-12, patience=2)
    assert res.stopped_early
    assert len(res.history) == 3 and res.best_epoch == 1


# --------------------------------------------------------------------------- data paths
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


# --------------------------------------------------------------------------- checkpoints and resume
def test_checkpoint_files_contain_what_is_claimed(data, tmp_path):
    train, val = data
    res = run(train, val, epochs=3, checkpoint_dir=tmp_path)
    assert res.best_checkpoint == tmp_path / BEST and res.last_checkpoint == tmp_path / LAST
    last, best = load_checkpoint(tmp_path / LAST), load_checkpoint(tmp_path / BEST)
    for key in ("model_class", "model_config", "model_state", "optimizer_state", "scheduler_state", "epoch",
                "history", "best_epoch", "best_score", "bad_epochs", "stopped_early", "classes", "fit_args", "seed"):
        assert key in last, key
    assert last["model_class"] == "LSTMModel" and last["model_config"] == res.model.config
    assert last["epoch"] == 3 and len(last["history"]) == 3
    assert best["epoch"] == res.best_epoch and best["best_epoch"] == res.best_epoch
    assert last["classes"] == ["low", "high"]
    assert last["fit_args"]["batch_size"] == 16 and last["fit_args"]["class_weights"] == [1.0, 1.0]
    assert "state" in last["optimizer_state"] and last["optimizer_state"]["state"]
    # load_model rebuilds the best model: same outputs as the returned one
    rebuilt = load_model(tmp_path / BEST)
    assert isinstance(rebuilt, LSTMModel) and not rebuilt.training
    x = Spectrum()(torch.from_numpy(val.x[:8]))
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), res.model(x), rtol=0, atol=0)
    assert not list(tmp_path.glob("*.tmp")) and sorted(p.name for p in tmp_path.iterdir()) == [BEST, "history.csv", LAST]
    on_disk = pd.read_csv(tmp_path / "history.csv")
    pd.testing.assert_frame_equal(on_disk.drop(columns="seconds"), res.history.drop(columns="seconds"), check_dtype=False)


def test_attention_checkpoints_from_before_attention_dropout_load_and_resume(data, tmp_path):
    """Older LSTMAttentionModel checkpoints have no attention_dropout: their dropout acted on the attention too."""
    train, val = data

    def attention(**kw):
        return build_model("lstm_attention", seed=0, channels=3, classes=2, hidden=8, layers=1, heads=2,
                           dropout=0.2, **kw)

    run(train, val, model=attention(attention_dropout=0.2), epochs=1, checkpoint_dir=tmp_path)
    last = load_checkpoint(tmp_path / LAST)
    del last["model_config"]["attention_dropout"]  # as written before the argument existed
    torch.save(last, tmp_path / LAST)
    assert load_model(tmp_path / LAST).attention.dropout == 0.2
    resumed = run(train, val, model=attention(attention_dropout=0.2), epochs=2, checkpoint_dir=tmp_path, resume=True)
    assert len(resumed.history) == 2
    with pytest.raises(ValueError, match="cannot resume.*'attention_dropout': 0.2"):
        run(train, val, model=attention(), epochs=3, checkpoint_dir=tmp_path, resume=True)


def test_load_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.pt"):
        load_checkpoint(tmp_path / "nothing.pt")
    torch.save({"a": 1}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not a seiswork checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    (tmp_path / "junk.pt").write_text("junk")
    with pytest.raises(ValueError, match="junk.pt"):
        load_checkpoint(tmp_path / "junk.pt")


def test_existing_checkpoints_are_not_overwritten_silently(data, tmp_path):
    train, val = data
    run(train, val, epochs=1, checkpoint_dir=tmp_path)
    with pytest.raises(FileExistsError, match="resume=True.*overwrite=True"):
        run(train, val, epochs=1, checkpoint_dir=tmp_path)
    res = run(train, val, epochs=1, checkpoint_dir=tmp_path, overwrite=True)
    assert len(res.history) == 1


def test_resume_equals_uninterrupted_run(data, tmp_path):
    train, val = data
    full = run(train, val, epochs=4, checkpoint_dir=tmp_path / "full", model=model_(seed=0))
    run(train, val, epochs=2, checkpoint_dir=tmp_path / "part", model=model_(seed=0))
    # a fresh model with other initial weights: resume must restore everything from last.pt
    resumed = run(train, val, epochs=4, checkpoint_dir=tmp_path / "part", resume=True, model=model_(seed=5))
    pd.testing.assert_frame_equal(no_seconds(full.history), no_seconds(resumed.history))
    assert_same_weights(weights(full.model), weights(resumed.model))
    assert resumed.best_epoch == full.best_epoch
    assert_same_weights(load_checkpoint(tmp_path / "full" / LAST)["model_state"],
                        load_checkpoint(tmp_path / "part" / LAST)["model_state"])


def test_cpu_sharded_training_is_reproducible_and_resumes(data, tmp_path, monkeypatch):
    """The LSTM stack's CPU shards run in worker threads: still the same history for the same seed."""
    import seiswork.models as models

    train, val = data
    calls = []
    real = models._run_shards
    monkeypatch.setattr(models, "_run_shards", lambda *a, **k: calls.append(a[3]) or real(*a, **k))

    def sharded(seed=0):
        model = build_model("lstm", seed=seed, channels=3, classes=2, hidden=8, layers=2, dropout=0.3)
        model.lstm.cpu_shards = 2
        return model

    kw = {"batch_size": 64, "eval_batch_size": 64}
    a = run(train, val, model=sharded(), epochs=4, checkpoint_dir=tmp_path / "a", **kw)
    assert [32, 32] in calls  # the 64-event batches did run in two shards
    b = run(train, val, model=sharded(), epochs=4, **kw)
    pd.testing.assert_frame_equal(no_seconds(a.history), no_seconds(b.history))
    assert_same_weights(weights(a.model), weights(b.model))
    run(train, val, model=sharded(), epochs=2, checkpoint_dir=tmp_path / "part", **kw)
    resumed = run(train, val, model=sharded(seed=5), epochs=4, checkpoint_dir=tmp_path / "part", resume=True, **kw)
    pd.testing.assert_frame_equal(no_seconds(a.history), no_seconds(resumed.history))
    assert_same_weights(weights(a.model), weights(resumed.model))


def test_sharded_cpu_fit_gives_the_cores_to_the_shard_workers(data):
    """Inside fit a sharded CPU model's step runs the caller on one torch thread, with the shards over the
    caller's cores; the caller's thread count is back afterwards. Other models keep torch's threads."""
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
    run(train, val, epochs=1, batch_size=16, progress=probe)  # one shard: the LSTM keeps both threads
    assert seen == [(2, 2)]
    seen.clear()
    model = model_()
    model.lstm.cpu_shards = 1  # sharding off: nothing to give the cores to
    run(train, val, model=model, epochs=1, batch_size=64, progress=probe)
    assert seen == [(2, 2)]
    seen.clear()
    run(train, val, model=nn.Sequential(nn.Flatten(), nn.LazyLinear(2)), epochs=1, progress=probe)
    assert seen == [(2, 2)]
    seen.clear()
    attention = build_model("lstm_attention", seed=0, channels=3, classes=2, hidden=8, layers=2, heads=2)
    run(train, val, model=attention, epochs=1, batch_size=64, progress=probe)  # attention runs outside the shards
    assert seen == [(2, 2)]


def test_resume_after_crash_mid_run(data, tmp_path):
    train, val = data
    full = run(train, val, epochs=4)

    def crash(record):
        if record["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(train, val, epochs=4, checkpoint_dir=tmp_path, progress=crash)
    assert load_checkpoint(tmp_path / LAST)["epoch"] == 2
    resumed = run(train, val, epochs=4, checkpoint_dir=tmp_path, resume=True)
    pd.testing.assert_frame_equal(no_seconds(full.history), no_seconds(resumed.history))
    assert_same_weights(weights(full.model), weights(resumed.model))
    # resuming a finished run trains nothing more
    again = run(train, val, epochs=4, checkpoint_dir=tmp_path, resume=True)
    pd.testing.assert_frame_equal(no_seconds(again.history), no_seconds(resumed.history))


def test_resume_rejects_another_model(data, tmp_path):
    train, val = data
    run(train, val, epochs=1, checkpoint_dir=tmp_path)
    other = build_model("lstm", channels=3, classes=2, hidden=4, layers=1)
    with pytest.raises(ValueError, match="cannot resume"):
        run(train, val, epochs=2, checkpoint_dir=tmp_path, resume=True, model=other)


# --------------------------------------------------------------------------- evaluate
class FixedLogits(nn.Module):
    """Returns preset logits, one row per input in order (a stub model for exact metric checks)."""

    def __init__(self, logits):
        super().__init__()
        self.register_buffer("logits", torch.as_tensor(logits, dtype=torch.float32))
        self.pos = 0

    def forward(self, x):
        out = self.logits[self.pos:self.pos + len(x)]
        self.pos += len(x)
        return out


def test_evaluate_agrees_with_scikit_learn():
    from sklearn import metrics

    rng = np.random.default_rng(0)
    n = 50
    labels = rng.integers(0, 2, n)
    logits = rng.normal(size=(n, 2)) + np.eye(2)[labels] * 0.8
    ds = ArrayDataset(np.zeros((n, 4, 1), np.float32), labels, classes=("earthquake", "explosion"))
    report = evaluate(FixedLogits(logits), ds, device="cpu", batch_size=7)
    pred = logits.argmax(1)
    assert report["accuracy"] == pytest.approx(metrics.accuracy_score(labels, pred))
    assert report["balanced_accuracy"] == pytest.approx(metrics.balanced_accuracy_score(labels, pred))
    assert report["macro_f1"] == pytest.approx(metrics.f1_score(labels, pred, average="macro"))
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert report["roc_auc"] == pytest.approx(metrics.roc_auc_score(labels, prob[:, 1]))
    np.testing.assert_array_equal(report["confusion_matrix"], metrics.confusion_matrix(labels, pred))
    np.testing.assert_allclose(report["probabilities"], prob, rtol=1e-6)
    np.testing.assert_array_equal(report["predictions"], pred)
    np.testing.assert_array_equal(report["labels"], labels)
    per = report["per_class"]
    assert list(per.index) == ["earthquake", "explosion"] and list(per.columns) == ["precision", "recall", "f1", "support"]
    p, r, f, s = metrics.precision_recall_fscore_support(labels, pred)
    np.testing.assert_allclose(per["precision"], p)
    np.testing.assert_allclose(per["recall"], r)
    np.testing.assert_array_equal(per["support"], s)
    assert report["classes"] == ["earthquake", "explosion"] and report["n_samples"] == n

    blob = report_to_json(report)
    text = json.dumps(blob, allow_nan=False)
    support = json.loads(text)["per_class"]["earthquake"]["support"]
    assert "predictions" not in blob and support == s[0] and isinstance(support, int)
    assert len(report_to_json(report, include_predictions=True)["predictions"]) == n


def test_evaluate_three_classes_and_missing_class(tmp_path):
    logits = np.array([[3, 0, 0], [0, 3, 0], [0, 0, 3], [3, 0, 0]], np.float32)
    ds = ArrayDataset(np.zeros((4, 2, 1), np.float32), np.array([0, 1, 2, 1]), classes=("a", "b", "c"))
    report = evaluate(FixedLogits(logits), ds, device="cpu")
    assert report["accuracy"] == 0.75 and report["confusion_matrix"].shape == (3, 3)
    assert 0 <= report["roc_auc"] <= 1
    only_a = ArrayDataset(np.zeros((2, 2, 1), np.float32), np.array([0, 0]), classes=("a", "b", "c"))
    report = evaluate(FixedLogits(logits[:2]), only_a, device="cpu")
    assert np.isnan(report["roc_auc"]) and report["confusion_matrix"].shape == (3, 3)
    path = save_metrics(report, tmp_path / "metrics.json", extra={"model": "stub"})
    blob = json.loads(path.read_text())
    assert blob["roc_auc"] is None and blob["model"] == "stub"
    with pytest.raises(ValueError, match="2 class names"):
        evaluate(FixedLogits(logits), ds, device="cpu", classes=["a", "b"])


# --------------------------------------------------------------------------- integration with the real modules
def test_fit_with_real_dataset_and_pipelines():
    preprocess = pytest.importorskip("seiswork.preprocess")
    pytest.importorskip("seiswork.augment")
    pytest.importorskip("seiswork.transforms")
    from seiswork.train import default_pipelines

    from tests.conftest import make_seed_events

    events, labels, ids = make_seed_events(40, seed=0)
    adapter = preprocess.WaveformDataAdapter(events, labels, test_ratio=0.25, val_ratio=0.2, seed=0)
    train, val = adapter.dataset("train"), adapter.dataset("val")
    assert train.transform is None  # the fast path
    train_t, eval_t = default_pipelines(fft_size=64, seed=0)
    model = build_model("lstm", seed=0, hidden=8, layers=1, classes=len(adapter.classes))
    kwargs = {"epochs": 2, "batch_size": 8, "lr": 1e-2, "train_transform": train_t, "eval_transform": eval_t,
              "progress": False, "device": "cpu"}
    a = fit(model, train, val, **kwargs)
    b = fit(build_model("lstm", seed=0, hidden=8, layers=1, classes=len(adapter.classes)), train, val, **kwargs)
    pd.testing.assert_frame_equal(no_seconds(a.history), no_seconds(b.history))
    report = evaluate(a.model, adapter.dataset("test"), transform=eval_t, device="cpu")
    assert report["classes"] == [str(c) for c in adapter.classes]


def test_train_main_end_to_end(tmp_path):
    pytest.importorskip("seiswork.io")
    pytest.importorskip("seiswork.preprocess")
    pytest.importorskip("seiswork.augment")
    pytest.importorskip("seiswork.transforms")
    synthetic = pytest.importorskip("seiswork.synthetic")
    from seiswork.io import save_npz
    from seiswork.train import train_main

    events, labels, meta = synthetic.make_events(n_events=48, seed=0, stations_per_event=1)
    data = tmp_path / "events.npz"
    save_npz(data, events, labels, meta=meta)
    out = tmp_path / "run"
    code = train_main(["--model", "lstm_attention", "--data", str(data), "--epochs", "2", "--hidden", "8",
                       "--layers", "1", "--fft-size", "64", "--batch-size", "8", "--out", str(out), "--quiet"])
    assert code == 0
    assert {"best.pt", "last.pt", "history.csv", "metrics.json"} <= {p.name for p in out.iterdir()}
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "balanced_accuracy", "macro_f1", "confusion_matrix", "per_class", "roc_auc"} <= set(metrics)
    assert len(pd.read_csv(out / "history.csv")) == 2
    assert isinstance(load_model(out / "best.pt"), nn.Module)
    # a second run into the same folder refuses to overwrite (exit code 1 and a message)
    assert train_main(["--data", str(data), "--epochs", "1", "--out", str(out), "--quiet"]) == 1


def test_default_pipelines_take_a_saved_augmentation(tmp_path):
    from seiswork.augment import AddNoise, Compose, RandomApply, TimeShift
    from seiswork.train import default_pipelines
    from seiswork.transforms import save_pipeline

    tuned = Compose([RandomApply(TimeShift(0.3), p=1.0)], seed=99)
    path = save_pipeline(tuned, tmp_path / "augmentation.json")
    from_path, eval_t = default_pipelines(fft_size=64, seed=4, augmentation=path)
    from_module, _ = default_pipelines(fft_size=64, seed=4, augmentation=Compose([RandomApply(TimeShift(0.3), p=1.0)]))
    tuned.reseed(4)  # the saved pipeline's own seed gives way to the run's
    assert repr(from_path[0]) == repr(tuned) and not any(isinstance(m, AddNoise) for m in from_path.modules())
    x = torch.randn(3, 200, 3)
    torch.testing.assert_close(from_path(x), from_module(x), rtol=0, atol=0)  # both reseeded from seed=4
    assert from_path(x).shape == eval_t(x).shape == (3, 33, 3)
    no_aug, _ = default_pipelines(fft_size=64, augment=False, augmentation=path)
    torch.testing.assert_close(no_aug(x), eval_t(x))
