"""RunState: early stopping, best epoch, resume; nothing is trained."""

from __future__ import annotations

import math

import pytest

from seiswork.training import RunState


def record(epoch: int, score: float) -> dict:
    return {"epoch": epoch, "val_macro_f1": score}


def feed(state: RunState, scores: list[float], epochs: int = 100) -> list[bool]:
    """Run ``state`` over ``scores`` like fit's loop: stop when it says so; the improvements seen."""
    improved = []
    for score in scores:
        if not state.running(epochs):
            break
        improved.append(state.update(record(state.epoch + 1, score), score))
    return improved


def test_fresh_state():
    state = RunState(patience=3)
    assert state.epoch == 0 and state.history == [] and state.best_epoch == 0
    assert state.best_score == -math.inf and state.bad_epochs == 0 and not state.stopped_early
    assert state.running(1) and not state.running(0)


def test_best_epoch_and_score_follow_improvements():
    state = RunState(patience=None)
    assert feed(state, [0.5, 0.7, 0.6, 0.8, 0.8]) == [True, True, False, True, False]
    assert state.epoch == 5 and [r["epoch"] for r in state.history] == [1, 2, 3, 4, 5]
    assert state.best_epoch == 4 and state.best_score == 0.8
    assert state.bad_epochs == 1 and not state.stopped_early  # patience None: never stops


def test_early_stopping_after_patience_epochs_without_gain():
    state = RunState(patience=2)
    feed(state, [0.5, 0.5, 0.5, 0.9, 0.9])
    assert state.stopped_early and state.epoch == 3 and state.best_epoch == 1
    assert not state.running(100)
    # a gain resets the count of bad epochs
    state = RunState(patience=2)
    feed(state, [0.5, 0.4, 0.6, 0.5, 0.4, 0.9])
    assert state.stopped_early and state.epoch == 5 and state.best_epoch == 3 and state.bad_epochs == 2


def test_min_delta_is_the_smallest_gain_that_counts():
    state = RunState(patience=2, min_delta=0.05)
    assert feed(state, [0.5, 0.54, 0.56, 0.6]) == [True, False, True, False]
    assert state.best_score == 0.56 and state.best_epoch == 3 and not state.stopped_early


def test_epochs_bound_the_run():
    state = RunState(patience=None)
    feed(state, [0.1] * 10, epochs=4)
    assert state.epoch == 4 and not state.running(4) and not state.stopped_early


def test_to_checkpoint_is_a_snapshot():
    state = RunState(patience=3)
    feed(state, [0.5, 0.6])
    saved = state.to_checkpoint()
    assert saved == {"epoch": 2, "history": [record(1, 0.5), record(2, 0.6)], "best_epoch": 2, "best_score": 0.6,
                     "bad_epochs": 0, "stopped_early": False}
    feed(state, [0.1])
    state.history[0]["epoch"] = 99
    assert saved["epoch"] == 2 and len(saved["history"]) == 2 and saved["history"][0]["epoch"] == 1


@pytest.mark.parametrize("split", [0, 1, 2, 3, 4])
def test_resume_equals_an_uninterrupted_run(split):
    scores = [0.5, 0.6, 0.55, 0.58, 0.7, 0.65, 0.6, 0.59]
    full = RunState(patience=3)
    full_improved = feed(full, scores)
    first = RunState(patience=3)
    improved = feed(first, scores[:split])
    resumed = RunState(patience=3)
    resumed.resume_from(first.to_checkpoint())
    improved += feed(resumed, scores[split:])
    assert improved == full_improved
    assert resumed == full


def test_resume_keeps_this_runs_patience():
    saved = RunState(patience=5)
    feed(saved, [0.5, 0.4, 0.4])
    resumed = RunState(patience=3)
    resumed.resume_from(saved.to_checkpoint())
    assert resumed.patience == 3 and resumed.bad_epochs == 2
    feed(resumed, [0.4])
    assert resumed.stopped_early and resumed.epoch == 4


def test_resuming_a_stopped_run_runs_nothing_more():
    saved = RunState(patience=1)
    feed(saved, [0.5, 0.5])
    resumed = RunState(patience=1)
    resumed.resume_from(saved.to_checkpoint())
    assert resumed.stopped_early and not resumed.running(100) and feed(resumed, [0.9]) == []
