"""Random waveform augmentations as ``nn.Module``s: draw parameters, then apply them.

Every module takes one event ``(time, channel)`` or a batch ``(batch, time, channel)``, numpy or torch (any
device), and returns float32 of the same kind: **numpy in -> numpy out, tensor in -> tensor out** on the input's
device (``ToTensor`` at the end of a pipeline always yields a tensor). Results are views of channel-first
memory (not contiguous), the layout the maths is fast in. In a batch every event gets its own parameters and its
own ``RandomApply`` coin; ``RandomApply`` draws for and computes only the events whose coin came up.

Randomness never comes from a global RNG. Each module draws from a ``torch.Generator`` on the CPU (small
parameter tensors, then moved to the data's device, so CPU and GPU runs draw the same parameters). A module used
alone owns its generator (``seed=``); ``Compose``/``RandomApply`` share theirs with everything inside them, so
one seed drives the whole pipeline and a ``seed=`` given to a module inside them is ignored.
``reseed(seed)`` restarts the stream of the owning module; ``seed=None`` seeds from OS entropy (not
reproducible). In DataLoader workers use :func:`seiswork.transforms.seed_pipeline`.

Draw then apply::

    params = aug.draw(batch_size, length, device, channels=3)   # also kept as aug.last_params
    y = aug.apply_params(x, params)                              # deterministic
    aug.freeze()    # later draws return last_params again (before/after previews); aug.unfreeze()

Parameter dicts hold tensors with the batch as their first dimension (see each class). ``aug.eval()`` turns a
module into the identity (no draw); a container in train mode skips children that are in eval mode.

On the CPU a whole draw is applied in one compiled pass per event (:mod:`seiswork.augment.backend`, every step
while the event sits in cache, the batch split over the cores) when every module inside declares a kernel step;
otherwise, and on CUDA, module by module with :mod:`seiswork.functional`. Both compute the same float32 maths
(tests/test_kernels.py).

Layout: :mod:`~seiswork.augment.params` (``Param``, the declaration of a setting), :mod:`~seiswork.augment.base`
(``Augmentation``, the registry), :mod:`~seiswork.augment.waveform` (one module per augmentation),
:mod:`~seiswork.augment.compose` (``RandomApply``, ``Compose``), :mod:`~seiswork.augment.backend` (kernel or
torch).

Adding an augmentation: one new module in ``seiswork/augment/waveform/`` with a ``@register``ed subclass of
``Augmentation`` that declares ``params`` and writes ``_draw`` and ``_apply_params`` (see ``time_shift.py``).
"""

from __future__ import annotations

from seiswork.augment.base import Augmentation, lookup, register, registered, unregister
from seiswork.augment.compose import Compose, RandomApply
from seiswork.augment.params import Param
from seiswork.augment.waveform.add_noise import AddNoise
from seiswork.augment.waveform.amplitude_scale import AmplitudeScale
from seiswork.augment.waveform.time_shift import TimeShift
from seiswork.augment.waveform.time_stretch import TimeStretch

__all__ = [
    "Augmentation",
    "Param",
    "TimeShift",
    "AddNoise",
    "AmplitudeScale",
    "TimeStretch",
    "RandomApply",
    "Compose",
    "register",
    "unregister",
    "registered",
    "lookup",
]


def __getattr__(name: str):
    cls = lookup(name)  # an augmentation added in its own module: seiswork.augment.<Name> without edits here
    if cls is None:
        raise AttributeError(f"module 'seiswork.augment' has no attribute {name!r}")
    return cls


