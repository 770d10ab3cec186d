"""The model registry: ``MODELS`` (name -> class), :func:`build_model` by name, :func:`model_summary`."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from seiswork.models.attention import LSTMAttentionModel
from seiswork.models.lstm import LSTMModel

__all__ = ["MODELS", "build_model", "model_name", "model_summary"]

MODELS: dict[str, type[nn.Module]] = {"lstm": LSTMModel, "lstm_attention": LSTMAttentionModel}


def build_model(name: str, *, seed: int | None = None, **kwargs: Any) -> nn.Module:
    """Build a registered model by name: ``build_model("lstm", hidden=32, classes=3)``.

    With ``seed`` the weights are initialised from ``torch.manual_seed(seed)`` inside
    ``torch.random.fork_rng``, so the same seed gives the same initial weights and the caller's
    global RNG state is left as it was.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    if seed is None:
        return MODELS[name](**kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODELS[name](**kwargs)


def model_name(model: nn.Module) -> str:
    """The registered name of ``model``'s class (``"lstm"`` for an ``LSTMModel``): what :func:`build_model`
    rebuilds it from, with its ``.config``."""
    for name, cls in MODELS.items():
        if type(model) is cls:
            return name
    raise ValueError(f"{type(model).__name__} is not a registered seiswork model ({', '.join(sorted(MODELS))}); "
                     "register it in seiswork.models.MODELS")


def model_summary(model: nn.Module, input_shape: tuple[int, ...] = (1, 257, 3), **kwargs: Any):
    """torchinfo summary of ``model`` for an input of ``input_shape`` ``(batch, seq_len, channels)``.

    Returns torchinfo's ``ModelStatistics``: ``print()`` it in a script, or leave it as the last
    expression of a notebook cell. Extra keyword arguments go to ``torchinfo.summary``. The model's
    train/eval mode and global RNG state are left as they were.
    """
    from torchinfo import summary

    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (batch, seq_len, channels), got {tuple(input_shape)}")
    param = next(model.parameters(), None)
    options = {
        "input_size": tuple(input_shape),
        "col_names": ("input_size", "output_size", "num_params"),
        "depth": 3,
        "verbose": 0,
        "device": param.device if param is not None else "cpu",
        "mode": "eval",
    }
    options.update(kwargs)
    was_training = model.training
    try:
        with torch.random.fork_rng(devices=[]):
            return summary(model, **options)
    finally:
        model.train(was_training)
