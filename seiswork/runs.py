"""Run folders: where a study keeps its results, and the summary of the models trained in one.

A run folder holds everything one study produced::

    runs/20261126-181500/
        parameters.yaml          the parameters each notebook ran with (headless runs)
        notebooks/*.ipynb        executed notebooks (kept even when one fails)
        preprocessed.npz/.json   the preprocessed arrays and split, and the inputs they were built from
        augmentation.json        the augmentation pipeline used for training (written by notebook 03)
        lstm/, lstm_attention/   best.pt, last.pt, history.csv, metrics.json: one folder per model
        figures/*.png
        metrics.json             test metrics of every model, gathered at the end of the run
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import os
from pathlib import Path
from typing import Any

from seiswork.paths import PROJECT_DIR, atomic_write

__all__ = ["default_run_dir", "prepare_run_dir", "new_run_dir", "write_json", "summarize_run"]


def default_run_dir() -> Path:
    """Where a notebook opened in JupyterLab keeps its results when ``run_dir`` is not given.

    ``$SEISWORK_RUN_DIR`` when set (the tests use it), else ``runs/interactive`` in the project,
    so that notebooks 01..05 run one after another share their results.
    """
    env = os.environ.get("SEISWORK_RUN_DIR")
    return Path(env) if env else PROJECT_DIR / "runs" / "interactive"


def prepare_run_dir(run_dir: str | os.PathLike | None = None) -> Path:
    """Create (if needed) and return the run folder with its ``figures/`` sub-folder."""
    path = Path(run_dir) if run_dir else default_run_dir()
    (path / "figures").mkdir(parents=True, exist_ok=True)
    return path


def new_run_dir(root: str | os.PathLike = "runs") -> Path:
    """A fresh ``root/<YYYYmmdd-HHMMSS>`` folder (suffixed when that second is taken)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    root = Path(root)
    for i in itertools.count():
        path = root / (stamp if i == 0 else f"{stamp}-{i}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    with atomic_write(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
    return Path(path)


def summarize_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Gather every ``<model>/metrics.json`` of a run into one ``metrics.json`` at its top; returns the summary
    (model folder name -> its metrics), in folder-name order."""
    run = Path(run_dir)
    summary = {path.parent.name: json.loads(path.read_text()) for path in sorted(run.glob("*/metrics.json"))}
    write_json(run / "metrics.json", summary)
    return summary
