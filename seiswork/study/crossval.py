"""Cross-validation for small data sets: event-grouped, stratified k folds, every method on the same folds.

A single split of a few hundred events moves balanced accuracy by several points; k folds give a mean and
a spread. Folds come from scikit-learn's ``StratifiedGroupKFold`` (grouped by event id, so recordings of one
event never sit on both sides); inside each training fold a validation part (``study.val_ratio``, grouped
and stratified too) drives the network's early stopping, while the physics baselines fit on the whole
training fold. Folds run one after another or as tasks on Dask (:func:`seiswork.cluster.map_tasks`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seiswork.paths import atomic_write
from seiswork.study.config import Study

__all__ = ["fold_indices", "cross_validate", "summarize_folds"]


def _groups(adapter: Any) -> np.ndarray:
    groups = getattr(adapter, "groups", None)
    if groups is None or len(groups) != len(adapter.y):
        return np.arange(len(adapter.y))
    codes = pd.Series(groups).astype("string")
    missing = codes.isna() | (codes == "")
    codes[missing] = [f"__event_{i}" for i in np.flatnonzero(missing)]  # no id: its own group
    return codes.to_numpy()


def fold_indices(y: np.ndarray, groups: np.ndarray, folds: int, val_ratio: float,
                 seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(train, val, test)`` row indices of each fold; each group lies in one part of each fold and in the
    test part of exactly one fold."""
    from sklearn.model_selection import StratifiedGroupKFold

    counts = pd.Series(y).groupby(pd.Series(groups)).first().value_counts()
    if folds < 2 or folds > int(counts.min()):
        raise ValueError(f"folds must lie in [2, {int(counts.min())}] (the fewest events ids of one class), "
                         f"got {folds}")
    outer = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    inner_splits = max(2, round(1 / val_ratio))
    out = []
    for fold, (fit_rows, test_rows) in enumerate(outer.split(np.zeros(len(y)), y, groups)):
        inner = StratifiedGroupKFold(n_splits=inner_splits, shuffle=True, random_state=seed + 1 + fold)
        train_local, val_local = next(inner.split(np.zeros(len(fit_rows)), y[fit_rows], groups[fit_rows]))
        out.append((fit_rows[train_local], fit_rows[val_local], test_rows))
    return out


def _headline(report: dict[str, Any]) -> dict[str, float]:
    from seiswork.training.report import HEADLINE_METRICS

    return {k: float(report[k]) for k in HEADLINE_METRICS}


def _run_fold(study: Study, models: list[str], cache: str, fold: int, parts: tuple, out: str,
              fs: float) -> list[dict[str, Any]]:
    """Every method on one fold; returns one row per method (never raises: a failure is its ``error``)."""
    import seiswork
    from seiswork.baseline import BASELINES, baseline_report
    from seiswork.study import steps
    from seiswork.training import fit_members

    adapter = seiswork.WaveformDataAdapter.load(cache)
    classes = [str(c) for c in adapter.classes]
    train_rows, val_rows, test_rows = parts
    train, val, test = (seiswork.WaveformDataset(adapter.x[r], adapter.y[r], classes=classes)
                        for r in (train_rows, val_rows, test_rows))
    rows = []
    for kind in BASELINES:
        t0 = time.perf_counter()
        row = {"fold": fold, "method": f"baseline_{kind}"}
        try:
            fit_rows = np.concatenate([train_rows, val_rows])
            report = baseline_report(kind, fs, adapter.x[fit_rows], adapter.y[fit_rows], test.x, test.y, classes,
                                     seed=study.seed)
            row.update(_headline(report), error="")
        except Exception as err:  # noqa: BLE001 (one failing method must not lose the other folds)
            row["error"] = f"{type(err).__name__}: {err}"
        rows.append({**row, "seconds": time.perf_counter() - t0})
    for name in models:
        t0 = time.perf_counter()
        row = {"fold": fold, "method": name}
        try:
            fold_study = study.replace(model=name)
            pipelines = steps.make_pipelines(fold_study.replace(sampling_rate=fs), from_run=False)
            seq_len, features = steps.input_shape(pipelines[1], train)
            net = steps.make_model(fold_study, features, len(classes))
            result = fit_members(net, train, val, **steps.fit_arguments(study), train_transform=pipelines[0],
                                 eval_transform=pipelines[1], checkpoint_dir=Path(out) / f"fold-{fold}" / name,
                                 overwrite=True, progress=False)
            report = seiswork.evaluate(result.model, test, transform=pipelines[1], device=result.device,
                                       classes=classes)
            row.update(_headline(report), best_epoch=result.best_epoch, error="")
        except Exception as err:  # noqa: BLE001
            row["error"] = f"{type(err).__name__}: {err}"
        rows.append({**row, "seconds": time.perf_counter() - t0})
    return rows


def summarize_folds(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over folds of each method's metrics (one row per method)."""
    from seiswork.training.report import HEADLINE_METRICS

    ok = table[table["error"] == ""]
    stats = ok.groupby("method", sort=False)[list(HEADLINE_METRICS) + ["seconds"]].agg(["mean", "std"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    stats.insert(0, "folds", ok.groupby("method", sort=False).size())
    return stats.sort_values("balanced_accuracy_mean", ascending=False)


def cross_validate(study: Study, folds: int = 5, models: list[str] | None = None,
                   out: str | os.PathLike | None = None, workers: int | None = None, scheduler: str | None = None,
                   threads: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """k-fold grouped, stratified cross-validation of ``models`` (default: ``[study.model]``) and the physics
    baselines on the study's data; returns ``(per_fold, summary)`` and writes ``cv_folds.csv`` and
    ``cv_summary.csv`` into ``out`` (default: the study's run folder)."""
    from seiswork.cluster import map_tasks
    from seiswork.models import MODELS
    from seiswork.study import steps

    models = list(models or [study.model])
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"--models: unknown model(s) {unknown}; choose from {', '.join(sorted(MODELS))}")
    run = Path(out) if out is not None else steps.run_folder(study)
    study = study.replace(run_dir=str(run))
    adapter = steps.prepare_data(study)  # the fingerprinted cache in the run folder: the tasks map it
    fs = steps.sampling_rate(study, adapter)
    parts = fold_indices(adapter.y, _groups(adapter), folds, study.val_ratio, study.seed)
    cache = str((run / steps.PREPROCESSED).resolve())
    tasks = [(study, models, cache, k, p, str(run.resolve()), fs) for k, p in enumerate(parts)]
    results = map_tasks(_run_fold, tasks, workers=workers, scheduler=scheduler, threads=threads, name="fold",
                        describe=lambda rows: f"fold {rows[0]['fold']}")
    table = pd.DataFrame([row for rows in results for row in rows])
    summary = summarize_folds(table)
    for name, frame, index in (("cv_folds.csv", table, False), ("cv_summary.csv", summary, True)):
        with atomic_write(run / name, "w") as f:
            frame.to_csv(f, index=index)
    return table, summary
