"""AmplitudeScale: multiply each event by a random factor."""

from __future__ import annotations

from seiswork import functional as F
from seiswork import kernels
from seiswork.augment.base import Augmentation, register, uniform
from seiswork.augment.params import Param


@register
class AmplitudeScale(Augmentation):
    """Multiply each event by a factor drawn uniformly in ``[scale_min, scale_max]`` (> 0).

    Params: ``{"scale": float (batch,)}``.
    """

    params = Param.pair("scale", (0.9, 1.1), ("smallest factor drawn", "largest factor drawn"),
                        low=0.0, low_open=True, unit="factor", typical=(0.1, 3.0))
    default_p = 0.3
    order = 30
    draw_units = {"scale": "×"}

    def _draw(self, batch, length, channels, device):
        return {"scale": uniform(self._generator, batch, self.scale_min, self.scale_max).to(device)}

    def _apply_params(self, x, params):
        return F.amplitude_scale(x, params["scale"])

    def kernel_step(self, params) -> kernels.Step:
        return kernels.Step(kernels.SCALE, floats=params["scale"].numpy())
