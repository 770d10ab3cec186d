"""The workflow of a study, written once: prepare data -> make pipelines -> make a model -> train -> test.

Notebooks 01-05 call these steps one by one (showing what each produced); ``python -m seiswork train``
calls :func:`run_training`, which chains them. Each step reads its settings from a :class:`Study`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import seiswork
from seiswork import defaults
from seiswork.runs import prepare_run_dir
from seiswork.study import cache
from seiswork.study.config import Study

__all__ = ["run_folder", "use_lazy", "load_data", "prepare_data", "select_classes", "known_sampling_rate",
           "sampling_rate", "make_pipelines", "input_shape", "make_model", "model_dir", "fit_arguments", "train_model",
           "test_model", "test_baselines", "run_training"]

PREPROCESSED, FINGERPRINT, AUGMENTATION = "preprocessed.npz", "preprocessed.json", "augmentation.json"


def run_folder(study: Study) -> Path:
    """The study's run folder (created with its ``figures/``): ``study.run_dir`` or ``runs/interactive``."""
    return prepare_run_dir(study.run_dir)


def _data_paths(study: Study) -> list[Path]:
    if study.data_paths:
        return study.resolved_data_paths()
    from seiswork import synthetic

    return [synthetic.default_path()]


def _fingerprint(study: Study) -> dict[str, Any]:
    parameters = {"channels": list(study.channels), "test_ratio": study.test_ratio, "val_ratio": study.val_ratio,
                  "seed": study.seed, "preprocessing": "DROP_NAN|TRIMMING|ZSCORE", "label_column": study.label_column,
                  "classes": list(study.classes), "min_class_events": study.min_class_events,
                  "rare_classes": study.rare_classes, "split_column": study.split_column}
    return cache.fingerprint(_data_paths(study), parameters)


def use_lazy(study: Study) -> bool:
    """Whether the study streams its data from disk (``study.lazy``; ``"auto"``: when the data files exceed
    ``defaults.LAZY_ABOVE_BYTES`` and every one can be streamed)."""
    from seiswork.data.load import can_stream

    if study.lazy != "auto":
        return bool(study.lazy)
    if not study.data_paths:
        return False  # the built-in set: a few MB of pickled DataFrames
    paths = study.resolved_data_paths()
    size = sum(p.stat().st_size for p in cache.input_files(paths) if p.is_file())
    return size > defaults.LAZY_ABOVE_BYTES and all(can_stream(p) for p in paths)


def load_data(study: Study, verbose: bool = True):
    """The study's events, :func:`~seiswork.load_events`: in memory, or on disk (``LazyEvents``) when
    :func:`use_lazy`. Either has ``.labels``, ``.meta``, ``.counts`` and ``.class_counts``."""
    paths = [str(p) for p in study.resolved_data_paths()] if study.data_paths else None
    return seiswork.load_events(paths, channels=study.channels, label_column=study.label_column,
                                lazy=use_lazy(study), verbose=verbose)


def prepare_data(study: Study, events: Any = None, use_cache: bool = True, verbose: bool = True,
                 store: str | os.PathLike | None = None):
    """The study's preprocessed data as a :class:`~seiswork.WaveformDataAdapter` (split train/val/test).

    With ``use_cache``, the run folder's ``preprocessed.npz`` is reused when its fingerprint matches the
    study's data files and preprocessing parameters (see :mod:`seiswork.study.cache`); otherwise the events
    are loaded (:func:`load_data`, or ``events``, an already loaded result, is used), preprocessed
    (DROP_NAN -> TRIMMING -> ZSCORE), split, and the cache is written with its fingerprint. Data on disk
    (:func:`use_lazy`) is streamed into ``preprocessed.npz`` (or ``store``) a chunk at a time and
    memory-mapped read-only from it; the result is the same.
    """
    run = run_folder(study) if use_cache else None
    lazy = use_lazy(study) if events is None else hasattr(events.events, "read")
    if run is not None and events is None:
        asked = _fingerprint(study)
        held = cache.read_fingerprint(run / FINGERPRINT) if (run / PREPROCESSED).exists() else None
        reasons = cache.differences(held, asked)
        if not reasons:
            return seiswork.WaveformDataAdapter.load(run / PREPROCESSED, mmap="r" if lazy else True)
        if (run / PREPROCESSED).exists() and verbose:
            print(f"[seiswork] {run / PREPROCESSED} does not match this study ({'; '.join(reasons)}): "
                  "preparing the data again", flush=True)
    if events is None:
        events = load_data(study, verbose=verbose)
    events = select_classes(events, study, verbose=verbose)
    _check_one_rate(events.meta, study)
    if lazy and store is None:  # the stream needs a file to go to, cache or not
        run = run_folder(study)
    if run is not None:
        (run / FINGERPRINT).unlink(missing_ok=True)  # a crash between the two writes leaves no stale record
    out = (Path(store) if store is not None else run / PREPROCESSED) if lazy else None
    adapter = seiswork.WaveformDataAdapter(events, events.labels, channels=study.channels,
                                           test_ratio=study.test_ratio, val_ratio=study.val_ratio, seed=study.seed,
                                           split_column=study.split_column, out=out)
    if run is not None:
        if out != run / PREPROCESSED:
            adapter.save(run / PREPROCESSED)
        # fingerprinted again: loading may just have generated the built-in data file
        cache.write_fingerprint(run / FINGERPRINT, _fingerprint(study))
    return adapter


