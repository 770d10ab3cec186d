"""AddNoise: Gaussian noise at a random signal-to-noise ratio, cut from a bank of noise."""

from __future__ import annotations

import numpy as np
import torch

from seiswork import functional as F
from seiswork import kernels
from seiswork.augment.base import Augmentation, Params, register, uniform
from seiswork.augment.params import Param


@register
class AddNoise(Augmentation):
    """Gaussian noise at an SNR drawn uniformly in ``[snr_min, snr_max]`` dB, per event.

    SNR is defined from the event's own power, **jointly over all channels** (mean square over time and
    channel; see :func:`seiswork.functional.add_noise`), and holds exactly for the drawn noise.
    Params: ``{"snr_db": float (batch,), "offset": int64 (batch, channel)}``; :meth:`noise` gives the noise itself,
    unit Gaussian ``(batch, time, channel)``.

    The noise of each channel of each event is a window of ``time`` samples at offset ``offset`` in a bank of
    ``bank_size`` unit Gaussian samples (at least ``8 * time``), drawn from this module's stream at the first
    draw after (re)seeding and kept on each device it is used on; a draw's offsets refer to the bank of its
    time, so replay a draw before the next reseed. Cutting windows costs a copy instead of a Gaussian draw per
    sample; the CPU kernel reads the windows in place and takes their power from the bank's cumulative power,
    with no copy at all. Two windows overlap (share part of their noise, shifted) with probability about
    ``2 * time / bank_size``, harmless for augmentation; ``reseed`` (the training loop reseeds every epoch)
    draws a new bank. Noise values are the same on CPU and GPU.
    """

    params = Param.pair("snr", (15.0, 40.0), ("lowest signal-to-noise ratio drawn", "highest one drawn"),
                        unit="dB", label="SNR", typical=(-10.0, 60.0), step=0.5)
    default_p = 0.5
    order = 20
    draw_units = {"snr_db": "dB"}
    bank_size = 2**20

    def _restart(self) -> None:
        object.__setattr__(self, "_banks", {})

    def _bank(self, length: int, device: torch.device) -> torch.Tensor:
        cpu = self._banks.get("cpu")
        if cpu is None or cpu.numel() < 8 * length:
            g = torch.Generator()
            g.manual_seed(int(torch.randint(0, 2**62, (1,), generator=self._generator)))
            cpu = torch.randn(max(self.bank_size, 8 * length), generator=g)
            self._banks.clear()
            self._banks["cpu"] = cpu
        key = str(device)
        if key not in self._banks:
            self._banks[key] = cpu.to(device)
        return self._banks[key]

    def _draw(self, batch, length, channels, device):
        snr = uniform(self._generator, batch, self.snr_min, self.snr_max)
        bank = self._bank(length, device)
        offsets = torch.randint(0, bank.numel() - length + 1, (batch, channels), generator=self._generator)
        return {"snr_db": snr.to(device), "offset": offsets.to(device)}

    def cpu_bank(self) -> tuple[torch.Tensor, np.ndarray]:
        """The CPU bank and its cumulative power (:func:`seiswork.kernels.cumulative_power`), for the kernels."""
        bank = self._bank(1, torch.device("cpu"))
        if "cpu_power" not in self._banks:
            self._banks["cpu_power"] = kernels.cumulative_power(bank)
        return bank, self._banks["cpu_power"]

    def noise(self, params: Params, length: int) -> torch.Tensor:
        """The unit Gaussian noise of a draw, ``(batch, time, channel)``: each channel's bank window."""
        offsets = params["offset"]
        batch, channels = offsets.shape
        bank = self._bank(length, offsets.device)
        # windows cut channel-first, handed out as a (batch, time, channel) view: the layout functional works in
        return bank.unfold(0, length, 1)[offsets.reshape(-1)].view(batch, channels, length).transpose(1, 2)

    def _apply_params(self, x, params):
        return F.add_noise(x, self.noise(params, x.shape[1]), params["snr_db"])

    def kernel_step(self, params) -> kernels.Step:
        return kernels.Step(kernels.NOISE, floats=params["snr_db"].numpy(), ints=params["offset"].numpy(), bank=self)
