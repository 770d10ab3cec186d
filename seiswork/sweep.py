"""Parameter sweeps: every point of a grid runs the notebook sequence into its own run folder, and one
summary table (``summary.csv``) gathers their test metrics.

Runs go one after another in this process, or as tasks on a Dask cluster (:mod:`seiswork.cluster`). A run
that fails is a row with its error; the others finish. Both ways write the same table.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from seiswork.cluster import map_tasks, thread_budget
from seiswork.paths import PROJECT_DIR, atomic_write
from seiswork.runs import new_run_dir

__all__ = ["expand_grid", "run_sweep", "METRICS"]

#: test metrics of each model that the summary table keeps
METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc")


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """``{"a": [1, 2], "b": [3]}`` → ``[{"a": 1, "b": 3}, {"a": 2, "b": 3}]``."""
    for name, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"grid entry {name!r} must be a non-empty list of values, got {values!r}")
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def _run_one(name: str, combo: dict[str, Any], parameters: dict[str, Any], folder: str,
             only: Sequence[str] | None) -> dict[str, Any]:
    """One grid point: run the notebooks, return its summary row (never raises: a failure is its ``error``)."""
    from seiswork.runner import run_notebooks

    row: dict[str, Any] = {"run": name, **combo}
    try:
        run = run_notebooks(parameters, out=folder, only=only, progress=False)
        for model, metrics in json.loads((run / "metrics.json").read_text()).items():
            row.update({f"{model}.{key}": metrics[key] for key in METRICS if key in metrics})
        row["error"] = ""
    except Exception as err:  # noqa: BLE001 (one failed run must not stop the sweep; its error is reported)
        row["error"] = f"{type(err).__name__}: {err}"
    return row


def run_sweep(spec: Mapping[str, Any], out: str | os.PathLike | None = None, workers: int | None = None,
              scheduler: str | None = None, threads: int | None = None):
    """Run every parameter set of a grid and write one summary table (``summary.csv``); returns the table.

    ``spec`` (usually read from YAML)::

        parameters: {epochs: 3}          # fixed for every run
        grid: {hidden: [32, 64], seed: [0, 1]}
        only: ["01", "04"]               # optional subset of notebooks

    ``workers``: run on a Dask ``LocalCluster`` of that many processes, each run's kernels limited to
    its share of the cores; ``scheduler``: run on the Dask cluster at that address. Neither: one run after
    another in this process. ``threads``: CPU threads of each run (default: all cores one after another,
    the cores shared out among ``workers`` on a local cluster). Rows follow the grid order whichever way
    the runs went; with the same ``threads`` the table is the same.
    """
    import pandas as pd

    extra = set(spec) - {"parameters", "grid", "only"}
    if extra or "grid" not in spec:
        raise ValueError(f"a sweep file has the keys parameters, grid, only; got {sorted(spec)} (grid is required)")
    thread_budget(workers, threads)  # checked before any folder is made
    if workers is not None and scheduler:
        raise ValueError("--workers starts a local cluster and --scheduler joins an existing one: pass one of them")
    fixed = dict(spec.get("parameters") or {})
    if fixed.get("data_paths"):  # tasks may run elsewhere: paths relative to here become absolute now
        fixed["data_paths"] = [os.path.abspath(os.path.expanduser(p)) for p in fixed["data_paths"]]
    root = (Path(out) if out else new_run_dir(PROJECT_DIR / "runs" / "sweeps")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    tasks = []
    for i, combo in enumerate(expand_grid(spec["grid"])):
        name = f"{i:03d}-" + "-".join(f"{k}={v}" for k, v in combo.items())
        tasks.append((name, combo, {**fixed, **combo}, str(root / name), spec.get("only")))
    rows = map_tasks(_run_one, tasks, workers=workers, scheduler=scheduler, threads=threads, name="run",
                     describe=lambda row: row["run"] + (", failed" if row["error"] else ""))
    table = pd.DataFrame(rows)
    table = table[[c for c in table.columns if c != "error"] + ["error"]]
    with atomic_write(root / "summary.csv", "w") as f:
        table.to_csv(f, index=False)
    print(table.to_string(index=False))
    failed = table[table["error"] != ""]
    if len(failed):
        print(f"[seiswork] {len(failed)} of {len(table)} runs failed: " + "; ".join(
            f"{r.run}: {r.error.splitlines()[0]}" for r in failed.itertuples()))
    print(f"[seiswork] sweep summary: {root / 'summary.csv'}")
    return table
