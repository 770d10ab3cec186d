"""How a draw is computed: as one compiled CPU pass (:mod:`seiswork.kernels`) or module by module in torch.

Each augmentation declares its kernel step (``kernel_step(params) -> kernels.Step``); a container declares
which children apply to which events (``kernel_children(params, rows)``). :func:`program` collects the steps of
a whole draw when :func:`seiswork.kernels.use_kernels` sends the batch to the kernels; :func:`run` applies a draw
with that program, or with each module's torch maths (``run_torch``) when there is none.

Only the class that declares ``kernel_step``/``kernel_children`` in its own body takes the kernel path: a
subclass (a user's own maths) runs in torch.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from seiswork import kernels

__all__ = ["program", "run"]


def _collect(module: Any, params: dict, rows: np.ndarray, steps: list) -> bool:
    if not params:
        return True  # eval mode: identity
    own = type(module).__dict__
    if "kernel_children" in own:
        return all(_collect(m, p, r, steps) for m, p, r in module.kernel_children(params, rows))
    if "kernel_step" not in own:
        return False
    if len(rows):  # else no event drew this step
        steps.append((module.kernel_step(params), rows))
    return True


def program(module: Any, params: dict, x: torch.Tensor) -> Optional[kernels.Program]:
    """The draw ``params`` of ``module`` for the batch ``x (batch, time, channel)`` as a kernel program: each
    applied step with a per-event mask (the events its ``RandomApply`` coins selected) and per-event parameters.

    None when ``x`` takes the torch path (:func:`seiswork.kernels.use_kernels`), when some module has no kernel
    step (a subclass, a user's own augmentation) or when two ``AddNoise`` modules (two noise banks) take part:
    those run module by module.
    """
    if not kernels.use_kernels(x):
        return None
    steps: list = []
    if not _collect(module, params, np.arange(x.shape[0]), steps):
        return None
    return kernels.Program.build(steps, x.shape[0], x.shape[2])


def run(module: Any, x: torch.Tensor, params: dict) -> torch.Tensor:
    """Apply the draw ``params`` of ``module`` to the float32 batch ``x (batch, time, channel)``."""
    prog = program(module, params, x) if params else None
    if prog is None:
        return module.run_torch(x, params)
    return kernels.augment(x, prog) if prog else x
