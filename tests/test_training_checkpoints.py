"""Checkpoints: the format, load_model, the attention_dropout migration, overwrite protection and resume."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from seiswork.models import LSTMModel, build_model
from seiswork.training import BEST, LAST, load_checkpoint, load_model
from tests.training_standins import (  # noqa: F401  (data: a fixture)
    Spectrum,
    assert_same_weights,
    data,
    model_,
    no_seconds,
    run,
    weights,
)


pytestmark = pytest.mark.usefixtures("one_thread")


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
    with pytest.raises(ValueError, match=r"junk.pt is not a PyTorch checkpoint \("):
        load_checkpoint(tmp_path / "junk.pt")


def test_corrupt_checkpoints_say_what_is_wrong(data, tmp_path):
    """An interrupted write leaves an empty or truncated file; a foreign file is named as such, never blankly."""
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.pt is empty \(0 bytes\): the run that wrote it was probably "
                                         r"interrupted; "):
        load_checkpoint(tmp_path / "empty.pt")
    (tmp_path / "numbers.pt").write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match=r"numbers.pt is not a PyTorch checkpoint \(.*256 bytes"):
        load_checkpoint(tmp_path / "numbers.pt")
    train, val = data
    run(train, val, epochs=1, checkpoint_dir=tmp_path / "run")
    whole = (tmp_path / "run" / LAST).read_bytes()
    (tmp_path / "cut.pt").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"cut.pt is (a damaged PyTorch|not a PyTorch) checkpoint \(\S"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save({"a": 1}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="not a seiswork checkpoint"):
        load_checkpoint(tmp_path / "legacy.pt")


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
    import seiswork.models.stacked as stacked

    train, val = data
    calls = []
    real = stacked.run_shards
    monkeypatch.setattr(stacked, "run_shards", lambda *a, **k: calls.append(a[3]) or real(*a, **k))

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


# --------------------------------------------------------------------------- the format, without training
def tiny_run_state(scores=(0.5, 0.7, 0.6)):
    from seiswork.training import RunState

    state = RunState(patience=3)
    for score in scores:
        state.update({"epoch": state.epoch + 1, "val_macro_f1": score}, score)
    return state


def payload_of(model, state, **fit_args):
    from seiswork.training.checkpoints import make_checkpoint, model_spec

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    optimisation = {"optimizer_state": optimizer.state_dict(), "scheduler_state": None, "scaler_state": None}
    return make_checkpoint(model_spec(model), model, optimisation, state, ["low", "high"],
                           {"epochs": 3, "lr": 1e-3, **fit_args}, seed=7)


def test_checkpoint_round_trip_without_training(tmp_path):
    from seiswork.training import HISTORY, RunState
    from seiswork.training.checkpoints import CHECKPOINT_FORMAT, CheckpointDir

    model = model_(seed=3)
    with torch.no_grad():  # running statistics away from their initial values, without a step
        model.input_norm.norm.running_mean.uniform_(1, 2)
    state = tiny_run_state()
    folder = CheckpointDir(tmp_path)
    assert folder.start(resume=False, overwrite=False) is None  # empty folder: a fresh start
    folder.save(payload_of(model, state), improved=True, history=state.history)
    assert sorted(p.name for p in tmp_path.iterdir()) == [BEST, HISTORY, LAST]  # no temporary files left
    ckpt = load_checkpoint(tmp_path / LAST)
    assert ckpt["format"] == CHECKPOINT_FORMAT and ckpt["model_class"] == "LSTMModel"
    assert list(ckpt)[:7] == ["format", "model_class", "model_config", "model_state", "optimizer_state",
                              "scheduler_state", "scaler_state"]
    assert ckpt["model_config"] == model.config and ckpt["classes"] == ["low", "high"] and ckpt["seed"] == 7
    # the run state comes back as it was
    resumed = RunState(patience=3)
    resumed.resume_from(ckpt)
    assert resumed == state
    # the model comes back with the same outputs
    rebuilt = load_model(tmp_path / BEST)
    assert isinstance(rebuilt, LSTMModel) and not rebuilt.training
    x = torch.rand(4, 33, 3)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), model.eval()(x), rtol=0, atol=0)
    assert_same_weights(folder.best_weights(), ckpt["model_state"])
    on_disk = pd.read_csv(tmp_path / HISTORY)
    assert on_disk["epoch"].tolist() == [1, 2, 3] and on_disk["val_macro_f1"].tolist() == [0.5, 0.7, 0.6]


def test_checkpoint_dir_writes_best_only_when_improved_and_guards_old_runs(tmp_path):
    from seiswork.training.checkpoints import CheckpointDir

    folder = CheckpointDir(tmp_path)
    assert folder.best_weights() is None and folder.written(folder.best) is None
    state = tiny_run_state((0.5,))
    folder.save(payload_of(model_(), state), improved=False, history=state.history)
    assert folder.written(folder.last) == tmp_path / LAST and folder.written(folder.best) is None
    assert folder.start(resume=True, overwrite=False)["epoch"] == 1  # resume: last.pt
    with pytest.raises(FileExistsError, match="resume=True.*overwrite=True"):
        folder.start(resume=False, overwrite=False)
    assert folder.start(resume=False, overwrite=True) is None
    assert not folder.last.exists()
    assert folder.start(resume=True, overwrite=False) is None  # nothing to resume: a fresh start


def test_check_resumable_rejects_another_model_and_warns_about_changed_arguments(tmp_path):
    from seiswork.training.checkpoints import check_resumable, model_spec

    model = model_()
    ckpt = payload_of(model, tiny_run_state(), batch_size=16)
    fit_args = dict(ckpt["fit_args"])
    check_resumable(ckpt, tmp_path / LAST, model_spec(model), {**fit_args, "epochs": 9})  # more epochs: fine
    with pytest.warns(UserWarning, match=r"changed arguments \(was, now\): \{'batch_size': \(16, 32\)\}"):
        check_resumable(ckpt, tmp_path / LAST, model_spec(model), {**fit_args, "batch_size": 32})
    other = build_model("lstm", channels=3, classes=2, hidden=4, layers=1)
    with pytest.raises(ValueError, match="cannot resume"):
        check_resumable(ckpt, tmp_path / LAST, model_spec(other), fit_args)


def test_attention_checkpoint_without_attention_dropout_is_migrated():
    from seiswork.training.checkpoints import check_resumable, model_spec, stored_config

    model = build_model("lstm_attention", seed=0, channels=3, classes=2, hidden=8, layers=1, heads=2, dropout=0.2,
                        attention_dropout=0.2)
    ckpt = payload_of(model, tiny_run_state())
    del ckpt["model_config"]["attention_dropout"]  # as written before the argument existed
    assert stored_config(ckpt)["attention_dropout"] == 0.2
    assert load_model(ckpt).attention.dropout == 0.2
    check_resumable(ckpt, "last.pt", model_spec(model), ckpt["fit_args"])


def test_model_spec_needs_a_config():
    from torch import nn

    from seiswork.training.checkpoints import model_spec

    assert model_spec(model_()) == ("LSTMModel", model_().config)
    with pytest.raises(TypeError, match="no .config dict"):
        model_spec(nn.Linear(2, 2))


def test_ema_keeps_the_average_of_the_trained_weights_and_trains_on_from_them(data, tmp_path):
    train, val = data
    kw = {"patience": None, "model": None}
    one = run(train, val, epochs=1, checkpoint_dir=tmp_path / "one", ema=None, **{**kw, "model": model_(seed=0)})
    plain = run(train, val, epochs=2, checkpoint_dir=tmp_path / "plain", ema=None, **{**kw, "model": model_(seed=0)})
    averaged = run(train, val, epochs=2, checkpoint_dir=tmp_path / "ema", ema=0.25, **{**kw, "model": model_(seed=0)})
    w1 = load_checkpoint(tmp_path / "one" / LAST)["model_state"]
    w2 = load_checkpoint(tmp_path / "plain" / LAST)["model_state"]
    last = load_checkpoint(tmp_path / "ema" / LAST)
    # training is not changed by the average: the second epoch starts from the trained weights, not the average
    assert_same_weights(last["trained_state"], w2)
    for k in w2:  # floats averaged (batch-norm statistics too); a step count is taken as it is
        expected = 0.75 * w1[k] + 0.25 * w2[k] if w2[k].is_floating_point() else w2[k]
        torch.testing.assert_close(last["model_state"][k], expected, rtol=1e-5, atol=1e-6)
    assert not torch.equal(last["model_state"]["classifier.weight"], w2["classifier.weight"])
    # what is validated is the average: the second epoch's validation loss differs from the plain run's
    assert averaged.history["val_loss"].iloc[0] == plain.history["val_loss"].iloc[0]
    assert averaged.history["val_loss"].iloc[1] != plain.history["val_loss"].iloc[1]
    pd.testing.assert_series_equal(averaged.history["train_loss"], plain.history["train_loss"])


def test_ema_resume_equals_uninterrupted_run(data, tmp_path):
    train, val = data
    full = run(train, val, epochs=4, checkpoint_dir=tmp_path / "full", model=model_(seed=0), ema=0.5)
    run(train, val, epochs=2, checkpoint_dir=tmp_path / "part", model=model_(seed=0), ema=0.5)
    resumed = run(train, val, epochs=4, checkpoint_dir=tmp_path / "part", resume=True, model=model_(seed=5), ema=0.5)
    pd.testing.assert_frame_equal(no_seconds(full.history), no_seconds(resumed.history))
    assert_same_weights(weights(full.model), weights(resumed.model))


@pytest.mark.parametrize("bad", [0, -0.5, 1.5, True, "half"])
def test_ema_must_be_a_weight_in_0_1(data, bad):
    train, val = data
    with pytest.raises(ValueError, match="ema must be a number in"):
        run(train, val, epochs=1, ema=bad)
