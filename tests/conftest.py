"""Shared fixtures: small seed-format events with the awkward parts real data has."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the checkout; tests using it skip when it is absent (a user's fresh clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_DATA}")
    return SHARED_DATA


def make_seed_events(n: int = 24, seed: int = 0, classes=("earthquake", "explosion")):
    """Seed-format events: DataFrames with Z, N, E (+ an extra column), unequal lengths, NaN padding at the ends.

    Returns ``(events, labels, event_ids)``; two recordings share each event id.
    """
    rng = np.random.default_rng(seed)
    events, labels, ids = [], [], []
    for i in range(n):
        length = int(rng.integers(300, 400))
        data = rng.normal(size=(length, 3))
        data *= 1.0 + (i % len(classes))  # classes differ in amplitude
        head, tail = int(rng.integers(0, 20)), int(rng.integers(0, 30))
        data[:head] = np.nan
        if tail:
            data[-tail:] = np.nan
        df = pd.DataFrame(data, columns=["Z", "N", "E"])
        df["time"] = np.arange(length) / 100.0
        events.append(df)
        labels.append(classes[i % len(classes)])
        ids.append(f"ev{i // 2:03d}")
    return events, np.array(labels), np.array(ids)


@pytest.fixture
def seed_events():
    return make_seed_events()


@pytest.fixture
def one_thread():
    """Tiny models run fastest on one torch thread, and the suite then shares a busy machine better."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pytest_configure(config):
    # Notebooks checked by nbval share one run folder outside the project (01 writes, 02-05 read),
    # and their kernels inherit this environment.
    import os
    import tempfile

    os.environ.setdefault("SEISWORK_RUN_DIR", tempfile.mkdtemp(prefix="seiswork-nbval-"))
