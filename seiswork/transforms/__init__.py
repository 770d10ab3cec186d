"""From augmented waveforms to model input: the spectrum and tensor modules, pipelines, their seeding, the
default pipelines and their JSON (de)serialisation.

A train pipeline is ``Pipeline(Compose([...]), FFTTransform(512), ToTensor())``, a test one
``Pipeline(FFTTransform(512), ToTensor())``; both run on one event or on a batch on any device.
:class:`Pipeline` is an ``nn.Sequential`` that runs an augmentation and the spectrum after it in one pass on
the CPU (same results); ``load_pipeline`` and :func:`default_pipelines` return it.
``FFTTransform`` and ``ToTensor`` are deterministic and ignore ``train()``/``eval()``.

Layout: :mod:`~seiswork.transforms.spectrum` (``FFTTransform``, ``ToTensor``), :mod:`~seiswork.transforms.spectrogram` (``SpectrogramTransform``),
:mod:`~seiswork.transforms.pipeline`
(``Pipeline``, ``seed_pipeline``), :mod:`~seiswork.transforms.serialise` (JSON),
:mod:`~seiswork.transforms.defaults` (``default_pipelines``).
"""

from __future__ import annotations

from seiswork.transforms.defaults import (
    INPUT_NORM, INPUT_SUMMARY, REPRESENTATIONS, default_augmentation, default_pipelines, model_inputs,
)
from seiswork.transforms.pipeline import Pipeline, seed_pipeline
from seiswork.transforms.serialise import (
    FORMAT,
    VERSION,
    load_pipeline,
    pipeline_from_dict,
    pipeline_to_dict,
    save_pipeline,
)
from seiswork.transforms.spectrogram import SpectrogramTransform
from seiswork.transforms.spectrum import FFTTransform, ToTensor

__all__ = [
    "Pipeline",
    "FFTTransform",
    "SpectrogramTransform",
    "ToTensor",
    "seed_pipeline",
    "pipeline_to_dict",
    "pipeline_from_dict",
    "save_pipeline",
    "load_pipeline",
    "default_pipelines",
    "default_augmentation",
    "REPRESENTATIONS",
    "INPUT_NORM",
    "INPUT_SUMMARY",
    "model_inputs",
    "FORMAT",
    "VERSION",
]
