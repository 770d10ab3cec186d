"""seiswork.data.dataset: WaveformDataset items and views, make_loader seeding, per-worker transform streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from seiswork import WaveformDataset, make_loader


def arrays(n=8, length=16, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, length, channels)).astype(np.float32), np.arange(n) % 2


class NoiseStandIn(nn.Module):
    """A random transform with a ``reseed`` method, standing in for an augmentation pipeline."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.gen = torch.Generator().manual_seed(seed)

    def reseed(self, seed: int) -> None:
        self.gen.manual_seed(seed)

    def forward(self, event):
        event = torch.as_tensor(event)
        return event + torch.randn(event.shape, generator=self.gen)


# ------------------------------------------------------------------------------------------------ dataset


def test_items_share_memory_without_transform():
    x, y = arrays()
    ds = WaveformDataset(x, y, classes=["quake", "blast"])
    assert len(ds) == 8 and ds.x is x and ds.y.dtype == np.int64
    item, label = ds[3]
    assert isinstance(item, torch.Tensor) and item.dtype == torch.float32 and item.shape == (16, 3)
    assert isinstance(label, int) and label == 1
    assert np.shares_memory(item.numpy(), x)
    assert torch.equal(ds[-1][0], torch.from_numpy(x[7]))


def test_transform_gets_numpy_and_a_copy():
    x, y = arrays()
    seen = []

    def in_place(event):
        seen.append(type(event))
        event *= 0  # must not reach x
        return event

    ds = WaveformDataset(x, y, transform=in_place)
    item, _ = ds[2]
    assert seen == [np.ndarray] and isinstance(item, torch.Tensor) and torch.all(item == 0)
    assert np.any(x[2] != 0)
    ds64 = WaveformDataset(x, y, transform=lambda e: torch.from_numpy(e.astype(np.float64)))
    assert ds64[0][0].dtype == torch.float32
    spectrum = WaveformDataset(x, y, transform=lambda e: np.abs(np.fft.rfft(e, axis=0)))
    assert spectrum[0][0].shape == (9, 3) and spectrum[0][0].dtype == torch.float32


def test_indices_select_rows_lazily():
    x, y = arrays()
    ds = WaveformDataset(x, y, indices=[6, 1, 4])
    assert len(ds) == 3
    assert torch.equal(ds[0][0], torch.from_numpy(x[6])) and ds[1][1] == 1
    np.testing.assert_array_equal(ds.x, x[[6, 1, 4]])
    np.testing.assert_array_equal(ds.y, y[[6, 1, 4]])
    assert ds.x is ds.x  # copied once


def test_repr_shows_shape_and_class_counts():
    x, y = arrays()
    text = repr(WaveformDataset(x, y, transform=nn.Sequential(nn.Identity()), classes=np.array(["quake", "blast"])))
    assert "8 events of (16, 3)" in text and "quake: 4, blast: 4" in text and "Sequential(Identity)" in text
    assert WaveformDataset(x, y).class_counts() == {0: 4, 1: 4}


def test_dataset_errors():
    x, y = arrays()
    with pytest.raises(ValueError, match=r"x must be \(event, time, channel\)"):
        WaveformDataset(x[0], y)
    with pytest.raises(ValueError, match="one label per event"):
        WaveformDataset(x, y[:3])
    with pytest.raises(TypeError, match="integer class codes"):
        WaveformDataset(x, y.astype(float))
    with pytest.raises(TypeError, match="transform must be callable"):
        WaveformDataset(x, y, transform="fft")
    with pytest.raises(IndexError, match="outside"):
        WaveformDataset(x, y, indices=[0, 8])
    with pytest.raises(IndexError, match="index 8 is out of range"):
        WaveformDataset(x, y)[8]


# ------------------------------------------------------------------------------------------------ loaders


def test_loader_order_depends_only_on_seed():
    x, y = arrays(n=20)
    ds = WaveformDataset(x, y)

    def order(seed):
        return torch.cat([b[0][:, 0, 0] for b in make_loader(ds, batch_size=4, shuffle=True, seed=seed)])

    assert torch.equal(order(1), order(1))
    assert not torch.equal(order(1), order(2))
    batch, labels = next(iter(make_loader(ds, batch_size=5)))
    assert batch.shape == (5, 16, 3) and labels.dtype == torch.int64
    with pytest.raises(TypeError, match="pass seed="):
        make_loader(ds, generator=torch.Generator())


def worker_batches(ds, seed, epochs=1):
    loader = make_loader(ds, batch_size=1, seed=seed, num_workers=2)
    # batch k comes from worker k % 2; the k-th draw of each worker's stream lands in batches 2k and 2k+1
    return [torch.cat([b[0] for b in loader]) for _ in range(epochs)]


def test_workers_get_distinct_reproducible_streams_for_a_users_module():
    # a user's own transform with a reseed(seed) hook gets a stream per worker too
    x = np.zeros((8, 4, 1), np.float32)
    ds = WaveformDataset(x, np.zeros(8, np.int64), transform=NoiseStandIn())
    first, second = worker_batches(ds, seed=0, epochs=2)
    assert not torch.equal(first[0], first[1])  # worker 0 and worker 1 draw differently
    assert not torch.equal(first, second)  # and differently in the next epoch
    again = worker_batches(ds, seed=0)[0]
    assert torch.equal(first, again)  # same seed, same numbers
    assert not torch.equal(first, worker_batches(ds, seed=1)[0])


def test_seed_pipeline_gives_user_modules_distinct_seeds():
    from seiswork.transforms import seed_pipeline

    pipe = nn.Sequential(NoiseStandIn(), nn.Identity(), NoiseStandIn())
    seed_pipeline(pipe, 5)
    a = pipe[0](torch.zeros(4))
    b = pipe[2](torch.zeros(4))
    assert not torch.equal(a, b)
    seed_pipeline(pipe, 5)
    assert torch.equal(pipe[0](torch.zeros(4)), a)
    seed_pipeline(None, 3)  # nothing to reseed: no error
    seed_pipeline(lambda e: e, 3)


def test_workers_with_the_real_augmentations():
    augment = pytest.importorskip("seiswork.augment")
    transforms = pytest.importorskip("seiswork.transforms")
    if not hasattr(transforms, "seed_pipeline"):
        pytest.skip("seiswork.transforms has no seed_pipeline yet")
    rng = np.random.default_rng(0)
    x = np.repeat(rng.normal(size=(1, 64, 3)).astype(np.float32), 8, axis=0)  # identical events
    pipe = nn.Sequential(augment.Compose([augment.AddNoise(15, 40)], seed=0))
    ds = WaveformDataset(x, np.zeros(8, np.int64), transform=pipe)
    first = worker_batches(ds, seed=0)[0]
    assert not torch.equal(first[0], first[1])
    assert torch.equal(first, worker_batches(ds, seed=0)[0])


def test_user_worker_init_fn_runs_after_reseeding(tmp_path):
    x = np.zeros((4, 4, 1), np.float32)
    ds = WaveformDataset(x, np.zeros(4, np.int64), transform=NoiseStandIn())
    loader = make_loader(ds, batch_size=1, num_workers=2, worker_init_fn=_touch(tmp_path))
    assert len(list(loader)) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["worker0", "worker1"]


class _touch:
    def __init__(self, folder):
        self.folder = folder

    def __call__(self, worker_id):
        (self.folder / f"worker{worker_id}").touch()
