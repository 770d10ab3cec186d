"""TimeStretch: resample the event at a random rate, keeping its length."""

from __future__ import annotations

from seiswork import functional as F
from seiswork import kernels
from seiswork.augment.base import Augmentation, register, uniform
from seiswork.augment.params import Param


@register
class TimeStretch(Augmentation):
    """Change the time scale by a rate drawn uniformly in ``[rate_min, rate_max]`` (> 0), keeping the length.

    Resamples by linear interpolation, ``y[j] = x(j / rate)``: rate 1.05 turns a 10 Hz tone into 10/1.05 Hz and
    crops the end; rate < 1 compresses and pads the end with ``pad_mode`` (``"reflect"`` by default, also
    ``"edge"``, ``"zeros"``; see :func:`seiswork.functional.time_stretch`). Sample 0 stays in place.
    Params: ``{"rate": float (batch,)}``.
    """

    params = (
        *Param.pair("rate", (0.95, 1.05), ("smallest rate drawn (< 1 compresses)", "largest (> 1 stretches)"),
                    low=0.0, low_open=True, unit="factor", typical=(0.5, 2.0)),
        Param("pad_mode", "reflect", choices=F.PAD_MODES, keyword_only=True,
              doc="how the end of a compressed event is filled"),
    )
    default_p = 0.3
    order = 40
    draw_units = {"rate": "×"}

    def _draw(self, batch, length, channels, device):
        return {"rate": uniform(self._generator, batch, self.rate_min, self.rate_max).to(device)}

    def _apply_params(self, x, params):
        return F.time_stretch(x, params["rate"], self.pad_mode)

    def kernel_step(self, params) -> kernels.Step:
        return kernels.Step(kernels.STRETCH, floats=params["rate"].numpy(), pad=kernels.PAD_CODES[self.pad_mode])
