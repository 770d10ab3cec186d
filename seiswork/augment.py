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
    y = aug.apply(x, params)                                     # deterministic
    aug.freeze()    # later draws return last_params again (before/after previews); aug.unfreeze()

Parameter dicts hold tensors with the batch as their first dimension (see each class). ``aug.eval()`` turns a
module into the identity (no draw); a container in train mode skips children that are in eval mode.

On the CPU a whole draw is applied in one compiled pass per event (:func:`seiswork.kernels.augment`: every step
while the event sits in cache, the batch split over the cores) when every module inside is one of the four
augmentations, ``RandomApply`` or ``Compose``; otherwise, and on CUDA, module by module with
:mod:`seiswork.functional`. Both compute the same float32 maths (tests/test_kernels.py).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from seiswork import functional as F
from seiswork import kernels

__all__ = [
    "Augmentation",
    "TimeShift",
    "AddNoise",
    "AmplitudeScale",
    "TimeStretch",
    "RandomApply",
    "Compose",
]

Params = dict
Device = Union[str, torch.device, None]


# ---------------------------------------------------------------------------------------------- validation
def _real(value: Any, name: str, owner: str) -> float:
    """A finite real number, or a clear error naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value}")
    return value


def _range(lo: Any, hi: Any, names: tuple[str, str], owner: str) -> tuple[float, float]:
    lo, hi = _real(lo, names[0], owner), _real(hi, names[1], owner)
    if lo > hi:
        raise ValueError(f"{owner}: {names[0]}={lo} must be <= {names[1]}={hi}; swap them")
    return lo, hi


def _check_seed(seed: Any, owner: str) -> Optional[int]:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= int(seed) < 2**64:
        raise ValueError(f"{owner}: seed must be None or an integer in [0, 2**64), got {seed!r}")
    return int(seed)


def _count(value: Any, name: str, minimum: int) -> int:
    if type(value) is int and value >= minimum:  # the common case, without the slow ABC check
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ValueError(f"draw: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _uniform(g: torch.Generator, n: int, lo: float, hi: float) -> torch.Tensor:
    """``n`` values uniform in ``[lo, hi]`` (exactly ``lo`` when ``lo == hi``), float64 on the CPU."""
    return lo + (hi - lo) * torch.rand(n, generator=g, dtype=torch.float64)


# ---------------------------------------------------------------------------------------------- base class
class Augmentation(nn.Module):
    """Base class: a subclass writes ``_draw`` (random parameters) and ``_apply`` (deterministic maths)."""

    def __init__(self, seed: Optional[int] = None) -> None:
        super().__init__()
        self.seed = _check_seed(seed, type(self).__name__)
        self._generator = torch.Generator()
        self._owns_generator = True
        self._seed_generator(self.seed)
        self.last_params: Optional[Params] = None
        self._last_shape: Optional[tuple[int, int, int]] = None
        self.frozen = False

    # -- to implement ------------------------------------------------------------------------------------
    def _draw(self, batch: int, length: int, channels: int, device: torch.device) -> Params:
        raise NotImplementedError

    def _apply_params(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor settings (without ``seed`` and children), JSON-serialisable."""
        return {}

    # -- randomness --------------------------------------------------------------------------------------
    @property
    def generator(self) -> torch.Generator:
        """The CPU generator this module draws from (shared with its container, if any)."""
        return self._generator

    @property
    def owns_generator(self) -> bool:
        """False when a ``Compose``/``RandomApply`` around this module drives its randomness."""
        return self._owns_generator

    def _seed_generator(self, seed: Optional[int]) -> None:
        if seed is None:
            self._generator.seed()  # OS entropy: explicitly not reproducible
        else:
            self._generator.manual_seed(seed)

    def _restart(self) -> None:
        """Forget state this module drew from the stream (a restarted stream must redraw it); none here."""

    def _children_aug(self) -> list["Augmentation"]:
        return []

    def _share_generator(self, generator: torch.Generator) -> None:
        self._generator = generator
        self._owns_generator = False
        self._restart()
        for child in self._children_aug():
            child._share_generator(generator)

    def reseed(self, seed: Optional[int] = None) -> "Augmentation":
        """Restart the random stream from ``seed`` (``None``: OS entropy). Returns ``self``.

        Only the module that owns the stream (the outermost ``Compose``/``RandomApply``, or a module used alone)
        can be reseeded; use :func:`seiswork.transforms.seed_pipeline` for a whole ``nn.Sequential``.
        """
        if not self._owns_generator:
            raise RuntimeError(
                f"{type(self).__name__} draws from the generator of the Compose/RandomApply around it; "
                "call reseed() on that outer module (or seiswork.transforms.seed_pipeline on the pipeline)"
            )
        self.seed = _check_seed(seed, type(self).__name__)
        self._seed_generator(self.seed)
        for module in self.modules():
            if isinstance(module, Augmentation):
                module._restart()
        return self

    # -- draw / apply ------------------------------------------------------------------------------------
    def draw(self, batch_size: int, length: int, device: Device = None, *, channels: int = 3) -> Params:
        """Draw parameters for ``batch_size`` events of ``length`` samples and ``channels`` channels.

        Returns (and keeps as ``last_params``) a dict of tensors on ``device`` (default CPU), batch first.
        In eval mode it returns ``{}`` (identity) and draws nothing. A frozen module returns its previous draw.
        """
        shape = (_count(batch_size, "batch_size", 0), _count(length, "length", 1), _count(channels, "channels", 1))
        device = torch.device("cpu") if device is None else torch.device(device)
        if not self.training:
            return {}  # disabled: identity; last_params keeps the previous draw for previews
        if self.frozen:
            if self.last_params is None:
                raise RuntimeError(f"{type(self).__name__} is frozen but has never drawn; call unfreeze() or draw first")
            if shape != self._last_shape and self.last_params:
                raise ValueError(
                    f"{type(self).__name__} is frozen with parameters for (batch, time, channel)={self._last_shape}, "
                    f"got {shape}; call unfreeze() to draw new ones"
                )
            return _params_to(self.last_params, device)
        params = self._draw(*shape, device)
        # plain attributes: nn.Module.__setattr__ is slow and these are neither parameters nor modules
        object.__setattr__(self, "last_params", params)
        object.__setattr__(self, "_last_shape", shape)
        return params

    def apply(self, x: Any, params: Optional[Params] = None) -> Any:
        """Apply ``params`` (from :meth:`draw`) to an event or batch; deterministic, type-preserving.

        (Called with a single callable it behaves as ``nn.Module.apply(fn)``.)
        """
        if params is None and callable(x) and not isinstance(x, (torch.Tensor, np.ndarray)):
            return super().apply(x)
        if params is None:
            raise TypeError(f"{type(self).__name__}.apply(x, params): params are required; get them from draw()")
        xb, restore = F.as_batch(x, type(self).__name__)
        return restore(self._run_outer(xb, _params_to(params, xb.device)))

    def _run_outer(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Apply a whole draw: on the CPU as one compiled pass per event (:mod:`seiswork.kernels`) when every
        module inside has a kernel, else module by module in torch."""
        if params and x.device.type == "cpu" and kernels.available():
            program = _program(self, params, x.shape[0], x.shape[2])
            if program is not None:
                return kernels.augment(x, *program) if program[0] else x
        return self._run(x, params)

    def _run(self, x: torch.Tensor, params: Params, owned: bool = False) -> torch.Tensor:
        """Apply to a batch; ``owned=True`` means ``x`` is a scratch copy that may be overwritten."""
        if not params:
            return x  # empty params: disabled, identity
        return self._apply_owned(x, params) if owned else self._apply_params(x, params)

    def _apply_owned(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return self._apply_params(x, params)  # leaf maths returns new tensors anyway

    def forward(self, x: Any) -> Any:
        """Draw parameters for ``x`` and apply them (identity in eval mode). Same kind of output as input."""
        xb, restore = F.as_batch(x, type(self).__name__)
        if not self.training:
            return restore(xb)
        params = self.draw(xb.shape[0], xb.shape[1], xb.device, channels=xb.shape[2])
        return restore(self._run_outer(xb, params))

    def select_params(self, params: Params, index: Any) -> Params:
        """The parameters of the events ``index`` (int or sequence) out of a batch draw, for per-event replay."""
        idx = _index(index)
        return {k: v[idx.to(v.device)] for k, v in params.items()}

    def freeze(self) -> "Augmentation":
        """Replay ``last_params`` on every later call instead of drawing (for previews). Returns ``self``."""
        if self.last_params is None:
            raise RuntimeError(f"{type(self).__name__}.freeze(): nothing drawn yet; run it once (or draw()) first")
        self.frozen = True
        return self

    def unfreeze(self) -> "Augmentation":
        self.frozen = False
        return self

    def extra_repr(self) -> str:
        items = dict(self.get_config())
        if self._owns_generator:
            items["seed"] = self.seed
        if self.frozen:
            items["frozen"] = True
        return ", ".join(f"{k}={v!r}" for k, v in items.items())


def _index(index: Any) -> torch.Tensor:
    if isinstance(index, numbers.Integral) and not isinstance(index, bool):
        return torch.tensor([int(index)])
    return torch.as_tensor(np.asarray(index) if isinstance(index, (list, tuple)) else index).reshape(-1).long()


def _params_to(params: Any, device: torch.device) -> Any:
    if isinstance(params, torch.Tensor):
        return params.to(device)
    if isinstance(params, dict):
        return {k: _params_to(v, device) for k, v in params.items()}
    if isinstance(params, list):
        return [_params_to(v, device) for v in params]
    return params


# ---------------------------------------------------------------------------------------------- augmentations
class TimeShift(Augmentation):
    """Circular shift by a whole number of samples in ``[-max_shift * time, max_shift * time]``.

    ``max_shift`` is a fraction of the event length in ``[0, 1)``. Params: ``{"shift": int64 (batch,)}``
    (samples; positive = later, as ``np.roll``).
    """

    def __init__(self, max_shift: float = 0.1, seed: Optional[int] = None) -> None:
        max_shift = _real(max_shift, "max_shift", "TimeShift")
        if not 0.0 <= max_shift < 1.0:
            raise ValueError(f"TimeShift: max_shift must be in [0, 1) (a fraction of the event length), got {max_shift}")
        super().__init__(seed)
        self.max_shift = max_shift

    def get_config(self) -> dict:
        return {"max_shift": self.max_shift}

    def _draw(self, batch, length, channels, device):
        k = math.floor(self.max_shift * length + 1e-9)  # + eps: 0.29 * 100 is 28.999... in floating point
        shift = torch.randint(-k, k + 1, (batch,), generator=self._generator)
        return {"shift": shift.to(device)}

    def _apply_params(self, x, params):
        return F.time_shift(x, params["shift"])


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
    sample, which made AddNoise about 6x cheaper on the CPU; the CPU kernel reads the windows in place and takes
    their power from the bank's cumulative power, with no copy at all. Two windows overlap (share part of their
    noise, shifted) with probability about ``2 * time / bank_size`` (0.3% for 1700 samples), harmless for
    augmentation; ``reseed`` (the training loop reseeds every epoch) draws a new bank. Noise values are the same
    on CPU and GPU.
    """

    bank_size = 2**20

    def __init__(self, snr_min: float = 15.0, snr_max: float = 40.0, seed: Optional[int] = None) -> None:
        lo, hi = _range(snr_min, snr_max, ("snr_min", "snr_max"), "AddNoise")
        self._banks: dict = {}
        super().__init__(seed)
        self.snr_min, self.snr_max = lo, hi

    def get_config(self) -> dict:
        return {"snr_min": self.snr_min, "snr_max": self.snr_max}

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
        snr = _uniform(self._generator, batch, self.snr_min, self.snr_max)
        bank = self._bank(length, device)
        offsets = torch.randint(0, bank.numel() - length + 1, (batch, channels), generator=self._generator)
        return {"snr_db": snr.to(device), "offset": offsets.to(device)}

    def _cpu_bank(self) -> tuple[torch.Tensor, np.ndarray]:
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


class AmplitudeScale(Augmentation):
    """Multiply each event by a factor drawn uniformly in ``[scale_min, scale_max]`` (> 0).

    Params: ``{"scale": float (batch,)}``.
    """

    def __init__(self, scale_min: float = 0.9, scale_max: float = 1.1, seed: Optional[int] = None) -> None:
        lo, hi = _range(scale_min, scale_max, ("scale_min", "scale_max"), "AmplitudeScale")
        if lo <= 0:
            raise ValueError(f"AmplitudeScale: scale_min must be > 0, got {lo}")
        super().__init__(seed)
        self.scale_min, self.scale_max = lo, hi

    def get_config(self) -> dict:
        return {"scale_min": self.scale_min, "scale_max": self.scale_max}

    def _draw(self, batch, length, channels, device):
        return {"scale": _uniform(self._generator, batch, self.scale_min, self.scale_max).to(device)}

    def _apply_params(self, x, params):
        return F.amplitude_scale(x, params["scale"])


class TimeStretch(Augmentation):
    """Change the time scale by a rate drawn uniformly in ``[rate_min, rate_max]`` (> 0), keeping the length.

    Resamples by linear interpolation, ``y[j] = x(j / rate)``: rate 1.05 turns a 10 Hz tone into 10/1.05 Hz and
    crops the end; rate < 1 compresses and pads the end with ``pad_mode`` (``"reflect"`` by default, also
    ``"edge"``, ``"zeros"``; see :func:`seiswork.functional.time_stretch`). Sample 0 stays in place.
    Params: ``{"rate": float (batch,)}``.
    """

    def __init__(
        self, rate_min: float = 0.95, rate_max: float = 1.05, seed: Optional[int] = None, *, pad_mode: str = "reflect"
    ) -> None:
        lo, hi = _range(rate_min, rate_max, ("rate_min", "rate_max"), "TimeStretch")
        if lo <= 0:
            raise ValueError(f"TimeStretch: rate_min must be > 0, got {lo}")
        if pad_mode not in F.PAD_MODES:
            raise ValueError(f"TimeStretch: pad_mode must be one of {F.PAD_MODES}, got {pad_mode!r}")
        super().__init__(seed)
        self.rate_min, self.rate_max, self.pad_mode = lo, hi, pad_mode

    def get_config(self) -> dict:
        return {"rate_min": self.rate_min, "rate_max": self.rate_max, "pad_mode": self.pad_mode}

    def _draw(self, batch, length, channels, device):
        return {"rate": _uniform(self._generator, batch, self.rate_min, self.rate_max).to(device)}

    def _apply_params(self, x, params):
        return F.time_stretch(x, params["rate"], self.pad_mode)


# ---------------------------------------------------------------------------------------------- containers
class RandomApply(Augmentation):
    """Apply ``aug`` to each event with probability ``p`` (an independent coin per event).

    Params: ``{"apply": bool (batch,), "params": aug's params for the applied events only, in batch order}``;
    only the applied events are drawn for and computed. Shares its generator with ``aug``.
    """

    def __init__(self, aug: Augmentation, p: float = 0.5, seed: Optional[int] = None) -> None:
        if not isinstance(aug, Augmentation):
            raise TypeError(
                f"RandomApply: aug must be a seiswork augmentation (TimeShift, AddNoise, ..., Compose), "
                f"got {type(aug).__name__}"
            )
        p = _real(p, "p", "RandomApply")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomApply: p must be in [0, 1], got {p}")
        super().__init__(seed)
        self.aug = aug
        self.p = p
        aug._share_generator(self._generator)

    def get_config(self) -> dict:
        return {"p": self.p}

    def _children_aug(self):
        return [self.aug]

    def _draw(self, batch, length, channels, device):
        apply = torch.rand(batch, generator=self._generator) < self.p
        inner = self.aug.draw(int(apply.sum()), length, device, channels=channels)
        return {"apply": apply.to(device), "params": inner}

    def _apply_params(self, x, params, owned: bool = False):
        idx = params["apply"].nonzero().squeeze(1)
        if idx.numel() == 0 or not params["params"]:
            return x
        if idx.numel() == x.shape[0]:
            return self.aug._run(x, params["params"], owned)
        # only the chosen events are computed, channel-first (F._cf is free on functional's outputs)
        xc = F._cf(x)
        owned = owned or xc.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()  # _cf copied: ours
        y = F._cf(self.aug._run(F._tc(xc.index_select(0, idx)), params["params"], owned=True))
        if owned:
            return F._tc(xc.index_copy_(0, idx, y))
        return F._tc(xc.index_copy(0, idx, y))  # out of place: the caller's x is kept

    def _apply_owned(self, x, params):
        return self._apply_params(x, params, owned=True)

    def select_params(self, params, index):
        idx = _index(index).to(params["apply"].device)
        apply = params["apply"]
        rank = torch.cumsum(apply.long(), 0) - 1  # position of each applied event among the applied ones
        chosen = apply[idx]
        inner = params["params"]
        if inner:
            inner = self.aug.select_params(inner, rank[idx][chosen])
        return {"apply": chosen, "params": inner}


class Compose(Augmentation):
    """Apply augmentations in order; owns one generator that every module inside draws from.

    ``Compose([...], seed=s)`` makes the whole pipeline reproducible; ``reseed(s)`` restarts it.
    Params: ``{"transforms": [params of each child]}``.
    """

    def __init__(self, transforms: Sequence[Augmentation], seed: Optional[int] = None) -> None:
        if isinstance(transforms, (Augmentation, nn.Module)) or not isinstance(transforms, (list, tuple)):
            raise TypeError(f"Compose: transforms must be a list of augmentations, got {type(transforms).__name__}")
        for i, t in enumerate(transforms):
            if not isinstance(t, Augmentation):
                raise TypeError(
                    f"Compose: transforms[{i}] must be a seiswork augmentation (TimeShift, AddNoise, AmplitudeScale, "
                    f"TimeStretch, RandomApply, Compose), got {type(t).__name__}; put FFTTransform/ToTensor after "
                    "the Compose in an nn.Sequential"
                )
        super().__init__(seed)
        self.transforms = nn.ModuleList(transforms)
        for t in self.transforms:
            t._share_generator(self._generator)

    def _children_aug(self):
        return list(self.transforms)

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, i: int) -> Augmentation:
        return self.transforms[i]

    def _draw(self, batch, length, channels, device):
        return {"transforms": [t.draw(batch, length, device, channels=channels) for t in self.transforms]}

    def _apply_params(self, x, params, owned: bool = False):
        for t, p in zip(self.transforms, params["transforms"]):
            y = t._run(x, p, owned)
            # every step returns either its input or fresh memory: once fresh, later steps may write into it
            owned = owned or y is not x
            x = y
        return x

    def _apply_owned(self, x, params):
        return self._apply_params(x, params, owned=True)

    def select_params(self, params, index):
        return {"transforms": [t.select_params(p, index) if p else p for t, p in zip(self.transforms, params["transforms"])]}


