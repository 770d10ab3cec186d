"""The augmentation base class and the registry of augmentation classes.

A subclass declares its settings (``params``, :class:`~seiswork.augment.params.Param`), draws random parameters
(``_draw``), applies them (``_apply_params``, torch maths from :mod:`seiswork.functional`) and, for the compiled
CPU path, declares its kernel step (``kernel_step``); ``@register`` makes it known to the pipeline JSON, the
tuner and the default pipeline. The constructor, ``get_config`` and ``repr`` come from ``params``.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any, Optional, Union

import numpy as np
import torch
from torch import nn

from seiswork import functional as F
from seiswork.augment import backend
from seiswork.augment.params import Param, check_params, check_seed

__all__ = ["Augmentation", "Params", "register", "unregister", "registered", "lookup", "uniform", "event_index"]

Params = dict
Device = Union[str, torch.device, None]


def _count(value: Any, name: str, minimum: int) -> int:
    if type(value) is int and value >= minimum:  # the common case, without the slow ABC check
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ValueError(f"draw: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def uniform(g: torch.Generator, n: int, lo: float, hi: float) -> torch.Tensor:
    """``n`` values uniform in ``[lo, hi]`` (exactly ``lo`` when ``lo == hi``), float64 on the CPU."""
    return lo + (hi - lo) * torch.rand(n, generator=g, dtype=torch.float64)


def event_index(index: Any) -> torch.Tensor:
    """An event index (int or sequence) as a 1-D int64 tensor."""
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


def _signature(params: tuple[Param, ...]) -> inspect.Signature:
    """The constructor a ``params`` declaration gives: the settings in order, ``seed``, then keyword-only ones."""
    kind = inspect.Parameter
    items = [kind(p.name, kind.POSITIONAL_OR_KEYWORD, default=p.default) for p in params if not p.keyword_only]
    items.append(kind("seed", kind.POSITIONAL_OR_KEYWORD, default=None))
    items += [kind(p.name, kind.KEYWORD_ONLY, default=p.default) for p in params if p.keyword_only]
    return inspect.Signature(items)


# ---------------------------------------------------------------------------------------------- base class
class Augmentation(nn.Module):
    """Base class: a subclass declares ``params`` and writes ``_draw`` (random parameters) and ``_apply_params``
    (deterministic maths).

    Class attributes: ``params`` (the settings, in constructor order), ``default_p`` (the probability of its
    ``RandomApply`` in the default pipeline; ``None``: not in it), ``order`` (place in the default pipeline and
    the tuner: the order of application), ``draw_units`` (the unit of each drawn parameter, for descriptions
    of a draw; ``"samples"`` is also shown in seconds).
    """

    params: tuple[Param, ...] = ()
    default_p: Optional[float] = None
    order: int = 100
    draw_units: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:  # the constructor is the declaration's
            cls.__signature__ = _signature(cls.params)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        owner = type(self).__name__
        try:
            bound = _signature(self.params).bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{owner}() {e}") from None
        bound.apply_defaults()
        values = dict(bound.arguments)
        seed = values.pop("seed")
        values = check_params(self.params, values, owner)
        super().__init__()
        self.seed = check_seed(seed, owner)
        self._generator = torch.Generator()
        self._owns_generator = True
        self._seed_generator(self.seed)
        self.last_params: Optional[Params] = None
        self._last_shape: Optional[tuple[int, int, int]] = None
        self.frozen = False
        for name, value in values.items():
            setattr(self, name, value)
        self._restart()

    # -- to implement ------------------------------------------------------------------------------------
    def _draw(self, batch: int, length: int, channels: int, device: torch.device) -> Params:
        raise NotImplementedError

    def _apply_params(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor settings (without ``seed`` and children), JSON-serialisable: the declared ``params``."""
        return {p.name: getattr(self, p.name) for p in self.params}

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
        self.seed = check_seed(seed, type(self).__name__)
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

    def apply_params(self, x: Any, params: Params) -> Any:
        """Apply ``params`` (from :meth:`draw`) to an event or batch; deterministic, type-preserving.

        (``apply(fn)`` is ``nn.Module``'s: call ``fn`` on every submodule.)
        """
        xb, restore = F.as_batch(x, type(self).__name__)
        return restore(backend.run(self, xb, _params_to(params, xb.device)))

    def run_torch(self, x: torch.Tensor, params: Params, owned: bool = False) -> torch.Tensor:
        """Apply to a batch module by module in torch; ``owned=True``: ``x`` is a scratch copy that may be
        overwritten. (:func:`seiswork.augment.backend.run` picks this or the compiled kernel.)"""
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
        return restore(backend.run(self, xb, params))

    def select_params(self, params: Params, index: Any) -> Params:
        """The parameters of the events ``index`` (int or sequence) out of a batch draw, for per-event replay."""
        idx = event_index(index)
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


# ---------------------------------------------------------------------------------------------- registry
_REGISTRY: dict[str, type[Augmentation]] = {}


def register(cls: type[Augmentation]) -> type[Augmentation]:
    """Class decorator: make an augmentation known to the pipeline JSON, the tuner and the default pipeline
    (by its class name)."""
    if not (isinstance(cls, type) and issubclass(cls, Augmentation)):
        raise TypeError(f"register: expected a subclass of Augmentation, got {cls!r}")
    known = _REGISTRY.get(cls.__name__)
    if known is not None and known is not cls:
        raise ValueError(f"register: an augmentation named {cls.__name__} is registered already ({known!r})")
    _REGISTRY[cls.__name__] = cls
    return cls


def unregister(name: str) -> None:
    """Forget the augmentation class ``name`` (tests that define one)."""
    _REGISTRY.pop(name, None)


def registered() -> list[type[Augmentation]]:
    """The registered augmentation classes by ``order`` (then registration order)."""
    return sorted(_REGISTRY.values(), key=lambda cls: cls.order)


def lookup(name: str) -> Optional[type[Augmentation]]:
    """The registered augmentation class called ``name``, or None."""
    return _REGISTRY.get(name)
