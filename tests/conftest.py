"""Shared fixtures: small seed-format events with the awkward parts real data has."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def temporary_files_inside_pytests_tree(tmp_path_factory):
    """``fit`` without a ``checkpoint_dir`` leaves its run folder for the caller (``seiswork-fit-*``): the suite's
    go to pytest's own temporary tree, which keeps the last three sessions, instead of piling up in /tmp (also for
    the notebook kernels and Dask workers the tests start, through ``TMPDIR``)."""
    folder = str(tmp_path_factory.mktemp("tempfile"))
    saved = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir, os.environ["TMPDIR"] = folder, folder
    yield
    tempfile.tempdir = saved[0]
    if saved[1] is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = saved[1]


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


_NBVAL_RUN_DIR: list[str] = []


def pytest_configure(config):
    # Notebooks checked by nbval share one run folder outside the project (01 writes, 02-05 read),
    # and their kernels inherit this environment.
    if "SEISWORK_RUN_DIR" not in os.environ:
        os.environ["SEISWORK_RUN_DIR"] = tempfile.mkdtemp(prefix="seiswork-nbval-")
        _NBVAL_RUN_DIR.append(os.environ["SEISWORK_RUN_DIR"])


def pytest_unconfigure(config):
    import shutil

    for folder in _NBVAL_RUN_DIR:  # ours alone, never a folder the caller named
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop("SEISWORK_RUN_DIR", None)