# ---------------------------------------------------------------------------------------------- CPU kernels
_KERNEL_OPS = {
    TimeShift: kernels.SHIFT, AddNoise: kernels.NOISE, AmplitudeScale: kernels.SCALE, TimeStretch: kernels.STRETCH,
}


def _program(module: Augmentation, params: Params, batch: int, channels: int) -> Optional[tuple]:
    """A draw of ``module`` flattened into the step arrays of :func:`seiswork.kernels.augment`.

    Each applied leaf becomes one step with a per-event mask (the events its ``RandomApply`` coins selected) and
    per-event parameters scattered to batch positions. None when some module has no kernel (a subclass, a
    user's own augmentation) or two ``AddNoise`` modules (two noise banks) take part: those run module by module.
    """
    steps: list = []
    noises: list = []  # the AddNoise modules whose banks the steps read

    def walk(m: Augmentation, p: Params, rows: np.ndarray) -> bool:
        if not p:
            return True  # eval mode: identity
        kind = type(m)
        if kind is Compose:
            return all(walk(t, q, rows) for t, q in zip(m.transforms, p["transforms"]))
        if kind is RandomApply:
            return walk(m.aug, p["params"], rows[p["apply"].numpy()])
        if kind not in _KERNEL_OPS:
            return False
        if len(rows) == 0:
            return True  # no event drew this step
        f = i = None
        pad = 0
        if kind is TimeShift:
            i = p["shift"].numpy()[:, None]
        elif kind is AddNoise:
            f, i = p["snr_db"].numpy(), p["offset"].numpy()
            noises.append(m)
        elif kind is AmplitudeScale:
            f = p["scale"].numpy()
        else:
            f, pad = p["rate"].numpy(), kernels.PAD_CODES[m.pad_mode]
        steps.append((_KERNEL_OPS[kind], pad, rows, f, i))
        return True

    if not walk(module, params, np.arange(batch)) or len(set(map(id, noises))) > 1:
        return None
    n = len(steps)
    mask = np.zeros((n, batch), np.bool_)
    fpar = np.zeros((n, batch), np.float64)
    ipar = np.zeros((n, batch, channels), np.int64)
    for s, (_, _, rows, f, i) in enumerate(steps):
        mask[s, rows] = True
        if f is not None:  # the torch path computes with float32 parameters
            fpar[s, rows] = f.astype(np.float32)
        if i is not None:
            ipar[s, rows] = i
    bank, power = noises[0]._cpu_bank() if noises else (None, None)
    return [s[0] for s in steps], [s[1] for s in steps], mask, fpar, ipar, bank, power