def select_classes(events: Any, study: Study, verbose: bool = True):
    """The events of the study's classes: ``study.classes`` kept (all when empty), then classes with fewer than
    ``study.min_class_events`` events dropped or merged into ``"other"``. Returns a new EventSet (the input is
    not changed); prints what it removed."""
    from seiswork.data.eventset import EventSet

    original = np.asarray(events.labels)
    labels = original.astype(str)  # class names as the study names them
    counts = pd.Series(labels).value_counts()
    keep = np.ones(len(labels), dtype=bool)
    if study.classes:
        missing = [c for c in study.classes if c not in counts.index]
        if missing:
            raise ValueError(f"classes {missing} do not occur in the data (it has {dict(counts)}); "
                             "check the class names or label_column")
        keep &= np.isin(labels, study.classes)
    rare = [c for c, n in pd.Series(labels[keep]).value_counts().items() if n < study.min_class_events]
    new_labels = original
    if rare and study.rare_classes == "merge":
        new_labels = np.where(np.isin(labels, rare), "other", labels).astype(object)
    elif rare:
        keep &= ~np.isin(labels, rare)
    if keep.all() and not rare:
        return events
    if verbose:
        what = "merged into 'other'" if study.rare_classes == "merge" else "dropped"
        print(f"[seiswork] classes: kept {sorted(set(new_labels[keep]))}; {int((~keep).sum())} events of other "
              f"classes left out" + (f"; rare classes {rare} {what}" if rare else ""), flush=True)
    rows = np.flatnonzero(keep)
    meta = events.meta.iloc[rows].reset_index(drop=True).assign(label=new_labels[rows])
    kept_sources = meta["source"].value_counts(sort=False).to_dict() if "source" in meta else None
    take = getattr(events.events, "take", None)  # events on disk stay there
    kept = take(rows) if take is not None else [events.events[i] for i in rows]
    return EventSet(kept, new_labels[rows], meta=meta, channels=events.channels, counts=kept_sources)


def _rates(meta: Any) -> dict[float, list[str]]:
    """Known sampling rates (Hz) of the loaded events -> the files holding them."""
    if meta is None or "sampling_rate" not in meta:
        return {}
    known = meta.dropna(subset=["sampling_rate"])
    sources = (known["source"] if "source" in known else pd.Series("?", index=known.index)).astype(str)
    return {float(rate): list(files.unique()) for rate, files in sources.groupby(known["sampling_rate"].astype(float))}


def _check_one_rate(meta: Any, study: Study) -> None:
    """Refuse events of several sampling rates: trimmed to one length they would span different durations."""
    rates = _rates(meta)
    if study.sampling_rate is not None:
        rates.setdefault(study.sampling_rate, [])
    if len(rates) > 1:
        listed = "; ".join(f"{rate:g} Hz: {', '.join(files) or 'sampling_rate parameter'}"
                           for rate, files in sorted(rates.items()))
        raise ValueError(f"the events have several sampling rates ({listed}); one length in samples would then "
                         "mean different durations. Resample the files to one rate first (e.g. "
                         "scipy.signal.resample_poly or ObsPy's Trace.resample) or study them separately")


def known_sampling_rate(study: Study, adapter: Any) -> float | None:
    """The events' sampling rate in Hz: ``study.sampling_rate``, else the one their metadata records, else None."""
    if study.sampling_rate is not None:
        return study.sampling_rate
    rates = _rates(getattr(adapter, "meta", None))
    return next(iter(rates)) if len(rates) == 1 else None


def sampling_rate(study: Study, adapter: Any) -> float:
    """:func:`known_sampling_rate`, or an error saying how to give it (the baselines' bands are in Hz)."""
    fs = known_sampling_rate(study, adapter)
    if fs is None:
        raise ValueError("the sampling rate of the data is not recorded in its metadata: set the study parameter "
                         "sampling_rate (Hz), e.g. -p sampling_rate 100 or --sampling-rate 100")
    return fs


