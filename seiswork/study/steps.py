"""The workflow of a study, written once: prepare data -> make pipelines -> make a model -> train -> test.

Notebooks 01-05 call these steps one by one (showing what each produced); ``python -m seiswork train``
calls :func:`run_training`, which chains them. Each step reads its settings from a :class:`Study`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import seiswork
from seiswork.runs import prepare_run_dir
from seiswork.study import cache
from seiswork.study.config import Study

__all__ = ["run_folder", "prepare_data", "make_pipelines", "input_shape", "make_model", "model_dir", "train_model",
           "test_model", "run_training"]

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
                  "seed": study.seed, "preprocessing": "DROP_NAN|TRIMMING|ZSCORE"}
    return cache.fingerprint(_data_paths(study), parameters)


def prepare_data(study: Study, events: Any = None, use_cache: bool = True, verbose: bool = True):
    """The study's preprocessed data as a :class:`~seiswork.WaveformDataAdapter` (split train/val/test).

    With ``use_cache``, the run folder's ``preprocessed.npz`` is reused when its fingerprint matches the
    study's data files and preprocessing parameters (see :mod:`seiswork.study.cache`); otherwise the events
    are loaded (or ``events``, an already loaded :func:`~seiswork.load_events` result, is used), preprocessed
    (DROP_NAN -> TRIMMING -> ZSCORE), split, and the cache is written with its fingerprint.
    """
    run = run_folder(study) if use_cache else None
    if run is not None and events is None:
        asked = _fingerprint(study)
        held = cache.read_fingerprint(run / FINGERPRINT) if (run / PREPROCESSED).exists() else None
        reasons = cache.differences(held, asked)
        if not reasons:
            return seiswork.WaveformDataAdapter.load(run / PREPROCESSED)
        if (run / PREPROCESSED).exists() and verbose:
            print(f"[seiswork] {run / PREPROCESSED} does not match this study ({'; '.join(reasons)}): "
                  "preparing the data again", flush=True)
    if events is None:
        paths = [str(p) for p in study.resolved_data_paths()] if study.data_paths else None
        events = seiswork.load_events(paths, channels=study.channels)
    adapter = seiswork.WaveformDataAdapter(events, events.labels, channels=study.channels,
                                           test_ratio=study.test_ratio, val_ratio=study.val_ratio, seed=study.seed)
    if run is not None:
        (run / FINGERPRINT).unlink(missing_ok=True)  # a crash between the two writes leaves no stale record
        adapter.save(run / PREPROCESSED)
        cache.write_fingerprint(run / FINGERPRINT, _fingerprint(study))
    return adapter


def make_pipelines(study: Study, augmentation: str | os.PathLike | None = None, from_run: bool = True):
    """``(train_transform, eval_transform)``: augmentation -> representation for training, representation
    only for evaluation. The augmentation is ``augmentation`` (a saved pipeline), else (``from_run``) the run
    folder's ``augmentation.json`` (notebook 03's tuner) when present, else the seed's."""
    if augmentation is None and study.augment and from_run:
        saved = run_folder(study) / AUGMENTATION
        augmentation = saved if saved.exists() else None
    return seiswork.default_pipelines(fft_size=study.fft_size, seed=study.seed, augment=study.augment,
                                      augmentation=augmentation)


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


def train_model(study: Study, model: Any, adapter: Any, pipelines: tuple[Any, Any],
                out: str | os.PathLike | None = None, resume: bool = False, overwrite: bool = True,
                progress: Any = None):
    """Fit ``model`` on the adapter's train part, selecting the epoch on its validation part.

    Checkpoints and history go to ``out`` (default :func:`model_dir`). ``overwrite`` starts afresh over an
    earlier run there, as re-running a notebook cell should; ``resume`` continues it.
    """
    train_transform, eval_transform = pipelines
    return seiswork.fit(
        model, adapter.dataset("train"), adapter.dataset("val"), epochs=study.epochs, batch_size=study.batch_size,
        lr=study.lr, weight_decay=study.weight_decay, patience=study.patience or None,
        class_weights=study.class_weights, amp=study.amp, device=study.device, seed=study.seed,
        train_transform=train_transform, eval_transform=eval_transform,
        checkpoint_dir=Path(out) if out is not None else model_dir(study), resume=resume,
        overwrite=overwrite and not resume, progress=progress)


def test_model(study: Study, result: Any, adapter: Any, eval_transform: Any,
               out: str | os.PathLike | None = None) -> dict[str, Any]:
    """The test report of the trained model (the test part is used here only), written to
    ``out/metrics.json`` (default :func:`model_dir`) with the study's parameters and how training ended."""
    report = seiswork.evaluate(result.model, adapter.dataset("test"), transform=eval_transform,
                               device=result.device, classes=[str(c) for c in adapter.classes])
    folder = Path(out) if out is not None else model_dir(study)
    seiswork.save_metrics(report, folder / "metrics.json", extra={"training": {
        "best_epoch": result.best_epoch, "epochs_run": len(result.history), "stopped_early": result.stopped_early,
        "best_val_macro_f1": result.best_score, "device": str(result.device),
        "n_train": len(adapter.dataset("train")), "n_val": len(adapter.dataset("val")),
        "n_test": report["n_samples"]}, "study": study.to_dict(),
        "data": [str(p) for p in _data_paths(study)]})
    return report


def run_training(study: Study, out: str | os.PathLike, resume: bool = False, overwrite: bool = False,
                 progress: Any = None, verbose: bool = True) -> dict[str, Any]:
    """The whole workflow for one model, into the folder ``out``: load and preprocess (no cache), pipelines,
    model, fit, test report. Returns the report. Used by ``python -m seiswork train``."""
    out = Path(out)
    adapter = prepare_data(study, use_cache=False, verbose=verbose)
    pipelines = make_pipelines(study, from_run=False)
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
    return test_model(study, result, adapter, pipelines[1], out=out)
