"""Ensembles: fit_members trains members from their own seeds; EnsembleModel averages their probabilities."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn

from seiswork.models import EnsembleModel, LSTMModel
from seiswork.training import BEST, LAST, fit_members, load_checkpoint, load_model
from seiswork.training.members import member_seed
from tests.training_standins import (  # noqa: F401  (data: a fixture)
    RandomGain,
    Spectrum,
    assert_same_weights,
    data,
    model_,
    no_seconds,
    run,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def members(train, val, folder, k=3, **kw):
    args = {"epochs": 2, "batch_size": 16, "lr": 3e-2, "train_transform": nn.Sequential(RandomGain(), Spectrum()),
            "eval_transform": Spectrum(), "progress": False, "device": "cpu", **kw}
    return fit_members(model_(seed=0), train, val, members=k, checkpoint_dir=folder, **args)


def test_ensemble_output_is_the_log_of_the_mean_probability():
    nets = [model_(seed=s) for s in range(3)]
    ensemble = EnsembleModel.of(nets).eval()
    x = torch.randn(5, 40, 3)
    with torch.no_grad():
        mean = torch.stack([torch.softmax(n.eval()(x), -1) for n in nets]).mean(0)
        out = ensemble(x)
    torch.testing.assert_close(out.exp(), mean)
    torch.testing.assert_close(torch.softmax(out, -1), mean)  # a single model's logits, for softmax and argmax
    assert ensemble.config["model"] == "lstm" and ensemble.config["members"] == 3
    assert ensemble.config["classes"] == nets[0].config["classes"]


def test_ensemble_of_refuses_mixed_members():
    with pytest.raises(ValueError, match="one class and configuration"):
        EnsembleModel.of([model_(seed=0), LSTMModel(channels=3, classes=2, hidden=16, layers=1)])


def test_members_are_fits_from_their_own_seeds_and_one_member_is_fit(data, tmp_path):
    train, val = data
    result = members(train, val, tmp_path / "ens")
    assert isinstance(result.model, EnsembleModel) and len(result.members) == 3
    # member k is exactly a fit from member_seed(seed, k): its own initial weights, shuffling and augmentation
    for k in (0, 2):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(member_seed(0, k))
            net = model_(seed=0) if k == 0 else LSTMModel(**model_(seed=0).config)
        alone = run(train, val, epochs=2, seed=member_seed(0, k), model=net, checkpoint_dir=tmp_path / f"alone{k}")
        pd.testing.assert_frame_equal(no_seconds(alone.history), no_seconds(result.members[k].history))
    assert not torch.equal(result.model.members[0].classifier.weight, result.model.members[1].classifier.weight)
    # the folder: one fit folder per member, the ensemble's best.pt (load_model rebuilds it) and its history
    assert sorted(p.name for p in (tmp_path / "ens").iterdir()) == [BEST, "history.csv", "member-0", "member-1",
                                                                     "member-2"]
    rebuilt = load_model(tmp_path / "ens" / BEST)
    x = Spectrum()(torch.from_numpy(val.x[:8]))
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), result.model(x), rtol=0, atol=0)
    history = pd.read_csv(tmp_path / "ens" / "history.csv")
    assert history["member"].tolist() == [0, 0, 1, 1, 2, 2]
    assert "ensemble of 3" in result.describe()
    # one member: fit itself, in the folder itself
    single = members(train, val, tmp_path / "one", k=1)
    assert not single.members and isinstance(single.model, LSTMModel)
    assert_same_weights(load_checkpoint(tmp_path / "one" / BEST)["model_state"], single.model.state_dict())


def test_members_resume_and_refuse_to_overwrite_by_accident(data, tmp_path):
    train, val = data
    first = members(train, val, tmp_path, k=2)
    with pytest.raises(FileExistsError):
        members(train, val, tmp_path, k=2)
    again = members(train, val, tmp_path, k=2, resume=True)  # finished members train no further
    pd.testing.assert_frame_equal(no_seconds(first.history), no_seconds(again.history))
    with pytest.raises(ValueError, match="members must be"):
        members(train, val, tmp_path / "x", k=0)


def test_starting_afresh_with_fewer_members_drops_the_earlier_members(data, tmp_path):
    train, val = data
    members(train, val, tmp_path, k=3)
    members(train, val, tmp_path, k=2, overwrite=True)
    assert sorted(p.name for p in tmp_path.glob("member-*")) == ["member-0", "member-1"]
    members(train, val, tmp_path, k=1, overwrite=True)
    assert not list(tmp_path.glob("member-*")) and (tmp_path / LAST).exists()


def test_members_of_an_unregistered_model_are_refused_before_any_training(data, tmp_path):
    class Custom(LSTMModel):  # a .config, but no registry entry to rebuild the copies from
        pass

    train, val = data
    with pytest.raises(ValueError, match="Custom is not a registered seiswork model"):
        fit_members(Custom(channels=3, classes=2, hidden=8, layers=1), train, val, members=2,
                    checkpoint_dir=tmp_path, epochs=1, progress=False, device="cpu")
    assert not list(tmp_path.iterdir())