def make_pipelines(study: Study, adapter: Any = None, augmentation: str | os.PathLike | None = None,
                   from_run: bool = True):
    """``(train_transform, eval_transform)``: augmentation -> representation for training, representation
    only for evaluation. The augmentation is ``augmentation`` (a saved pipeline), else (``from_run``) the run
    folder's ``augmentation.json`` (notebook 03's tuner) when present, else the seed's. The spectrogram's
    window and hop default to seconds at the sampling rate of ``adapter``'s events (or ``study.sampling_rate``)."""
    # unknown rate: windows in samples (spectrogram_size's fallback), and no band in Hz
    fs = known_sampling_rate(study, adapter)
    if augmentation is None and study.augment and from_run:
        saved = run_folder(study) / AUGMENTATION
        augmentation = saved if saved.exists() else None
    return seiswork.default_pipelines(fft_size=study.fft_size, seed=study.seed, augment=study.augment,
                                      augmentation=augmentation, representation=study.representation,
                                      n_fft=study.n_fft, hop=study.hop, band=study.band, sampling_rate=fs,
                                      background=study.background)


def input_shape(eval_transform: Any, dataset: Any) -> tuple[int, int]:
    """``(seq_len, features)`` the model reads: the eval pipeline applied to the first event of ``dataset``."""
    import torch

    out = eval_transform(torch.from_numpy(dataset.x[:1]))
    return int(out.shape[1]), int(out.shape[2])


def make_model(study: Study, features: int, classes: int):
    """The study's model, its initial weights drawn from ``study.seed``."""
    return seiswork.build_model(study.model, seed=study.seed, **study.model_kwargs(features, classes))


def model_dir(study: Study) -> Path:
    """Where a run keeps one model's checkpoints, history and metrics: ``<run>/<model name>``."""
    return run_folder(study) / study.model


def fit_arguments(study: Study) -> dict[str, Any]:
    """The study's training settings as :func:`seiswork.training.fit_members` arguments (one place: notebooks,
    commands and cross-validation train alike)."""
    return {"members": study.members, "epochs": study.epochs, "batch_size": study.batch_size, "lr": study.lr,
            "weight_decay": study.weight_decay, "patience": study.patience or None, "ema": study.ema,
            "class_weights": study.class_weights, "amp": study.amp, "device": study.device, "seed": study.seed}


def train_model(study: Study, model: Any, adapter: Any, pipelines: tuple[Any, Any],
                out: str | os.PathLike | None = None, resume: bool = False, overwrite: bool = True,
                progress: Any = None):
    """Fit ``model`` (and, with ``study.members > 1``, fresh copies of it: an ensemble,
    :func:`seiswork.training.fit_members`) on the adapter's train part, selecting the epoch on its validation part.

    Checkpoints and history go to ``out`` (default :func:`model_dir`). ``overwrite`` starts afresh over an
    earlier run there, as re-running a notebook cell should; ``resume`` continues it.
    """
    from seiswork.training import fit_members

    train_transform, eval_transform = pipelines
    return fit_members(
        model, adapter.dataset("train"), adapter.dataset("val"), **fit_arguments(study),
        train_transform=train_transform, eval_transform=eval_transform,
        checkpoint_dir=Path(out) if out is not None else model_dir(study), resume=resume,
        overwrite=overwrite and not resume, progress=progress)


def test_model(study: Study, result: Any, adapter: Any, eval_transform: Any,
               out: str | os.PathLike | None = None, baselines: dict[str, Any] | None = None) -> dict[str, Any]:
    """The test report of the trained model (the test part is used here only), written to
    ``out/metrics.json`` (default :func:`model_dir`) with the study's parameters, how training ended and the
    headline metrics of ``baselines`` (reports of :func:`test_baselines`) on the same test part. Across
    processes every process takes part in the evaluation and only rank 0 writes."""
    from seiswork.training import distributed
    from seiswork.training.report import HEADLINE_METRICS

    report = seiswork.evaluate(result.model, adapter.dataset("test"), transform=eval_transform,
                               device=result.device, classes=[str(c) for c in adapter.classes])
    if not distributed.is_main():
        return report
    folder = Path(out) if out is not None else model_dir(study)
    runs = [{"best_epoch": m.best_epoch, "epochs_run": len(m.history), "stopped_early": m.stopped_early,
             "best_val_macro_f1": m.best_score} for m in result.members or [result]]
    seiswork.save_metrics(report, folder / "metrics.json", extra={"training": {
        "best_epoch": result.best_epoch, "epochs_run": max(r["epochs_run"] for r in runs),
        "stopped_early": result.stopped_early, "best_val_macro_f1": result.best_score, "members": runs,
        "device": str(result.device),
        "n_train": len(adapter.dataset("train")), "n_val": len(adapter.dataset("val")),
        "n_test": report["n_samples"]}, "world_size": result.world_size, "study": study.to_dict(where=False),
        "data": [str(p) for p in _data_paths(study)],
        "baselines": {name: {k: r[k] for k in HEADLINE_METRICS} for name, r in (baselines or {}).items()}})
    _save_bundle(study, result, adapter, eval_transform, folder)
    return report


