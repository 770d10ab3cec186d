"""A study: one typed definition of its parameters (:class:`Study`) and the workflow steps that notebooks,
the command line and sweeps all call (:mod:`seiswork.study.steps`)."""

from seiswork.study.config import Study, StudyError, parse_channels
from seiswork.study.steps import (
    fit_arguments,
    input_shape,
    known_sampling_rate,
    load_data,
    make_model,
    make_pipelines,
    model_dir,
    prepare_data,
    run_folder,
    run_training,
    sampling_rate,
    select_classes,
    test_baselines,
    test_model,
    train_model,
    use_lazy,
)

__all__ = ["Study", "StudyError", "parse_channels", "run_folder", "use_lazy", "load_data", "prepare_data",
           "select_classes", "known_sampling_rate", "sampling_rate", "make_pipelines", "input_shape", "make_model",
           "model_dir", "fit_arguments", "train_model", "test_model", "test_baselines", "run_training"]
