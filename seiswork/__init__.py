"""seiswork: a notebook-first workbench for classifying seismic events with LSTM models.

Layout: an event is a float32 array ``(time, channel)`` (default channels ``Z, N, E``);
a batch is ``(batch, time, channel)``, as ``nn.LSTM(batch_first=True)`` reads it.

Public names are imported lazily (PEP 562), so ``import seiswork`` is quick and
``seiswork.load_events`` does not pay for importing torch.
"""

from __future__ import annotations

import importlib
import os

# Idle OpenMP threads (torch's, MKL's, oneDNN's) sleep instead of spinning. By default GNU OpenMP, which torch
# uses, spins a few milliseconds after every parallel region, waiting for the next one, on cores that another
# process (a second training, a sweep worker, a notebook) needs: two trainings at once then ran ~10x slower
# per epoch each (benchmarks/bench_contention.py). OpenMP reads the variable once, when torch is imported, so
# it is set here, before any seiswork module imports torch; when torch was imported first it has no effect.
# A value the user set wins (OMP_WAIT_POLICY=ACTIVE, or GOMP_SPINCOUNT, brings spinning back).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    # data: loading, preprocessing, datasets
    "load_events": "data.load",
    "save_npz": "data.npz",
    "EventSet": "data.eventset",
    "convert": "data.load",
    "UnsafePickleError": "data.pickles",
    "TransformOP": "data.preprocess",
    "WaveformDataAdapter": "data.adapter",
    "Split": "data.split",
    "PreprocessReport": "data.preprocess",
    "WaveformDataset": "data.dataset",
    "make_loader": "data.dataset",
    # augmentation and spectrum
    "TimeShift": "augment",
    "AddNoise": "augment",
    "AmplitudeScale": "augment",
    "TimeStretch": "augment",
    "RandomApply": "augment",
    "Compose": "augment",
    "FFTTransform": "transforms",
    "SpectrogramTransform": "transforms",
    "ToTensor": "transforms",
    "Pipeline": "transforms",
    "save_pipeline": "transforms",
    "load_pipeline": "transforms",
    "seed_pipeline": "transforms",
    # models and training
    "LSTMModel": "models",
    "LSTMAttentionModel": "models",
    "EnsembleModel": "models",
    "MODELS": "models",
    "build_model": "models",
    "model_summary": "models",
    "fit": "training.loop",
    "fit_members": "training.members",
    "evaluate": "training.evaluation",
    "load_model": "training.checkpoints",
    "FitResult": "training.loop",
    "get_device": "training.runtime",
    "predict": "training.evaluation",
    "report_to_json": "training.report",
    "save_metrics": "training.report",
    "save_bundle": "bundle",
    "load_bundle": "bundle",
    "classify": "inference",
    "default_pipelines": "transforms",
    # the study: one definition of a run's parameters, and run folders
    "Study": "study",
    "summarize_run": "runs",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'seiswork' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"seiswork.{module}"), name)
    globals()[name] = value  # cache: the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return __all__