def _save_bundle(study: Study, result: Any, adapter: Any, eval_transform: Any, folder: Path) -> None:
    """The trained model as a self-contained bundle, ``<folder>/model.seiswork``, for ``seiswork.classify``."""
    from seiswork.bundle import save_bundle

    # an unknown rate: the bundle says so, and new events are not checked against it
    save_bundle(folder / "model.seiswork", result.model, classes=[str(c) for c in adapter.classes],
                channels=adapter.channels, sampling_rate=known_sampling_rate(study, adapter),
                length=int(adapter.x.shape[1]), preprocessing=adapter, eval_transform=eval_transform, study=study)


def test_baselines(study: Study, adapter: Any, out: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """The physics baselines (:mod:`seiswork.baseline`) fitted on the train and validation parts and scored on
    the same test part as the networks; each report goes to ``<run>/baseline_<kind>/metrics.json`` (or
    ``out``), so run summaries and comparison figures show them beside every model."""
    from seiswork.baseline import BASELINES, baseline_report

    fs = sampling_rate(study, adapter)
    n_fit = len(adapter.split.train) + len(adapter.split.val)
    x_fit, y_fit = adapter.x[:n_fit], adapter.y[:n_fit]  # rows are train, val, test: a view, not a copy
    test = adapter.dataset("test")
    classes = [str(c) for c in adapter.classes]
    reports = {}
    for kind in BASELINES:
        report = baseline_report(kind, fs, x_fit, y_fit, test.x, test.y, classes, seed=study.seed)
        folder = Path(out) / f"baseline_{kind}" if out is not None else run_folder(study) / f"baseline_{kind}"
        seiswork.save_metrics(report, folder / "metrics.json", extra={
            "baseline": kind, "sampling_rate": fs, "n_fit": len(y_fit), "study": study.to_dict(where=False)})
        reports[f"baseline_{kind}"] = report
    return reports


def run_training(study: Study, out: str | os.PathLike, resume: bool = False, overwrite: bool = False,
                 progress: Any = None, verbose: bool = True) -> dict[str, Any]:
    """The whole workflow for one model, into the folder ``out``: load and preprocess (no cache), pipelines,
    model, fit, test report. Returns the report. Used by ``python -m seiswork train``.

    Launched by ``torchrun`` it trains over the launch's processes (:mod:`seiswork.training.distributed`): every
    process loads the data, rank 0 alone prints and writes files (and fits the baselines). ``study.batch_size``
    is then per process: a training step sees N x ``batch_size`` events."""
    from seiswork.training import distributed

    with distributed.session(study.device):
        main = distributed.is_main()
        verbose = verbose and main
        progress = progress if main else False
        report = _run_training(study, Path(out), resume, overwrite, progress, verbose)
        distributed.barrier()
    return report


def _run_training(study: Study, out: Path, resume: bool, overwrite: bool, progress: Any,
                  verbose: bool) -> dict[str, Any]:
    from seiswork.training import distributed

    lazy = use_lazy(study)
    if lazy and not distributed.is_main():  # rank 0 streams the data once; the others map it
        distributed.barrier()
        adapter = seiswork.WaveformDataAdapter.load(out / PREPROCESSED, mmap="r")
    else:
        adapter = prepare_data(study, use_cache=False, verbose=verbose, store=out / PREPROCESSED)
        if lazy:
            distributed.barrier()
    sampling_rate(study, adapter)  # known before training, since the baselines need it
    pipelines = make_pipelines(study, adapter, from_run=False)
    train, val, test = (adapter.dataset(part) for part in ("train", "val", "test"))
    seq_len, features = input_shape(pipelines[1], train)
    if verbose:
        print(f"classes: {[str(c) for c in adapter.classes]}; events train/val/test: "
              f"{len(train)}/{len(val)}/{len(test)}; event shape (time, channel): {tuple(adapter.x.shape[1:])}")
        print(f"model input shape (seq_len, features): ({seq_len}, {features})")
    model = make_model(study, features, len(adapter.classes))
    if verbose:
        print(seiswork.model_summary(model, (1, seq_len, features)))
    result = train_model(study, model, adapter, pipelines, out=out, resume=resume, overwrite=overwrite,
                         progress=progress)
    baselines = test_baselines(study, adapter, out=out) if distributed.is_main() else {}
    return {**test_model(study, result, adapter, pipelines[1], out=out, baselines=baselines), "baselines": baselines}
