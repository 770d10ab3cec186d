"""The default data set on disk: where it lives and how it is written."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from seiswork import paths
from seiswork.synthetic.generate import make_events


def default_path() -> Path:
    """Where the default data set lives: ``resources_dir() / "default_events.pkl"``."""
    return paths.resources_dir() / "default_events.pkl"



def write_default(
    path: str | Path | None = None,
    *,
    n_events: int = 1200,
    seed: int = 0,
    difficulty: float = 0.5,
    overwrite: bool = False,
) -> Path:
    """Write the default data set: the seed pickle ``(events, labels)`` and the sidecar ``<stem>.meta.csv``.

    ``path`` defaults to :func:`default_path`. Both files are written atomically. When the pickle
    exists and ``overwrite`` is False nothing is written (the data are deterministic) and the path is
    returned. Returns the pickle's path.
    """
    path = Path(default_path() if path is None else path)
    meta_path = path.with_name(path.stem + ".meta.csv")
    if path.exists() and not overwrite:
        note = "" if meta_path.exists() else f" (its sidecar {meta_path.name} is missing)"
        print(f"kept existing {path}{note}; pass overwrite=True to regenerate")
        return path
    if path.exists() and path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; give a file path such as {path / 'default_events.pkl'}")
    events, labels, meta = make_events(n_events, seed, difficulty)
    labels = labels.astype(str)  # numpy unicode array: loads through a restricted unpickler
    with paths.atomic_write(meta_path, mode="w") as f:
        meta.to_csv(f, index=False, float_format="%.6g")
    with paths.atomic_write(path, mode="wb") as f:
        pickle.dump((events, labels), f, protocol=4)
    counts = ", ".join(f"{c} {int((labels == c).sum())}" for c in np.unique(labels))
    print(f"wrote {len(events)} synthetic events ({counts}; seed={seed}, difficulty={difficulty}) "
          f"to {path} and {meta_path.name}")
    return path
