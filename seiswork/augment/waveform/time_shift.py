"""TimeShift: a circular shift by a random whole number of samples."""

from __future__ import annotations

import math

import torch

from seiswork import functional as F
from seiswork import kernels
from seiswork.augment.base import Augmentation, register
from seiswork.augment.params import Param


@register
class TimeShift(Augmentation):
    """Circular shift by a whole number of samples in ``[-max_shift * time, max_shift * time]``.

    ``max_shift`` is a fraction of the event length in ``[0, 1)``. Params: ``{"shift": int64 (batch,)}``
    (samples; positive = later, as ``np.roll``).
    """

    params = (
        Param("max_shift", 0.1, low=0.0, high=1.0, high_open=True, unit="a fraction of the event length",
              doc="largest shift either way", label="max shift", typical=(0.0, 0.5)),
    )
    default_p = 0.5
    order = 10
    draw_units = {"shift": "samples"}

    def _draw(self, batch, length, channels, device):
        k = math.floor(self.max_shift * length + 1e-9)  # + eps: 0.29 * 100 is 28.999... in floating point
        shift = torch.randint(-k, k + 1, (batch,), generator=self._generator)
        return {"shift": shift.to(device)}

    def _apply_params(self, x, params):
        return F.time_shift(x, params["shift"])

    def kernel_step(self, params) -> kernels.Step:
        return kernels.Step(kernels.SHIFT, ints=params["shift"].numpy()[:, None])
