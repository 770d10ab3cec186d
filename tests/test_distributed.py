"""Training across processes (DistributedDataParallel, gloo on the CPU): the data shares, the launch environment,
fit and predict over two processes, and ``torchrun -m seiswork train`` end to end."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from seiswork.models import build_model
from seiswork.training import distributed, fit, predict
from seiswork.training.batches import AUGMENT, Batches, permutation, stream_seed
from seiswork.training.distributed import Launch, launch_from_env, share, slice_bounds
from tests.ports import free_port
from tests.training_standins import ArrayDataset, Spectrum, make_data, model_, no_seconds, run

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- shares of the data
@pytest.mark.parametrize("n, world", [(10, 2), (11, 2), (7, 3), (5, 5), (13, 4)])
def test_training_shares_cover_the_permutation_in_equal_parts(n, world):
    order = permutation(n, 123)
    parts = [share(order, world, r) for r in range(world)]
    assert {len(p) for p in parts} == {-(-n // world)}  # every process takes the same number of steps
    taken = torch.cat(parts)
    assert sorted(set(taken.tolist())) == list(range(n))  # every item, padded with as few repeats as needed
    assert len(taken) - n < world
    # rank r takes items r, r + world, ... of the global permutation
    assert parts[1][0] == order[1]
    assert n < 1 + world or parts[1][1] == order[1 + world]
    assert torch.equal(share(order, 1, 0), order)


@pytest.mark.parametrize("n, world", [(10, 2), (11, 3), (4, 4), (36, 2)])
def test_evaluation_slices_in_rank_order_are_the_data_in_order(n, world):
    bounds = [slice_bounds(n, world, r) for r in range(world)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert [b - a for a, b in bounds] == [len(p) for p in np.array_split(np.arange(n), world)]


def test_batches_of_one_process_share_of_two():
    x, y = make_data(21, seed=0)
    data = ArrayDataset(x, y)
    device = torch.device("cpu")
    single = Batches(data, 4, device, 0, "train")
    halves = [Batches(data, 4, device, 0, "train", rank=r, world=2) for r in range(2)]
    # training: one global permutation shared out; each half has the same number of batches, len() says how many
    seed = 99
    got = [[yb for _, yb in h.epoch(seed)] for h in halves]
    assert [len(g) for g in got] == [len(h) for h in halves] == [3, 3]
    assert sum(len(b) for g in got for b in g) == 22  # 21 items and one repeat
    whole = torch.cat([yb for _, yb in single.epoch(seed)])
    assert torch.equal(torch.cat(got[0]), whole[0::2])
    # evaluation: contiguous slices, in rank order the whole data in order
    ys = [torch.cat([yb for _, yb in h.epoch(None)]) for h in halves]
    assert [len(v) for v in ys] == halves[0].sizes() == [11, 10]
    assert torch.equal(torch.cat(ys), torch.from_numpy(y))
    # the per-item (DataLoader) path takes the same shares
    per_item = [Batches(ArrayDataset(x, y, transform=Spectrum()), 4, device, 0, "train", rank=r, world=2)
                for r in range(2)]
    assert torch.equal(torch.cat([yb for _, yb in per_item[0].epoch(seed)]), torch.cat(got[0]))
    assert torch.equal(torch.cat([yb for _, yb in per_item[1].epoch(None)]), ys[1])
    with pytest.raises(ValueError, match="fewer than the 3 processes"):
        Batches(ArrayDataset(x[:2], y[:2]), 4, device, 0, "val", rank=0, world=3)


def test_rank_zero_draws_what_a_single_process_draws():
    assert stream_seed(5, 2, AUGMENT) == stream_seed(5, 2, AUGMENT, rank=0)
    assert stream_seed(5, 2, AUGMENT, rank=1) not in {stream_seed(5, 2, AUGMENT), stream_seed(5, 2, AUGMENT, 2)}


def test_launch_from_env():
    assert launch_from_env({}) is None
    assert launch_from_env({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}) is None  # one process: plain
    assert launch_from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == Launch(3, 4, 1)
    with pytest.raises(ValueError, match="not LOCAL_RANK"):
        launch_from_env({"RANK": "0", "WORLD_SIZE": "2"})
    with pytest.raises(ValueError, match="inconsistent"):
        launch_from_env({"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0"})


def test_without_a_launch_nothing_is_distributed(monkeypatch):
    for name in distributed.ENV:
        monkeypatch.delenv(name, raising=False)
    with distributed.session("cpu") as launch:
        assert launch is None and not torch.distributed.is_initialized()
        assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
        model = model_()
        assert distributed.wrap(model, torch.device("cpu")) is model
        a = np.arange(6.0).reshape(3, 2)
        assert distributed.gather_rows(a, [3]) is a


# --------------------------------------------------------------------------- fit and predict over two processes
def _plain_fit(train, val, batch_size: int):
    """A fit with nothing random besides the shuffle and nothing batch-dependent besides the batch's mean loss
    (no dropout, augmentation, batch norm or class weights): over two processes of ``batch_size`` it follows
    one process of ``2 x batch_size``, up to float rounding."""
    model = build_model("lstm", seed=0, channels=3, classes=2, hidden=8, layers=1, dropout=0.0, input_norm="none")
    return fit(model, train, val, epochs=2, batch_size=batch_size, lr=3e-2, train_transform=Spectrum(),
               eval_transform=Spectrum(), class_weights=False, progress=False, device="cpu")


def _worker(rank: int, port: int, folder: str) -> None:
    """One of two gloo processes: fit, resume, predict; results pickled to ``folder/rank<r>.pkl``. As under
    ``torchrun``, the rendezvous store is the launcher's (the test's), not one that rank 0 hosts."""
    torch.set_num_threads(1)
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "WORLD_SIZE": "2", "LOCAL_RANK": str(rank), "TORCHELASTIC_USE_AGENT_STORE": "True"})
    x, y = make_data(96, seed=0)
    xv, yv = make_data(49, seed=1)  # odd: the two evaluation slices differ in size
    train, val = ArrayDataset(x, y), ArrayDataset(xv, yv)
    out: dict = {}
    with distributed.session("cpu"):
        whole = run(train, val, epochs=3, checkpoint_dir=Path(folder) / "whole")
        plain = _plain_fit(train, val, batch_size=8)
        run(train, val, epochs=2, checkpoint_dir=Path(folder) / "resumed")
        resumed = run(train, val, epochs=3, checkpoint_dir=Path(folder) / "resumed", resume=True)
        logits, labels = predict(whole.model, val, transform=Spectrum(), device="cpu", batch_size=8)
        try:  # rank 0 finds the finished run; every process gets its refusal (none waits for the others)
            run(train, val, epochs=1, checkpoint_dir=Path(folder) / "whole")
        except FileExistsError as exc:
            out["refused"] = str(exc)
        out.update(history=whole.history, resumed=resumed.history, world_size=whole.world_size, logits=logits,
                   labels=labels, weights={k: v.clone() for k, v in whole.model.state_dict().items()},
                   plain=plain.history, plain_weights={k: v.clone() for k, v in plain.model.state_dict().items()})
    with open(Path(folder) / f"rank{rank}.pkl", "wb") as f:
        pickle.dump(out, f)


@pytest.mark.slow
def test_fit_and_predict_over_two_processes(tmp_path):
    # torchrun's agent hosts the store its workers meet at; a worker hosting it (rank 0 by default) keeps the
    # store's server thread running into its own exit, since DDP keeps the process group alive until then, and
    # that exit aborted now and then (SIGABRT, "terminate called without an active exception")
    store = torch.distributed.TCPStore("127.0.0.1", 0, world_size=2, is_master=True, wait_for_workers=False)
    torch.multiprocessing.spawn(_worker, args=(store.port, str(tmp_path)), nprocs=2, join=True)
    del store
    ranks = [pickle.loads((tmp_path / f"rank{r}.pkl").read_bytes()) for r in range(2)]
    a, b = ranks
    assert a["world_size"] == b["world_size"] == 2
    assert "already holds" in a["refused"] and a["refused"] == b["refused"]
    # every process computes the same (gathered) history and ends with the same model
    pd.testing.assert_frame_equal(no_seconds(a["history"]), no_seconds(b["history"]))
    for k in a["weights"]:
        torch.testing.assert_close(a["weights"][k], b["weights"][k], rtol=0, atol=0)
    # it learns: three steps an epoch, and validation sees the weights' average over epochs (fit's ema), which
    # lags the trained weights in a 3-epoch run
    assert a["history"]["val_loss"].is_monotonic_decreasing and a["history"]["train_loss"].is_monotonic_decreasing
    assert a["history"]["val_accuracy"].iloc[-1] > a["history"]["val_accuracy"].iloc[0] + 0.2
    # a run resumed from last.pt ends exactly like the uninterrupted one; rank 0 wrote the history
    pd.testing.assert_frame_equal(no_seconds(a["resumed"]), no_seconds(a["history"]))
    written = pd.read_csv(tmp_path / "resumed" / "history.csv")
    assert written["epoch"].tolist() == [1, 2, 3]
    # the gathered predictions are the whole validation set in order, as one process predicts them
    model = model_()
    model.load_state_dict(a["weights"])
    xv, yv = make_data(49, seed=1)
    logits, labels = predict(model, ArrayDataset(xv, yv), transform=Spectrum(), device="cpu")
    np.testing.assert_array_equal(a["labels"], labels)
    np.testing.assert_allclose(a["logits"], logits, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(b["logits"], a["logits"])
    # two processes of 8 take the same steps as one process of 16: each global step is the same 16 events
    x, y = make_data(96, seed=0)
    one = _plain_fit(ArrayDataset(x, y), ArrayDataset(xv, yv), batch_size=16)
    columns = ["train_loss", "train_accuracy", "val_loss", "val_accuracy"]
    np.testing.assert_allclose(a["plain"][columns].to_numpy(), one.history[columns].to_numpy(), rtol=1e-4)
    for k, v in one.model.state_dict().items():
        torch.testing.assert_close(a["plain_weights"][k], v, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- torchrun -m seiswork train
def _train(args: list[str], processes: int = 1) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "seiswork"]
    if processes > 1:
        launcher[1:2] = ["-m", "torch.distributed.run", f"--nproc_per_node={processes}", f"--master_port={free_port()}",
                         "-m"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(launcher + ["train", *args, "--quiet"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_torchrun_train_command_on_two_processes(tmp_path):
    from seiswork import synthetic

    data = synthetic.write_default(tmp_path / "events.pkl", n_events=120, seed=3)
    # the spectrogram without the background block: this test is about the run over processes, and its three
    # epochs are nine optimizer steps of a tiny model; with the default's 774 inputs the two runs' test scores,
    # still near their initial state, differed by 0.19 (measured), with 387 by nothing
    common = ["--data", str(data), "--hidden", "8", "--members", "2", "--no-background"]
    out = tmp_path / "ddp"
    # an interrupted run of an ensemble (2 of 3 epochs of each member), continued from the members' last.pt
    _train([*common, "--epochs", "2", "--batch-size", "16", "--out", str(out)], processes=2)
    first = pd.read_csv(out / "history.csv")
    assert first["member"].tolist() == [0, 0, 1, 1]
    done = _train([*common, "--epochs", "3", "--batch-size", "16", "--out", str(out), "--resume"], processes=2)
    assert done.stdout.count("test (") == 1  # rank 0 alone reports
    history = pd.read_csv(out / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3, 1, 2, 3] and history["member"].tolist() == [0, 0, 0, 1, 1, 1]
    for m in (0, 1):  # continued, not restarted
        pd.testing.assert_frame_equal(no_seconds(history[history.member == m].iloc[:2].reset_index(drop=True)),
                                      no_seconds(first[first.member == m].reset_index(drop=True)))
    # one set of artifacts, no leftovers of atomic writes
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["best.pt", "history.csv", "metrics.json",
                                                                     "model.seiswork"]
    assert sorted(p.name for p in (out / "member-1").iterdir()) == ["best.pt", "history.csv", "last.pt"]
    ddp = json.loads((out / "metrics.json").read_text())
    assert ddp["world_size"] == 2 and ddp["training"]["epochs_run"] == 3 and len(ddp["training"]["members"]) == 2
    # the same seed and global batch size (2 x 16) in one process
    single = tmp_path / "single"
    _train([*common, "--epochs", "3", "--batch-size", "32", "--out", str(single)])
    one = json.loads((single / "metrics.json").read_text())
    assert one["world_size"] == 1
    assert ddp["n_samples"] == one["n_samples"] == sum(map(sum, ddp["confusion_matrix"]))  # the whole test set
    assert abs(ddp["balanced_accuracy"] - one["balanced_accuracy"]) <= 0.06


@pytest.mark.slow
def test_torchrun_on_lazy_data_streams_it_once(tmp_path):
    """Rank 0 streams data on disk into the run folder; the other rank maps the same file."""
    from seiswork import synthetic
    from seiswork.data.load import convert

    data = convert(synthetic.write_default(tmp_path / "events.pkl", n_events=80, seed=4), tmp_path / "events.npz")
    out = tmp_path / "ddp"
    _train(["--data", str(data), "--hidden", "8", "--epochs", "1", "--batch-size", "16", "--lazy", "true",
            "--members", "1", "--out", str(out)], processes=2)
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["best.pt", "history.csv", "last.pt",
                                                                     "metrics.json", "model.seiswork",
                                                                     "preprocessed.npz"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["study"]["lazy"] is True
