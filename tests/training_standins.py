"""Stand-ins shared by the training tests: an array dataset with ``.x``/``.y``, batch transforms, tiny models.

They keep the tests independent of the data and transform modules; integration tests use the real ones.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from seiswork.models import build_model
from seiswork.training import fit

TIME = 64  # samples per event; the stand-in spectrum has TIME // 2 + 1 = 33 bins


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
